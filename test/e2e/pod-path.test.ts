// The product's main job, end to end: a Deployment applied with kubectl becomes Mesos tasks on emulated agents,
// Running under hollow kubelets started as real executor processes, spread over zones as its spec says.
import { kubectl, waitFor } from '../support/kube.js';
import { listPods, mesosTasks, nodeZones, spreadDeployment, startTestSandbox, type TestSandbox } from '../support/sandbox.js';

let t: TestSandbox;
const pods = (selector: string) => listPods(t, selector);

beforeAll(async () => {
  t = await startTestSandbox('e2e-pod-path');
}, 120_000);

afterAll(async () => {
  await t?.stop();
}, 60_000);

describe('end-to-end pod path', () => {
  it('runs a 30-replica zone-spread Deployment as 30 Mesos tasks, 10 per zone, with task annotations', async () => {
    await t.kubectl(['apply', '-f', '-'], spreadDeployment('web', t.schedulerName, 30));
    const running = await waitFor(
      async () => {
        const list = await pods('app=web');
        return list.length === 30 && list.every((p) => p.status.phase === 'Running') && list;
      },
      { timeoutMs: 90_000, what: '30 web pods Running' },
    );
    const zones = await nodeZones(t);
    const perZone: Record<string, number> = {};
    for (const p of running) perZone[zones.get(p.spec.nodeName!)!] = (perZone[zones.get(p.spec.nodeName!)!] ?? 0) + 1;
    expect(perZone).toEqual({ a: 10, b: 10, c: 10 });

    for (const p of running) {
      expect(p.metadata.annotations?.['kube-mesos.io/task-id']).toBeTruthy();
      expect(p.metadata.annotations?.['kube-mesos.io/agent-id']).toBeTruthy();
      expect(p.metadata.annotations?.['kube-mesos.io/executor-id']).toBeTruthy();
    }
    const tasks = await waitFor(async () => {
      const running30 = (await mesosTasks(t)).filter((x) => x.state === 'TASK_RUNNING');
      return running30.length === 30 && running30;
    }, { what: '30 TASK_RUNNING tasks in the emulator' });
    const taskIds = new Set(tasks.map((task) => task.id));
    for (const p of running) expect(taskIds.has(p.metadata.annotations!['kube-mesos.io/task-id'])).toBe(true);
    for (const task of tasks) {
      expect(task.resources).toMatchObject({ cpus: 0.25, mem: 256 });
    }
  });

  it('reports a pod that fits nowhere, and runs it once a big enough agent joins', async () => {
    const pod = `
apiVersion: v1
kind: Pod
metadata: { name: big, labels: { app: big } }
spec:
  schedulerName: ${t.schedulerName}
  containers:
  - name: big
    image: nginx
    resources: { requests: { cpu: "16", memory: 1Gi } }
`;
    await t.kubectl(['apply', '-f', '-'], pod);
    const cond = await waitFor(
      async () => (await pods('app=big'))[0]?.status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False'),
      { timeoutMs: 30_000, what: 'PodScheduled=False on pod big' },
    );
    expect(cond.reason).toBe('Unschedulable');
    expect(cond.message).toMatch(/^0\/9 nodes are available: .*Insufficient cpu/);
    const described = await waitFor(async () => {
      const d = await kubectl(['describe', 'pod', 'big', '-n', t.ns.name], { kubeconfig: t.kubeconfig });
      return /FailedScheduling/.test(d.stdout) && d.stdout;
    }, { what: 'a FailedScheduling event in kubectl describe' });
    expect(described).toMatch(/0\/9 nodes are available/);

    const res = await fetch(`${t.sb.mesosUrl}/emulator/agents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1, zone: 'a', resources: 'cpus:32;mem:65536;disk:100000;ports:[31000-32000]' }),
    });
    expect(res.ok).toBe(true);
    await waitFor(async () => (await pods('app=big'))[0]?.status.phase === 'Running', { timeoutMs: 60_000, what: 'pod big Running on the new agent' });
  });

  it('kills every task of a deleted Deployment', async () => {
    await t.kubectl(['delete', 'deployment', 'web', '--wait=false']);
    await waitFor(
      async () => {
        const live = (await mesosTasks(t)).filter((task) => task.name.startsWith(`pod ${t.ns.name}/web-`));
        return live.length === 0;
      },
      { timeoutMs: 60_000, what: 'no web task left running in the emulator' },
    );
    const killed = (await mesosTasks(t, 'completed')).filter((task) => task.name.startsWith(`pod ${t.ns.name}/web-`));
    expect(killed.length).toBeGreaterThanOrEqual(30);
    expect(killed.every((task) => task.state === 'TASK_KILLED')).toBe(true);
  });
});
