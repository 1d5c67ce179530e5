/**
 * Everything on one machine: a real control plane (installed first if needed), the Mesos emulator with agents in
 * several zones whose executors are real `kube-mesos executor` processes — each running a real kubelet with its own
 * containerd inside a cgroup container sized to what Mesos allocated (or a hollow kubelet, for scale) — a loopback
 * image registry, and the scheduler with its ops server and dashboard. Used by `kube-mesos sandbox` / `npm start` and
 * by the e2e tests.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig, type KubeMesosConfig } from '../config/config.js';
import { installControlPlane } from '../controlplane/install.js';
import { readInstalled } from '../controlplane/paths.js';
import { startControlPlane, type ControlPlane } from '../controlplane/controlplane.js';
import { setupDelivery, type DeliverySetup } from '../delivery/setup.js';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../emulator/index.js';
import { createOpsApp } from '../ops/app.js';
import { dashboardRouter } from '../ops/dashboard.js';
import { startOpsServer, type OpsServer } from '../ops/server.js';
import { startSchedulerService, type SchedulerService } from '../scheduler/service.js';
import { silentLogger, type Logger } from '../telemetry/log.js';
import { emulatorFaults } from './faults.js';
import { startRealNodes, type KubeletKind, type RealNodes } from './real-nodes.js';

export interface SandboxOptions {
  dir: string;
  cacheDir: string;
  /** Use this running control plane instead of starting one (tests share one per run). */
  existingKubeconfig?: string;
  /** Prefix of agent hostnames (and so Node names), so several sandboxes can share a control plane. */
  hostnamePrefix?: string;
  agents: number;
  zones: string[];
  region: string;
  agentResources: string;
  agentAttributes?: string;
  /** `real`: kubelets on containerd, pods are containers (the CLI's default); `hollow` (default here): stand-ins, for scale. */
  kubelets?: KubeletKind;
  /** Real kubelets: host-wide directory of slot claims and sockets (default /run/kube-mesos). */
  runtimeDir?: string;
  /** Further emulator settings (timeouts for tests, …). */
  emulator?: Pick<EmulatorOptions, 'agentUnreachableTimeoutMs' | 'allocationIntervalMs' | 'heartbeatIntervalMs' | 'failoverRedirectMs'>;
  /** Environment the emulated agents give executors (a real agent passes its own: PATH, HOME…). */
  baseEnv?: Record<string, string>;
  /** Shell command agents run for the executor (this program with `executor`). */
  executorCommand: string;
  /** `host:port` for the scheduler's ops server and dashboard. */
  listen: string;
  /** Extra scheduler configuration as dotted-path overrides. */
  set?: [string, string][];
  log?: Logger;
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface Sandbox {
  dir: string;
  kubeconfigPath: string;
  mesosUrl: string;
  schedulerUrl: string;
  /** Absent when an existing control plane was given. */
  controlPlane?: ControlPlane;
  /** Real kubelets only: the node install, the registry, what executors get. */
  realNodes?: RealNodes;
  emulator: RunningEmulator;
  scheduler: SchedulerService;
  config: KubeMesosConfig;
  /** How executors reach the agents (`delivery.*` in `set`), with the artifact server when it serves. */
  delivery: DeliverySetup;
  stop(): Promise<void>;
}

