import { MAX_RETRY_AFTER_MS, retryAfterMs } from './session.js';

describe('retryAfterMs (Mesos calls answered 503/429)', () => {
  it.each([
    ['2', 0, 2000],
    ['Thu, 01 Jan 1970 00:00:05 GMT', 1000, 4000],
    ['86400', 0, MAX_RETRY_AFTER_MS],
    ['Thu, 01 Jan 1970 00:00:00 GMT', 5000, 0],
    ['later', 0, undefined],
    [undefined, 0, undefined],
  ])('%p at %d ms → %p', (value, now, want) => {
    expect(retryAfterMs(value, now)).toBe(want);
  });
});
