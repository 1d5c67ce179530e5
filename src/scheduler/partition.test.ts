// Issue 16 items 3 and 7 at the framework core: what an UNREACHABLE task means for its pod, by owner, and that
// failover's writes are retried until they succeed.
import type { V1Pod } from '@kubernetes/client-node';
import type { TaskInfo as MesosTaskInfo } from '../mesos/types.js';
import { silentLogger } from '../telemetry/log.js';
import { FrameworkCore, type FrameworkCoreConfig } from './framework.js';
import { aPod, anOffer, statusOf } from './testing/builders.js';
import { FakeKube, FakeMesos } from './testing/fakes.js';
import { TEST_CORE_CONFIG } from './testing/core-harness.js';

const config: FrameworkCoreConfig = {
  ...TEST_CORE_CONFIG,
};

type Owner = 'ReplicaSet' | 'StatefulSet' | 'Job' | undefined;

/** Three zones, one pod (owned as given, failover-after 20s) running on b1; returns its task. */
function running(owner: Owner, extra: (p: V1Pod) => void = () => {}) {
  let now = 1000;
  const mesos = new FakeMesos();
  const kube = new FakeKube();
  const core = new FrameworkCore({ mesos, kube, clock: { now: () => now }, log: silentLogger(), config });
  core.onSubscribed('fw');
  const others = ['a', 'c'].map((z) => aPod(`other-${z}`).owned('rs-other').build());
  const p = aPod('m-0').annotations({ 'kube-mesos.io/failover-after': '20s' }).build();
  if (owner) p.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: owner, name: 'm', uid: 'owner1', controller: true }];
  extra(p);
  core.onOffers([anOffer('b1').zone('b').build()]);
  core.onPodUpsert(p);
  core.runCycle();
  for (const o of others) core.onPodUpsert(o);
  core.onOffers([anOffer('a1').zone('a').build(), anOffer('c1').zone('c').build()]);
  core.runCycle();
  const tasks = mesos.tasks();
  for (const t of tasks) core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
  const task = tasks.find((t) => t.agent_id.value === 'b1')!;
  const bound: V1Pod = { ...p, metadata: { ...p.metadata, resourceVersion: '2', annotations: { ...p.metadata!.annotations, 'kube-mesos.io/task-id': task.task_id.value } }, spec: { ...p.spec!, nodeName: 'b1.example' }, status: { phase: 'Running' } };
  core.onPodUpsert(bound);
  return { core, mesos, kube, task, pod: bound, advance: (ms: number) => (now += ms) };
}

const unreachable = (t: MesosTaskInfo) => statusOf(t).state('TASK_UNREACHABLE').reason('REASON_AGENT_DISCONNECTED').build();

