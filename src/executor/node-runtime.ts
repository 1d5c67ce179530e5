/**
 * A real kubelet with a containerd of its own, as one agent's executor runs them: both in one private mount namespace
 * (per-agent /var/log/pods, /var/log/containers, /var/lib/kubelet), both supervised (restart with backoff, give up →
 * every open task TASK_FAILED), pods nested in the executor's cgroup, and a teardown that leaves nothing: tasks killed
 * through ctr, containerd stopped, shims, pod cgroups, bridge, IPAM leases and the host slot removed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../telemetry/log.js';
import type { KubeletSupervisionEnv } from './env.js';
import type { Kubelet } from './executor.js';
import { claimSlot, cleanupSlot, releaseSlot, type SlotRecord } from './host-slots.js';
import type { KubeletApi } from './kube-api.js';
import { resolveClientCa } from './client-ca.js';
import { cniConflist, containerdConfig, kubeletConfiguration, runtimeKubeletFlags, runtimeLayout, slotNetwork, type RuntimeLayout, type SlotNetwork } from './node-config.js';
import type { NodeRuntimeEnv } from './node-env.js';
import { createCgroupPath, defaultRouteIp, deleteLink, linkExists, ownCgroup, reapUnifiedPodCgroups, run, waitForSocket } from './node-host.js';
import { RealKubelet, type KubeletChild, type KubeletPaths, type KubeletSpawner, type SupervisorClock } from './real-kubelet.js';

/** Node annotations the executor writes: the agent's pod subnet and host slot. */
export const NODE_ANNOTATIONS = { podCidr: 'kube-mesos.io/pod-cidr', hostSlot: 'kube-mesos.io/host-slot', cgroupRoot: 'kube-mesos.io/cgroup-root' } as const;

export interface NodeRuntimeOptions {
  nodeName: string;
  executorId: string;
  /** The executor's Mesos sandbox: the runtime's state goes to <sandbox>/runtime, the kubelet's to <sandbox>/kubelet. */
  sandbox: string;
  env: NodeRuntimeEnv;
  kubelet: { command: string; args: readonly string[]; paths: KubeletPaths; labelsToPatch?: Record<string, string> };
  policy: KubeletSupervisionEnv;
  onGiveUp: (message: string) => void;
  /** The kubelet requests its serving certificate from the cluster (`serverTLSBootstrap`); needs a node identity. */
  serverTlsBootstrap?: boolean;
  api?: Pick<KubeletApi, 'getNode' | 'patchNode'>;
  clock?: SupervisorClock;
  log?: Logger;
}

/** What the runtime holds once up (tests and /debug read it). */
export interface NodeRuntimeState {
  slot: number;
  net: SlotNetwork;
  layout: RuntimeLayout;
  nodeIp: string;
  cgroupRoot: string;
}

