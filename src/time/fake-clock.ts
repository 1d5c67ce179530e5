import type { Clock } from './backoff.js';

/** A manual clock for tests: nothing fires until `advance()`, which runs due timers in time order. */
export class FakeClock implements Clock {
  private t: number;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private seq = 0;

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.push({ at: this.t + Math.max(0, ms), fn, id });
    return id;
  };
  clearTimeout = (h: unknown): void => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time to the earliest waiting timer and fires it (and any due with it); returns the ms moved, or undefined if none waits. */
  advanceToNext(): number | undefined {
    if (!this.timers.length) return undefined;
    const ms = Math.max(0, Math.min(...this.timers.map((x) => x.at)) - this.t);
    this.advance(ms);
    return ms;
  }

  /** Moves time forward by `ms`, firing every timer due by then (timers they set included) in order. */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      let next: { at: number; fn: () => void; id: number } | undefined;
      for (const x of this.timers) if (x.at <= target && (!next || x.at < next.at || (x.at === next.at && x.id < next.id))) next = x;
      if (!next) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = target;
  }
}
