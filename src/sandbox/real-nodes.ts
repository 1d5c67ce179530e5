/**
 * The sandbox's real-kubelet side: the node install (kubelet, containerd, runc, CNI, images in a registry storage), the
 * loopback registry serving those images, what the emulated agents give their executors (as a Mesos agent's
 * `--executor_environment_variables` would), and what the scheduler is told (real kubelet mode, an executor share big
 * enough for a node process, a kubelet and a containerd).
 */
import { nodeArtifacts, readNodeInstalled, REGISTRY_HOST, type NodeArtifacts } from '../controlplane/node-artifacts.js';
import { installAll } from '../controlplane/node-install.js';
import { startRegistry, type Registry } from '../controlplane/registry.js';
import { liveSlots, sweepStaleSlots } from '../executor/host-slots.js';
import { SysctlGuard } from './host-sysctls.js';
import { NODE_ENV } from '../executor/node-env.js';
import type { Logger } from '../telemetry/log.js';

export type KubeletKind = 'real' | 'hollow';

/** The executor's own Mesos share in real mode: node (~70 MiB), kubelet (~100 MiB), containerd (~40 MiB), shims. */
export const REAL_EXECUTOR_RESOURCES = { cpus: '0.5', mem: '512Mi' } as const;
export const DEFAULT_RUNTIME_DIR = '/run/kube-mesos';

export interface RealNodes {
  artifacts: NodeArtifacts;
  registry: Registry;
  /** Environment every emulated agent gives its executors. */
  executorEnv: Record<string, string>;
  /** Scheduler configuration for real kubelets (dotted paths). */
  schedulerSettings: [string, string][];
  runtimeDir: string;
  /**
   * Stops the registry, removes what executors killed with their containers left on the host, and (the last sandbox
   * out) puts back the host sysctls the kubelets changed.
   */
  stop(): Promise<void>;
}

/** Installs what is missing (kubelet, containerd, runc, CNI plugins, images; cached), then starts the registry. */
export async function startRealNodes(o: { cacheDir: string; registryLog: string; runtimeDir?: string; log: Logger; progress?: (line: string) => void; signal?: AbortSignal }): Promise<RealNodes> {
  if (!(await readNodeInstalled(o.cacheDir))) {
    o.progress?.('The node side (kubelet, containerd, runc, CNI plugins, offline images) is not installed yet: installing it (once)…');
    await installAll({ cacheDir: o.cacheDir, progress: o.progress, log: o.log, signal: o.signal });
  }
  const artifacts = nodeArtifacts(o.cacheDir);
  const registry = await startRegistry({ storageDir: artifacts.registryStorage, logFile: o.registryLog, log: o.log });
  const runtimeDir = o.runtimeDir ?? DEFAULT_RUNTIME_DIR;
  // The kubelets and the CNI bridge change host sysctls: saved now, put back by the last sandbox to stop.
  const sysctls = new SysctlGuard({ runtimeDir, slotsInUse: () => liveSlots(runtimeDir).length > 0 });
  sysctls.enter();
  const executorEnv: Record<string, string> = {
    [NODE_ENV.runtime]: 'containerd',
    [NODE_ENV.containerd]: artifacts.containerd,
    [NODE_ENV.ctr]: artifacts.ctr,
    [NODE_ENV.runc]: artifacts.runc,
    [NODE_ENV.cniBinDir]: artifacts.cniBinDir,
    [NODE_ENV.pauseImage]: artifacts.images.pause,
    [NODE_ENV.mirrors]: JSON.stringify({ [REGISTRY_HOST]: registry.url }),
    [NODE_ENV.runtimeDir]: runtimeDir,
  };
  return {
    artifacts,
    registry,
    executorEnv,
    schedulerSettings: [
      ['pool.kubeletMode', 'real'],
      ['pool.kubeletCommand', artifacts.kubelet],
      ['pool.executorCpus', REAL_EXECUTOR_RESOURCES.cpus],
      ['pool.executorMem', REAL_EXECUTOR_RESOURCES.mem],
    ],
    runtimeDir,
    async stop() {
      await registry.stop();
      const { swept, reports } = await sweepStaleSlots(runtimeDir);
      if (swept.length) o.log.info({ slots: swept.map((s) => s.slot), reports }, 'removed what killed executors left on the host');
      const restored = sysctls.leave();
      if (restored.restored.length || restored.failed.length) o.log.info(restored, 'host sysctls the kubelets changed put back');
    },
  };
}
