/** Durations as Kubernetes and Go write them: `300ms`, `15s`, `5m`, `1h30m`, `1.5h`. Returns milliseconds, or an error string. */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

export function parseDuration(input: string): DurationResult {
  const s = input.trim();
  if (s === '0') return { ok: true, ms: 0 };
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  if (s.startsWith('-')) return { ok: false, error: `duration "${input}" must not be negative` };
  if (s.startsWith('+')) pos = 1;
  if (pos >= s.length) return { ok: false, error: `"${input}" is not a duration (expected e.g. 15s, 5m, 1h30m)` };
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return { ok: false, error: `"${input}" is not a duration (expected e.g. 15s, 5m, 1h30m)` };
    total += Number(m[1]) * UNIT_MS[m[2]];
    pos = re.lastIndex;
  }
  return { ok: true, ms: total };
}

/** Like parseDuration but throws a TypeError naming `what`; for config and flag parsing. */
export function durationMs(input: string, what: string): number {
  const r = parseDuration(input);
  if (!r.ok) throw new TypeError(`${what}: ${r.error}`);
  return r.ms;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
