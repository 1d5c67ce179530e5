import { attainableShare, backAfter, histogramQuantile, reofferSummary, settledAt, type ShareSample } from './sharing-figures.js';

const cluster = { agents: 4, agentCpus: 8, agentMemMb: 16384, totalCpus: 32, totalMemMb: 65536 };
const task = { cpus: 1, memMb: 2048 };

describe('sharing figures', () => {
  it('attainableShare: whole tasks around what kube-mesos uses per agent', () => {
    expect(attainableShare(cluster, task, {})).toBe(1);
    // 2.5 cpus used on one agent leaves 5 whole tasks there (5.5 cpus): 29 of 32.
    expect(attainableShare(cluster, task, { a1: { cpus: 2.5, mem: 512 } })).toBeCloseTo(29 / 32);
    // memory can be the limit: 15 GiB used leaves no 2 GiB task.
    expect(attainableShare(cluster, task, { a1: { cpus: 1, mem: 15360 } })).toBeCloseTo(24 / 32);
  });

  const s = (t: number, batch: number): ShareSample => ({ t, batch, km: 0, kmOfferedCpus: 0, kmSuppressed: true });

  it('backAfter: 0 when already back when placed, the gap to the first sample reaching the target, undefined if never', () => {
    expect(backAfter([s(-100, 0.5), s(900, 0.9), s(1100, 0.9)], 1000, 0.8)).toEqual({ atPlaced: 0.9, ms: 0 });
    expect(backAfter([s(900, 0.5), s(1100, 0.7), s(1500, 0.85)], 1000, 0.8)).toEqual({ atPlaced: 0.5, ms: 500 });
    expect(backAfter([s(900, 0.5), s(1100, 0.7)], 1000, 0.8)).toEqual({ atPlaced: 0.5, ms: undefined });
  });

  it('settledAt: the start of the final run of samples within tol of the last share', () => {
    const k = (t: number, km: number): ShareSample => ({ t, km, batch: 0, kmOfferedCpus: 0, kmSuppressed: true });
    expect(settledAt([k(0, 0.1), k(1, 0.5), k(2, 0.3), k(3, 0.301), k(4, 0.3)], 0.002)).toBe(2);
    expect(settledAt([], 0.01)).toBeUndefined();
  });

  it('reofferSummary groups the gaps by refuse_seconds and counts agents back before their filter ended, with more to offer or not', () => {
    const r = reofferSummary([
      { refuse_seconds: 300, gap_ms: 301_000, grown: false },
      { refuse_seconds: 300, gap_ms: 1_000, grown: true },
      { refuse_seconds: 1, gap_ms: 2000, grown: false },
      { refuse_seconds: 1, gap_ms: 500, grown: false },
    ]);
    expect(r).toEqual({
      '1': { n: 2, min_gap_ms: 500, p50_gap_ms: expect.any(Number), early_grown: 0, early_not_grown: 1 },
      '300': { n: 2, min_gap_ms: 1000, p50_gap_ms: expect.any(Number), early_grown: 1, early_not_grown: 0 },
    });
  });
});

describe('histogramQuantile', () => {
  const buckets = [
    { le: 0.1, count: 50 },
    { le: 1, count: 90 },
    { le: 5, count: 100 },
    { le: Infinity, count: 100 },
  ];
  it('interpolates within the bucket the rank falls in, as histogram_quantile does', () => {
    expect(histogramQuantile(buckets, 0.5)).toBeCloseTo(0.1);
    expect(histogramQuantile(buckets, 0.7)).toBeCloseTo(0.55);
    expect(histogramQuantile(buckets, 0.99)).toBeCloseTo(4.6);
  });
  it('null without observations; the last finite bound for ranks in +Inf', () => {
    expect(histogramQuantile([{ le: 1, count: 0 }, { le: Infinity, count: 0 }], 0.5)).toBeNull();
    expect(histogramQuantile([{ le: 1, count: 1 }, { le: Infinity, count: 3 }], 0.99)).toBe(1);
  });
});
