import { plan } from './plan.js';
import { numCandidates, planPreemption } from './preemption.js';
import { makeAgent, makePod, resetSeq, testConfig } from './testing/builders.js';

beforeEach(resetSeq);
const cfg = testConfig();
// An agent with 2 cpus, all taken by the given pods (1 cpu each unless said).
const full = (id: string, ...pods: ReturnType<typeof makePod>[]) => {
  const b = makeAgent(id).offer('*', { cpus: 2 - pods.reduce((s, p) => s + p.p.requests.cpus, 0), mem: 8192 }).kubelet();
  for (const p of pods) b.pod(p);
  return b;
};
const low = (name: string, prio = 0, cpus = 1) => makePod(name).priority(prio).requests({ cpus, mem: 64 });

describe('planPreemption (DefaultPreemption)', () => {
  it('evicts the fewest lower-priority pods on the best agent and nominates it', () => {
    const agents = [full('a1', low('x1'), low('x2')).build(), full('a2', low('y1', 0, 2)).build()];
    const pod = makePod('hi').priority(100).requests({ cpus: 2, mem: 64 }).build();
    expect(plan(agents, [pod], cfg).unschedulable).toHaveLength(1);
    const r = planPreemption(agents, pod, cfg);
    expect(r).toMatchObject({ ok: true, plan: { agentId: 'a2', nodeName: 'a2', victims: [{ name: 'y1', priority: 0 }], pdbViolations: 0 } });
  });

  it.each([
    // criteria in kube-scheduler's order
    ['lowest highest-priority victim', 1.5, [full('a1', low('p5', 5)), full('a2', low('p3', 3))], 'a2', ['p3']],
    ['lowest priority sum', 2, [full('a1', low('p3a', 3), low('p2', 2)), full('a2', low('p3b', 3), low('p1', 1))], 'a2', ['p3b', 'p1']],
    // each victim adds 2^31 to the sum, as in kube-scheduler, so fewer victims win there already
    ['fewer victims', 2, [full('a1', low('q1', 0, 0.5), low('q2', 0, 0.5)), full('a2', low('q3'))], 'a2', ['q3']],
    ['latest start among the most important victims', 1.5, [full('a1', low('old').createdAt(1)), full('a2', low('new').createdAt(9))], 'a2', ['new']],
  ])('%s', (_n, cpus, agents, agentId, victims) => {
    const pod = makePod('hi').priority(100).requests({ cpus, mem: 64 }).build();
    const r = planPreemption(agents.map((a) => a.build()), pod, cfg);
    expect(r.ok && [r.plan.agentId, r.plan.victims.map((v) => v.name)]).toEqual([agentId, victims]);
  });

  it('reprieves the most important pods that need not go', () => {
    const agent = makeAgent('a').offer('*', { cpus: 0, mem: 8192 }).kubelet().pod(low('big', 1, 2)).pod(low('small', 0, 1)).pod(low('tiny', 5, 1)).build();
    const r = planPreemption([agent], makePod('hi').priority(10).requests({ cpus: 2, mem: 64 }).build(), cfg);
    expect(r.ok && r.plan.victims.map((v) => v.name)).toEqual(['big']);
  });

  it('never evicts pods of equal or higher priority, or pods of unknown priority', () => {
    const agent = full('a', low('same', 10), makePod('unknown').requests({ cpus: 1 })).build();
    agent.pods[1].priority = undefined;
    expect(planPreemption([agent], makePod('hi').priority(10).requests({ cpus: 2 }).build(), cfg)).toEqual({ ok: false, reason: 'no lower-priority pods whose eviction makes room' });
  });

  it('prefers an agent where no PodDisruptionBudget is violated', () => {
    const agents = [full('a1', low('guarded').labels({ app: 'db' })).build(), full('a2', low('free', 0).labels({ app: 'web' })).build()];
    const pdbs = [{ namespace: 'default', selector: { matchLabels: { app: 'db' } }, disruptionsAllowed: 0 }];
    const pod = makePod('hi').priority(100).requests({ cpus: 1.5 }).build();
    const r = planPreemption(agents, pod, cfg, pdbs);
    expect(r.ok && [r.plan.agentId, r.plan.pdbViolations]).toEqual(['a2', 0]);
    // with no other choice it violates the budget, and says so
    const only = planPreemption([agents[0]], pod, cfg, pdbs);
    expect(only.ok && [only.plan.agentId, only.plan.pdbViolations]).toEqual(['a1', 1]);
  });

  it('honours preemptionPolicy Never', () => {
    const agents = [full('a', low('x', 0, 2)).build()];
    expect(planPreemption(agents, makePod('hi').priority(100).preemptionPolicy('Never').requests({ cpus: 1 }).build(), cfg)).toEqual({ ok: false, reason: 'preemptionPolicy is Never' });
  });

  it('does not preempt where eviction cannot help (taint, selector)', () => {
    const agents = [full('a', low('x', 0, 2)).taint({ key: 'k', value: 'v', effect: 'NoSchedule' }).build()];
    expect(planPreemption(agents, makePod('hi').priority(100).requests({ cpus: 1 }).build(), cfg)).toEqual({ ok: false, reason: 'preemption is not helpful for scheduling' });
  });

  it('waits while lower-priority pods on its nominated node are still terminating', () => {
    const agents = [makeAgent('a').offer('*', { cpus: 0, mem: 8192 }).kubelet().pod(low('going', 0, 2), { terminating: true }).build()];
    const pod = makePod('hi').priority(100).requests({ cpus: 1 }).nominated('a').build();
    expect(planPreemption(agents, pod, cfg)).toEqual({ ok: false, reason: 'waiting for lower-priority pods on a to terminate' });
  });

  it("returns the victims' resources to their role and Mesos-managed extended resources with them", () => {
    const gpuPod = low('trainer', 0, 0.5).extended('nvidia.com/gpu', 1);
    const agent = makeAgent('g').offer('gpu', { cpus: 4, mem: 8192 }, [], { gpus: 0 }).kubelet().pod(gpuPod, { role: 'gpu' }).build();
    const pod = makePod('hi').roles('gpu').priority(100).extended('nvidia.com/gpu', 1).build();
    const r = planPreemption([agent], pod, cfg);
    expect(r.ok && r.plan.victims.map((v) => v.name)).toEqual(['trainer']);
  });

  it('clears lower-priority nominations on the chosen node', () => {
    const agents = [full('a', low('x', 0, 2)).build()];
    const r = planPreemption(agents, makePod('hi').priority(100).requests({ cpus: 1 }).build(), cfg, [], [
      { podKey: 'default/mid', priority: 50, nodeName: 'a' },
      { podKey: 'default/top', priority: 200, nodeName: 'a' },
    ]);
    expect(r.ok && r.plan.clearNominated).toEqual(['default/mid']);
  });

  it.each([
    [5, 5],
    [500, 100],
    [5000, 500],
  ])('numCandidates(%i) = %i', (n, want) => expect(numCandidates(n)).toBe(want));
});

describe('a nominated pod in plan()', () => {
  it('holds the room on its nominated agent from the lower-priority pods after it', () => {
    const agent = makeAgent('a').offer('*', { cpus: 1, mem: 8192 }).kubelet().build();
    const nominee = makePod('hi').priority(100).requests({ cpus: 2 }).nominated('a').build();
    const after = makePod('lo').priority(0).requests({ cpus: 1 }).build();
    const r = plan([agent], [nominee, after], cfg);
    expect(r.placements).toEqual([]);
    expect(r.unschedulable.map((u) => u.podKey)).toEqual(['default/hi', 'default/lo']);
    // without the nomination the small pod would have taken it
    expect(plan([agent], [{ ...nominee, nominatedNodeName: undefined }, after], cfg).placements.map((p) => p.podKey)).toEqual(['default/lo']);
  });
});
