import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['15s', 15_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['0', 0],
    ['2h0m0s', 7_200_000],
  ])('%s = %d ms', (input, ms) => {
    expect(parseDuration(input)).toEqual({ ok: true, ms });
  });

  it.each(['', '15', 'abc', '5 m', '-5s', '1d', 's'])('rejects %p', (input) => {
    const r = parseDuration(input);
    expect(r.ok).toBe(false);
  });

  it.each([
    [15_000, '15s'],
    [300_000, '5m'],
    [7_200_000, '2h'],
    [250, '250ms'],
  ])('formats %d as %s', (ms, s) => expect(formatDuration(ms)).toBe(s));
});
