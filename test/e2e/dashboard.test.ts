// The dashboard in a real browser: a sandbox runs a 9-replica zone-spread Deployment, headless Chromium (Debian's
// package, driven by playwright-core) shows three zones with pods, the pending panel, and a zone failed and recovered
// with the page's own buttons. Screenshots go to test-results/.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { parseDuration } from '../../src/config/duration.js';
import { parseConstraints, parsePlacement } from '../../src/placement/annotations.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { controlPlaneInfo, createTestNamespace, kubectl, waitFor, type TestNamespace } from '../support/kube.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = '/usr/bin/chromium';
const suffix = randomBytes(3).toString('hex');
const schedulerName = `kube-mesos-dash-${suffix}`;
const resultsDir = join(root, 'test-results');

let sb: Sandbox;
let ns: TestNamespace;
let context: BrowserContext;
let page: Page;
let profileDir: string;
const kubeconfig = () => controlPlaneInfo().kubeconfigPath;

interface StateAgent {
  id: string;
  hostname: string;
  active: boolean;
  host_up: boolean;
  domain?: { fault_domain: { zone: { name: string } } };
}

async function mesosAgents(): Promise<StateAgent[]> {
  const state = (await (await fetch(`${sb.mesosUrl}/state`)).json()) as { slaves: StateAgent[] };
  return state.slaves;
}

const manifests = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 9
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
        resources: { requests: { cpu: 250m, memory: 128Mi } }
---
apiVersion: v1
kind: Pod
metadata: { name: too-big }
spec:
  schedulerName: ${schedulerName}
  containers:
  - name: big
    image: nginx
    resources: { requests: { cpu: "64", memory: 128Mi } }
`;

beforeAll(async () => {
  // A missing browser fails the suite loudly: the dashboard's acceptance test must never be skipped quietly.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the dashboard test`);
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (the executor runs from it)');
  ns = await createTestNamespace('e2e-dashboard');
  sb = await startSandbox({
    dir: mkdtempSync(join(tmpdir(), 'kube-mesos-e2e-dash-')),
    cacheDir: '',
    existingKubeconfig: kubeconfig(),
    hostnamePrefix: `dash-${suffix}-`,
    agents: 9,
    zones: ['a', 'b', 'c'],
    region: 'r1',
    agentResources: 'cpus:4;mem:8192;disk:10000;ports:[31000-31100]',
    // `exec`: the emulator runs this under `sh -c` and kills the shell when an agent fails or stops; without exec the
    // executor outlives it, keeps Jest's stdio pipes open and the run never exits.
    executorCommand: `exec '${process.execPath}' '${join(root, 'dist/cli/main.js')}' executor`,
    listen: '127.0.0.1:0',
    set: [
      ['kube.schedulerName', schedulerName],
      ['kube.namespace', ns.name],
      ['placement.cycleInterval', '50ms'],
    ],
  });
  profileDir = mkdtempSync(join(tmpdir(), 'kube-mesos-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  await sb?.stop();
  await ns?.delete();
}, 60_000);

const zone = (name: string) => page.locator(`section.zone[data-zone="${name}"]`);

