import type { V1Pod } from '@kubernetes/client-node';
import { ConnectionError } from '../mesos/errors.js';
import type { TaskInfo } from '../mesos/types.js';
import { silentLogger } from '../telemetry/log.js';
import { DEFAULT_POOL_CONFIG } from '../pool/planner.js';
import { taskIdFor } from './launch.js';
import { FrameworkCore, type FrameworkCoreConfig } from './framework.js';
import { aPod, anOffer, statusFor, statusOf } from './testing/builders.js';
import { coreHarness, TEST_CORE_CONFIG } from './testing/core-harness.js';
import { FakeKube, FakeMesos, noMetrics } from './testing/fakes.js';


const config = TEST_CORE_CONFIG;

function setup(over: Partial<FrameworkCoreConfig> = {}) {
  return coreHarness(over);
}

describe('FrameworkCore', () => {
  it('places many pods per offer and sends one ACCEPT per agent, the executor with the first pod', async () => {
    const { core, mesos } = setup();
    for (let i = 0; i < 6; i++) core.onPodUpsert(aPod(`web-${i}`).build());
    core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build()]);
    const r = core.runCycle();
    await core.drain();
    expect(r).toMatchObject({ considered: 6, placed: 6, accepts: 2 });
    expect(mesos.accepts).toHaveLength(2);
    const tasks = mesos.tasks();
    expect(tasks).toHaveLength(6);
    for (const accept of mesos.accepts) {
      const infos = accept.operations[0].launch!.task_infos!;
      const executorIds = new Set(infos.map((t) => t.executor!.executor_id.value));
      expect(executorIds.size).toBe(1); // one kubelet per agent
    }
    expect(tasks[0].resources!.filter((res) => res.name === 'cpus').reduce((s, res) => s + res.scalar!.value, 0)).toBeCloseTo(0.5);
    expect(core.queue.size).toBe(0);
  });

  it('reports a pod that fits nowhere with a kube-scheduler-style message and backs it off', async () => {
    const { core, kube, mesos } = setup();
    core.onPodUpsert(aPod('huge').cpu('64').build());
    core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build()]);
    const r = core.runCycle();
    await core.drain();
    expect(r.unschedulable).toBe(1);
    expect(kube.unschedulable).toHaveLength(1);
    expect(kube.unschedulable[0][1]).toMatch(/^0\/2 nodes are available: 2 Insufficient cpu/);
    expect(mesos.accepts).toHaveLength(0);
    expect(core.queue.size).toBe(1);
    // the same message is not re-reported on the next attempt
    core.queue.moveAllToActive();
    core.runCycle();
    await core.drain();
    expect(kube.unschedulable).toHaveLength(1);
  });

  it('with part of the cluster not offered, reports Unschedulable only after the grace; with every agent offered, at once', async () => {
    const { core, kube, advance } = setup({ unschedulableGraceMs: 5000 });
    core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build()]);
    core.onPodUpsert(aPod('small').build());
    core.runCycle(); // small takes one agent's offer, the other is declined (nothing else waits)
    core.onOffers([anOffer('a3').zone('z3').build()]); // only a3 is offered now; a1 and a2 are known
    core.onPodUpsert(aPod('huge').cpu('64').build());
    expect(core.runCycle().unschedulable).toBe(1);
    await core.drain();
    expect(kube.unschedulable).toEqual([]); // the agent not offered might still have room
    advance(4000);
    core.queue.moveAllToActive();
    expect(core.runCycle().unschedulable).toBe(1);
    await core.drain();
    expect(kube.unschedulable).toEqual([]);
    advance(1000);
    core.onOffers([anOffer('a3').zone('z3').build()]); // the first one was held for offerHoldMs and declined
    core.queue.moveAllToActive();
    expect(core.runCycle().unschedulable).toBe(1);
    await core.drain();
    expect(kube.unschedulable.map(([name]) => name)).toEqual(['huge']);

    const full = setup({ unschedulableGraceMs: 5000 });
    full.core.onPodUpsert(aPod('huge').cpu('64').build());
    full.core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build()]);
    full.core.runCycle();
    await full.core.drain();
    expect(full.kube.unschedulable.map(([name]) => name)).toEqual(['huge']);
  });

  it('re-queues a pod whose launch failed before binding, and places it again', async () => {
    const { core, mesos, kube } = setup();
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    const [task] = mesos.tasks();
    core.onUpdate(statusOf(task).state('TASK_DROPPED').build());
    await core.drain();
    expect(kube.warnings).toEqual([['p1', 'FailedLaunch']]);
    expect(core.queue.size).toBe(1);
    expect(core.queue.counts(1000)).toEqual({ active: 0, backoff: 1 }); // no retry loop without new capacity
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    expect(mesos.tasks()).toHaveLength(2);
    expect(mesos.tasks()[1].task_id.value).not.toBe(task.task_id.value);
  });

  it('counts a launch that failed before binding as a kubelet launch failure, by Mesos reason', async () => {
    const failures: string[] = [];
    const mesos = new FakeMesos();
    const kube = new FakeKube();
    const core = new FrameworkCore({ mesos, kube, clock: { now: () => 1000 }, log: silentLogger(), config, metrics: { ...noMetrics, kubeletLaunchFailed: (r) => failures.push(r) } });
    core.onSubscribed('fw');
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    const [task] = mesos.tasks();
    core.onUpdate(statusOf(task).state('TASK_FAILED').reason('REASON_EXECUTOR_TERMINATED').build());
    await core.drain();
    expect(failures).toEqual(['REASON_EXECUTOR_TERMINATED']);
  });

  it('acknowledges updates with a uuid only; binds the pod on TASK_STARTING, once, and then reports Scheduled', async () => {
    const { core, mesos, kube } = setup();
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    const [task] = mesos.tasks();
    expect(kube.bindings).toEqual([]); // launched, not bound: the task has not reached its agent
    core.onUpdate(statusOf(task).state('TASK_STARTING').build());
    core.onUpdate(statusOf(task).state('TASK_STARTING').withoutUuid().build()); // a retried update binds nothing twice
    await core.drain();
    core.onUpdate(statusOf(task).state('TASK_RUNNING').withoutUuid().build());
    await core.drain();
    expect(mesos.acks).toHaveLength(1);
    expect(kube.bindings).toEqual([['p1', 'a1.example', { 'kube-mesos.io/task-id': task.task_id.value, 'kube-mesos.io/agent-id': 'a1', 'kube-mesos.io/executor-id': task.executor!.executor_id.value }]]);
    expect(kube.scheduled).toEqual([['p1', 'a1.example']]);
    expect(core.tasks.get(task.task_id.value)?.bound).toBe(true);
  });

  it('a task that ends while its Binding is in flight leaves the pod bound without a task: the pod is failed (its controller replaces it), not launched again', async () => {
    const { core, mesos, kube, advance } = setup();
    core.onPodUpsert(aPod('p1').owned().build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    const [task] = mesos.tasks();
    core.onUpdate(statusOf(task).state('TASK_STARTING').build()); // the Binding goes out…
    core.onUpdate(statusOf(task).state('TASK_FAILED').build()); // …and the executor dies before it is answered
    await core.drain();
    expect(kube.bindings.map((b) => b[0])).toEqual(['p1']);
    expect(kube.failed).toEqual([['p1', 'BoundWithoutTask']]);
    expect(core.dashboardState().events.map((e) => e.reason)).toContain('BoundWithoutTask');
    // not launched a second time on another agent (a bound pod cannot move)
    advance(60_000);
    core.onOffers([anOffer('a2').zone('z2').build()]);
    core.runCycle();
    await core.drain();
    expect(mesos.tasks()).toHaveLength(1);
  });

  it('a task an earlier leader launched on an agent not offered since is adopted unbound, and bound once the agent is known', async () => {
    const { core, kube } = setup();
    const pod = aPod('p1').build();
    core.onPodUpsert(pod);
    const taskId = taskIdFor({ namespace: 'ns', name: 'p1', uid: pod.metadata!.uid! });
    core.onUpdate(statusFor(taskId, 'a9').state('TASK_STARTING').executor('kubelet.a9.x').build());
    await core.drain();
    expect(kube.bindings).toEqual([]); // a9's node name is not known yet
    core.onOffers([anOffer('a9').zone('z1').build()]);
    await core.drain();
    expect(kube.bindings.map(([name, node]) => [name, node])).toEqual([['p1', 'a9.example']]);
    expect(core.tasks.get(taskId)?.bound).toBe(true);
  });

  it.each<[string, 'rejected' | 'failed']>([
    ['pod bound elsewhere', 'rejected'],
    ['403 without pods/binding', 'failed'],
  ])('a Binding that cannot be written (%s) kills the task with a FailedScheduling event, and the pod is queued again', async (_name, kind) => {
    const { core, mesos, kube } = setup();
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    const [task] = mesos.tasks();
    kube.bindAnswers.push({ kind, message: 'nope' });
    core.onUpdate(statusOf(task).state('TASK_STARTING').build());
    await core.drain();
    expect(mesos.kills).toEqual([task.task_id.value]);
    expect(kube.warnings).toEqual([['p1', 'FailedScheduling']]);
    expect(kube.scheduled).toEqual([]);
    core.onUpdate(statusOf(task).state('TASK_KILLED').build());
    await core.drain();
    expect(core.queue.has('ns/p1')).toBe(true);
  });

  it('kills the task of a deleted pod, and unknown tasks', async () => {
    const { core, mesos } = setup();
    const p = aPod('p1').build();
    core.onPodUpsert(p);
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    const [task] = mesos.tasks();
    core.onPodDelete(p);
    core.onUpdate(statusFor('stranger', 'a9').withoutUuid().build());
    await core.drain();
    expect(mesos.kills).toEqual([task.task_id.value, 'stranger']);
  });

  it('declines offers with a long refusal and suppresses when nothing is pending', async () => {
    const { core, mesos } = setup();
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    expect(mesos.declines).toEqual([{ offerIds: [expect.any(String)], refuse: 300 }]);
    expect(mesos.suppresses).toBe(1);
    expect(mesos.revives).toBe(1); // on subscription
    core.onPodUpsert(aPod('p1').build());
    await core.drain();
    expect(mesos.revives).toBe(2); // at once, though the first was just now: REVIVEs come from a bucket of two
  });

  it('sends SUPPRESS and REVIVE one after the other, and REVIVEs again when offers stall while pods wait', async () => {
    const { core, mesos, advance } = setup();
    const started: string[] = [];
    let releaseSuppress!: () => void;
    mesos.suppress = async () => {
      started.push('suppress');
      await new Promise<void>((r) => (releaseSuppress = r));
    };
    mesos.revive = async () => {
      started.push('revive');
    };
    await core.drain(); // the REVIVE of the subscription
    started.length = 0;
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle(); // nothing pending: decline + SUPPRESS (slow to answer)
    advance(2000);
    core.onPodUpsert(aPod('huge').cpu('64').build()); // REVIVE must wait for the SUPPRESS to finish
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['suppress']);
    releaseSuppress();
    await core.drain();
    expect(started).toEqual(['suppress', 'revive']);
    // no offer for 10 s while a pod waits: REVIVE again
    advance(10_001);
    core.runCycle();
    await core.drain();
    expect(started).toEqual(['suppress', 'revive', 'revive']);
  });

  it('holds offers while pods wait, then declines them with a short refusal', async () => {
    const { core, mesos, advance } = setup();
    core.onPodUpsert(aPod('huge').cpu('64').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    expect(mesos.declines).toHaveLength(0);
    advance(5000);
    core.runCycle();
    await core.drain();
    expect(mesos.declines).toEqual([{ offerIds: [expect.any(String)], refuse: 1 }]);
  });

  it('re-queues pods whose ACCEPT failed', async () => {
    const { core, mesos } = setup();
    mesos.failAccept = true;
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    expect(core.queue.size).toBe(1);
    expect(core.tasks.taskCount).toBe(0);
  });

  it('an ACCEPT whose answer was lost is not undone: the task stays assumed and is reconciled at once, its offers declined; no second launch', async () => {
    const { core, mesos, advance } = setup();
    mesos.failAccept = new ConnectionError('http://master/api/v1/scheduler: socket hang up');
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    const [task] = mesos.tasks();
    expect(core.tasks.taskCount).toBe(1);
    expect(core.queue.size).toBe(0);
    expect(mesos.declines).toEqual([{ offerIds: mesos.accepts[0].offerIds, refuse: 0 }]);
    expect(mesos.reconciles.at(-1)).toEqual([{ taskId: task.task_id.value, agentId: 'a1' }]);
    // more offers come: the pod is not launched again while its task may run
    mesos.failAccept = false;
    advance(2000);
    core.onOffers([anOffer('a2').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    expect(mesos.tasks()).toHaveLength(1);
    // the master never got it: reconciliation answers TASK_GONE, and only then is the pod launched again
    core.onUpdate(statusFor(task.task_id.value, 'a1').state('TASK_GONE').reason('REASON_RECONCILIATION').withoutUuid().build());
    advance(60_000);
    core.onOffers([anOffer('a3').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    expect(mesos.tasks().map((t) => t.name)).toHaveLength(2);
  });

  it('does not schedule a pod with a malformed annotation, and says why', async () => {
    const { core, kube } = setup();
    const p = aPod('bad').build();
    p.metadata!.annotations = { 'kube-mesos.io/constraints': '[["@zone","GROUP_BY"' };
    core.onPodUpsert(p);
    await core.drain();
    expect(core.queue.size).toBe(0);
    expect(kube.unschedulable[0][0]).toBe('bad');
    expect(kube.unschedulable[0][1]).toMatch(/kube-mesos.io\/constraints/);
  });

  it('describes zones, agents, pods, pending pods and recent events for the dashboard', async () => {
    const { core, mesos } = setup();
    core.onPodUpsert(aPod('p1').build());
    core.onPodUpsert(aPod('huge').cpu('64').build());
    core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build()]);
    core.runCycle();
    const [task] = mesos.tasks();
    core.onUpdate(statusOf(task).state('TASK_STARTING').build());
    await core.drain();
    core.onUpdate(statusOf(task).state('TASK_RUNNING').build());
    await core.drain();
    const d = core.dashboardState();
    expect(d.zones.map((z) => z.name)).toEqual(['z1', 'z2']);
    const agents = d.zones.flatMap((z) => z.agents);
    const withPod = agents.find((a) => a.pods.length === 1)!;
    expect(withPod.pods[0]).toMatchObject({ key: 'ns/p1', taskState: 'TASK_RUNNING' });
    expect(withPod.kubelet).toBe('running');
    expect(withPod.used.cpus).toBeCloseTo(0.5);
    // The offer's 4 cpus / 8192 MB less the pod (0.5, 256) and its kubelet executor (0.25, 128): what comes back next.
    expect(withPod.free).toEqual({ cpus: 3.25, mem: 7808 });
    expect(d.pending).toEqual([{ key: 'ns/huge', message: expect.stringMatching(/Insufficient cpu/), sinceMs: 0 }]);
    expect(d.events.map((e) => e.reason)).toEqual(['Scheduled', 'FailedScheduling', 'KubeletLaunched']);
    expect(d.totals).toMatchObject({ agents: 2, kubelets: 1, tasks: 1, pending: 1 });
    const g = core.gauges();
    expect(g.kubelets).toEqual([{ zone: expect.stringMatching(/^z[12]$/), state: 'running', count: 1 }]);
    expect(g.agents.map((a) => a.count).reduce((x, y) => x + y)).toBe(2);
    expect(g.tasks).toEqual([['TASK_RUNNING', 1]]);
    expect(g.zones).toEqual([['z1', true], ['z2', true]]);
    expect(g).toMatchObject({ pending: 1, unschedulable: 1 });
  });

  describe('failover', () => {
    const owned = (name: string, annotations: Record<string, string> = {}): V1Pod => aPod(name).owned().annotations(annotations).build();
    const bound = (p: V1Pod, node: string, task: TaskInfo): V1Pod => ({
      ...p,
      metadata: { ...p.metadata, resourceVersion: '2', annotations: { ...p.metadata!.annotations, 'kube-mesos.io/task-id': task.task_id.value, 'kube-mesos.io/agent-id': task.agent_id.value } },
      spec: { ...p.spec!, nodeName: node },
      status: { phase: 'Running' },
    });

    it('replaces pods of a failed zone after failover-after, keeps the zone out of placement, and kills the old task when it returns', async () => {
      const { core, mesos, kube, advance } = setup();
      const pods = ['a', 'b', 'c'].map((z) => owned(`web-${z}`, { 'kube-mesos.io/failover-after': '20s' }));
      for (const p of pods) core.onPodUpsert(p);
      core.onOffers([anOffer('a1').zone('a').build(), anOffer('b1').zone('b').build(), anOffer('c1').zone('c').build()]);
      core.runCycle();
      const tasks = mesos.tasks();
      for (const t of tasks) core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
      const inB = tasks.find((t) => t.agent_id.value === 'b1')!;
      const podB = pods.find((p) => inB.task_id.value.startsWith(`ns.${p.metadata!.name}.`))!;
      core.onPodUpsert(bound(podB, 'b1.example', inB));
      // zone b fails: its task becomes unreachable and the master reports the agent lost
      core.onUpdate(statusOf(inB).state('TASK_UNREACHABLE').reason('REASON_AGENT_REMOVED').build());
      core.onFailure('b1', undefined);
      advance(19_000);
      core.runCycle();
      expect(kube.deleted).toEqual([]);
      advance(1000);
      core.runCycle();
      await core.drain();
      expect(kube.deleted).toEqual([[podB.metadata!.name, 30]]); // only unreachable: graceful, never a force delete
      // a replacement pod arrives: zone b (failed) is not a candidate
      core.onPodUpsert(owned('web-new'));
      core.onOffers([anOffer('a1').zone('a').build(), anOffer('b1').zone('b').build(), anOffer('c1').zone('c').build()]);
      core.runCycle();
      const placed = mesos.tasks().at(-1)!;
      expect(placed.task_id.value).toMatch(/^ns\.web-new\./);
      expect(placed.agent_id.value).not.toBe('b1');
      // b comes back and reports the old task running: it is an orphan now, and killed
      core.onUpdate(statusOf(inB).state('TASK_RUNNING').withoutUuid().reason('REASON_RECONCILIATION').build());
      await core.drain();
      expect(mesos.kills).toContain(inB.task_id.value);
    });

    it('reports the pods the safety stop holds when every agent looks lost at once, and replaces none', async () => {
      const held: [string, number][] = [];
      let now = 1000;
      const mesos = new FakeMesos();
      const kube = new FakeKube();
      const core = new FrameworkCore({ mesos, kube, clock: { now: () => now }, log: silentLogger(), config, metrics: { ...noMetrics, failoverHeld: (r, n) => held.push([r, n]) } });
      core.onSubscribed('fw');
      const pods = ['a', 'b'].map((z) => owned(`web-${z}`, { 'kube-mesos.io/failover-after': '20s' }));
      for (const p of pods) core.onPodUpsert(p);
      core.onOffers([anOffer('a1').zone('a').build(), anOffer('b1').zone('b').build()]);
      core.runCycle();
      const tasks = mesos.tasks();
      expect(tasks).toHaveLength(2);
      for (const t of tasks) {
        core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
        core.onPodUpsert(bound(pods.find((p) => t.task_id.value.startsWith(`ns.${p.metadata!.name}.`))!, `${t.agent_id.value}.example`, t));
      }
      core.runCycle();
      expect(held.at(-1)).toEqual(['safety-stop', 0]);
      for (const t of tasks) {
        core.onUpdate(statusOf(t).state('TASK_UNREACHABLE').reason('REASON_AGENT_REMOVED').build());
        core.onFailure(t.agent_id.value, undefined);
      }
      now += 60_000; // past failover-after
      core.runCycle();
      await core.drain();
      expect(held.at(-1)).toEqual(['safety-stop', 2]);
      expect(kube.deleted).toEqual([]);
    });

    it('does not replace pods whose agent comes back in time', async () => {
      const { core, mesos, kube, advance } = setup();
      const p = owned('web-1', { 'kube-mesos.io/failover-after': '20s' });
      core.onPodUpsert(p);
      core.onOffers([anOffer('a1').zone('a').build(), anOffer('b1').zone('b').build()]);
      core.runCycle();
      const [t] = mesos.tasks();
      core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
      core.onPodUpsert(bound(p, 'x', t));
      core.onUpdate(statusOf(t).state('TASK_UNREACHABLE').build());
      advance(10_000);
      core.onUpdate(statusOf(t).state('TASK_RUNNING').withoutUuid().reason('REASON_RECONCILIATION').build());
      advance(60_000);
      core.runCycle();
      await core.drain();
      expect(kube.deleted).toEqual([]);
      expect(mesos.kills).toEqual([]);
    });
  });

  describe('rebalancing (failover.rebalance)', () => {
    it('moves pods back into a zone that recovered, a few at a time, within their spread', async () => {
      const { core, mesos, kube } = setup({ rebalance: true });
      const spread = (name: string): V1Pod => {
        const p = aPod(name).cpu('500m').build();
        p.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs1', controller: true }];
        p.metadata!.labels = { app: 'web' };
        p.spec!.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }];
        return p;
      };
      core.onOffers([anOffer('b1').zone('b').build()]);
      core.onFailure('b1', undefined); // zone b (its only agent) is lost
      core.runCycle();
      const pods = ['w1', 'w2', 'w3', 'w4'].map(spread);
      for (const p of pods) core.onPodUpsert(p);
      core.onOffers([anOffer('a1').zone('a').build(), anOffer('c1').zone('c').build()]);
      core.runCycle();
      const tasks = mesos.tasks();
      expect(new Set(tasks.map((t) => t.agent_id.value))).toEqual(new Set(['a1', 'c1']));
      for (const t of tasks) {
        core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
        const p = pods.find((x) => t.task_id.value.startsWith(`ns.${x.metadata!.name}.`))!;
        core.onPodUpsert({ ...p, metadata: { ...p.metadata, resourceVersion: '2' }, spec: { ...p.spec!, nodeName: `${t.agent_id.value}.example` }, status: { phase: 'Running' } });
      }
      await core.drain();
      expect(kube.evicted).toEqual([]);
      core.onOffers([anOffer('b1').zone('b').build()]); // zone b is back
      core.runCycle();
      await core.drain();
      expect(kube.evicted).toHaveLength(1); // one per group per round
      expect(core.dashboardState().events.map((e) => e.reason)).toContain('Rebalancing');
    });
  });

  describe('restart', () => {
    it('adopts the tasks named by bound pods, and a task whose update arrives before its pod shows the binding', async () => {
      const { core, mesos } = setup();
      const a = aPod('a').build();
      a.metadata!.annotations = { 'kube-mesos.io/task-id': 'ns.a.uida-111', 'kube-mesos.io/agent-id': 'a1', 'kube-mesos.io/executor-id': 'e1' };
      a.spec!.nodeName = 'a1.example';
      a.status = { phase: 'Running' };
      core.onPodUpsert(a);
      core.onPodUpsert(aPod('b').build()); // launched by the previous leader, binding not visible yet
      expect(core.adoptFromPods()).toBe(1);
      core.onUpdate(statusFor('ns.a.uida-111', 'a1').reason('REASON_RECONCILIATION').withoutUuid().build());
      core.onUpdate(statusFor('ns.b.uidb-222', 'a1').executor('e1').state('TASK_STARTING').withoutUuid().build());
      core.onUpdate(statusFor('ns.gone.zzzz-333', 'a1').withoutUuid().build());
      await core.drain();
      expect(mesos.kills).toEqual(['ns.gone.zzzz-333']);
      expect(core.tasks.taskCount).toBe(2);
      expect(core.queue.has('ns/b')).toBe(false);
      expect(core.tasks.kubelet('a1')?.executorId).toBe('e1');
    });
    it('after SUBSCRIBED with a stored framework id, launches nothing within the adoption grace, so an earlier leader\'s task for a pending pod is adopted, not launched twice', async () => {
      const { core, mesos, advance } = setup({ adoptionGraceMs: 3000 });
      core.onPodUpsert(aPod('b').build()); // launched by the previous leader, binding not visible yet
      core.onPodUpsert(aPod('c').build()); // never launched
      core.onOffers([anOffer('a1').zone('z1').build()]);
      expect(core.runCycle()).toMatchObject({ considered: 0, placed: 0 });
      expect(core.nextWakeMs()).toBe(1000 + 3000);
      core.onUpdate(statusFor('ns.b.uidb-222', 'a1').executor('e1').state('TASK_STAGING').withoutUuid().build());
      advance(3000);
      const r = core.runCycle();
      await core.drain();
      expect(r).toMatchObject({ considered: 1, placed: 1 });
      expect(mesos.tasks().map((t) => t.task_id.value.split('.')[1])).toEqual(['c']);
      expect(core.tasks.taskCount).toBe(2);
    });
  });

  describe('elastic pool', () => {
    it('removes a kubelet idle for idleTimeout: cordon, executor SHUTDOWN, Node deleted; nothing placed there meanwhile', async () => {
      const { core, mesos, kube, advance } = setup({ pool: { ...DEFAULT_POOL_CONFIG, idleTimeoutMs: 30_000 } });
      const p = aPod('p1').build();
      core.onPodUpsert(p);
      core.onOffers([anOffer('a1').zone('z1').build()]);
      core.runCycle();
      const [t] = mesos.tasks();
      core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
      core.onUpdate(statusOf(t).state('TASK_FINISHED').build());
      advance(29_000);
      core.runCycle();
      await core.drain();
      expect(mesos.shutdowns).toEqual([]);
      expect(core.nextWakeMs()).toBe(1000 + 29_000 + 1000);
      advance(1000);
      core.runCycle();
      await core.drain();
      expect(kube.cordoned).toEqual(['a1.example']);
      expect(mesos.shutdowns).toEqual([t.executor!.executor_id.value]);
      expect(kube.deletedNodes).toEqual(['a1.example']);
      expect(core.tasks.kubelet('a1')?.state).toBe('removing');
      core.onFailure('a1', t.executor!.executor_id.value);
      expect(core.tasks.kubelet('a1')).toBeUndefined();
    });

    it.each([
      { keep: false, removed: true },
      { keep: true, removed: false },
    ])('a kubelet running only a DaemonSet pod: removed after idleTimeout unless daemonSetPodsKeepKubelet ($keep)', async ({ keep, removed }) => {
      const { core, mesos, kube, advance } = setup({ pool: { ...DEFAULT_POOL_CONFIG, idleTimeoutMs: 30_000, daemonSetPodsKeepKubelet: keep } });
      core.onPodUpsert(aPod('web').owned().build());
      core.onPodUpsert(aPod('ds').owned('ds1', 'DaemonSet').build());
      core.onOffers([anOffer('a1').zone('z1').build()]);
      core.runCycle();
      const [web, ds] = mesos.tasks();
      for (const t of [web, ds]) core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
      core.onUpdate(statusOf(web).state('TASK_FINISHED').build());
      core.runCycle(); // the pool sees the kubelet with the DaemonSet pod alone from now on
      advance(30_000);
      core.runCycle();
      await core.drain();
      expect(mesos.shutdowns).toEqual(removed ? [ds.executor!.executor_id.value] : []);
      expect(kube.deletedNodes).toEqual(removed ? ['a1.example'] : []);
      if (removed) expect(core.dashboardState().events.filter((n) => n.reason === 'KubeletRemoved').map((n) => n.message)).toEqual([expect.stringMatching(/^only DaemonSet pods \(1\) for 30 s: cordoned/)]);
    });

    it.each([
      ['a DaemonSet pod, then another pod: stays', ['ds1', 'web'], false],
      ['another pod, then a DaemonSet pod: stays', ['web', 'ds1'], false],
      ['two DaemonSet pods only: removed', ['ds1', 'ds2'], true],
    ] as const)('a kubelet with %s', async (_what, order, removed) => {
      const { core, mesos, kube, advance } = setup({ pool: { ...DEFAULT_POOL_CONFIG, idleTimeoutMs: 30_000 } });
      for (const name of order) core.onPodUpsert(name.startsWith('ds') ? aPod(name).owned(name, 'DaemonSet').build() : aPod(name).owned().build());
      core.onOffers([anOffer('a1').zone('z1').build()]);
      core.runCycle();
      expect(mesos.tasks()).toHaveLength(2);
      for (const t of mesos.tasks()) core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
      core.runCycle();
      advance(60_000);
      core.runCycle();
      await core.drain();
      expect(mesos.shutdowns).toHaveLength(removed ? 1 : 0);
      expect(kube.deletedNodes).toEqual(removed ? ['a1.example'] : []);
    });

    it('keeps pool.minPerZone warm kubelets: a keeper task on an agent of each zone short of them, offers revived for it', async () => {
      const { core, mesos } = setup({ pool: { ...DEFAULT_POOL_CONFIG, minPerZone: 1 } });
      core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z1').build(), anOffer('b1').zone('z2').build()]);
      core.runCycle();
      await core.drain();
      const keepers = mesos.tasks();
      expect(keepers.map((t) => t.agent_id.value).sort()).toEqual(['a1', 'b1']);
      for (const k of keepers) {
        expect(k.labels!.labels).toEqual([{ key: 'kube-mesos.io/kubelet-keeper', value: 'true' }]);
        expect(k.executor).toBeDefined();
      }
      expect(mesos.suppresses).toBe(0); // a2's offer is declined, but the framework stays unsuppressed until zones are warm
      expect(core.tasks.kubelet('a1')?.state).toBe('launching');
      // a pod then goes to the warm kubelet, without a second executor
      core.onPodUpsert(aPod('p1').build());
      core.onOffers([anOffer('a1').zone('z1').build()]);
      core.runCycle();
      const podTask = mesos.tasks().at(-1)!;
      expect(podTask.executor!.executor_id).toEqual(keepers.find((k) => k.agent_id.value === 'a1')!.executor!.executor_id);
    });

    it('reviews the pool at most once per poolReviewIntervalMs unless new offers came: an idle timeout falling between reviews is acted on when the next one is due', async () => {
      const { core, mesos, kube, advance, now } = setup({ pool: { ...DEFAULT_POOL_CONFIG, idleTimeoutMs: 30_000 }, poolReviewIntervalMs: 1000 });
      core.onPodUpsert(aPod('web').owned().build());
      core.onOffers([anOffer('a1').zone('z1').build()]);
      core.runCycle();
      const [web] = mesos.tasks();
      core.onUpdate(statusOf(web).state('TASK_RUNNING').build());
      core.onUpdate(statusOf(web).state('TASK_FINISHED').build()); // idle from now (t0)
      advance(29_600);
      core.runCycle(); // a review 400 ms before the idle timeout: nothing to do yet
      advance(400);
      core.runCycle(); // at the timeout, but within a second of the last review and no new offers: not reviewed
      await core.drain();
      expect(kube.deletedNodes).toEqual([]);
      expect(core.nextWakeMs()).toBe(now() + 600); // due when the next review may run
      advance(600);
      core.runCycle();
      await core.drain();
      expect(kube.deletedNodes).toEqual(['a1.example']);
      expect(mesos.shutdowns).toEqual([web.executor!.executor_id.value]);
    });

    it('with poolReviewIntervalMs, new offers still make the next cycle review the pool: a zone short of warm kubelets gets one at once', async () => {
      const { core, mesos, advance } = setup({ pool: { ...DEFAULT_POOL_CONFIG, minPerZone: 1 }, poolReviewIntervalMs: 1000 });
      core.onOffers([anOffer('a1').zone('z1').build()]);
      core.runCycle();
      advance(100);
      core.onOffers([anOffer('b1').zone('z2').build()]);
      core.runCycle();
      await core.drain();
      expect(mesos.tasks().map((t) => t.agent_id.value).sort()).toEqual(['a1', 'b1']);
    });

    it('consolidates an under-used kubelet: cordon, evict its pods (again while a PDB blocks), then remove it', async () => {
      const { core, mesos, kube, advance } = setup({ pool: { ...DEFAULT_POOL_CONFIG, consolidation: true, consolidationDelayMs: 0 } });
      const big = aPod('big').cpu('2.5').owned().build();
      const small = aPod('small').cpu('500m').owned().build();
      core.onPodUpsert(big);
      core.onOffers([anOffer('a1').zone('z1').build()]);
      core.runCycle();
      core.onPodUpsert(small);
      core.onOffers([anOffer('a2').zone('z2').build()]);
      core.runCycle();
      for (const t of mesos.tasks()) core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
      expect(new Set(mesos.tasks().map((t) => t.agent_id.value))).toEqual(new Set(['a1', 'a2']));
      const smallTask = mesos.tasks().find((t) => t.task_id.value.startsWith('ns.small.'))!;
      const smallAgent = smallTask.agent_id.value;
      kube.evictAnswer = 'blocked';
      core.runCycle(); // starts underuse tracking
      core.runCycle(); // consolidates
      await core.drain();
      expect(core.tasks.kubelet(smallAgent)?.state).toBe('draining');
      expect(kube.evicted).toEqual(['small']);
      expect(core.dashboardState().events.some((e) => e.reason === 'DrainBlocked')).toBe(true);
      advance(5000);
      kube.evictAnswer = 'evicted';
      core.runCycle();
      await core.drain();
      expect(kube.evicted).toEqual(['small', 'small']);
      // the pod is gone: the kubelet is removed
      core.onUpdate(statusOf(smallTask).state('TASK_KILLED').build());
      core.onPodDelete(small);
      core.runCycle();
      await core.drain();
      expect(mesos.shutdowns).toEqual([smallTask.executor!.executor_id.value]);
      expect(core.tasks.kubelet(smallAgent)?.state).toBe('removing');
    });

    it('does not start kubelets beyond pool.max', async () => {
      const { core, mesos, kube } = setup({ pool: { ...DEFAULT_POOL_CONFIG, max: 1 } });
      core.onPodUpsert(aPod('p1').cpu('3').build());
      core.onPodUpsert(aPod('p2').cpu('3').build());
      core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build()]);
      core.runCycle();
      await core.drain();
      expect(new Set(mesos.tasks().map((t) => t.agent_id.value)).size).toBe(1);
      // next cycle: the agent without a kubelet is not a candidate, the one with a kubelet is full
      core.queue.moveAllToActive();
      core.onOffers([anOffer('a2').zone('z2').build()]);
      core.runCycle();
      await core.drain();
      expect(mesos.tasks()).toHaveLength(1);
      expect(kube.unschedulable).toHaveLength(1);
      expect(kube.unschedulable[0][1]).toMatch(/^0\/2 nodes are available/);
    });
  });
});
