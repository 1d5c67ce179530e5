// Many in-process executors in one emulator share ONE pod watch; every pod still gets bound and Running.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { createExecutorFactory } from '../../src/executor/inprocess.js';
import { bindPodWithAnnotations, type BindingTarget } from '../../src/kube/binding.js';
import { KubeClient } from '../../src/kube/client.js';
import { KubeHttp } from '../../src/kube/http.js';
import { SchedulerClient } from '../../src/mesos/scheduler.js';
import type { Offer, SchedulerEvent, TaskStatus } from '../../src/mesos/types.js';
import { controlPlaneInfo, createTestNamespace, testKubeConfig, waitFor, type TestNamespace } from '../support/kube.js';

const AGENTS = 60;
const core = () => testKubeConfig().makeApiClient(CoreV1Api);

describe(`${AGENTS} in-process executors`, () => {
  let ns: TestNamespace;
  let http: KubeHttp;
  let factory: ReturnType<typeof createExecutorFactory>;
  let emulator: RunningEmulator;
  let scheduler: SchedulerClient;
  const watches: string[] = [];
  const offers: Offer[] = [];
  const toBind = new Map<string, BindingTarget>();
  const updates: TaskStatus[] = [];
  const run = randomBytes(2).toString('hex');
  const nodes: string[] = [];

  beforeAll(async () => {
    ns = await createTestNamespace('executor-scale');
    http = new KubeHttp(testKubeConfig(), { qps: 1000, burst: 2000, maxInFlight: 100 });
    const watch = http.watch.bind(http);
    http.watch = (path, query, onEvent, opts) => {
      watches.push(path);
      return watch(path, query, onEvent, opts);
    };
    factory = createExecutorFactory({ http }); // no scheduler name: one informer over every bound pod (spec.nodeName!=)
    emulator = await startEmulator({ listen: '127.0.0.1:0', agents: AGENTS, zones: ['a', 'b', 'c'], allocationIntervalMs: 100, executorMode: 'inprocess', executorFactory: factory as never });
    scheduler = new SchedulerClient({ masters: [emulator.url], framework: { user: 'root', name: 'executor-scale', capabilities: [{ type: 'TASK_KILLING_STATE' }] } });
    scheduler.on('event', (ev: SchedulerEvent) => {
      if (ev.type === 'OFFERS') offers.push(...(ev.offers.offers ?? []));
      if (ev.type === 'UPDATE') {
        updates.push(ev.update.status);
        void scheduler.acknowledge(ev.update.status).catch(() => {});
        // The scheduler binds on a task's first TASK_STARTING (the executor no longer does; node identity).
        const target = toBind.get(ev.update.status.task_id.value);
        if (ev.update.status.state === 'TASK_STARTING' && target) {
          toBind.delete(ev.update.status.task_id.value);
          void bindPodWithAnnotations(new KubeClient(http), target, { attempts: 2 }).catch(() => {});
        }
      }
    });
    scheduler.start();
  });

  afterAll(async () => {
    await scheduler?.teardown().catch(() => {});
    await scheduler?.stop();
    await emulator?.stop();
    await factory?.close();
    await Promise.all(nodes.map((name) => core().deleteNode({ name }).catch(() => {})));
    await ns?.delete();
    http?.close();
  });

  it('one pod per agent: all TASK_RUNNING, one pod watch for the whole process', async () => {
    const seen = new Set<string>();
    await waitFor(
      () => {
        for (const o of offers) seen.add(o.agent_id.value);
        return seen.size >= AGENTS;
      },
      { timeoutMs: 20_000, what: 'offers from every agent' },
    );
    const byAgent = new Map<string, Offer>();
    for (const o of offers.splice(0)) if (!byAgent.has(o.agent_id.value)) byAgent.set(o.agent_id.value, o);
    const pods = await Promise.all(
      [...byAgent.keys()].map((_, i) =>
        core().createNamespacedPod({ namespace: ns.name, body: { metadata: { name: `p${i}` }, spec: { schedulerName: 'kube-mesos', containers: [{ name: 'c', image: 'busybox' }] } } }),
      ),
    );
    const t0 = Date.now();
    await Promise.all(
      [...byAgent.values()].map((offer, i) => {
        const nodeName = `scale-${run}-${offer.hostname}`;
        nodes.push(nodeName);
        const taskId = `p${i}.${run}`;
        toBind.set(taskId, { namespace: ns.name, name: `p${i}`, uid: pods[i].metadata!.uid!, nodeName, annotations: { 'kube-mesos.io/task-id': taskId, 'kube-mesos.io/agent-id': offer.agent_id.value, 'kube-mesos.io/executor-id': `kubelet-${offer.agent_id.value}` } });
        const env = {
          KUBE_MESOS_NODE_NAME: nodeName,
          KUBE_MESOS_NODE_LABELS: JSON.stringify({ 'kube-mesos.io/agent-id': offer.agent_id.value }),
          KUBE_MESOS_NODE_CAPACITY: '{"cpu":"8","memory":"16Gi"}',
          KUBE_MESOS_KUBECONFIG: controlPlaneInfo().kubeconfigPath,
          KUBE_MESOS_LOG_LEVEL: 'warn',
        };
        return scheduler.accept(
          [offer.id.value],
          [
            {
              type: 'LAUNCH',
              launch: {
                task_infos: [
                  {
                    name: `p${i}`,
                    task_id: { value: `p${i}.${run}` },
                    agent_id: offer.agent_id,
                    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }],
                    executor: {
                      type: 'CUSTOM',
                      executor_id: { value: `kubelet-${offer.agent_id.value}` },
                      framework_id: { value: scheduler.frameworkId! },
                      command: { shell: true, value: 'unused-inprocess', environment: { variables: Object.entries(env).map(([name, value]) => ({ name, type: 'VALUE' as const, value })) } },
                      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.05 } }],
                    },
                    labels: {
                      labels: [
                        { key: 'kube-mesos.io/pod-namespace', value: ns.name },
                        { key: 'kube-mesos.io/pod-name', value: `p${i}` },
                        { key: 'kube-mesos.io/pod-uid', value: pods[i].metadata!.uid! },
                      ],
                    },
                  },
                ],
              },
            },
          ],
        );
      }),
    );
    const running = () => new Set(updates.filter((u) => u.state === 'TASK_RUNNING').map((u) => u.task_id.value)).size;
    await waitFor(() => running() === AGENTS, { timeoutMs: 60_000, what: `all ${AGENTS} tasks TASK_RUNNING (have ${running()})` });
    const ms = Date.now() - t0;
    process.stderr.write(`executor-scale: ${AGENTS} executors + pods to TASK_RUNNING in ${ms} ms; pod watches opened: ${watches.length}\n`);
    expect(updates.filter((u) => u.state === 'TASK_FAILED')).toEqual([]);
    expect(watches.filter((p) => p.includes('/pods'))).toHaveLength(1);
    const list = await core().listNamespacedPod({ namespace: ns.name });
    expect(list.items.filter((p) => p.status?.phase === 'Running')).toHaveLength(AGENTS);
  }, 120_000);
});
