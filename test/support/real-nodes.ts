// Real kubelets in e2e tests: a sandbox whose executors run real kubelets on containerd (against the run's shared control
// plane), and what a test looks at on the host — each agent's containerd tasks and shims, its pods' cgroups, its CNI
// leases — found from the Node's annotations and the executor's host slot record.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNodeInstalled } from '../../src/controlplane/node-artifacts.js';
import type { SlotRecord } from '../../src/executor/host-slots.js';
import { NODE_ANNOTATIONS } from '../../src/executor/node-runtime.js';
import { pidsByArgument, podCgroups, run } from '../../src/executor/node-host.js';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import { DEFAULT_RUNTIME_DIR } from '../../src/sandbox/real-nodes.js';
import { controlPlaneInfo, createTestNamespace, kubectl, waitFor } from './kube.js';
import { ROOT, type TestSandbox } from './sandbox.js';

/** Same resolution as the CLI: $KUBE_MESOS_CACHE, else ~/.cache/kube-mesos. */
export function testCacheDir(): string {
  return process.env.KUBE_MESOS_CACHE || join(process.env.XDG_CACHE_HOME || join(process.env.HOME || homedir(), '.cache'), 'kube-mesos');
}

export interface RealSandboxOptions {
  agents?: number;
  zones?: string[];
  agentResources?: string;
  set?: [string, string][];
  agentUnreachableTimeoutMs?: number;
}

/** A sandbox with real kubelets; throws with the install command when the node side is not installed. */
export async function startRealSandbox(prefix: string, opts: RealSandboxOptions = {}): Promise<TestSandbox> {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (the executor runs from it)');
  const cacheDir = testCacheDir();
  if (!(await readNodeInstalled(cacheDir))) throw new Error(`the node side is not installed in ${cacheDir}: run \`node dist/cli/main.js control-plane install\``);
  const suffix = randomBytes(3).toString('hex');
  const schedulerName = `kube-mesos-${prefix}-${suffix}`;
  const kubeconfig = controlPlaneInfo().kubeconfigPath;
  const ns = await createTestNamespace(prefix);
  const sb = await startSandbox({
    dir: mkdtempSync(join(tmpdir(), `kube-mesos-${prefix}-`)),
    cacheDir,
    existingKubeconfig: kubeconfig,
    kubelets: 'real',
    hostnamePrefix: `${prefix}-${suffix}-`,
    agents: opts.agents ?? 3,
    zones: opts.zones ?? ['a', 'b', 'c'],
    region: 'r1',
    agentResources: opts.agentResources ?? 'cpus:2;mem:3072;disk:20000;ports:[31000-31100]',
    executorCommand: `'${process.execPath}' '${join(ROOT, 'dist/cli/main.js')}' executor`,
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    listen: '127.0.0.1:0',
    emulator: { agentUnreachableTimeoutMs: opts.agentUnreachableTimeoutMs },
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

/** A real Node's runtime, from its annotations and its executor's host slot record. */
export interface NodeRuntimeView {
  node: string;
  slot: number;
  podCidr: string;
  cgroupRoot: string;
  record: SlotRecord;
}

/**
 * The Node's host slot, pod CIDR and cgroup root. The executor writes those annotations once the kubelet has registered
 * the Node, which may be after its first pods run: waited for (30 s).
 */
export async function nodeRuntime(t: TestSandbox, node: string): Promise<NodeRuntimeView> {
  let ann: Record<string, string> = {};
  await waitFor(
    async () => {
      const r = await kubectl(['get', 'node', node, '-o', 'json'], { kubeconfig: t.kubeconfig });
      if (r.code !== 0) throw new Error(`kubectl get node ${node}: ${r.stderr}`);
      ann = (JSON.parse(r.stdout) as { metadata: { annotations?: Record<string, string> } }).metadata.annotations ?? {};
      return Number(ann[NODE_ANNOTATIONS.hostSlot]) > 0;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: `node ${node}'s ${NODE_ANNOTATIONS.hostSlot} annotation` },
  );
  const slot = Number(ann[NODE_ANNOTATIONS.hostSlot]);
  const record = JSON.parse(readFileSync(join(DEFAULT_RUNTIME_DIR, 'slots', `slot-${slot}.json`), 'utf8')) as SlotRecord;
  if (record.nodeName !== node) throw new Error(`host slot ${slot} is held by ${record.nodeName}, not ${node}`);
  return { node, slot, podCidr: ann[NODE_ANNOTATIONS.podCidr], cgroupRoot: ann[NODE_ANNOTATIONS.cgroupRoot], record };
}

/** What one agent holds on the host now. */
export interface HostInventory {
  /** containerd tasks in state RUNNING (stopped ones linger until the kubelet's container GC). */
  runningTasks: { id: string; pid: number }[];
  shims: number;
  podCgroups: string[];
  /** host-local IPAM leases (files named by IP). */
  leases: string[];
}

export async function hostInventory(rec: SlotRecord): Promise<HostInventory> {
  const ls = await run('ctr', ['-a', rec.socket, '-n', 'k8s.io', 'tasks', 'ls']);
  const runningTasks =
    ls.code !== 0
      ? []
      : ls.stdout
          .split('\n')
          .slice(1)
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => f[2] === 'RUNNING')
          .map((f) => ({ id: f[0], pid: Number(f[1]) }));
  const shims = pidsByArgument(rec.socket).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('containerd-shim');
    } catch {
      return false;
    }
  }).length;
  let leases: string[] = [];
  try {
    leases = readdirSync(join(rec.ipamDir, rec.network)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
  } catch {
    // no lease dir yet
  }
  return { runningTasks, shims, podCgroups: podCgroups(rec.cgroupRoot), leases };
}

/** `a.b.c.0/24` contains `ip`? */
export function inSubnet24(ip: string, cidr: string): boolean {
  const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(cidr);
  return !!m && ip.startsWith(`${m[1]}.`);
}
