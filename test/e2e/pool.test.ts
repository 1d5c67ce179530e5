// The elastic kubelet pool end to end (issue 6): kubelets start only where pods land, and go away when idle — their
// executors shut down, their Nodes deleted, their resources back to Mesos.
import { kubectl, waitFor } from '../support/kube.js';
import { listPods, mesosTasks, spreadDeployment, startTestSandbox, type TestSandbox } from '../support/sandbox.js';

let t: TestSandbox;

interface StateAgent {
  id: string;
  hostname: string;
  used_resources: Record<string, number | string>;
}

async function agents(): Promise<StateAgent[]> {
  return ((await (await fetch(`${t.sb.mesosUrl}/state`)).json()) as { slaves: StateAgent[] }).slaves;
}

async function ourNodes(): Promise<string[]> {
  const r = await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'], { kubeconfig: t.kubeconfig });
  return r.stdout.split(/\s+/).filter((n) => n.startsWith(t.hostnamePrefix));
}

beforeAll(async () => {
  t = await startTestSandbox('e2e-pool', { agents: 30, set: [['pool.idleTimeout', '5s']] });
}, 120_000);

afterAll(async () => {
  await t?.stop();
}, 90_000);

it('runs 200 pods on 30 agents with kubelets only where pods are, then removes every kubelet once scaled to 0', async () => {
  expect(await ourNodes()).toEqual([]); // no kubelet before any pod
  await t.kubectl(['apply', '-f', '-'], spreadDeployment('batch', t.schedulerName, 200, { cpu: '100m', memory: '64Mi' }));
  let seen = '';
  const running = await waitFor(
    async () => {
      const pods = await listPods(t, 'app=batch');
      const ready = pods.length === 200 && pods.every((p) => p.status.phase === 'Running');
      if (!ready) seen = `${pods.length} pods, ${pods.filter((p) => p.status.phase === 'Running').length} Running, pending: ${pods.filter((p) => p.status.phase !== 'Running').slice(0, 5).map((p) => p.metadata.name).join(' ')}`;
      return ready && pods;
    },
    { timeoutMs: 240_000, intervalMs: 1000, what: '200 batch pods Running' },
  ).catch(async (err: unknown) => {
    const debug = await (await fetch(`${t.sb.schedulerUrl}/debug/state`)).text();
    throw new Error(`${err instanceof Error ? err.message : String(err)}; seen: ${seen}; scheduler: ${debug.slice(0, 1500)}`);
  });
  const nodesWithPods = new Set(running.map((p) => p.spec.nodeName!));
  const nodes = await ourNodes();
  expect(new Set(nodes)).toEqual(nodesWithPods); // a kubelet (Node) exactly where pods run
  const executors = new Set((await mesosTasks(t)).map((task) => task.slave_id));
  expect(executors.size).toBe(nodesWithPods.size);

  await t.kubectl(['scale', 'deployment', 'batch', '--replicas=0']);
  await waitFor(async () => (await listPods(t, 'app=batch')).length === 0, { timeoutMs: 120_000, what: 'all batch pods gone' });
  await waitFor(async () => (await ourNodes()).length === 0, { timeoutMs: 120_000, intervalMs: 1000, what: 'every kubelet Node deleted' });
  await waitFor(
    async () => {
      const list = await agents();
      return list.every((a) => Number(a.used_resources.cpus ?? 0) === 0 && Number(a.used_resources.mem ?? 0) === 0);
    },
    { timeoutMs: 60_000, what: "every agent's resources free again in the emulator" },
  );
  const debug = (await (await fetch(`${t.sb.schedulerUrl}/debug/state`)).json()) as { kubelets: unknown[] };
  expect(debug.kubelets).toEqual([]);
}, 420_000);
