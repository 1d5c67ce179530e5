/**
 * Time and retry pacing for every client in the project (Mesos, Kubernetes, the executor's kubelets): an injectable
 * clock, the one `sleep`, and the one capped exponential backoff with jitter.
 */
import { setLongTimeout, timerDelay, type LongTimeout } from './timers.js';

export type TimerHandle = unknown;

/** Everything the clients need from time; tests pass a fake or a fast one. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Real time; timers do not keep the process alive and honour delays past Node's 24.8-day maximum (setLongTimeout). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setLongTimeout(fn, ms),
  clearTimeout: (h) => (h as LongTimeout | undefined)?.clear(),
};

/**
 * Resolves after `ms` on `clock` (default: real timers that keep the process alive while it waits), or at once when
 * `signal` aborts; callers that care check `signal.aborted`. Never rejects.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void>;
export function sleep(ms: number, clock: Clock, signal?: AbortSignal): Promise<void>;
export function sleep(ms: number, clockOrSignal?: Clock | AbortSignal, maybeSignal?: AbortSignal): Promise<void> {
  const clock = clockOrSignal && !isAbortSignal(clockOrSignal) ? clockOrSignal : keepAliveClock;
  const signal = isAbortSignal(clockOrSignal) ? clockOrSignal : maybeSignal;
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const keepAliveClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, timerDelay(ms)),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

function isAbortSignal(x: unknown): x is AbortSignal {
  return typeof AbortSignal !== 'undefined' && x instanceof AbortSignal;
}

export interface BackoffOptions {
  /** First delay before jitter; default 500 ms. */
  initialMs?: number;
  /** Cap on every delay, jitter included; default 30 s. */
  maxMs?: number;
  /** Growth per attempt; default 2. */
  factor?: number;
  /** Jitter source in [0,1); default Math.random. Seed it in tests. */
  random?: () => number;
}

/**
 * Capped exponential backoff with "equal jitter": attempt n waits a uniform delay in
 * [d/2, d] where d = min(max, initial × factor^n), so retries spread out but never collapse to 0.
 */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 500;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.random = opts.random ?? Math.random;
    if (!(this.initialMs >= 0) || !Number.isFinite(this.initialMs)) throw new RangeError(`backoff initialMs must be a finite number >= 0, got ${opts.initialMs}`);
    if (!(this.maxMs >= this.initialMs)) throw new RangeError(`backoff maxMs (${opts.maxMs}) must be >= initialMs (${this.initialMs})`);
    if (!(this.factor >= 1)) throw new RangeError(`backoff factor must be >= 1, got ${opts.factor}`);
  }

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The next delay in ms; grows until the cap. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** Math.min(this.attempt, 64));
    this.attempt++;
    const half = ceiling / 2;
    return Math.min(this.maxMs, Math.round(half + this.random() * half));
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Deterministic PRNG (mulberry32) for seeded jitter in tests and benchmarks. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
