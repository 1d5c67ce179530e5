// Starting a kube-mesos sandbox inside an e2e test, against the run's shared control plane: its own namespace,
// its own scheduler name and agent hostnames, so suites running in parallel never see each other's pods or Nodes.
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/sandbox.js';
import { createLogger, type Logger } from '../../src/telemetry/log.js';
import { controlPlaneInfo, createTestNamespace, kubectl, type TestNamespace } from './kube.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface TestSandbox {
  sb: Sandbox;
  ns: TestNamespace;
  schedulerName: string;
  /** Agent hostnames, and so this sandbox's Node names, start with it. */
  hostnamePrefix: string;
  kubeconfig: string;
  /** kubectl in the test namespace. */
  kubectl(args: string[], input?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface PodJson {
  metadata: { name: string; uid: string; annotations?: Record<string, string>; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export interface StateTask {
  id: string;
  name: string;
  state: string;
  agent_id?: string;
  slave_id: string;
  resources: Record<string, unknown>;
}

export async function startTestSandbox(
  prefix: string,
  opts: Partial<Pick<SandboxOptions, 'agents' | 'zones' | 'agentResources' | 'emulator'>> & { set?: [string, string][]; /** Another way to the run's API server (e.g. a recording proxy). */ kubeconfig?: string } = {},
): Promise<TestSandbox> {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (the executor runs from it)');
  const suffix = randomBytes(3).toString('hex');
  const schedulerName = `kube-mesos-${prefix}-${suffix}`;
  const kubeconfig = opts.kubeconfig ?? controlPlaneInfo().kubeconfigPath;
  const ns = await createTestNamespace(prefix);
  const sb = await startSandbox({
    dir: mkdtempSync(join(tmpdir(), `kube-mesos-${prefix}-`)),
    cacheDir: '',
    existingKubeconfig: kubeconfig,
    hostnamePrefix: `${prefix}-${suffix}-`,
    agents: opts.agents ?? 9,
    zones: opts.zones ?? ['a', 'b', 'c'],
    region: 'r1',
    agentResources: opts.agentResources ?? 'cpus:4;mem:8192;disk:10000;ports:[31000-31100]',
    executorCommand: `'${process.execPath}' '${join(ROOT, 'dist/cli/main.js')}' executor`,
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    listen: '127.0.0.1:0',
    emulator: opts.emulator,
    log: testLogger(prefix),
    set: [['kube.schedulerName', schedulerName], ['kube.namespace', ns.name], ['placement.cycleInterval', '50ms'], ...(opts.set ?? [])],
  });
  return {
    sb,
    ns,
    schedulerName,
    hostnamePrefix: `${prefix}-${suffix}-`,
    kubeconfig,
    async kubectl(args, input) {
      const r = await kubectl(['-n', ns.name, ...args], { kubeconfig, input });
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    async stop() {
      await sb.stop();
      await ns.delete();
    },
  };
}

/**
 * With KUBE_MESOS_TEST_LOG_DIR set, the sandbox's processes log at debug level to `<dir>/<prefix>-<pid>.log` (for
 * chasing a failure that only shows in a full run); silent otherwise.
 */
function testLogger(prefix: string): Logger | undefined {
  const dir = process.env.KUBE_MESOS_TEST_LOG_DIR;
  if (dir === undefined || dir === '') return undefined;
  mkdirSync(dir, { recursive: true });
  return createLogger({ level: 'debug', name: prefix, destination: createWriteStream(join(dir, `${prefix}-${process.pid}.log`)) });
}

export async function listPods(t: TestSandbox, selector: string): Promise<PodJson[]> {
  return (JSON.parse(await t.kubectl(['get', 'pods', '-l', selector, '-o', 'json'])) as { items: PodJson[] }).items;
}

export async function nodeZones(t: TestSandbox): Promise<Map<string, string>> {
  const r = await kubectl(['get', 'nodes', '-o', 'json'], { kubeconfig: t.kubeconfig });
  const items = (JSON.parse(r.stdout) as { items: { metadata: { name: string; labels: Record<string, string> } }[] }).items;
  return new Map(items.map((n) => [n.metadata.name, n.metadata.labels['topology.kubernetes.io/zone']]));
}

/** Tasks in the emulator's /state: active ones (`tasks` + `unreachable_tasks`) or ended ones (`completed_tasks`). */
export async function mesosTasks(t: TestSandbox, which: 'active' | 'completed' = 'active'): Promise<StateTask[]> {
  const state = (await (await fetch(`${t.sb.mesosUrl}/state`)).json()) as {
    frameworks: { tasks: StateTask[]; unreachable_tasks?: StateTask[]; completed_tasks?: StateTask[] }[];
  };
  return state.frameworks.flatMap((f) => (which === 'active' ? [...f.tasks, ...(f.unreachable_tasks ?? [])] : (f.completed_tasks ?? [])));
}

export async function mesosAgents(t: TestSandbox): Promise<{ id: string; hostname: string; domain?: { fault_domain?: { zone?: { name: string } } }; active?: boolean }[]> {
  const state = (await (await fetch(`${t.sb.mesosUrl}/state`)).json()) as { slaves: { id: string; hostname: string; active?: boolean }[] };
  return state.slaves;
}

export function spreadDeployment(name: string, schedulerName: string, replicas: number, extra: { annotations?: Record<string, string>; cpu?: string; memory?: string } = {}): string {
  const ann = extra.annotations ? `\n      annotations: ${JSON.stringify(extra.annotations)}` : '';
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name} }${ann}
    spec:
      schedulerName: ${schedulerName}
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector: { matchLabels: { app: ${name} } }
      containers:
      - name: ${name}
        image: nginx
        resources: { requests: { cpu: ${extra.cpu ?? '250m'}, memory: ${extra.memory ?? '256Mi'} } }
`;
}
