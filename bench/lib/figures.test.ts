// Not matched by jest.config.js (bench/ is outside its projects); run with:
// npm test -- --selectProjects unit --rootDir . --testMatch '<rootDir>/bench/**/*.test.ts'
import { describe, expect, it } from '@jest/globals';
import { percentile, summarizeRun } from './figures.js';
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

describe('requestDelta', () => {
  it('subtracts, drops WATCH and unchanged kinds, sorts by count', () => {
    const before = new Map([['POST pods', 10], ['WATCH pods', 1], ['GET nodes', 4]]);
    const after = new Map([['POST pods', 30], ['WATCH pods', 9], ['GET nodes', 4], ['POST pods/binding', 25]]);
    expect(requestDelta(before, after)).toEqual({ total: 45, top: { 'POST pods/binding': 25, 'POST pods': 20 } });
  });
});

describe('kubeSchedulerConfig', () => {
  it('sets the client limits and turns leader election off', () => {
    const y = kubeSchedulerConfig({ kubeconfig: '/tmp/k c', qps: 123, burst: 456 });
    expect(y).toContain('kind: KubeSchedulerConfiguration');
    expect(y).toContain('  kubeconfig: "/tmp/k c"');
    expect(y).toMatch(/qps: 123\n\s+burst: 456/);
    expect(y).toContain('leaderElect: false');
  });
});
