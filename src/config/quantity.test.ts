import { cpuCores, formatCores, formatMegabytes, memMegabytes, parseQuantity } from './quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['250m', 0.25],
    ['1', 1],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['256Mi', 256 * 2 ** 20],
    ['1Ki', 1024],
    ['1k', 1000],
    ['1M', 1e6],
    ['2G', 2e9],
    ['100n', 1e-7],
    ['5u', 5e-6],
    ['2e3', 2000],
    ['1E2', 100],
    ['-1', -1],
    ['+3', 3],
    [' 64Mi ', 64 * 2 ** 20],
  ])('%p = %d', (input, value) => {
    const r = parseQuantity(input);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value).toBeCloseTo(value, 12);
  });

  it.each(['', 'abc', '1mi', '1 Mi', 'Mi', '1KiB', '1.2.3', '--1', '1e', '0x10'])('rejects %p', (input) => {
    const r = parseQuantity(input);
    expect(r).toEqual({ ok: false, error: expect.stringContaining('not a Kubernetes quantity') });
  });

  it('accepts YAML numbers as they are', () => {
    expect(parseQuantity(0.5)).toEqual({ ok: true, value: 0.5 });
    expect(parseQuantity(Number.NaN).ok).toBe(false);
  });
});

describe('unit helpers', () => {
  it.each([
    ['100m', 0.1],
    ['1', 1],
    ['1n', 0.001], // Kubernetes rounds CPU up to whole millicores
    ['1500m', 1.5],
  ])('cpuCores(%p) = %d', (q, cores) => expect(cpuCores(q)).toEqual({ ok: true, value: cores }));

  it.each([
    ['128Mi', 128],
    ['1Gi', 1024],
    ['1048576', 1],
  ])('memMegabytes(%p) = %d', (q, mb) => expect(memMegabytes(q)).toEqual({ ok: true, value: mb }));

  it.each([
    [0.25, '250m'],
    [2, '2'],
  ])('formatCores(%d) = %s', (c, s) => expect(formatCores(c)).toBe(s));

  it.each([
    [128, '128Mi'],
    [2048, '2Gi'],
  ])('formatMegabytes(%d) = %s', (mb, s) => expect(formatMegabytes(mb)).toBe(s));
});
