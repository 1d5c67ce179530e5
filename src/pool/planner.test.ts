import { canAddKubelet, DEFAULT_POOL_CONFIG, planPool, validatePoolConfig, type PoolAgent, type PoolConfig, type PoolKubelet, type PoolPod } from './planner.js';

const MIN = 60_000;
const cfg = (over: Partial<PoolConfig> = {}): PoolConfig => ({ ...DEFAULT_POOL_CONFIG, idleTimeoutMs: 10 * MIN, consolidationDelayMs: 0, ...over });

function kubelet(agentId: string, zone: string, over: Partial<PoolKubelet> = {}): PoolKubelet {
  return { agentId, zone, state: 'running', idleSinceMs: undefined, underusedSinceMs: 0, capacity: { cpus: 8, mem: 16384 }, pods: [], ...over };
}
const pod = (key: string, cpus = 1, over: Partial<PoolPod> = {}): PoolPod => ({ key, cpus, mem: 1024, evictable: true, pdbs: [], ...over });
const agent = (id: string, zone: string, over: Partial<PoolAgent> = {}): PoolAgent => ({ id, zone, hasKubelet: false, launchable: true, ...over });

describe('planPool: warm pool', () => {
  it.each([
    // minPerZone, kubelets already in zone a, launchable agents in a → warm launches in a
    [0, 0, 3, 0],
    [2, 0, 3, 2],
    [2, 1, 3, 1],
    [2, 2, 3, 0],
    [3, 0, 1, 1], // not enough agents
  ])('minPerZone=%d with %d kubelets and %d free agents launches %d', (minPerZone, have, free, want) => {
    const kubelets = Array.from({ length: have }, (_, i) => kubelet(`k${i}`, 'a', { pods: [pod(`p${i}`)] }));
    const agents = Array.from({ length: free }, (_, i) => agent(`a${i}`, 'a'));
    const plan = planPool({ nowMs: 0, kubelets, agents, pdbAllowed: {} }, cfg({ minPerZone }));
    expect(plan.actions.filter((a) => a.kind === 'launch-warm')).toHaveLength(want);
  });

  it('respects max and maxPerZone, and skips failed zones and unlaunchable agents', () => {
    const agents = [agent('a1', 'a'), agent('a2', 'a'), agent('b1', 'b'), agent('b2', 'b', { launchable: false }), agent('c1', 'c')];
    const plan = planPool({ nowMs: 0, kubelets: [], agents, pdbAllowed: {}, failedZones: new Set(['c']) }, cfg({ minPerZone: 2, max: 3 }));
    expect(plan.actions.map((a) => a.agentId)).toEqual(['a1', 'a2', 'b1']);
    const perZone = planPool({ nowMs: 0, kubelets: [], agents, pdbAllowed: {} }, cfg({ minPerZone: 2, maxPerZone: 1 }));
    expect(perZone.actions.map((a) => a.agentId)).toEqual(['a1', 'b1', 'c1']);
  });
});

describe('planPool: idle timeout', () => {
  it.each([
    [9 * MIN, 0],
    [10 * MIN, 1],
    [60 * MIN, 1],
  ])('a kubelet idle for %d ms is removed: %d', (idleFor, removed) => {
    const plan = planPool({ nowMs: idleFor, kubelets: [kubelet('k1', 'a', { idleSinceMs: 0 })], agents: [], pdbAllowed: {} }, cfg());
    expect(plan.actions.filter((a) => a.kind === 'remove-idle')).toHaveLength(removed);
  });

  it('keeps idle kubelets that the warm pool needs', () => {
    const plan = planPool({ nowMs: 99 * MIN, kubelets: [kubelet('k1', 'a', { idleSinceMs: 0 }), kubelet('k2', 'a', { idleSinceMs: 0 })], agents: [], pdbAllowed: {} }, cfg({ minPerZone: 1, maxConcurrentScaleDowns: 5 }));
    expect(plan.actions).toEqual([{ kind: 'remove-idle', agentId: 'k1', zone: 'a', reason: 'idle' }]);
    expect(plan.blocked).toEqual([{ agentId: 'k2', reason: 'zone a is at pool.minPerZone (1)' }]);
  });

  it('removes at most maxConcurrentScaleDowns at once, counting those in progress', () => {
    const kubelets = [kubelet('k1', 'a', { idleSinceMs: 0 }), kubelet('k2', 'a', { idleSinceMs: 5 }), kubelet('k3', 'a', { state: 'removing' })];
    expect(planPool({ nowMs: 99 * MIN, kubelets, agents: [], pdbAllowed: {} }, cfg({ maxConcurrentScaleDowns: 2 })).actions.map((a) => a.agentId)).toEqual(['k1']);
    expect(planPool({ nowMs: 99 * MIN, kubelets, agents: [], pdbAllowed: {} }, cfg({ maxConcurrentScaleDowns: 1 })).actions).toEqual([]);
  });

  it('does not remove kubelets still launching or hosting pods', () => {
    const kubelets = [kubelet('k1', 'a', { state: 'launching', idleSinceMs: 0 }), kubelet('k2', 'a', { pods: [pod('p')], idleSinceMs: undefined })];
    expect(planPool({ nowMs: 99 * MIN, kubelets, agents: [], pdbAllowed: {} }, cfg({ maxConcurrentScaleDowns: 5 })).actions).toEqual([]);
  });
});

