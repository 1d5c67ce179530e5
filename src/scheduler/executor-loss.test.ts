import type { V1Pod } from '@kubernetes/client-node';
import type { OfferOperation, TaskInfo, TaskStatus } from '../mesos/types.js';
import { silentLogger } from '../telemetry/log.js';
import { FrameworkCore, type FrameworkCoreConfig } from './framework.js';
import type { KubePort, MesosPort } from './ports.js';
import { aPod, anOffer, statusOf } from './testing/builders.js';
import { TEST_CORE_CONFIG } from './testing/core-harness.js';

class Mesos implements MesosPort {
  accepts: OfferOperation[][] = [];
  async accept(_ids: string[], ops: OfferOperation[]) {
    this.accepts.push(ops);
  }
  async decline() {}
  async acknowledge() {}
  async reconcile() {}
  async kill() {}
  async revive() {}
  async suppress() {}
  async shutdownExecutor() {}
  tasks(): TaskInfo[] {
    return this.accepts.flatMap((ops) => ops.flatMap((o) => o.launch?.task_infos ?? []));
  }
}

class Kube implements KubePort {
  deleted: [string, number][] = [];
  recreated: string[] = [];
  deletedNodes: string[] = [];
  async reportUnschedulable() {}
  async reportScheduled() {}
  async reportWarning() {}
  async deletePod(p: V1Pod, grace: number) {
    this.deleted.push([p.metadata!.name!, grace]);
  }
  async recreatePod(p: V1Pod) {
    this.recreated.push(p.metadata!.name!);
  }
  async evictPod() {
    return 'evicted' as const;
  }
  async cordonNode() {}
  async uncordonNode() {}
  async deleteNode(n: string) {
    this.deletedNodes.push(n);
  }
}

const config: FrameworkCoreConfig = {
  ...TEST_CORE_CONFIG,
};

function setup() {
  let now = 1000;
  const mesos = new Mesos();
  const kube = new Kube();
  const core = new FrameworkCore({ mesos, kube, clock: { now: () => now }, log: silentLogger(), config });
  core.onSubscribed('fw');
  return { core, mesos, kube, advance: (ms: number) => (now += ms) };
}

const bound = (p: V1Pod, node: string, t: TaskInfo): V1Pod => ({
  ...p,
  metadata: { ...p.metadata, resourceVersion: '2', annotations: { ...p.metadata!.annotations, 'kube-mesos.io/task-id': t.task_id.value, 'kube-mesos.io/agent-id': t.agent_id.value } },
  spec: { ...p.spec!, nodeName: node },
  status: { phase: 'Running' },
});

/** What the agent sends for each task when the executor under it dies (slave.cpp executorTerminated). */
const executorTerminated = (t: TaskInfo, executorId: string): TaskStatus => ({
  ...statusOf(t).state('TASK_FAILED').reason('REASON_EXECUTOR_TERMINATED').executor(executorId).build(),
  source: 'SOURCE_AGENT',
  message: 'Executor terminated',
});

describe('executor loss', () => {
  it('replaces its pods after failover-after (owned: deleted; bare with reschedule-on-loss: re-created), deletes its Node once empty, and gives the agent a fresh executor', async () => {
    const { core, mesos, kube, advance } = setup();
    const web = aPod('web').owned().annotations({ 'kube-mesos.io/failover-after': '5s' }).build();
    const solo = aPod('solo').annotations({ 'kube-mesos.io/failover-after': '5s', 'kube-mesos.io/reschedule-on-loss': 'true' }).build();
    core.onPodUpsert(web);
    core.onPodUpsert(solo);
    core.onOffers([anOffer('a1').build()]);
    core.runCycle();
    const tasks = mesos.tasks();
    expect(tasks).toHaveLength(2);
    const executorId = tasks[0].executor!.executor_id.value;
    const node = 'a1.example';
    for (const t of tasks) core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
    const pods = [web, solo].map((p) => bound(p, node, tasks.find((t) => t.task_id.value.startsWith(`ns.${p.metadata!.name}.`))!));
    for (const p of pods) core.onPodUpsert(p);

    // SIGKILL: the agent fails both tasks, then Mesos reports the executor's FAILURE
    for (const t of tasks) core.onUpdate(executorTerminated(t, executorId));
    core.onFailure('a1', executorId);
    core.runCycle();
    await core.drain();
    expect(kube.deleted).toEqual([]);
    expect(kube.deletedNodes).toEqual([]); // pods are still bound to it

    advance(4_999);
    core.runCycle();
    await core.drain();
    expect(kube.deleted).toEqual([]);
    advance(1);
    core.runCycle();
    await core.drain();
    expect(kube.deleted).toEqual([['web', 0]]);
    expect(kube.recreated).toEqual(['solo']);
    expect(kube.deletedNodes).toEqual([]);

    // the informer sees them go: the Node is empty now and is deleted, once
    for (const p of pods) core.onPodDelete(p);
    advance(1000);
    core.runCycle();
    await core.drain();
    expect(kube.deletedNodes).toEqual([node]);
    advance(1000);
    core.runCycle();
    await core.drain();
    expect(kube.deletedNodes).toEqual([node]);

    // the next pod for the agent launches a new executor there
    core.onPodUpsert(aPod('next').build());
    core.onOffers([anOffer('a1').build()]);
    core.runCycle();
    const next = mesos.tasks().at(-1)!;
    expect(next.task_id.value).toMatch(/^ns\.next\./);
    expect(next.executor!.executor_id.value).not.toBe(executorId);
  });

  it('a pod the executor itself reports failed is not an executor loss: nothing is replaced or deleted', async () => {
    const { core, mesos, kube, advance } = setup();
    const web = aPod('web').owned().annotations({ 'kube-mesos.io/failover-after': '5s' }).build();
    core.onPodUpsert(web);
    core.onOffers([anOffer('a1').build()]);
    core.runCycle();
    const [t] = mesos.tasks();
    core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
    core.onPodUpsert(bound(web, 'a1.example', t));
    core.onUpdate({ ...statusOf(t).state('TASK_FAILED').build(), source: 'SOURCE_EXECUTOR', message: 'pod failed' });
    advance(60_000);
    core.runCycle();
    await core.drain();
    expect(kube.deleted).toEqual([]);
    expect(kube.deletedNodes).toEqual([]);
  });

  it('launches no new executor on the agent until the dead executor\'s Node is deleted, then a fresh one', async () => {
    const { core, mesos, kube, advance } = setup();
    const web = aPod('web').owned().annotations({ 'kube-mesos.io/failover-after': '1h' }).build();
    core.onPodUpsert(web);
    core.onOffers([anOffer('a1').build()]);
    core.runCycle();
    const [t] = mesos.tasks();
    const executorId = t.executor!.executor_id.value;
    core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
    const b = bound(web, 'a1.example', t);
    core.onPodUpsert(b);
    core.onUpdate(executorTerminated(t, executorId));
    core.onFailure('a1', executorId);
    advance(1000);
    core.onPodUpsert(aPod('other').build());
    core.onOffers([anOffer('a1').build()]);
    core.runCycle();
    expect(mesos.tasks()).toHaveLength(1); // 'other' waits: the old Node still has a pod
    core.onPodDelete(b);
    advance(1000);
    core.runCycle();
    await core.drain();
    expect(kube.deletedNodes).toEqual(['a1.example']);
    core.onOffers([anOffer('a1').build()]);
    advance(1000);
    core.runCycle();
    const second = mesos.tasks().at(-1)!;
    expect(second.task_id.value).toMatch(/^ns\.other\./);
    expect(second.executor!.executor_id.value).not.toBe(executorId);
  });
});
