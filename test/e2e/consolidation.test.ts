// Consolidation end to end (issue 6): with pool.consolidation on, a half-empty spread of pods is compacted onto fewer
// kubelets through the Eviction API, and the PodDisruptionBudget is never violated meanwhile.
import { kubectl, waitFor } from '../support/kube.js';
import { listPods, startTestSandbox, type TestSandbox } from '../support/sandbox.js';

let t: TestSandbox;

beforeAll(async () => {
  t = await startTestSandbox('e2e-consolidate', {
    agents: 6,
    zones: ['a'],
    set: [
      ['pool.consolidation', 'true'],
      ['pool.consolidationDelay', '2s'],
      ['pool.idleTimeout', '5s'],
      ['pool.maxConcurrentScaleDowns', '1'],
    ],
  });
}, 120_000);

afterAll(async () => {
  await t?.stop();
}, 90_000);

const deployment = (schedulerName: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 12
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      schedulerName: ${schedulerName}
      containers:
      - name: web
        image: nginx
        resources: { requests: { cpu: 250m, memory: 128Mi } }
---
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata: { name: web }
spec:
  minAvailable: 10
  selector: { matchLabels: { app: web } }
`;

async function kubeletNodes(): Promise<string[]> {
  const r = await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'], { kubeconfig: t.kubeconfig });
  return r.stdout.split(/\s+/).filter((n) => n.startsWith(t.hostnamePrefix));
}

it('compacts a half-empty spread onto fewer kubelets without violating the PodDisruptionBudget', async () => {
  await t.kubectl(['apply', '-f', '-'], deployment(t.schedulerName));
  // spread scoring puts the 12 pods on all 6 agents: 6 kubelets, each ~20% used
  const first = await waitFor(
    async () => {
      const pods = await listPods(t, 'app=web');
      return pods.length === 12 && pods.every((p) => p.status.phase === 'Running') && pods;
    },
    { timeoutMs: 120_000, what: '12 web pods Running' },
  );
  const before = new Set(first.map((p) => p.spec.nodeName)).size;
  expect(before).toBeGreaterThanOrEqual(4);

  let minRunning = Infinity;
  let settled: number | undefined;
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const pods = (await listPods(t, 'app=web')).filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
    minRunning = Math.min(minRunning, pods.length);
    const nodes = await kubeletNodes();
    const used = new Set(pods.map((p) => p.spec.nodeName));
    if (pods.length === 12 && nodes.length <= 2 && nodes.length === used.size) {
      settled = nodes.length;
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (settled === undefined) {
    const d = (await (await fetch(`${t.sb.schedulerUrl}/api/dashboard`)).json()) as { events: { reason: string; object: string; message: string }[]; zones: unknown };
    console.log(JSON.stringify({ nodes: await kubeletNodes(), events: d.events.slice(0, 40) }, null, 1));
  }
  console.log(`consolidation: ${before} kubelets → ${settled ?? 'not settled'}; fewest Running pods seen: ${minRunning} (PDB minAvailable 10)`);
  expect(settled).toBeDefined();
  expect(settled!).toBeLessThan(before);
  expect(minRunning).toBeGreaterThanOrEqual(10);
}, 360_000);
