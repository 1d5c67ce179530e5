// Issue 16 items 2, 4, 5 and 7 at the framework core: what a restart adopts, what it refuses, and that failover waits
// until Mesos has told the state of what was adopted.
import type { V1Pod } from '@kubernetes/client-node';
import type { FrameworkCoreConfig } from './framework.js';
import { aPod, anOffer, statusFor, statusOf } from './testing/builders.js';
import { coreHarness } from './testing/core-harness.js';

function setup(over: Partial<FrameworkCoreConfig> = {}) {
  return coreHarness(over, { subscribed: false });
}

/** A Running pod of a ReplicaSet bound to `node`, annotated with its task as the executor's Binding writes it. */
function boundPod(name: string, agent: string, opts: { taskId?: string; uid?: string } = {}): V1Pod {
  const p = aPod(name).owned().build();
  p.metadata!.uid = opts.uid ?? `0000${name}-1111-2222`;
  const uid8 = p.metadata!.uid.replace(/-/g, '').slice(0, 8);
  p.metadata!.annotations = { 'kube-mesos.io/task-id': opts.taskId ?? `ns.${name}.${uid8}-abc`, 'kube-mesos.io/agent-id': agent, 'kube-mesos.io/executor-id': `kubelet.${agent}.x` };
  p.spec!.nodeName = `${agent}.example`;
  p.status = { phase: 'Running' };
  return p;
}
const taskOf = (p: V1Pod) => p.metadata!.annotations!['kube-mesos.io/task-id'];

describe('restart: failover waits for reconciliation and counts tasks (item 2)', () => {
  it('40 adopted pods whose tasks all reconcile TASK_GONE (a new framework id) are not deleted: safety stop by tasks', async () => {
    const { core, kube, advance } = setup();
    const pods = Array.from({ length: 40 }, (_, i) => boundPod(`web-${i}`, `a${i % 4}`));
    for (const p of pods) core.onPodUpsert(p);
    expect(core.adoptFromPods()).toBe(40);
    core.onSubscribed('fw-new');
    core.runCycle(); // no agent known yet: the agent-based safety stop alone is blind
    for (const p of pods) core.onUpdate(statusFor(taskOf(p), p.metadata!.annotations!['kube-mesos.io/agent-id']).state('TASK_GONE').withoutUuid().reason('REASON_RECONCILIATION').build());
    advance(600_000);
    core.runCycle();
    await core.drain();
    expect(kube.deleted).toEqual([]);
    expect(core.debugState().failover.cutOff).toBe(false); // zones: none known; the stop came from the task count
    expect(core.failover.lostPodCount()).toBe(40);
  });

  it('replaces nothing while adopted tasks have not answered reconciliation, then replaces a GONE one', async () => {
    const { core, kube } = setup();
    const a = boundPod('a', 'a1');
    const b = boundPod('b', 'a2');
    const c = boundPod('c', 'a3');
    for (const p of [a, b, c]) core.onPodUpsert(p);
    core.adoptFromPods();
    core.onSubscribed('fw');
    core.onUpdate(statusFor(taskOf(a), 'a1').state('TASK_GONE').withoutUuid().build());
    core.runCycle();
    await core.drain();
    expect(kube.deleted).toEqual([]); // b and c unanswered: their agents' state is unknown
    core.onUpdate(statusFor(taskOf(b), 'a2').withoutUuid().build());
    core.onUpdate(statusFor(taskOf(c), 'a3').withoutUuid().build());
    core.runCycle();
    await core.drain();
    expect(kube.deleted).toEqual([['a', 0]]); // gone: proven dead, grace 0
  });
});

