// Not matched by jest.config.js (bench/ is outside its projects); run with:
// npm test -- --selectProjects unit --rootDir . --testMatch '<rootDir>/bench/**/*.test.ts'
import { describe, expect, it } from '@jest/globals';
import { latenciesSince, latencyFigures, p99Ratio, paceFigures, pacedSchedule, percentile, summarizeRun } from './figures.js';
import { requestDelta } from './kube.js';
import { kubeSchedulerConfig } from './kube-scheduler.js';

describe('percentile', () => {
  it.each([
    [[], 50, null],
    [[5], 99, 5],
    [[3, 1, 2, 4], 50, 2],
    [[3, 1, 2, 4], 100, 4],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
  ])('%j p%d = %j', (values, p, want) => expect(percentile(values, p)).toBe(want));
});

describe('summarizeRun', () => {
  const created = new Map([
    ['a', 0],
    ['b', 100],
    ['c', 200],
  ]);
  it('rates from the last creation to the last bind, latencies per pod', () => {
    const r = summarizeRun({ createdAt: created, boundAt: new Map([['a', 150], ['b', 1200], ['c', 2200]]), tFirst: 0, tLastCreated: 200, boundAtCreationEnd: 1, complete: true, others: [] });
    expect(r.bound).toBe(3);
    expect(r.pods_per_s).toBe(1); // 2 pods in 2 s
    expect(r.overall_pods_per_s).toBe(1); // 3 pods in 2.2 s
    expect(r.p50_create_to_bound_ms).toBe(1100);
    expect(r.p99_create_to_bound_ms).toBe(2000);
  });
  it('no rate when the contender kept up with creation (under 50 ms of drain)', () => {
    const r = summarizeRun({ createdAt: created, boundAt: new Map([['a', 10], ['b', 110], ['c', 220]]), tFirst: 0, tLastCreated: 200, boundAtCreationEnd: 2, complete: true, others: [] });
    expect(r.pods_per_s).toBeNull();
    expect(r.overall_pods_per_s).toBe(Math.round(3 / 0.22));
  });
  it('counts only bound pods when incomplete', () => {
    const r = summarizeRun({ createdAt: created, boundAt: new Map([['a', 1000]]), tFirst: 0, tLastCreated: 200, boundAtCreationEnd: 0, complete: false, others: [{ cpuSeconds: 1.5, peakRssMb: 10, rssMb: 9 }] });
    expect(r).toMatchObject({ complete: false, bound: 1, other_cpu_s: 1.5, other_peak_rss_mb: 10 });
  });
});

describe('latencyFigures', () => {
  it('is null without values', () => expect(latencyFigures([])).toBeNull());
  it('nearest-rank p50/p90/p99 and the max of 1..100 ms, whatever the order', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(latencyFigures(values)).toEqual({ p50: 50, p90: 90, p99: 99, max: 100 });
  });
  it('rounds to whole ms', () => expect(latencyFigures([1.4, 2.6])).toEqual({ p50: 1, p90: 3, p99: 3, max: 3 }));
});

describe('pacedSchedule', () => {
  it('spaces rate × seconds pods evenly from 0', () => {
    const s = pacedSchedule(100, 30);
    expect(s).toHaveLength(3000);
    expect(s.slice(0, 3)).toEqual([0, 10, 20]);
    expect(s[2999]).toBeCloseTo(29_990);
  });
  it.each([[0, 30], [100, 0], [Number.NaN, 30]])('refuses rate %d for %d s', (rate, seconds) => expect(() => pacedSchedule(rate, seconds)).toThrow(RangeError));
});

describe('paceFigures', () => {
  it('achieved rate from the sends, lag behind the schedule, request times', () => {
    // 5 pods due every 10 ms from t=1000; the third went out 7 ms late, the last one's answer never came.
    const due = [0, 10, 20, 30, 40];
    const sent = [1000, 1010, 1027, 1030, 1040];
    const answered = [1005, 1015, 1030, 1032, undefined];
    const f = paceFigures(100, 1000, due, sent, answered);
    expect(f.target_pods_per_s).toBe(100);
    expect(f.achieved_pods_per_s).toBe(100); // 4 gaps in 40 ms
    expect(f.creation_lag_ms).toEqual({ p50: 0, p90: 7, p99: 7, max: 7 });
    expect(f.create_request_ms).toEqual({ p50: 3, p90: 5, p99: 5, max: 5 });
  });
  it('a creator that fell behind shows a lower rate and growing lag', () => {
    const f = paceFigures(100, 0, [0, 10, 20], [0, 20, 40], [1, 21, 41]);
    expect(f.achieved_pods_per_s).toBe(50);
    expect(f.creation_lag_ms?.max).toBe(20);
  });
});

describe('latenciesSince', () => {
  it('one latency per pod that reached the event, never negative', () => {
    const created = new Map([['a', 100], ['b', 200], ['c', 300]]);
    expect(latenciesSince(created, new Map([['a', 150], ['c', 290], ['x', 1]])).sort()).toEqual([0, 50]);
  });
});

describe('p99Ratio', () => {
  it.each([
    [{ p50: 1, p90: 1, p99: 300, max: 1 }, { p50: 1, p90: 1, p99: 200, max: 1 }, 1.5],
    [null, { p50: 1, p90: 1, p99: 200, max: 1 }, null],
    [{ p50: 1, p90: 1, p99: 300, max: 1 }, undefined, null],
  ])('%j over %j = %j', (a, b, want) => expect(p99Ratio(a, b)).toBe(want));
});

describe('requestDelta', () => {
  it('subtracts, drops WATCH and unchanged kinds, sorts by count', () => {
    const before = new Map([['POST pods', 10], ['WATCH pods', 1], ['GET nodes', 4]]);
    const after = new Map([['POST pods', 30], ['WATCH pods', 9], ['GET nodes', 4], ['POST pods/binding', 25]]);
    expect(requestDelta(before, after)).toEqual({ total: 45, top: { 'POST pods/binding': 25, 'POST pods': 20 } });
  });
});

describe('kubeSchedulerConfig', () => {
  it('sets the client limits, turns leader election off, the insecure listener onto the given loopback port', () => {
    const y = kubeSchedulerConfig({ kubeconfig: '/tmp/k c', qps: 123, burst: 456, insecurePort: 40123 });
    expect(y).toContain('kind: KubeSchedulerConfiguration');
    expect(y).toContain('  kubeconfig: "/tmp/k c"');
    expect(y).toMatch(/qps: 123\n\s+burst: 456/);
    expect(y).toContain('leaderElect: false');
    expect(y).toContain('healthzBindAddress: 127.0.0.1:40123');
    expect(y).toContain('metricsBindAddress: 127.0.0.1:40123');
  });
});