describe('PARTITION_AWARE failover (item 3)', () => {
  it.each<[Owner, number]>([
    ['ReplicaSet', 30],
    ['Job', 30],
  ])('an unreachable %s pod is deleted gracefully (grace %d) after failover-after, never with grace 0', async (owner, grace) => {
    const { core, kube, task, advance } = running(owner);
    core.onUpdate(unreachable(task));
    advance(20_000);
    core.runCycle();
    await core.drain();
    expect(kube.deleted).toEqual([['m-0', grace]]);
  });

  it('honours the pod\'s own terminationGracePeriodSeconds for that delete', async () => {
    const { core, kube, task, advance } = running('ReplicaSet', (p) => (p.spec!.terminationGracePeriodSeconds = 90));
    core.onUpdate(unreachable(task));
    advance(20_000);
    core.runCycle();
    await core.drain();
    expect(kube.deleted).toEqual([['m-0', 90]]);
  });

  it.each<[string, Owner, (p: V1Pod) => void]>([
    ['a StatefulSet member', 'StatefulSet', () => {}],
    ['a pod with a claim', 'ReplicaSet', (p) => (p.spec!.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: 'data-m-0' } }])],
    ['a bare pod with reschedule-on-loss', undefined, (p) => (p.metadata!.annotations!['kube-mesos.io/reschedule-on-loss'] = 'true')],
  ])('%s waits while only unreachable, says why (condition + event), and is replaced once TASK_GONE', async (_what, owner, extra) => {
    const { core, kube, task, advance } = running(owner, extra);
    core.onUpdate(unreachable(task));
    advance(3_600_000);
    core.runCycle();
    core.runCycle();
    await core.drain();
    expect(kube.deleted).toEqual([]);
    expect(kube.recreated).toEqual([]);
    expect(kube.awaitingGone).toHaveLength(1); // once, not every cycle
    expect(kube.awaitingGone[0][1]).toMatch(/replaced only once Mesos reports the task gone/);
    core.onUpdate(statusOf(task).state('TASK_GONE').reason('REASON_AGENT_REMOVED').build());
    core.runCycle();
    await core.drain();
    if (owner) expect(kube.deleted).toEqual([['m-0', 0]]);
    else expect(kube.recreated).toEqual(['m-0']);
  });

  it('kills the old task when the agent of a gracefully deleted pod returns', async () => {
    const { core, mesos, task, advance } = running('ReplicaSet');
    core.onUpdate(unreachable(task));
    advance(20_000);
    core.runCycle();
    await core.drain();
    core.onUpdate(statusOf(task).state('TASK_RUNNING').withoutUuid().reason('REASON_RECONCILIATION').build());
    await core.drain();
    expect(mesos.kills).toEqual([task.task_id.value]);
  });

  it('an agent whose replaced tasks come back is no longer counted lost, though it makes no offer (suppressed)', async () => {
    const { core, task, advance } = running('ReplicaSet');
    core.onUpdate(unreachable(task));
    core.onFailure('b1', undefined);
    advance(20_000);
    core.runCycle();
    await core.drain();
    expect(core.failover.isAgentLost('b1')).toBe(true);
    // the agent re-registers: Mesos reports the old task RUNNING again; the pod was replaced, so it is killed …
    core.onUpdate(statusOf(task).state('TASK_RUNNING').withoutUuid().build());
    // … and the agent counts as back: a later loss elsewhere is not mistaken for a lost zone
    expect(core.failover.isAgentLost('b1')).toBe(false);
  });

  it('an update from a lost agent\'s own executor (TASK_KILLED) also says it is back; a master-made TASK_LOST does not', async () => {
    const { core, task } = running('ReplicaSet');
    core.onUpdate(unreachable(task));
    core.onFailure('b1', undefined);
    core.onUpdate({ ...statusOf(task).state('TASK_LOST').withoutUuid().build(), source: 'SOURCE_MASTER' });
    expect(core.failover.isAgentLost('b1')).toBe(true);
    core.onUpdate({ ...statusOf(task).state('TASK_KILLED').build(), source: 'SOURCE_EXECUTOR' });
    expect(core.failover.isAgentLost('b1')).toBe(false);
  });

  it('force-deletes the still-Terminating pod of a replaced task once that task is reported gone', async () => {
    const { core, kube, task, pod, advance } = running('ReplicaSet');
    core.onUpdate(unreachable(task));
    advance(20_000);
    core.runCycle();
    await core.drain();
    core.onPodUpsert({ ...pod, metadata: { ...pod.metadata, resourceVersion: '3', deletionTimestamp: new Date(2000) } });
    core.onUpdate(statusOf(task).state('TASK_GONE').build());
    await core.drain();
    expect(kube.deleted).toEqual([['m-0', 30], ['m-0', 0]]);
  });
});

describe('failover writes are retried (item 7)', () => {
  it('retries a failed delete with backoff (1 s, 2 s…) until it succeeds', async () => {
    const { core, kube, task, advance } = running('ReplicaSet');
    kube.failDeletes = 2;
    core.onUpdate(unreachable(task));
    advance(20_000);
    core.runCycle();
    await core.drain();
    expect(kube.deleteAttempts).toBe(1);
    advance(999);
    core.runCycle();
    await core.drain();
    expect(kube.deleteAttempts).toBe(1);
    advance(1);
    core.runCycle();
    await core.drain();
    expect(kube.deleteAttempts).toBe(2);
    advance(2000);
    core.runCycle();
    await core.drain();
    expect(kube.deleteAttempts).toBe(3);
    expect(kube.deleted).toEqual([['m-0', 30]]);
    advance(120_000);
    core.runCycle();
    await core.drain();
    expect(kube.deleteAttempts).toBe(3);
  });

  it('drops a retry that became obsolete: the pod is gone', async () => {
    const { core, kube, task, pod, advance } = running('ReplicaSet');
    kube.failDeletes = 1;
    core.onUpdate(unreachable(task));
    advance(20_000);
    core.runCycle();
    await core.drain();
    core.onPodDelete(pod);
    advance(5000);
    core.runCycle();
    await core.drain();
    expect(kube.deleteAttempts).toBe(1);
  });
});
