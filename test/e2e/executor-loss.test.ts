// Executor loss (issue 15): SIGKILL a kubelet executor's process. Its pods are handled as pods on a lost agent: replaced
// within their failover-after; its Node is deleted once empty; the emulator shows no task of it left; and the next pod
// placed on that agent gets a fresh executor.
import { kubectl, waitFor } from '../support/kube.js';
import { processesIn, stateExecutors } from '../support/executors.js';
import { listPods, mesosTasks, startTestSandbox, type PodJson, type TestSandbox } from '../support/sandbox.js';

let t: TestSandbox;

beforeAll(async () => {
  t = await startTestSandbox('e2e-exloss', { agents: 2, zones: ['a'] });
}, 180_000);

afterAll(async () => {
  await t?.stop();
}, 60_000);

const deployment = (name: string, replicas: number, node?: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name} }
      annotations: { kube-mesos.io/failover-after: 5s }
    spec:
      schedulerName: ${t.schedulerName}
      ${node ? `nodeSelector: { kubernetes.io/hostname: ${node} }` : ''}
      containers:
      - name: c
        image: nginx
        resources: { requests: { cpu: 100m, memory: 64Mi } }
`;

const nodeUid = async (name: string): Promise<string | undefined> => {
  const r = await kubectl(['get', 'node', name, '-o', 'jsonpath={.metadata.uid}'], { kubeconfig: t.kubeconfig, allowFailure: true });
  return r.code === 0 ? r.stdout.trim() : undefined;
};

it('SIGKILLed executor: pods replaced within failover-after, Node deleted, no task left, a fresh executor for the next pod', async () => {
  await t.kubectl(['apply', '-f', '-'], deployment('web', 4));
  const before = await waitFor(
    async () => {
      const pods = await listPods(t, 'app=web');
      return pods.length === 4 && pods.every((p) => p.status.phase === 'Running') && pods;
    },
    { timeoutMs: 120_000, what: '4 web pods Running' },
  );
  const victimNode = before[0].spec.nodeName!;
  const victimExecutor = before[0].metadata.annotations!['kube-mesos.io/executor-id'];
  const onVictim = before.filter((p) => p.spec.nodeName === victimNode);
  const victimUid = await nodeUid(victimNode);
  const exec = (await stateExecutors(t)).find((e) => e.id === victimExecutor)!;
  const procs = processesIn(exec.directory);
  const executorProc = procs.find((p) => p.cmdline.includes('executor'))!;
  expect(executorProc).toBeDefined();

  const killedAt = Date.now();
  process.kill(executorProc.pid, 'SIGKILL');

  // the pods it hosted are replaced (deleted; the ReplicaSet makes new ones that run)
  const oldNames = new Set(onVictim.map((p) => p.metadata.name));
  await waitFor(async () => (await listPods(t, 'app=web')).every((p) => !oldNames.has(p.metadata.name)), { timeoutMs: 60_000, intervalMs: 200, what: 'the killed executor\'s pods deleted' });
  const deletedInMs = Date.now() - killedAt;
  const after = await waitFor(
    async () => {
      const pods = (await listPods(t, 'app=web')).filter((p) => !p.metadata.deletionTimestamp);
      const running = pods.filter((p: PodJson) => p.status.phase === 'Running' && !oldNames.has(p.metadata.name));
      return pods.every((p) => !oldNames.has(p.metadata.name)) && running.length === 4 && running;
    },
    { timeoutMs: 90_000, intervalMs: 250, what: 'the killed executor\'s pods replaced and 4 Running' },
  );
  const replacedInMs = Date.now() - killedAt;
  console.log(`executor SIGKILLed → its ${onVictim.length} pods deleted after ${(deletedInMs / 1000).toFixed(1)} s (failover-after 5 s), 4 Running again after ${(replacedInMs / 1000).toFixed(1)} s`);
  expect(deletedInMs).toBeGreaterThanOrEqual(5_000); // not before their failover-after
  expect(after).toHaveLength(4);

  // its Node was deleted once empty (a new one may exist by now, registered by a new executor: a different uid)
  await waitFor(async () => (await nodeUid(victimNode)) !== victimUid, { timeoutMs: 30_000, what: `Node ${victimNode} deleted` });

  // the emulator has no task of the killed executor left, and lists no such executor
  const active = (await mesosTasks(t)).filter((task) => (task as unknown as { executor_id?: string }).executor_id === victimExecutor || onVictim.some((p) => p.metadata.annotations?.['kube-mesos.io/task-id'] === task.id));
  expect(active.filter((task) => !['TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_GONE', 'TASK_FINISHED'].includes(task.state))).toEqual([]);
  expect((await stateExecutors(t)).some((e) => e.id === victimExecutor && e.state !== 'terminated')).toBe(false);

  // a pod that must run on that agent gets a fresh executor there
  await t.kubectl(['apply', '-f', '-'], deployment('pinned', 1, victimNode));
  const pinned = await waitFor(
    async () => {
      const p = (await listPods(t, 'app=pinned'))[0];
      return p?.status.phase === 'Running' && p;
    },
    { timeoutMs: 90_000, what: 'the pinned pod Running on the agent whose executor was killed' },
  );
  expect(pinned.spec.nodeName).toBe(victimNode);
  expect(pinned.metadata.annotations?.['kube-mesos.io/executor-id']).not.toBe(victimExecutor);
  expect((await stateExecutors(t)).find((e) => e.id === pinned.metadata.annotations?.['kube-mesos.io/executor-id'])?.state).toBe('subscribed');
}, 300_000);
