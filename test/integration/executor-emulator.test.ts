// The kubelet executor launched by the Mesos emulator, driven by a scheduler over the real scheduler API: in-process
// (the emulator runs src/executor/inprocess.ts) and as a process (`kube-mesos executor` spawned by the emulator agent).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { createExecutorFactory } from '../../src/executor/inprocess.js';
import { bindPodWithAnnotations } from '../../src/kube/binding.js';
import { KubeClient } from '../../src/kube/client.js';
import { KubeHttp } from '../../src/kube/http.js';
import { SchedulerClient } from '../../src/mesos/scheduler.js';
import type { ExecutorInfo, Offer, SchedulerEvent, TaskInfo, TaskStatus } from '../../src/mesos/types.js';
import { controlPlaneInfo, createTestNamespace, testKubeConfig, waitFor, type TestNamespace } from '../support/kube.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const core = () => testKubeConfig().makeApiClient(CoreV1Api);

describe.each(['inprocess', 'process'] as const)('executor launched by the Mesos emulator (%s)', (mode) => {
  let ns: TestNamespace;
  let http: KubeHttp;
  let factory: ReturnType<typeof createExecutorFactory> | undefined;
  let emulator: RunningEmulator;
  let scheduler: SchedulerClient;
  const offers: Offer[] = [];
  const updates: TaskStatus[] = [];
  const executors = new Map<string, ExecutorInfo>();
  const run = randomBytes(2).toString('hex');

  beforeAll(async () => {
    ns = await createTestNamespace(`executor-emu-${mode}`);
    http = new KubeHttp(testKubeConfig());
    if (mode === 'inprocess') factory = createExecutorFactory({ http, schedulerName: 'kube-mesos' });
    emulator = await startEmulator({
      listen: '127.0.0.1:0',
      agents: 1,
      zones: ['a'],
      region: 'r1',
      allocationIntervalMs: 100,
      executorMode: mode,
      executorFactory: factory as never,
      baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
    });
    scheduler = new SchedulerClient({
      masters: [emulator.url],
      framework: { user: 'root', name: `executor-it-${mode}`, capabilities: [{ type: 'TASK_KILLING_STATE' }, { type: 'PARTITION_AWARE' }] },
    });
    scheduler.on('event', (ev: SchedulerEvent) => {
      if (ev.type === 'OFFERS') offers.push(...(ev.offers.offers ?? []));
      if (ev.type === 'UPDATE') {
        updates.push(ev.update.status);
        void scheduler.acknowledge(ev.update.status).catch(() => {});
        // The scheduler binds on a task's first TASK_STARTING (the executor no longer does; node identity).
        if (ev.update.status.state === 'TASK_STARTING') void bindOnStarting(ev.update.status).catch(() => {});
      }
    });
    scheduler.start();
  });

  afterAll(async () => {
    await scheduler?.teardown().catch(() => {});
    await scheduler?.stop();
    await emulator?.stop();
    await factory?.close();
    for (const e of executors.values()) {
      const node = e.command?.environment?.variables?.find((v) => v.name === 'KUBE_MESOS_NODE_NAME')?.value;
      if (node) await core().deleteNode({ name: node }).catch(() => {});
    }
    await ns?.delete();
    http?.close();
  });

  const launchedTasks = new Map<string, { task: TaskInfo; nodeName: string }>();
  const bound = new Set<string>();
  async function bindOnStarting(status: TaskStatus): Promise<void> {
    const l = launchedTasks.get(status.task_id.value);
    if (!l || bound.has(status.task_id.value)) return;
    bound.add(status.task_id.value);
    const label = (k: string) => l.task.labels?.labels?.find((x) => x.key === k)?.value ?? '';
    const executorId = l.task.executor?.executor_id.value ?? '';
    const annotations = { 'kube-mesos.io/task-id': status.task_id.value, 'kube-mesos.io/agent-id': l.task.agent_id.value, 'kube-mesos.io/executor-id': executorId };
    await bindPodWithAnnotations(new KubeClient(http), { namespace: label('kube-mesos.io/pod-namespace'), name: label('kube-mesos.io/pod-name'), uid: label('kube-mesos.io/pod-uid'), nodeName: l.nodeName, annotations }, { attempts: 2 });
  }

  function executorFor(offer: Offer): ExecutorInfo {
    const agentId = offer.agent_id.value;
    let e = executors.get(agentId);
    if (e) return e;
    const nodeName = `emu-${mode}-${run}-${offer.hostname}`.toLowerCase();
    const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
    e = {
      type: 'CUSTOM',
      executor_id: { value: `kubelet-${agentId}` },
      framework_id: { value: scheduler.frameworkId! },
      name: 'kube-mesos kubelet',
      command: {
        shell: true,
        value: `'${process.execPath}' --import '${tsx}' '${join(root, 'src/cli/main.ts')}' executor`,
        environment: {
          variables: Object.entries({
            KUBE_MESOS_NODE_NAME: nodeName,
            KUBE_MESOS_NODE_LABELS: JSON.stringify({ 'kubernetes.io/hostname': nodeName, 'topology.kubernetes.io/zone': 'a', 'kube-mesos.io/agent-id': agentId }),
            KUBE_MESOS_NODE_CAPACITY: JSON.stringify({ cpu: '8000m', memory: '16384Mi', pods: '110' }),
            KUBE_MESOS_KUBECONFIG: controlPlaneInfo().kubeconfigPath,
            KUBE_MESOS_KUBELET_MODE: 'hollow',
            KUBE_MESOS_LOG_LEVEL: 'warn',
          }).map(([name, value]) => ({ name, type: 'VALUE' as const, value })),
        },
      },
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
      ],
    };
    executors.set(agentId, e);
    return e;
  }

  async function launch(name: string): Promise<{ pod: V1Pod; taskId: string; nodeName: string }> {
    const pod = await core().createNamespacedPod({
      namespace: ns.name,
      body: { metadata: { name }, spec: { schedulerName: 'kube-mesos', terminationGracePeriodSeconds: 3, containers: [{ name: 'main', image: 'busybox' }] } },
    });
    const offer = await waitFor(() => offers.shift(), { timeoutMs: 20_000, what: 'an offer' });
    const taskId = `${name}.${run}`;
    const executor = executorFor(offer);
    const task: TaskInfo = {
      name,
      task_id: { value: taskId },
      agent_id: offer.agent_id,
      executor,
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.25 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 64 } },
      ],
      kill_policy: { grace_period: { nanoseconds: 3e9 } },
      labels: {
        labels: [
          { key: 'kube-mesos.io/pod-namespace', value: ns.name },
          { key: 'kube-mesos.io/pod-name', value: name },
          { key: 'kube-mesos.io/pod-uid', value: pod.metadata!.uid! },
        ],
      },
    };
    const nodeName = executor.command!.environment!.variables!.find((v) => v.name === 'KUBE_MESOS_NODE_NAME')!.value!;
    launchedTasks.set(taskId, { task, nodeName });
    await scheduler.accept([offer.id.value], [{ type: 'LAUNCH', launch: { task_infos: [task] } }]);
    return { pod, taskId, nodeName };
  }

  const states = (taskId: string): string[] => updates.filter((u) => u.task_id.value === taskId).map((u) => u.state);
  const until = (taskId: string, state: string) =>
    waitFor(() => states(taskId).includes(state), { timeoutMs: 45_000, what: `${taskId} to reach ${state}; saw ${states(taskId).join(',') || 'nothing'}` });

  it('LAUNCH through the master: pod bound with its task annotations, TASK_STARTING then TASK_RUNNING; KILL → TASK_KILLED', async () => {
    await waitFor(() => scheduler.state === 'subscribed', { timeoutMs: 10_000, what: 'the scheduler to subscribe' });
    const { taskId, nodeName } = await launch('web');
    await until(taskId, 'TASK_RUNNING');
    expect(states(taskId)).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    const live = await core().readNamespacedPod({ name: 'web', namespace: ns.name });
    expect(live.spec?.nodeName).toBe(nodeName);
    expect(live.status?.phase).toBe('Running');
    expect(live.metadata?.annotations?.['kube-mesos.io/task-id']).toBe(taskId);
    expect(live.metadata?.annotations?.['kube-mesos.io/executor-id']).toMatch(/^kubelet-/);
    const node = await core().readNode({ name: nodeName });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    await scheduler.kill(taskId);
    await until(taskId, 'TASK_KILLED');
    expect(states(taskId)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    await expect(core().readNamespacedPod({ name: 'web', namespace: ns.name })).rejects.toMatchObject({ code: 404 });
  }, 90_000);

  it('a second pod on the same agent reuses the running executor', async () => {
    const { taskId } = await launch('second');
    await until(taskId, 'TASK_RUNNING');
    expect(executors.size).toBe(1);
    const st = updates.find((u) => u.task_id.value === taskId && u.state === 'TASK_RUNNING')!;
    expect(st.source).toBe('SOURCE_EXECUTOR');
    expect(st.executor_id?.value).toBe([...executors.values()][0].executor_id.value);
  }, 60_000);
});
