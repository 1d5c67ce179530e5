/** Per-input time budget of the fuzz tests (issue 16: "no hang over 100 ms per input"). */
export const HANG_MS = 100;

/** CPU milliseconds this process spent in `f` (a synchronous hang burns CPU; other processes' load does not count). */
function cpuMs<T>(f: () => T): [T, number] {
  const t0 = process.cpuUsage();
  const r = f();
  const d = process.cpuUsage(t0);
  return [r, (d.user + d.system) / 1000];
}

/**
 * Runs `f` and returns its result; when it used more than HANG_MS of CPU it is run once more and fails only if it is
 * slow again. A hang is a property of the input and repeats; a GC pause does not.
 */
export function withinHangBudget<T>(f: () => T, what = 'input'): T {
  let [r, ms] = cpuMs(f);
  if (ms <= HANG_MS) return r;
  [r, ms] = cpuMs(f);
  if (ms > HANG_MS) throw new Error(`${what} took ${ms.toFixed(1)} ms twice (> ${HANG_MS} ms): a hang`);
  return r;
}
