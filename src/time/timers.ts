/**
 * Timers for configured (and peer- or pod-supplied) durations. Node runs any delay above 2^31-1 ms (about 24.8 days)
 * after 1 ms instead, so an unclamped long duration becomes a busy loop. Everything that feeds a configured duration
 * into setTimeout/setInterval goes through here.
 */

/** Node's (and browsers') largest timer delay. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay Node will honour: NaN and negatives → 0, above MAX_TIMER_MS → MAX_TIMER_MS. */
export function timerDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

export interface LongTimeout {
  clear(): void;
}

/**
 * Runs `fn` once after `ms`, however long: delays beyond MAX_TIMER_MS are slept in steps. The timer does not keep
 * the process alive (unref), like the clients' other timers.
 */
export function setLongTimeout(fn: () => void, ms: number): LongTimeout {
  let remaining = Number.isNaN(ms) ? 0 : Math.max(0, ms);
  let handle: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const step = timerDelay(remaining);
    remaining -= step;
    handle = setTimeout(remaining > 0 ? arm : fn, step);
    handle.unref?.();
  };
  arm();
  return { clear: () => clearTimeout(handle) };
}

/** setInterval with the period clamped to [1 ms, MAX_TIMER_MS] (a longer period runs every MAX_TIMER_MS). */
export function setClampedInterval(fn: () => void, ms: number): ReturnType<typeof setInterval> {
  return setInterval(fn, Math.max(1, timerDelay(ms)));
}