describe('restart: adoption checks the binding (item 4)', () => {
  it('a pending pod carrying another pod\'s task id adopts nothing, and deleting it kills no task', async () => {
    const { core, mesos } = setup();
    const victim = boundPod('db', 'a1');
    const forged = aPod('evil').build();
    forged.metadata!.annotations = { ...victim.metadata!.annotations };
    core.onPodUpsert(forged);
    expect(core.adoptFromPods()).toBe(0);
    core.onPodUpsert(victim);
    expect(core.adoptFromPods()).toBe(1);
    core.onPodDelete(forged);
    await core.drain();
    expect(mesos.kills).toEqual([]);
    expect(core.tasks.get(taskOf(victim))?.podUid).toBe(victim.metadata!.uid);
  });

  it('a bound pod whose task id names another pod object (uid) is not adopted', () => {
    const { core } = setup();
    const p = boundPod('db', 'a1', { taskId: 'ns.db.99999999-abc' });
    core.onPodUpsert(p);
    expect(core.adoptFromPods()).toBe(0);
  });

  it('a task reported on an agent whose Node is not the pod\'s is killed, not adopted', async () => {
    const { core, mesos } = setup();
    core.onSubscribed('fw');
    core.onOffers([anOffer('a9').zone('z').build()]);
    const p = boundPod('db', 'a1');
    core.onPodUpsert(p);
    core.onUpdate(statusFor(taskOf(p), 'a9').withoutUuid().build());
    await core.drain();
    expect(mesos.kills).toEqual([taskOf(p)]);
  });
});

describe('restart: warm-pool keepers (item 5)', () => {
  it('adopts a keeper task and its kubelet instead of killing it as an orphan', async () => {
    const { core, mesos } = setup();
    core.onSubscribed('fw');
    core.onUpdate(statusFor('kubelet.a1.k3x9', 'a1').executor('kubelet.a1.e1').withoutUuid().reason('REASON_RECONCILIATION').build());
    await core.drain();
    expect(mesos.kills).toEqual([]);
    expect(core.tasks.kubelet('a1')?.executorId).toBe('kubelet.a1.e1');
    expect(core.tasks.kubelet('a1')?.taskIds.has('kubelet.a1.k3x9')).toBe(true);
  });

  it('an offer listing our running executor adopts it: the next pod there joins it, no second executor', async () => {
    const { core, mesos } = setup();
    core.onSubscribed('fw');
    const offer = anOffer('a1').zone('z').build();
    offer.executor_ids = [{ value: 'kubelet.a1.old' }];
    core.onOffers([offer]);
    core.onPodUpsert(aPod('web').build());
    core.runCycle();
    await core.drain();
    const [t] = mesos.tasks();
    expect(t.executor!.executor_id.value).toBe('kubelet.a1.old');
  });

  it('sends one implicit reconciliation after SUBSCRIBED (so keepers and unknown tasks report)', () => {
    const { core, mesos } = setup();
    core.onSubscribed('fw');
    expect(mesos.reconciles).toContainEqual([]);
  });
});

describe('reconciliation until every task has a state (item 7)', () => {
  it('re-sends RECONCILE with backoff for adopted tasks that do not answer, and stops once they do', async () => {
    const { core, mesos, advance } = setup();
    const p = boundPod('a', 'a1');
    core.onPodUpsert(p);
    core.adoptFromPods();
    core.onSubscribed('fw');
    const explicit = () => mesos.reconciles.filter((r) => r.length > 0).length;
    expect(explicit()).toBe(1);
    advance(999);
    core.runCycle();
    expect(explicit()).toBe(1);
    advance(1);
    core.runCycle();
    expect(explicit()).toBe(2);
    advance(1999);
    core.runCycle();
    expect(explicit()).toBe(2);
    advance(1);
    core.runCycle();
    expect(explicit()).toBe(3);
    core.onUpdate(statusFor(taskOf(p), 'a1').withoutUuid().build());
    advance(120_000);
    core.runCycle();
    expect(explicit()).toBe(3);
    expect(core.reconciler.waiting()).toBe(0);
  });

  it('an assumed task whose first update never comes expires into reconciliation', async () => {
    const { core, mesos, advance } = setup({ reconcile: { assumeTimeoutMs: 30_000 } });
    core.onSubscribed('fw');
    core.onPodUpsert(aPod('web').build());
    core.onOffers([anOffer('a1').zone('z').build()]);
    core.runCycle();
    const [t] = mesos.tasks();
    const asked = () => mesos.reconciles.some((r) => r.some((x) => x.taskId === t.task_id.value));
    advance(29_999);
    core.runCycle();
    expect(asked()).toBe(false);
    expect(core.nextWakeMs()).toBe(1000 + 30_000);
    advance(1);
    core.runCycle();
    expect(asked()).toBe(true);
    core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
    expect(core.reconciler.waiting()).toBe(0);
  });
});
