import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { systemClock } from './backoff.js';
import { MAX_TIMER_MS, setClampedInterval, setLongTimeout, timerDelay } from './timers.js';

const H = 3_600_000;

// Jest's fake timers reproduce Node's overflow: a delay above 2^31-1 ms runs after 1 ms.
describe('timers for long configured durations (issue 16 item 8)', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('a raw 720h setTimeout fires after 1 ms (the bug being guarded against)', () => {
    const fn = jest.fn();
    setTimeout(fn, 720 * H);
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('setLongTimeout(720h) runs once, at 720h', () => {
    const fn = jest.fn();
    setLongTimeout(fn, 720 * H);
    jest.advanceTimersByTime(MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(720 * H - MAX_TIMER_MS - 1);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(10 * 720 * H);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('setLongTimeout can be cleared between its steps', () => {
    const fn = jest.fn();
    const t = setLongTimeout(fn, 720 * H);
    jest.advanceTimersByTime(MAX_TIMER_MS + 5);
    t.clear();
    jest.advanceTimersByTime(720 * H);
    expect(fn).not.toHaveBeenCalled();
  });

  it('setClampedInterval(720h) does not run every millisecond', () => {
    const fn = jest.fn();
    const t = setClampedInterval(fn, 720 * H);
    jest.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(MAX_TIMER_MS);
    expect(fn).toHaveBeenCalledTimes(1);
    clearInterval(t);
  });

  it("the Mesos clients' system clock clamps too (a master's huge heartbeat interval is not a busy loop)", () => {
    const fn = jest.fn();
    systemClock.setTimeout(fn, 720 * H);
    jest.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
  });

  it.each([[-5, 0], [Number.NaN, 0], [250, 250], [Infinity, MAX_TIMER_MS], [720 * H, MAX_TIMER_MS]])('timerDelay(%p) = %p', (ms, want) => {
    expect(timerDelay(ms)).toBe(want);
  });
});