describe('dashboard in headless Chromium', () => {
  it('shows three zones with pods, the pending panel, and a zone failed and recovered from its buttons', async () => {
    const applied = await kubectl(['apply', '-n', ns.name, '-f', '-'], { kubeconfig: kubeconfig(), input: manifests });
    expect(applied.code).toBe(0);
    await waitFor(
      async () => {
        const r = await kubectl(['get', 'pods', '-n', ns.name, '-l', 'app=web', '-o', 'jsonpath={.items[*].status.phase}'], { kubeconfig: kubeconfig() });
        const phases = r.stdout.split(' ').filter(Boolean);
        return phases.length === 9 && phases.every((p) => p === 'Running');
      },
      { timeoutMs: 90_000, what: '9 web pods Running' },
    );

    await page.goto(sb.schedulerUrl, { waitUntil: 'load' });
    await expect(page.title()).resolves.toBe('kube-mesos dashboard');

    // Three zones, each with three agents and (by the spread) three web pods shown as Running chips.
    await waitFor(
      async () => {
        const counts = await page.$$eval('section.zone', (cols) =>
          cols.map((c) => [c.getAttribute('data-zone'), c.querySelectorAll('.agent').length, c.querySelectorAll('.chip.phase-running').length]),
        );
        return JSON.stringify(counts) === JSON.stringify([['a', 3, 3], ['b', 3, 3], ['c', 3, 3]]);
      },
      { timeoutMs: 20_000, what: 'three zones of three agents with three Running pods each on the page' },
    );
    await expect(page.locator('#totals [data-total="Pods (tasks)"] dd').textContent()).resolves.toBe('9');

    // The pod that fits nowhere waits in the pending panel with the scheduler's reason.
    const pendingItem = page.locator('#pending li', { hasText: `${ns.name}/too-big` });
    await pendingItem.waitFor({ timeout: 20_000 });
    await expect(pendingItem.locator('.reason').textContent()).resolves.toMatch(/Insufficient cpu|waiting for offers/);
    await expect(page.locator('#events li.ev').count()).resolves.toBeGreaterThan(0);

    // Fault buttons are there because the sandbox's fault API answers; every agent is up.
    await expect(page.locator('section.zone .agent[data-health="up"]').count()).resolves.toBe(9);
    mkdirSync(resultsDir, { recursive: true });
    await page.screenshot({ path: join(resultsDir, 'dashboard.png'), fullPage: true });

    // Fail zone b with its button: its agents show as down on the page, and the emulator agrees.
    const zoneB = (await mesosAgents()).filter((a) => a.domain?.fault_domain.zone.name === 'b').map((a) => a.id);
    expect(zoneB).toHaveLength(3);
    await page.getByRole('button', { name: 'Fail zone b' }).click();
    await waitFor(
      async () => {
        const health = await zone('b').locator('.agent').evaluateAll((els) => els.map((e) => e.getAttribute('data-health')));
        return health.length === 3 && health.every((h) => h === 'down');
      },
      { timeoutMs: 10_000, what: "zone b's agents shown as down" },
    );
    const afterFail = await mesosAgents();
    for (const id of zoneB) expect(afterFail.find((a) => a.id === id)).toMatchObject({ host_up: false, active: false });
    expect(afterFail.filter((a) => !zoneB.includes(a.id)).every((a) => a.host_up && a.active)).toBe(true);
    await expect(zone('a').locator('.agent[data-health="up"]').count()).resolves.toBe(3);
    await expect(zone('b').locator('.badge').first().textContent()).resolves.toMatch(/failed|unreachable/);
    await page.screenshot({ path: join(resultsDir, 'dashboard-zone-b-failed.png'), fullPage: true });

    // Recover it the same way.
    await page.getByRole('button', { name: 'Recover zone b' }).click();
    await waitFor(
      async () => (await zone('b').locator('.agent[data-health="up"]').count()) === 3,
      { timeoutMs: 10_000, what: "zone b's agents shown as up again" },
    );
    const afterRecover = await mesosAgents();
    expect(afterRecover.every((a) => a.host_up && a.active)).toBe(true);
  }, 180_000);
});

interface ExampleDoc {
  kind: string;
  metadata: { name: string };
  spec: { template?: { metadata?: { annotations?: Record<string, string> }; spec: ExamplePodSpec } } & Partial<ExamplePodSpec>;
}
interface ExamplePodSpec {
  schedulerName?: string;
  containers: { resources?: { requests?: { cpu?: string; memory?: string } } }[];
}

describe('examples/', () => {
  const dir = join(root, 'examples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

  it('has the seven documented examples', () => {
    expect(files).toEqual(['binpack-job.yaml', 'failover-pod.yaml', 'hello-job.yaml', 'marathon-constraints.yaml', 'spread-deployment.yaml', 'stateful-set.yaml', 'web-pod.yaml']);
  });

  it.each(files)('%s: pods use kube-mesos, ask for little, and carry valid kube-mesos annotations', (file) => {
    const docs = yaml.loadAll(readFileSync(join(dir, file), 'utf8')) as ExampleDoc[];
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs.filter((x) => x.kind !== 'StorageClass')) {
      const pod = d.spec.template?.spec ?? (d.spec as ExamplePodSpec);
      expect(pod.schedulerName).toBe('kube-mesos');
      for (const c of pod.containers) {
        const cpu = c.resources?.requests?.cpu ?? '';
        expect(cpu).toMatch(/^\d+m$/);
        expect(parseInt(cpu, 10)).toBeLessThanOrEqual(250);
      }
      const ann = d.spec.template?.metadata?.annotations ?? {};
      if (ann['kube-mesos.io/constraints']) expect(parseConstraints(ann['kube-mesos.io/constraints']).ok).toBe(true);
      if (ann['kube-mesos.io/placement']) expect(parsePlacement(ann['kube-mesos.io/placement'])).toEqual({ ok: true, value: 'binpack' });
      if (ann['kube-mesos.io/failover-after']) expect(parseDuration(ann['kube-mesos.io/failover-after'])).toEqual({ ok: true, ms: 20_000 });
    }
  });

  it('every example is accepted by the API server (server-side dry run)', async () => {
    const r = await kubectl(['apply', '--dry-run=server', '-n', ns.name, '-f', dir], { kubeconfig: kubeconfig() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(8); // stateful-set.yaml holds a StorageClass and a StatefulSet
  });
});
