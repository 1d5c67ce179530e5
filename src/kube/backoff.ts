/** Exponential backoff with jitter. `random` is injectable so tests are deterministic. */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Fraction of the delay added at random, 0..1. */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 500;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.2;
    this.random = opts.random ?? Math.random;
    if (!(this.initialMs >= 0) || !(this.maxMs >= this.initialMs)) throw new TypeError('backoff: need 0 <= initialMs <= maxMs');
    if (!(this.factor >= 1)) throw new TypeError('backoff: factor must be >= 1');
    if (!(this.jitter >= 0 && this.jitter <= 1)) throw new TypeError('backoff: jitter must be within 0..1');
  }

  /** The delay before the next attempt; each call grows the following one. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    return Math.min(this.maxMs, Math.round(base * (1 + this.jitter * this.random())));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Client-side token bucket (like client-go's QPS/burst) plus a bound on requests in flight.
 * `acquire()` resolves when a request may start; the caller must call the returned release().
 */
export class RequestLimiter {
  private tokens: number;
  private last: number;
  private inFlight = 0;
  private readonly waiters: Array<{ inFlight: boolean; grant: () => void }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly maxInFlight: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(qps > 0) || !(burst >= 1) || !(maxInFlight >= 1)) throw new TypeError('limiter: qps > 0, burst >= 1 and maxInFlight >= 1 required');
    this.tokens = burst;
    this.last = now();
  }

  /** Waits for a rate token and (unless `inFlight` is false, e.g. for long watches) a concurrency slot. */
  acquire(inFlight = true): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiters.push({
        inFlight,
        grant: () => {
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
      });
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
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, waitMs);
        }
        return;
      }
      this.tokens -= 1;
      this.waiters.shift()!.grant();
    }
  }
}