export async function startSandbox(o: SandboxOptions): Promise<Sandbox> {
  const log = o.log ?? silentLogger();
  const progress = o.progress ?? (() => {});
  const dir = resolve(o.dir);
  await mkdir(dir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => log.warn({ err }, 'stopping a sandbox part failed'));
    stops.length = 0;
  };
  try {
    let cp: ControlPlane | undefined;
    let kubeconfigPath = o.existingKubeconfig;
    if (!kubeconfigPath) {
      if (!(await readInstalled(o.cacheDir))) {
        progress('The Kubernetes control plane is not installed yet: installing it (a few minutes, once)…');
        await installControlPlane({ cacheDir: o.cacheDir, progress, log, signal: o.signal });
      }
      progress('Starting the control plane (etcd, kube-apiserver, kube-controller-manager)…');
      const started = await startControlPlane({ dir: join(dir, 'controlplane'), cacheDir: o.cacheDir, log, signal: o.signal, progress });
      stops.push(() => started.stop());
      cp = started;
      kubeconfigPath = started.kubeconfigPath;
    }

    const kubelets = o.kubelets ?? 'hollow';
    let realNodes: RealNodes | undefined;
    if (kubelets === 'real') {
      progress('Starting the image registry for real kubelets…');
      realNodes = await startRealNodes({ cacheDir: o.cacheDir, registryLog: join(dir, 'registry.log'), runtimeDir: o.runtimeDir, log: log.child({ component: 'real-nodes' }), progress, signal: o.signal });
      const rn = realNodes;
      stops.push(() => rn.stop());
    }

    progress(`Starting the Mesos emulator: ${o.agents} agents in zones ${o.zones.join(', ')}, ${kubelets} kubelets…`);
    const emulator = await startEmulator({
      listen: '127.0.0.1:0',
      agents: o.agents,
      zones: o.zones,
      region: o.region,
      agentResources: o.agentResources,
      agentAttributes: o.agentAttributes,
      executorMode: 'process',
      // Real kubelets: each executor in a cgroup container holding what Mesos allocated to it and its pods.
      isolation: realNodes ? 'cgroups' : 'none',
      hostnamePrefix: o.hostnamePrefix,
      ...o.emulator,
      baseEnv: { ...o.baseEnv, ...realNodes?.executorEnv },
      workDir: join(dir, 'mesos'),
      log: log.child({ component: 'emulator' }),
    });
    stops.push(() => emulator.stop());

    const cfg = loadConfig({
      flags: [
        ['mesos.masters', emulator.url],
        ['kube.kubeconfig', kubeconfigPath],
        ...(realNodes?.schedulerSettings ?? [['pool.kubeletMode', 'hollow'] as [string, string]]),
        ['pool.executorCommand', o.executorCommand],
        ['ops.listen', o.listen],
        // The sandbox's dashboard is plain HTTP on loopback (ops.secure=false is refused elsewhere).
        ['ops.secure', 'false'],
        // The emulated agents' work dirs: where their Mesos volumes are, the path of the PersistentVolumes written for them.
        ['storage.agentWorkDir', join(dir, 'mesos', 'slaves', '{agentId}')],
        ...(o.set ?? []),
      ],
    });
    if (!cfg.ok) throw new Error(`sandbox configuration: ${cfg.errors.join('; ')}`);
    const config = cfg.config;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);

    const delivery = await setupDelivery(config, { log: log.child({ component: 'delivery' }), preinstalledCommand: o.executorCommand });
    if (delivery.server) stops.push(() => delivery.server!.stop());

    progress('Starting the kube-mesos scheduler…');
    const scheduler = await startSchedulerService({
      config,
      kubeconfig: kc,
      log: log.child({ component: 'scheduler' }),
      executorCommand: o.executorCommand,
      executorKubeconfig: kubeconfigPath,
      executorDelivery: delivery.delivery,
    });
    stops.push(() => scheduler.stop());
    const app = createOpsApp({
      health: () => true,
      readiness: () => scheduler.readiness(),
      registry: scheduler.registry,
      debugState: () => scheduler.core.debugState(),
      routes: dashboardRouter({ state: () => scheduler.core.dashboardState(), faults: emulatorFaults(emulator.url) }),
      log,
    });
    const ops: OpsServer = await startOpsServer(app, config.ops.listen);
    stops.push(() => ops.close());

    const sandbox: Sandbox = {
      dir,
      kubeconfigPath: kubeconfigPath,
      mesosUrl: emulator.url,
      schedulerUrl: ops.url,
      controlPlane: cp,
      realNodes,
      emulator,
      scheduler,
      config,
      delivery,
      stop: stopAll,
    };
    await writeFile(join(dir, 'sandbox.json'), JSON.stringify({ kubeconfig: kubeconfigPath, mesos: emulator.url, scheduler: ops.url, kubelets, registry: realNodes?.registry.url }, null, 2) + '\n');
    return sandbox;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
