/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function (file:line) and by file, and inclusive time
 * of the functions named in `--focus`, and the project callers of `--callers` leaves.
 * `--stretches <ms>` lists the stretches of the profile busy without an idle sample for at least that long (an event loop
 * that could not answer anything meanwhile), each with the project frames nearest the samples.
 * `node --import tsx bench/lib/cpuprofile.ts <file> [--top 25] [--focus a,b] [--callers writev,deserialize] [--stretches 100]`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds from the previous sample (the first: from startTime). */
  timeDeltas?: number[];
}

export interface Row {
  name: string;
  ms: number;
  pct: number;
}

function short(url: string): string {
  const i = url.indexOf('/work/main/');
  if (i >= 0) return url.slice(i + '/work/main/'.length);
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm);
  return url.replace(/^file:\/\//, '') || '(native)';
}

/** Each node's parent, and the nodes by id. */
function links(p: Profile): { parent: Map<number, number>; byId: Map<number, ProfileNode> } {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  return { parent, byId: new Map(p.nodes.map((n) => [n.id, n])) };
}

/** `name file:line`, as every table here names a function. */
function frameName(f: ProfileNode['callFrame']): string {
  return `${f.functionName || '(anonymous)'}${f.url ? ` ${short(f.url)}:${f.lineNumber + 1}` : ''}`;
}

export function summarize(p: Profile, top = 25): { totalMs: number; busyMs: number; byFunction: Row[]; byFile: Row[]; byNode: Map<number, ProfileNode>; msPerHit: number } {
  const totalMs = (p.endTime - p.startTime) / 1000;
  const msPerHit = totalMs / Math.max(1, p.samples.length);
  const byNode = new Map(p.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const s of p.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let idle = 0;
  for (const [id, h] of hits) {
    const n = byNode.get(id)!;
    const f = n.callFrame;
    if (f.functionName === '(idle)') {
      idle += h;
      continue;
    }
    const key = frameName(f);
    fn.set(key, (fn.get(key) ?? 0) + h);
    const fk = f.url ? short(f.url) : f.functionName;
    file.set(fk, (file.get(fk) ?? 0) + h);
  }
  const busy = p.samples.length - idle;
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, h]) => ({ name, ms: Math.round(h * msPerHit), pct: Math.round((h / Math.max(1, busy)) * 1000) / 10 }));
  return { totalMs, busyMs: Math.round(busy * msPerHit), byFunction: rows(fn), byFile: rows(file), byNode, msPerHit };
}

/** Inclusive (self + callees) time of every function whose name contains one of `names`, counted once per sample. */
export function inclusive(p: Profile, names: string[], msPerHit: number): Row[] {
  const { parent, byId } = links(p);
  const counts = new Map<string, number>();
  for (const s of p.samples) {
    const seen = new Set<string>();
    for (let id: number | undefined = s; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      for (const name of names) if (f.functionName.includes(name) && !seen.has(name)) seen.add(name);
    }
    for (const n of seen) counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  const busy = p.samples.length;
  return names.map((name) => ({ name, ms: Math.round((counts.get(name) ?? 0) * msPerHit), pct: Math.round(((counts.get(name) ?? 0) / Math.max(1, busy)) * 1000) / 10 }));
}

/** For samples whose leaf function is `leaf`: the nearest caller in the project's own sources, with its share. */
export function callersOf(p: Profile, leaf: string, msPerHit: number, top = 10): Row[] {
  const { parent, byId } = links(p);
  const counts = new Map<string, number>();
  let total = 0;
  for (const s of p.samples) {
    if (byId.get(s)!.callFrame.functionName !== leaf) continue;
    total++;
    let key = '(no project frame)';
    for (let id = parent.get(s); id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (f.url.includes('/work/main/src/')) {
        key = frameName(f);
        break;
      }
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, h]) => ({ name, ms: Math.round(h * msPerHit), pct: Math.round((h / Math.max(1, total)) * 1000) / 10 }));
}

export interface Stretch {
  /** From the profile's start. */
  startMs: number;
  ms: number;
  /** Outermost project frame (src/) of each sample, or the frame below the root, by share of the stretch's samples. */
  top: Row[];
}

/** Runs of consecutive non-idle samples lasting at least `minMs`: while one lasts, the event loop answers nothing. */
export function busyStretches(p: Profile, minMs: number, top = 3): Stretch[] {
  const { parent, byId } = links(p);
  // the outermost project frame: what the event loop was doing (a request handler, a timer), not the leaf helper
  const owner = (s: number): string => {
    let outer: ProfileNode['callFrame'] | undefined;
    let below = s;
    for (let id: number | undefined = s; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (f.url.includes('/src/') && !f.url.includes('node_modules/')) outer = f;
      if (parent.get(id) !== undefined) below = id;
    }
    return frameName(outer ?? byId.get(below)!.callFrame);
  };
  const out: Stretch[] = [];
  let t = p.startTime;
  let run: { start: number; end: number; samples: number[] } | undefined;
  const close = () => {
    if (run && (run.end - run.start) / 1000 >= minMs) {
      const counts = new Map<string, number>();
      for (const s of run.samples) {
        const o = owner(s);
        counts.set(o, (counts.get(o) ?? 0) + 1);
      }
      out.push({
        startMs: Math.round((run.start - p.startTime) / 1000),
        ms: Math.round((run.end - run.start) / 1000),
        top: [...counts.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([name, h]) => ({ name, ms: 0, pct: Math.round((h / run!.samples.length) * 1000) / 10 })),
      });
    }
    run = undefined;
  };
  for (let i = 0; i < p.samples.length; i++) {
    const prev = t;
    t += p.timeDeltas?.[i] ?? 0;
    if (byId.get(p.samples[i])!.callFrame.functionName === '(idle)') {
      close();
      continue;
    }
    run ??= { start: prev, end: t, samples: [] };
    run.end = t;
    run.samples.push(p.samples[i]);
  }
  close();
  return out;
}

if (process.argv[1]?.endsWith('cpuprofile.ts')) {
  const file = process.argv[2];
  const arg = (k: string) => {
    const i = process.argv.indexOf(k);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const s = summarize(p, Number(arg('--top') ?? 25));
  const out = (rows: Row[]) => rows.map((r) => `  ${String(r.ms).padStart(7)} ms ${String(r.pct).padStart(5)}%  ${r.name}`).join('\n');
  process.stdout.write(`${file}: ${Math.round(s.totalMs)} ms profiled, ${s.busyMs} ms busy\nself time by function:\n${out(s.byFunction)}\nself time by file:\n${out(s.byFile)}\n`);
  const focus = arg('--focus');
  if (focus) process.stdout.write(`inclusive (% of all samples):\n${out(inclusive(p, focus.split(','), s.msPerHit))}\n`);
  for (const leaf of (arg('--callers') ?? '').split(',').filter(Boolean)) process.stdout.write(`callers of ${leaf} (% of its samples):\n${out(callersOf(p, leaf, s.msPerHit))}\n`);
  const min = arg('--stretches');
  if (min) {
    const st = busyStretches(p, Number(min));
    process.stdout.write(`busy without an idle sample for ${min} ms or more: ${st.length} stretches, ${st.reduce((a, x) => a + x.ms, 0)} ms\n`);
    for (const x of st) process.stdout.write(`  at ${(x.startMs / 1000).toFixed(1)} s, ${x.ms} ms: ${x.top.map((r) => `${r.name} ${r.pct}%`).join(' | ')}\n`);
  }
}
