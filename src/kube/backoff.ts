import type { Clock } from '../time/backoff.js';

/**
 * Client-side token bucket (like client-go's QPS/burst) plus a bound on requests in flight.
 * `acquire()` resolves when a request may start; the caller must call the returned release().
 */
export class RequestLimiter {
  private tokens: number;
  private last: number;
  private inFlight = 0;
  private readonly waiters: Array<{ inFlight: boolean; grant: () => void }> = [];
  private timer: unknown;
  private readonly now: () => number;
  private readonly wakeAfter: (fn: () => void, ms: number) => unknown;

  /** `time`: a clock (tests pass a fake one) or just a time source, with real timers then. */
  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly maxInFlight: number,
    time: Clock | (() => number) = Date.now,
  ) {
    if (!(qps > 0) || !(burst >= 1) || !(maxInFlight >= 1)) throw new TypeError('limiter: qps > 0, burst >= 1 and maxInFlight >= 1 required');
    this.now = typeof time === 'function' ? time : () => time.now();
    this.wakeAfter = typeof time === 'function' ? (fn, ms) => setTimeout(fn, ms) : (fn, ms) => time.setTimeout(fn, ms);
    this.tokens = burst;
    this.last = this.now();
  }

  /**
   * Waits for a rate token and (unless `inFlight` is false, e.g. for long watches) a concurrency slot. With `signal`:
   * aborted before the grant, the caller leaves the queue without either and gets `undefined` (nothing to release).
   */
  acquire(inFlight?: boolean): Promise<() => void>;
  acquire(inFlight: boolean, signal: AbortSignal | undefined): Promise<(() => void) | undefined>;
  acquire(inFlight = true, signal?: AbortSignal): Promise<(() => void) | undefined> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve(undefined);
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i < 0) return;
        this.waiters.splice(i, 1);
        resolve(undefined);
        this.pump(); // the head may have changed
      };
      const waiter = {
        inFlight,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          if (!inFlight) return resolve(() => {});
          this.inFlight++;
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            this.inFlight--;
            this.pump();
          });
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  get pending(): number {
    return this.waiters.length;
  }

  get active(): number {
    return this.inFlight;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
  }

  private pump(): void {
    this.refill();
    while (this.waiters.length > 0) {
      if (this.waiters[0].inFlight && this.inFlight >= this.maxInFlight) return; // release() pumps again
      if (this.tokens < 1) {
        if (!this.timer) {
          const waitMs = Math.ceil(((1 - this.tokens) / this.qps) * 1000);
          const wake = (): void => {
            this.timer = undefined;
            this.pump();
          };
          this.timer = this.wakeAfter(wake, waitMs);
        }
        return;
      }
      this.tokens -= 1;
      this.waiters.shift()!.grant();
    }
  }
}
