import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ExecutorEvent, TaskInfo } from '../mesos/types.js';
import { KubeletExecutor, type ExecutorDriver, type ExecutorExit, type ExecutorStatusUpdate } from './executor.js';
import { FakeCluster } from './fake-cluster.js';
import { HollowKubelet } from './hollow-kubelet.js';
import { InformerPodSource } from './pod-source.js';
import { createRegistry } from '../telemetry/metrics.js';
import { ExecutorMetrics } from './metrics.js';

const NODE = 'agent-1';

/** The agent, and the scheduler's part: on a task's first TASK_STARTING it binds the pod as the scheduler would. */
class FakeDriver extends EventEmitter implements ExecutorDriver {
  readonly updates: ExecutorStatusUpdate[] = [];
  started = false;
  stopped = false;
  /** Set: the scheduler binds pods on TASK_STARTING (task id → pod); unset: nobody binds. */
  scheduler: { cluster: FakeCluster; tasks: Map<string, { ns: string; name: string }> } | undefined;
  private waiters: Array<() => void> = [];
  start(): void {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
  async update(status: ExecutorStatusUpdate): Promise<void> {
    this.updates.push(status);
    const task = this.scheduler?.tasks.get(status.task_id.value);
    if (status.state === 'TASK_STARTING' && task && this.scheduler) {
      const { cluster } = this.scheduler;
      const pod = cluster.pod(task.ns, task.name);
      const annotations = { 'kube-mesos.io/task-id': status.task_id.value, 'kube-mesos.io/agent-id': 'S1', 'kube-mesos.io/executor-id': 'kubelet-S1' };
      if (pod && !pod.spec?.nodeName) queueMicrotask(() => void cluster.bindPod({ namespace: task.ns, name: task.name, uid: pod.metadata!.uid! }, NODE, annotations));
    }
    for (const w of this.waiters.splice(0)) w();
  }
  send(ev: ExecutorEvent): void {
    this.emit('event', ev);
  }
  states(taskId: string): string[] {
    return this.updates.filter((u) => u.task_id.value === taskId).map((u) => u.state);
  }
  /** Resolves once `pred` holds over the updates so far (checked after each update). */
  async until(pred: () => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out; updates: ${JSON.stringify(this.updates.map((u) => [u.task_id.value, u.state, u.reason]))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

let binder: FakeDriver['scheduler'];

function taskFor(cluster: FakeCluster, ns: string, name: string, taskId = `task-${name}`, graceSeconds?: number): TaskInfo {
  binder?.tasks.set(taskId, { ns, name });
  const pod = cluster.pod(ns, name);
  return {
    name,
    task_id: { value: taskId },
    agent_id: { value: 'S1' },
    labels: {
      labels: [
        { key: 'kube-mesos.io/pod-namespace', value: ns },
        { key: 'kube-mesos.io/pod-name', value: name },
        { key: 'kube-mesos.io/pod-uid', value: pod?.metadata?.uid ?? 'no-such-uid' },
      ],
    },
    kill_policy: graceSeconds === undefined ? undefined : { grace_period: { nanoseconds: graceSeconds * 1e9 } },
  };
}

const subscribed: ExecutorEvent = {
  type: 'SUBSCRIBED',
  subscribed: {
    executor_info: { executor_id: { value: 'kubelet-S1' }, framework_id: { value: 'fw' } } as never,
    framework_info: { user: 'u', name: 'kube-mesos' } as never,
    agent_info: { id: { value: 'S1' }, hostname: 'agent-1' } as never,
  },
};

describe('KubeletExecutor (fake cluster, hollow kubelet)', () => {
  let stop: (() => Promise<ExecutorExit>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  function setup(opts: { hollow?: boolean; schedulerBinds?: boolean; noTaskStarting?: boolean } = {}) {
    const cluster = new FakeCluster();
    const pods = new InformerPodSource(cluster);
    const driver = new FakeDriver();
    binder = opts.schedulerBinds === false ? undefined : { cluster, tasks: new Map() };
    driver.scheduler = binder;
    const abort = new AbortController();
    const registry = createRegistry();
    const metrics = new ExecutorMetrics(registry);
    let kubelet: HollowKubelet | undefined;
    const executor = new KubeletExecutor({
      config: { nodeName: NODE, ...(opts.noTaskStarting ? { noTaskStarting: true } : {}) },
      driver,
      api: cluster,
      pods,
      shutdownTimeoutMs: 500,
      random: () => 0,
      metrics,
      kubelet: () => {
        if (opts.hollow === false) return { start() {}, async stop() {} };
        kubelet = new HollowKubelet({ nodeName: NODE, api: cluster, pods, metrics, exitDelayMs: 10, labels: { 'topology.kubernetes.io/zone': 'a' }, random: () => 0 });
        return kubelet;
      },
    });
    const running = executor.run(abort.signal);
    stop = async () => {
      abort.abort();
      return running;
    };
    driver.send(subscribed);
    return { cluster, driver, executor, running, abort, registry, kubelet: () => kubelet };
  }

  it('KUBE_MESOS_NO_TASK_STARTING (placement.bindOnAccept): a LAUNCH is not reported STARTING; the pod bound by the scheduler runs, then RUNNING', async () => {
    const { cluster, driver } = setup({ noTaskStarting: true, schedulerBinds: false });
    cluster.addPod('ns', 'web');
    driver.send({ type: 'LAUNCH', launch: { task: taskFor(cluster, 'ns', 'web') } });
    // The scheduler binds on the ACCEPT's answer, whatever the executor says.
    await cluster.bindPod({ namespace: 'ns', name: 'web', uid: cluster.pod('ns', 'web')!.metadata!.uid! }, NODE, { 'kube-mesos.io/task-id': 'task-web' });
    await driver.until(() => driver.states('task-web').includes('TASK_RUNNING'));
    expect(driver.states('task-web')).toEqual(['TASK_RUNNING']);
  });

  it('LAUNCH: TASK_STARTING at once, the scheduler binds, then RUNNING (healthy); the executor writes no Binding', async () => {
    const { cluster, driver, kubelet, registry } = setup();
    cluster.addPod('ns', 'web');
    driver.send({ type: 'LAUNCH', launch: { task: taskFor(cluster, 'ns', 'web') } });
    await driver.until(() => driver.states('task-web').includes('TASK_RUNNING'));
    expect(driver.states('task-web')).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    expect(driver.updates.at(-1)!.healthy).toBe(true);
    const pod = cluster.pod('ns', 'web')!;
    expect(pod.spec?.nodeName).toBe(NODE);
    expect(pod.metadata?.annotations).toEqual({ 'kube-mesos.io/task-id': 'task-web', 'kube-mesos.io/agent-id': 'S1', 'kube-mesos.io/executor-id': 'kubelet-S1' });
    expect(pod.status?.podIP).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(cluster.writes.filter((w) => w.includes('ns/web'))).toEqual(['create binding ns/web', 'patch pod/status ns/web Running']);
    await kubelet()!.ready;
    const node = cluster.nodes.get(NODE)!;
    expect(node.metadata?.labels?.['topology.kubernetes.io/zone']).toBe('a');
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.spec?.taints ?? []).toEqual([]);
    expect(cluster.leases.get(NODE)?.leaseDurationSeconds).toBe(40);
    const text = await registry.metrics();
    expect(text).toContain('kube_mesos_executor_task_updates_total{state="TASK_RUNNING"} 1');
    expect(text).toContain('kube_mesos_hollow_pod_status_writes_total{phase="Running"} 1');
    expect(text).toContain('kube_mesos_executor_binding_wait_seconds_count 1');
  });

  it.each([
    ['0', 'TASK_FINISHED'],
    ['1', 'TASK_FAILED'],
  ])('hollow-exit-code %s gives %s', async (code, state) => {
    const { cluster, driver } = setup();
    cluster.addPod('ns', 'job', { annotations: { 'kube-mesos.io/hollow-exit-code': code } });
    driver.send({ type: 'LAUNCH', launch: { task: taskFor(cluster, 'ns', 'job') } });
    await driver.until(() => driver.states('task-job').includes(state));
    expect(driver.states('task-job')).toEqual(['TASK_STARTING', 'TASK_RUNNING', state]);
  });

  it('KILL deletes the pod with the kill policy grace, TASK_KILLING then TASK_KILLED', async () => {
    const { cluster, driver } = setup();
    cluster.addPod('ns', 'web');
    driver.send({ type: 'LAUNCH', launch: { task: taskFor(cluster, 'ns', 'web', 'task-web', 7) } });
    await driver.until(() => driver.states('task-web').includes('TASK_RUNNING'));
    driver.send({ type: 'KILL', kill: { task_id: { value: 'task-web' } } });
    await driver.until(() => driver.states('task-web').includes('TASK_KILLED'));
    expect(driver.states('task-web')).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    expect(cluster.writes).toContain('delete pod ns/web grace=7');
    expect(cluster.pod('ns', 'web')).toBeUndefined();
  });

  it('a warm-pool keeper task runs without a pod and ends on KILL', async () => {
    const { cluster, driver } = setup();
    const keeper = { name: 'kubelet keeper', task_id: { value: 'keeper-1' }, agent_id: { value: 'S1' }, labels: { labels: [{ key: 'kube-mesos.io/kubelet-keeper', value: 'true' }] } };
    driver.send({ type: 'LAUNCH', launch: { task: keeper } });
    await driver.until(() => driver.states('keeper-1').includes('TASK_RUNNING'));
    driver.send({ type: 'KILL', kill: { task_id: { value: 'keeper-1' } } });
    await driver.until(() => driver.states('keeper-1').includes('TASK_KILLED'));
    expect(driver.states('keeper-1')).toEqual(['TASK_RUNNING', 'TASK_KILLED']);
    expect(cluster.writes.filter((w) => w.includes('binding'))).toEqual([]);
  });

  it('KILL with its own kill policy overrides the task one', async () => {
    const { cluster, driver } = setup();
    cluster.addPod('ns', 'web');
    driver.send({ type: 'LAUNCH', launch: { task: taskFor(cluster, 'ns', 'web', 'task-web', 7) } });
    await driver.until(() => driver.states('task-web').includes('TASK_RUNNING'));
    driver.send({ type: 'KILL', kill: { task_id: { value: 'task-web' }, kill_policy: { grace_period: { nanoseconds: 2.5e9 } } } });
    await driver.until(() => driver.states('task-web').includes('TASK_KILLED'));
    expect(cluster.writes).toContain('delete pod ns/web grace=3');
  });

  it('a pod deleted by a user gives TASK_KILLED', async () => {
    const { cluster, driver } = setup();
    cluster.addPod('ns', 'web');
    driver.send({ type: 'LAUNCH', launch: { task: taskFor(cluster, 'ns', 'web') } });
    await driver.until(() => driver.states('task-web').includes('TASK_RUNNING'));
    await cluster.deletePod('ns', 'web', {});
    await driver.until(() => driver.states('task-web').includes('TASK_KILLED'));
    expect(driver.states('task-web')).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  });

  it('a task without pod labels → TASK_FAILED REASON_TASK_INVALID', async () => {
    const { driver } = setup();
    driver.send({ type: 'LAUNCH', launch: { task: { name: 'x', task_id: { value: 'task-x' }, agent_id: { value: 'S1' } } } });
    await driver.until(() => driver.updates.length > 0);
    expect(driver.updates).toEqual([expect.objectContaining({ state: 'TASK_FAILED', reason: 'REASON_TASK_INVALID', message: expect.stringMatching(/missing label\(s\) kube-mesos.io\/pod-namespace/) })]);
  });

  it('until the scheduler binds, the task stays TASK_STARTING; a KILL then ends it without touching the pod', async () => {
    const { cluster, driver } = setup({ schedulerBinds: false });
    cluster.addPod('ns', 'web');
    driver.send({ type: 'LAUNCH', launch: { task: taskFor(cluster, 'ns', 'web') } });
    await driver.until(() => driver.updates.length > 0);
    expect(driver.updates[0]).toMatchObject({ state: 'TASK_STARTING', message: 'waiting for the scheduler to bind pod ns/web to node agent-1' });
    driver.send({ type: 'KILL', kill: { task_id: { value: 'task-web' } } });
    await driver.until(() => driver.states('task-web').includes('TASK_KILLED'));
    expect(driver.updates.map((u) => [u.state, u.reason])).toEqual([
      ['TASK_STARTING', undefined],
      ['TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH'],
    ]);
    expect(cluster.pod('ns', 'web')?.metadata?.deletionTimestamp).toBeUndefined();
    expect(cluster.writes.filter((w) => w.includes('ns/web'))).toEqual([]);
  });

  it('a re-launch of a pod already bound to this node is followed at once', async () => {
    const { cluster, driver } = setup({ hollow: false, schedulerBinds: false });
    cluster.addPod('ns', 'web', { nodeName: NODE });
    cluster.mutatePod('ns/web', (p) => {
      p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    });
    driver.send({ type: 'LAUNCH', launch: { task: taskFor(cluster, 'ns', 'web', 'new-task') } });
    await driver.until(() => driver.updates.length >= 2);
    expect(driver.updates.map((u) => [u.state, u.healthy])).toEqual([
      ['TASK_STARTING', undefined],
      ['TASK_RUNNING', true],
    ]);
  });

  it('follows health: Ready flips give a new TASK_RUNNING, same state gives nothing', async () => {
    const { cluster, driver } = setup({ hollow: false });
    cluster.addPod('ns', 'web');
    driver.send({ type: 'LAUNCH', launch: { task: taskFor(cluster, 'ns', 'web') } });
    await driver.until(() => driver.updates.length > 0);
    const setReady = (ready: boolean) =>
      cluster.mutatePod('ns/web', (p) => {
        p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
      });
    setReady(false);
    setReady(false);
    setReady(true);
    await driver.until(() => driver.updates.length >= 3);
    expect(driver.updates.map((u) => [u.state, u.healthy])).toEqual([
      ['TASK_STARTING', undefined],
      ['TASK_RUNNING', false],
      ['TASK_RUNNING', true],
    ]);
  });

  it('SHUTDOWN kills every pod, sends final updates and exits 0; the Node stays', async () => {
    const { cluster, driver, running } = setup();
    for (const n of ['a', 'b', 'c']) {
      cluster.addPod('ns', n);
      driver.send({ type: 'LAUNCH', launch: { task: taskFor(cluster, 'ns', n) } });
    }
    await driver.until(() => ['a', 'b', 'c'].every((n) => driver.states(`task-${n}`).includes('TASK_RUNNING')));
    driver.send({ type: 'SHUTDOWN' });
    const exit = await running;
    expect(exit.code).toBe(0);
    for (const n of ['a', 'b', 'c']) expect(driver.states(`task-${n}`).at(-1)).toBe('TASK_KILLED');
    expect(cluster.pods.size).toBe(0);
    expect(cluster.nodes.has(NODE)).toBe(true);
    expect(driver.stopped).toBe(true);
  });

  it('SHUTDOWN is bounded: a pod that does not go in time still gets a final TASK_KILLED', async () => {
    const { cluster, driver, running } = setup({ hollow: false }); // nobody finishes the deletion
    cluster.addPod('ns', 'stuck');
    driver.send({ type: 'LAUNCH', launch: { task: taskFor(cluster, 'ns', 'stuck') } });
    await driver.until(() => driver.updates.length > 0);
    const t0 = Date.now();
    driver.send({ type: 'SHUTDOWN' });
    expect((await running).code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(driver.updates.map((u) => [u.state, u.reason])).toEqual([
      ['TASK_STARTING', undefined],
      ['TASK_KILLING', undefined],
      ['TASK_KILLED', 'REASON_EXECUTOR_TERMINATED'],
    ]);
    expect(cluster.pod('ns', 'stuck')?.metadata?.deletionTimestamp).toBeDefined();
  });

  it('the driver giving up (recovery timeout) ends run() with code 1', async () => {
    const { driver, running } = setup({ hollow: false });
    driver.emit('exit', 'could not re-subscribe');
    await expect(running).resolves.toEqual({ code: 1, reason: 'could not re-subscribe' });
  });
});