/** Spawns into the mount namespace of a live member (nsenter), or a fresh one with the per-agent bind mounts (unshare). */
export function namespaceSpawner(members: () => (number | undefined)[], binds: RuntimeLayout['hostBinds']): KubeletSpawner {
  return (command, args): KubeletChild => {
    const script = `exec ${command} "$@"`;
    const member = members().find((p) => p !== undefined && existsSync(`/proc/${p}/ns/mnt`));
    if (member !== undefined) {
      return spawn('nsenter', [`--mount=/proc/${member}/ns/mnt`, '--', '/bin/sh', '-c', script, 'sh', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    }
    const mounts = binds.map((b) => `mount --bind '${b.source}' '${b.target}'`).join(' && ');
    return spawn('unshare', ['--mount', '--propagation', 'slave', '--', '/bin/sh', '-c', `${mounts} && ${script}`, 'sh', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  };
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export class NodeRuntime implements Kubelet {
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private bringUp: Promise<void> | undefined;
  private containerd: RealKubelet | undefined;
  private kubelet: RealKubelet | undefined;
  private record: SlotRecord | undefined;
  private gaveUp = false;
  private reaper: NodeJS.Timeout | undefined;
  state: NodeRuntimeState | undefined;

  constructor(private readonly opts: NodeRuntimeOptions) {
    if (!opts.nodeName || !opts.sandbox || !opts.env || !opts.kubelet?.command) throw new TypeError('NodeRuntime: nodeName, sandbox, env and kubelet.command are required');
    this.log = (opts.log ?? silentLogger()).child({ component: 'node-runtime', node: opts.nodeName });
  }

  start(): void {
    if (this.bringUp) return;
    this.bringUp = this.up().catch((err: unknown) => this.giveUp(`could not start the kubelet's runtime: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** Stops the kubelet and containerd and removes everything the runtime made on the host. Idempotent. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.reaper);
    await this.bringUp;
    const t0 = Date.now();
    await this.kubelet?.stop();
    const st = this.state;
    if (st) await this.killTasks(st.layout.socket);
    await this.containerd?.stop();
    if (this.record) {
      const report = await cleanupSlot(this.record);
      if (report.problems.length || report.cgroupsLeft.length) this.log.warn(report, 'runtime teardown left something behind');
      releaseSlot(this.opts.env.runtimeDir, this.record.slot);
      this.log.info({ slot: this.record.slot, killed: report.killed, ms: Date.now() - t0 }, 'runtime torn down');
      this.record = undefined;
    }
  }

  private giveUp(message: string): void {
    if (this.gaveUp || this.abort.signal.aborted) return;
    this.gaveUp = true;
    this.log.error({ message }, 'giving up');
    this.opts.onGiveUp(message);
  }

  private async up(): Promise<void> {
    const { env, nodeName } = this.opts;
    const signal = this.abort.signal;
    const nodeIp = env.nodeIp ?? defaultRouteIp();
    if (!nodeIp) throw new Error('this host has no non-loopback IPv4 address for the kubelet (set KUBE_MESOS_NODE_IP)');

    // The kubelet's cgroup root is the executor's own container (Mesos made it, sized to what it allocated); it must
    // exist in every hierarchy the kubelet checks. Outside any container the executor makes one of its own.
    const own = ownCgroup();
    const cgroupRoot = own === '/' ? `/kube-mesos/${nodeName}` : own;
    const createdCgroups = createCgroupPath(cgroupRoot);
    if (own === '/') this.log.warn({ cgroupRoot }, 'the executor runs in no cgroup container: its pods are not bounded by what Mesos allocated');

    const claim = await claimSlot(
      env.runtimeDir,
      (slot) => {
        const net = slotNetwork(slot, env.slots);
        const layout = runtimeLayout(this.opts.sandbox, env.runtimeDir, slot, env.stateDir);
        return {
          slot,
          executorId: this.opts.executorId,
          nodeName,
          socket: layout.socket,
          containerdConfig: layout.containerdConfig,
          cgroupRoot,
          createdCgroups,
          bridge: net.bridge,
          network: net.network,
          ipamDir: layout.cniIpamDir,
          runDir: layout.run,
          stateDir: layout.state,
        };
      },
      async (slot) => {
        const net = slotNetwork(slot, env.slots);
        // A bridge without a slot file is a leftover of ours (kmbr*): nobody else names links that way.
        if (linkExists(net.bridge)) await deleteLink(net.bridge);
        return (await portFree(nodeIp, net.kubeletPort)) && (await portFree('127.0.0.1', net.healthzPort));
      },
    );
    if (!claim.ok) throw new Error(claim.error);
    if (claim.reclaimed) this.log.info({ slot: claim.slot, previous: claim.reclaimed.executorId, cleanup: claim.cleanup }, 'reclaimed a stale host slot');
    const net = slotNetwork(claim.slot, env.slots);
    const layout = runtimeLayout(this.opts.sandbox, env.runtimeDir, claim.slot, env.stateDir);
    this.record = { slot: claim.slot, pid: process.pid, executorId: this.opts.executorId, nodeName, socket: layout.socket, containerdConfig: layout.containerdConfig, cgroupRoot, createdCgroups, bridge: net.bridge, network: net.network, ipamDir: layout.cniIpamDir, runDir: layout.run, stateDir: layout.state };
    this.state = { slot: claim.slot, net, layout, nodeIp, cgroupRoot };
    this.log.info({ slot: claim.slot, bridge: net.bridge, subnet: net.subnet, kubeletPort: net.kubeletPort, nodeIp, cgroupRoot }, 'host slot claimed');

    for (const d of [layout.containerdRoot, layout.containerdState, layout.cniConfDir, layout.cniIpamDir, layout.volumePluginDir, layout.run, layout.kubeletRoot, ...layout.hostBinds.flatMap((b) => [b.source, b.target])]) {
      mkdirSync(d, { recursive: true });
    }
    writeFileSync(layout.containerdConfig, containerdConfig({ layout, runc: env.runc, cniBinDir: env.cniBinDir, sandboxImage: env.pauseImage, mirrors: env.mirrors }));
    writeFileSync(join(layout.cniConfDir, '10-kube-mesos.conflist'), cniConflist(net, layout.cniIpamDir));
    const ca = resolveClientCa({ configured: env.clientCaFile, kubeletArgs: this.opts.kubelet.args, target: join(layout.dir, 'client-ca.crt') });
    if (!ca.ok) this.log.warn({ reason: ca.reason }, 'no client CA for the kubelet: the API server cannot authenticate to it (kubectl logs/exec refused); set KUBE_MESOS_KUBELET_CLIENT_CA');
    writeFileSync(layout.kubeletConfig, kubeletConfiguration({ nodeIp, net, cgroupRoot, volumePluginDir: layout.volumePluginDir, clientCaFile: ca.ok ? ca.file : undefined, serverTlsBootstrap: this.opts.serverTlsBootstrap }));
    if (signal.aborted) return;

    const spawner = namespaceSpawner(() => [this.containerd?.pid, this.kubelet?.pid], layout.hostBinds);
    const common = { nodeName, policy: this.opts.policy, spawn: spawner, clock: this.opts.clock, log: this.opts.log };
    this.containerd = new RealKubelet({
      ...common,
      process: 'containerd',
      command: env.containerd,
      args: ['--config', layout.containerdConfig],
      paths: { dir: layout.dir, rootDir: layout.containerdRoot, certDir: layout.containerdState, stdoutLog: join(layout.dir, 'containerd.stdout.log'), stderrLog: layout.containerdLog },
      onGiveUp: (m) => this.giveUp(m),
    });
    this.containerd.start();
    const t0 = Date.now();
    if (!(await waitForSocket(layout.socket, 30_000, signal))) {
      if (signal.aborted) return;
      throw new Error(`containerd did not open ${layout.socket} within 30 s (log: ${layout.containerdLog})`);
    }
    this.log.info({ ms: Date.now() - t0 }, 'containerd ready');
    if (signal.aborted) return;
    const k = this.opts.kubelet;
    this.kubelet = new RealKubelet({
      ...common,
      command: k.command,
      args: [...k.args, ...runtimeKubeletFlags({ kubeletConfig: layout.kubeletConfig, socket: layout.socket, nodeIp, rootDir: layout.kubeletRoot })],
      paths: k.paths,
      labelsToPatch: k.labelsToPatch,
      annotationsToPatch: { [NODE_ANNOTATIONS.podCidr]: net.subnet, [NODE_ANNOTATIONS.hostSlot]: String(claim.slot), [NODE_ANNOTATIONS.cgroupRoot]: cgroupRoot },
      api: this.opts.api,
      onGiveUp: (m) => this.giveUp(m),
    });
    this.kubelet.start();
    // kubelet 1.20 leaves the pods' v2 `unified` cgroups behind (runc 1.1 makes them on a hybrid host): reap them.
    this.reaper = setInterval(() => {
      const n = reapUnifiedPodCgroups(cgroupRoot);
      if (n > 0) this.log.debug({ removed: n }, 'removed pod cgroups the kubelet left in the unified hierarchy');
    }, 2000);
    this.reaper.unref();
  }

  /** SIGKILLs every task of the agent's containerd (namespace k8s.io) and deletes them, so shims exit and unmount. */
  private async killTasks(socket: string): Promise<void> {
    const ctr = (...args: string[]) => run(this.opts.env.ctr, ['-a', socket, '-n', 'k8s.io', ...args], 10_000);
    const ls = await ctr('tasks', 'ls', '-q');
    if (ls.code !== 0) return; // containerd is gone already: cleanupSlot kills what is left by cgroup and socket
    const ids = ls.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    if (ids.length === 0) return;
    await Promise.all(ids.map((id) => ctr('tasks', 'kill', '-s', 'SIGKILL', id)));
    await Promise.all(ids.map((id) => ctr('tasks', 'delete', '-f', id)));
    this.log.info({ tasks: ids.length }, 'killed the agent\'s containers');
  }
}