describe('planPool: DaemonSet pods and the idle timeout', () => {
  const ds = (key: string) => pod(key, 0.1, { daemonSet: true });
  it.each([
    ['only DaemonSet pods, default', [ds('d1'), ds('d2')], undefined, 1],
    ['only DaemonSet pods, daemonSetPodsKeepKubelet', [ds('d1')], true, 0],
    ['a DaemonSet pod and a Deployment pod', [ds('d1'), pod('w1')], undefined, 0],
    ['no pods at all, daemonSetPodsKeepKubelet', [], true, 1],
  ])('%s: removed %d', (_name, pods, keep, removed) => {
    const k = kubelet('k1', 'a', { pods, idleSinceMs: 0 });
    const plan = planPool({ nowMs: 10 * MIN, kubelets: [k], agents: [], pdbAllowed: {} }, cfg({ daemonSetPodsKeepKubelet: keep }));
    expect(plan.actions.filter((a) => a.kind === 'remove-idle')).toHaveLength(removed);
  });
});

describe('planPool: consolidation', () => {
  const spread = () => [
    kubelet('k1', 'a', { pods: [pod('p1', 1)] }),
    kubelet('k2', 'a', { pods: [pod('p2', 1), pod('p3', 1)] }),
    kubelet('k3', 'a', { pods: [pod('p4', 6)] }),
  ];

  it('is off by default', () => {
    expect(planPool({ nowMs: 0, kubelets: spread(), agents: [], pdbAllowed: {} }, cfg()).actions).toEqual([]);
  });

  it('drains the least-used kubelet whose pods fit elsewhere', () => {
    const plan = planPool({ nowMs: 0, kubelets: spread(), agents: [], pdbAllowed: {} }, cfg({ consolidation: true }));
    expect(plan.actions).toEqual([{ kind: 'consolidate', agentId: 'k1', zone: 'a', reason: 'underutilized', evict: ['p1'] }]);
  });

  it('drains several with a larger budget but never onto a kubelet being drained', () => {
    const plan = planPool({ nowMs: 0, kubelets: spread(), agents: [], pdbAllowed: {} }, cfg({ consolidation: true, maxConcurrentScaleDowns: 3 }));
    expect(plan.actions.map((a) => a.agentId)).toEqual(['k1']);
    // k2's pods would have to go to k1 (being drained) or k3 (receiving k1's pod) — k3 is a target, so k2 stays.
  });

  it.each([
    ['a pod is not safe to evict', { evictable: false }, {}, /not safe to evict/],
    ['its PDB allows no disruption', { pdbs: ['web'] }, { web: 0 }, /PodDisruptionBudget web allows 0/],
  ])('is blocked when %s', (_what, podOver, pdbAllowed, reason) => {
    const kubelets = [kubelet('k1', 'a', { pods: [pod('p1', 1, podOver)] }), kubelet('k2', 'a', { pods: [pod('p2', 6)] })];
    const plan = planPool({ nowMs: 0, kubelets, agents: [], pdbAllowed }, cfg({ consolidation: true }));
    expect(plan.actions).toEqual([]);
    expect(plan.blocked[0].reason).toMatch(reason);
  });

  it('is allowed when the PDB has room', () => {
    const kubelets = [kubelet('k1', 'a', { pods: [pod('p1', 1, { pdbs: ['web'] })] }), kubelet('k2', 'a', { pods: [pod('p2', 6)] })];
    expect(planPool({ nowMs: 0, kubelets, agents: [], pdbAllowed: { web: 1 } }, cfg({ consolidation: true })).actions).toHaveLength(1);
  });

  it('keeps a kubelet whose pods do not fit elsewhere, and one not under-used long enough', () => {
    const full = [kubelet('k1', 'a', { pods: [pod('p1', 3)] }), kubelet('k2', 'a', { pods: [pod('p2', 6)] })];
    expect(planPool({ nowMs: 0, kubelets: full, agents: [], pdbAllowed: {} }, cfg({ consolidation: true })).blocked).toEqual([
      { agentId: 'k1', reason: 'its pods do not fit on the other kubelets' },
    ]);
    const recent = [kubelet('k1', 'a', { pods: [pod('p1', 1)], underusedSinceMs: 100 }), kubelet('k2', 'a', { pods: [pod('p2', 1)], underusedSinceMs: 100 })];
    expect(planPool({ nowMs: 200, kubelets: recent, agents: [], pdbAllowed: {} }, cfg({ consolidation: true, consolidationDelayMs: 1000 })).actions).toEqual([]);
  });
});

describe('pool limits and config', () => {
  it.each([
    [{ max: 0, maxPerZone: 0 }, true],
    [{ max: 3, maxPerZone: 0 }, false],
    [{ max: 5, maxPerZone: 2 }, false],
    [{ max: 5, maxPerZone: 3 }, true],
  ])('canAddKubelet with %p → %p', (limits, ok) => {
    expect(canAddKubelet('a', { total: 3, perZone: new Map([['a', 2]]) }, cfg(limits))).toBe(ok);
  });

  it('validates', () => {
    expect(validatePoolConfig(cfg())).toEqual([]);
    expect(validatePoolConfig(cfg({ minPerZone: 3, maxPerZone: 2, scaleDownUtilization: 2, maxConcurrentScaleDowns: 0 }))).toHaveLength(3);
  });
});
