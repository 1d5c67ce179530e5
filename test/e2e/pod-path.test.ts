// The product's main job, end to end: a Deployment applied with kubectl becomes Mesos tasks on emulated agents,
// Running under hollow kubelets started as real executor processes, spread over zones as its spec says.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { controlPlaneInfo, createTestNamespace, kubectl, waitFor, type TestNamespace } from '../support/kube.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const suffix = randomBytes(3).toString('hex');
const schedulerName = `kube-mesos-e2e-${suffix}`;

interface PodJson {
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

interface StateTask {
  id: string;
  name: string;
  state: string;
  resources: Record<string, unknown>;
  labels?: { key: string; value?: string }[];
}

let sb: Sandbox;
let ns: TestNamespace;
const kubeconfig = () => controlPlaneInfo().kubeconfigPath;

async function pods(selector: string): Promise<PodJson[]> {
  const r = await kubectl(['get', 'pods', '-n', ns.name, '-l', selector, '-o', 'json'], { kubeconfig: kubeconfig() });
  if (r.code !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { items: PodJson[] }).items;
}

async function nodeZones(): Promise<Map<string, string>> {
  const r = await kubectl(['get', 'nodes', '-o', 'json'], { kubeconfig: kubeconfig() });
  const items = (JSON.parse(r.stdout) as { items: { metadata: { name: string; labels: Record<string, string> } }[] }).items;
  return new Map(items.map((n) => [n.metadata.name, n.metadata.labels['topology.kubernetes.io/zone']]));
}

/** Tasks the emulator's /state lists: active ones under `tasks`, ended ones under `completed_tasks`, as Mesos does. */
async function mesosTasks(which: 'active' | 'completed' = 'active'): Promise<StateTask[]> {
  const state = (await (await fetch(`${sb.mesosUrl}/state`)).json()) as { frameworks: { tasks: StateTask[]; completed_tasks?: StateTask[] }[] };
  return state.frameworks.flatMap((f) => (which === 'active' ? f.tasks : (f.completed_tasks ?? [])));
}

const deployment = (replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      schedulerName: ${schedulerName}
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector: { matchLabels: { app: web } }
      containers:
      - name: web
        image: nginx
        resources: { requests: { cpu: 250m, memory: 256Mi } }
`;

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (the executor runs from it)');
  ns = await createTestNamespace('e2e-pod-path');
  sb = await startSandbox({
    dir: mkdtempSync(join(tmpdir(), 'kube-mesos-e2e-')),
    cacheDir: '',
    existingKubeconfig: kubeconfig(),
    hostnamePrefix: `e2e-${suffix}-`,
    agents: 9,
    zones: ['a', 'b', 'c'],
    region: 'r1',
    agentResources: 'cpus:4;mem:8192;disk:10000;ports:[31000-31100]',
    executorCommand: `'${process.execPath}' '${join(root, 'dist/cli/main.js')}' executor`,
    listen: '127.0.0.1:0',
    set: [
      ['kube.schedulerName', schedulerName],
      ['kube.namespace', ns.name],
      ['placement.cycleInterval', '50ms'],
    ],
  });
}, 120_000);

afterAll(async () => {
  await sb?.stop();
  await ns?.delete();
}, 60_000);

describe('end-to-end pod path', () => {
  it('runs a 30-replica zone-spread Deployment as 30 Mesos tasks, 10 per zone, with task annotations', async () => {
    const applied = await kubectl(['apply', '-n', ns.name, '-f', '-'], { kubeconfig: kubeconfig(), input: deployment(30) });
    expect(applied.code).toBe(0);
    const running = await waitFor(
      async () => {
        const list = await pods('app=web');
        return list.length === 30 && list.every((p) => p.status.phase === 'Running') && list;
      },
      { timeoutMs: 90_000, what: '30 web pods Running' },
    );
    const zones = await nodeZones();
    const perZone: Record<string, number> = {};
    for (const p of running) perZone[zones.get(p.spec.nodeName!)!] = (perZone[zones.get(p.spec.nodeName!)!] ?? 0) + 1;
    expect(perZone).toEqual({ a: 10, b: 10, c: 10 });

    for (const p of running) {
      expect(p.metadata.annotations?.['kube-mesos.io/task-id']).toBeTruthy();
      expect(p.metadata.annotations?.['kube-mesos.io/agent-id']).toBeTruthy();
      expect(p.metadata.annotations?.['kube-mesos.io/executor-id']).toBeTruthy();
    }
    const tasks = await waitFor(async () => {
      const t = (await mesosTasks()).filter((x) => x.state === 'TASK_RUNNING');
      return t.length === 30 && t;
    }, { what: '30 TASK_RUNNING tasks in the emulator' });
    const taskIds = new Set(tasks.map((t) => t.id));
    for (const p of running) expect(taskIds.has(p.metadata.annotations!['kube-mesos.io/task-id'])).toBe(true);
    for (const t of tasks) {
      expect(t.resources).toMatchObject({ cpus: 0.25, mem: 256 });
    }
  });

  it('reports a pod that fits nowhere, and runs it once a big enough agent joins', async () => {
    const pod = `
apiVersion: v1
kind: Pod
metadata: { name: big, labels: { app: big } }
spec:
  schedulerName: ${schedulerName}
  containers:
  - name: big
    image: nginx
    resources: { requests: { cpu: "16", memory: 1Gi } }
`;
    expect((await kubectl(['apply', '-n', ns.name, '-f', '-'], { kubeconfig: kubeconfig(), input: pod })).code).toBe(0);
    const cond = await waitFor(
      async () => (await pods('app=big'))[0]?.status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False'),
      { timeoutMs: 30_000, what: 'PodScheduled=False on pod big' },
    );
    expect(cond.reason).toBe('Unschedulable');
    expect(cond.message).toMatch(/^0\/9 agents available: .*Insufficient cpus/);
    const described = await waitFor(async () => {
      const d = await kubectl(['describe', 'pod', 'big', '-n', ns.name], { kubeconfig: kubeconfig() });
      return /FailedScheduling/.test(d.stdout) && d.stdout;
    }, { what: 'a FailedScheduling event in kubectl describe' });
    expect(described).toMatch(/0\/9 agents available/);

    const res = await fetch(`${sb.mesosUrl}/emulator/agents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1, zone: 'a', resources: 'cpus:32;mem:65536;disk:100000;ports:[31000-32000]' }),
    });
    expect(res.ok).toBe(true);
    await waitFor(async () => (await pods('app=big'))[0]?.status.phase === 'Running', { timeoutMs: 60_000, what: 'pod big Running on the new agent' });
  });

  it('kills every task of a deleted Deployment', async () => {
    expect((await kubectl(['delete', 'deployment', 'web', '-n', ns.name, '--wait=false'], { kubeconfig: kubeconfig() })).code).toBe(0);
    await waitFor(
      async () => {
        const live = (await mesosTasks()).filter((t) => t.name.startsWith(`pod ${ns.name}/web-`));
        return live.length === 0;
      },
      { timeoutMs: 60_000, what: 'no web task left running in the emulator' },
    );
    const killed = (await mesosTasks('completed')).filter((t) => t.name.startsWith(`pod ${ns.name}/web-`));
    expect(killed.length).toBeGreaterThanOrEqual(30);
    expect(killed.every((t) => t.state === 'TASK_KILLED')).toBe(true);
  });
});
