import {
  DEFAULT_FAILOVER_CONFIG as C,
  failoverAfter,
  newRateLimiter,
  planReplacements,
  tasksToKillOnReturn,
  zoneHealth,
  type AgentHealthView,
  type LostPod,
} from './policy.js';

const agents = (zone: string, total: number, lost: number): AgentHealthView[] =>
  Array.from({ length: total }, (_, i) => ({ id: `${zone}${i}`, zone, health: i < lost ? 'lost' : 'active' }));

describe('zoneHealth', () => {
  it.each([
    [10, 5, true],
    [10, 6, false],
    [9, 5, false], // 5/9 = 0.556 ≥ 0.55
    [9, 4, true],
  ])('%d agents, %d lost: healthy=%p', (total, lost, healthy) => {
    expect(zoneHealth(agents('a', total, lost), C).zones.get('a')!.healthy).toBe(healthy);
  });

  it('one failed zone out of three is not a cut-off', () => {
    const h = zoneHealth([...agents('a', 3, 0), ...agents('b', 3, 3), ...agents('c', 3, 0)], C);
    expect([...h.unhealthyZones]).toEqual(['b']);
    expect(h.cutOff).toBe(false);
  });

  it.each([
    ['every zone down', [...agents('a', 3, 2), ...agents('b', 3, 2)]],
    ['more than 70% of agents lost', [...agents('a', 10, 10), ...agents('b', 10, 5)]],
  ])('%s is a cut-off: replace nothing', (_what, list) => {
    expect(zoneHealth(list, C).cutOff).toBe(true);
  });
});

describe('failoverAfter precedence', () => {
  const tol = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }];
  it.each([
    [{ 'kube-mesos.io/failover-after': '20s' }, tol, { ok: true, ms: 20_000, source: 'annotation' }],
    [{}, tol, { ok: true, ms: 300_000, source: 'toleration' }],
    [{}, [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }], { ok: true, ms: 60_000, source: 'default' }],
    [{}, [{ operator: 'Exists', tolerationSeconds: 7 }], { ok: true, ms: 7000, source: 'toleration' }],
    [{}, [{ key: 'other', operator: 'Exists', tolerationSeconds: 7 }], { ok: true, ms: 60_000, source: 'default' }],
    [undefined, undefined, { ok: true, ms: 60_000, source: 'default' }],
  ])('annotations %p, tolerations %p → %p', (ann, tols, want) => {
    expect(failoverAfter(ann, tols, 60_000)).toEqual(want);
  });

  it('a malformed annotation is an error value', () => {
    const r = failoverAfter({ 'kube-mesos.io/failover-after': 'soon' }, [], 1);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/kube-mesos.io\/failover-after/);
  });
});

describe('planReplacements', () => {
  const healthy = zoneHealth(agents('a', 3, 1), C);
  const lost = (key: string, over: Partial<LostPod> = {}): LostPod => ({
    key, uid: key, agentId: 'a0', zone: 'a', owned: true, rescheduleOnLoss: false, failoverAfterMs: 20_000, lostSinceMs: 0, gone: false, ...over,
  });

  it.each([
    [19_999, 0],
    [20_000, 1],
  ])('replaces an owned pod only after failover-after (now=%d → %d)', (now, n) => {
    const plan = planReplacements([lost('p')], healthy, newRateLimiter(C, 0), C, now);
    expect(plan.replace).toHaveLength(n);
    if (n === 0) expect(plan.nextDueMs).toBe(20_000);
  });

  it('replaces TASK_GONE at once', () => {
    expect(planReplacements([lost('p', { gone: true })], healthy, newRateLimiter(C, 0), C, 0).replace).toHaveLength(1);
  });

  it('deletes owned pods (gracefully while only unreachable); opted-in bare pods wait for GONE, then are re-created; other bare pods stay', () => {
    const pods = [lost('owned'), lost('bare-opt', { owned: false, rescheduleOnLoss: true }), lost('bare', { owned: false })];
    const plan = planReplacements(pods, healthy, newRateLimiter(C, 0), C, 60_000);
    expect(plan.replace.map((r) => [r.kind, r.pod.key, r.kind === 'delete' ? r.graceSeconds : undefined])).toEqual([['delete', 'owned', 30]]);
    expect(plan.held.map((h) => [h.key, h.reason])).toEqual([['bare', 'bare-pod'], ['bare-opt', 'awaiting-gone']]);
    const gone = planReplacements([lost('bare-opt', { owned: false, rescheduleOnLoss: true, gone: true })], healthy, newRateLimiter(C, 0), C, 60_000);
    expect(gone.replace.map((r) => [r.kind, r.pod.key])).toEqual([['recreate', 'bare-opt']]);
  });

  it('replaces nothing under the safety stop', () => {
    const cut = zoneHealth(agents('a', 3, 3), C);
    const plan = planReplacements([lost('p')], cut, newRateLimiter(C, 0), C, 60_000);
    expect(plan.replace).toEqual([]);
    expect(plan.held).toEqual([{ key: 'p', reason: 'safety-stop' }]);
  });

  it('the safety stop holds a GONE task (a new framework id says GONE for everything) but not one whose executor its agent saw terminate', () => {
    const cut = zoneHealth(agents('a', 3, 3), C);
    const plan = planReplacements([lost('gone', { gone: true }), lost('dead', { dead: true })], cut, newRateLimiter(C, 0), C, 60_000);
    expect(plan.replace.map((r) => r.pod.key)).toEqual(['dead']);
    expect(plan.held).toEqual([{ key: 'gone', reason: 'safety-stop' }]);
  });

  it('rate-limits replacements with a token bucket', () => {
    const cfg = { ...C, replacementBurst: 2, replacementsPerMinute: 60 };
    // gone tasks: not paced per agent, so only the pod token bucket applies
    const pods = ['a', 'b', 'c', 'd'].map((k) => lost(k, { gone: true }));
    const first = planReplacements(pods, healthy, newRateLimiter(cfg, 0), cfg, 60_000);
    expect(first.replace.map((r) => r.pod.key)).toEqual(['a', 'b']);
    expect(first.held.filter((h) => h.reason === 'rate-limit')).toHaveLength(2);
    expect(first.nextDueMs).toBe(61_000);
    const later = planReplacements(pods.slice(2), healthy, first.limiter, cfg, 61_000);
    expect(later.replace.map((r) => r.pod.key)).toEqual(['c']);
  });
});

describe('tasksToKillOnReturn', () => {
  it('kills tasks whose pods were replaced or deleted, keeps the rest', () => {
    const current = new Map([['u1', 't1'], ['u2', 't2-new']]);
    expect(tasksToKillOnReturn([{ taskId: 't1', podUid: 'u1' }, { taskId: 't2', podUid: 'u2' }, { taskId: 't3', podUid: 'u3' }], (u) => current.get(u))).toEqual(['t2', 't3']);
  });
});
