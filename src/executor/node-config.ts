/**
 * What a real kubelet and its own containerd are given on one agent, as pure renderers: the host slot's names and
 * numbers (bridge, pod subnet, ports), containerd's config.toml, the CNI conflist, the KubeletConfiguration and the
 * runtime flags. Several agents share one host in the sandbox, so everything host-global by default is per slot here
 * (see ../shared/recipes/real-kubelet for why each setting exists).
 */
import { join } from 'node:path';

/** One agent's share of the host's names and numbers, picked by its slot number (1…254). */
export interface SlotNetwork {
  slot: number;
  /** CNI bridge; the default cni0 would be shared. */
  bridge: string;
  /** The pods' subnet, e.g. 10.90.3.0/24, and the bridge's address in it. */
  subnet: string;
  gateway: string;
  /** CNI network name (also the host-local IPAM directory name). */
  network: string;
  kubeletPort: number;
  healthzPort: number;
}

export interface SlotPlan {
  /** A /16 the slots' /24s are carved from: slot N gets a.b.N.0/24. */
  podNetwork: string;
  /** Slot N's kubelet port is base + 2N, its healthz port base + 2N + 1. */
  portBase: number;
}

export const DEFAULT_SLOT_PLAN: SlotPlan = { podNetwork: '10.90.0.0/16', portBase: 12250 };
export const MAX_SLOT = 254;

export function parsePodNetwork(cidr: string): { ok: true; prefix: string } | { ok: false; error: string } {
  const m = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(cidr.trim());
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) return { ok: false, error: `"${cidr}" is not an IPv4 /16 such as 10.90.0.0/16` };
  return { ok: true, prefix: `${Number(m[1])}.${Number(m[2])}` };
}

/** The names and numbers of slot `slot`. Pure. */
export function slotNetwork(slot: number, plan: SlotPlan = DEFAULT_SLOT_PLAN): SlotNetwork {
  if (!Number.isInteger(slot) || slot < 1 || slot > MAX_SLOT) throw new RangeError(`slot ${slot} is not in 1..${MAX_SLOT}`);
  const net = parsePodNetwork(plan.podNetwork);
  if (!net.ok) throw new RangeError(net.error);
  return {
    slot,
    bridge: `kmbr${slot}`,
    subnet: `${net.prefix}.${slot}.0/24`,
    gateway: `${net.prefix}.${slot}.1`,
    network: `kube-mesos-${slot}`,
    kubeletPort: plan.portBase + 2 * slot,
    healthzPort: plan.portBase + 2 * slot + 1,
  };
}

/** Where one agent's runtime keeps things: state under its Mesos sandbox, sockets under the host's runtime dir. */
export interface RuntimeLayout {
  /** <sandbox>/runtime */
  dir: string;
  containerdRoot: string;
  containerdState: string;
  containerdConfig: string;
  containerdLog: string;
  cniConfDir: string;
  cniIpamDir: string;
  kubeletConfig: string;
  volumePluginDir: string;
  /** Per-agent stand-ins for the kubelet's hardcoded host paths, bind-mounted in the agent's mount namespace. */
  hostBinds: { source: string; target: string }[];
  /** <runtimeDir>/slot-N: sockets (short paths: a unix socket path has at most 107 bytes). */
  run: string;
  socket: string;
  runcRoot: string;
  /** <stateDir>/slot-N: the kubelet's root dir lives here, not in the sandbox, because the kubelet listens on
   * <root-dir>/pod-resources/kubelet.sock and a Mesos sandbox path is far longer than a socket path may be. */
  state: string;
  kubeletRoot: string;
}

export function runtimeLayout(sandbox: string, runtimeDir: string, slot: number, stateDir = '/var/lib/kube-mesos'): RuntimeLayout {
  const dir = join(sandbox, 'runtime');
  const run = join(runtimeDir, `slot-${slot}`);
  const state = join(stateDir, `slot-${slot}`);
  const host = join(dir, 'host');
  return {
    dir,
    containerdRoot: join(dir, 'containerd', 'root'),
    containerdState: join(dir, 'containerd', 'state'),
    containerdConfig: join(dir, 'containerd', 'config.toml'),
    containerdLog: join(dir, 'containerd.log'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniIpamDir: join(dir, 'cni', 'ipam'),
    kubeletConfig: join(dir, 'kubelet-config.yaml'),
    volumePluginDir: join(dir, 'volume-plugins'),
    hostBinds: [
      // The kubelet's container GC deletes /var/log/pods/<pod> of pods it does not know: another agent's, if shared.
      { source: join(host, 'var-log-pods'), target: '/var/log/pods' },
      { source: join(host, 'var-log-containers'), target: '/var/log/containers' },
      // device-plugins/kubelet.sock; the device manager empties the directory on start.
      { source: join(host, 'var-lib-kubelet'), target: '/var/lib/kubelet' },
    ],
    run,
    socket: join(run, 'containerd.sock'),
    runcRoot: join(run, 'runc'),
    state,
    kubeletRoot: join(state, 'kubelet'),
  };
}

const toml = (s: string) => JSON.stringify(s);

export interface ContainerdConfigInput {
  layout: RuntimeLayout;
  runc: string;
  cniBinDir: string;
  sandboxImage: string;
  /** Registry host → endpoint URL (e.g. registry.kube-mesos.local → http://127.0.0.1:5000). */
  mirrors: Record<string, string>;
}

/** containerd 1.6 config (version 2) of one agent. Pure. */
export function containerdConfig(i: ContainerdConfigInput): string {
  const { layout } = i;
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const lines = [
    'version = 2',
    `root = ${toml(layout.containerdRoot)}`,
    `state = ${toml(layout.containerdState)}`,
    '[grpc]',
    `  address = ${toml(layout.socket)}`,
    '[ttrpc]',
    `  address = ${toml(`${layout.socket}.ttrpc`)}`,
    '[debug]',
    '  address = ""',
    '[metrics]',
    '  address = ""',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${toml(join(layout.dir, 'containerd', 'opt'))}`,
    `[${cri}]`,
    `  sandbox_image = ${toml(i.sandboxImage)}`,
    // Root here may lack CAP_SYS_RESOURCE: runc could not lower the pause container's oom_score_adj and every sandbox
    // would fail with "can't get final child's PID from pipe: EOF".
    '  restrict_oom_score_adj = true',
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    '  enable_selinux = false',
    // Network namespaces under this containerd's state dir instead of the shared /var/run/netns.
    '  netns_mounts_under_state_dir = true',
    `  [${cri}.containerd]`,
    '    snapshotter = "overlayfs"',
    '    default_runtime_name = "runc"',
    `    [${cri}.containerd.runtimes.runc]`,
    '      runtime_type = "io.containerd.runc.v2"',
    `      [${cri}.containerd.runtimes.runc.options]`,
    '        SystemdCgroup = false',
    `        BinaryName = ${toml(i.runc)}`,
    `        Root = ${toml(layout.runcRoot)}`,
    `  [${cri}.cni]`,
    `    bin_dir = ${toml(i.cniBinDir)}`,
    `    conf_dir = ${toml(layout.cniConfDir)}`,
    '    max_conf_num = 1',
  ];
  for (const [host, endpoint] of Object.entries(i.mirrors)) {
    lines.push(`[${cri}.registry.mirrors.${toml(host)}]`, `  endpoint = [${toml(endpoint)}]`);
  }
  return lines.join('\n') + '\n';
}

/** The bridge + host-local IPAM (+ portmap for hostPorts) network of one agent. Pure. */
export function cniConflist(net: SlotNetwork, ipamDir: string): string {
  return (
    JSON.stringify(
      {
        cniVersion: '0.4.0',
        name: net.network,
        plugins: [
          {
            type: 'bridge',
            bridge: net.bridge,
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: { type: 'host-local', ranges: [[{ subnet: net.subnet, gateway: net.gateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ) + '\n'
  );
}

export interface KubeletConfigInput {
  nodeIp: string;
  net: SlotNetwork;
  /** The executor's container in every cgroup hierarchy: pods go to <cgroupRoot>/kubepods. */
  cgroupRoot: string;
  volumePluginDir: string;
  /** CA of the API server's kubelet client certificate; undefined: only bearer tokens authenticate (TokenReview). */
  clientCaFile?: string;
  /** Ask the cluster for the serving certificate (signer kubernetes.io/kubelet-serving) instead of a self-signed one. */
  serverTlsBootstrap?: boolean;
}

/**
 * The KubeletConfiguration (kubelet.config.k8s.io/v1beta1) of one agent; YAML is a superset of JSON, so JSON it is.
 * The kubelet's API (logs, exec, port-forward, metrics) admits no anonymous caller: the API server authenticates by
 * its client certificate (x509, `clientCaFile`), others by bearer token (webhook TokenReview), and every request is
 * authorized by SubjectAccessReview (webhook) — kubeadm's kubelet settings. Pure.
 */
export function kubeletConfiguration(i: KubeletConfigInput): string {
  return (
    JSON.stringify(
      {
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        address: i.nodeIp,
        port: i.net.kubeletPort,
        readOnlyPort: 0,
        healthzBindAddress: '127.0.0.1',
        healthzPort: i.net.healthzPort,
        authentication: { anonymous: { enabled: false }, webhook: { enabled: true, cacheTTL: '2m' }, ...(i.clientCaFile ? { x509: { clientCAFile: i.clientCaFile } } : {}) },
        authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '5m', cacheUnauthorizedTTL: '30s' } },
        ...(i.serverTlsBootstrap ? { serverTLSBootstrap: true } : {}),
        cgroupDriver: 'cgroupfs',
        cgroupsPerQOS: true,
        cgroupRoot: i.cgroupRoot,
        failSwapOn: false,
        // -999 needs CAP_SYS_RESOURCE.
        oomScoreAdj: 0,
        clusterDomain: 'cluster.local',
        resolvConf: '/etc/resolv.conf',
        serializeImagePulls: false,
        volumePluginDir: i.volumePluginDir,
        // The host-global KUBE-FIREWALL / KUBE-MARK-* chains (with a DROP of non-local traffic to 127/8) are not ours to make.
        makeIPTablesUtilChains: false,
        // memory.available matches the 100Mi kubeletFlags() takes off allocatable.
        evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '2%', 'imagefs.available': '2%' },
        // The node status reaches the API server quickly (pods Ready, the Node Ready) without the default 10 s wait.
        nodeStatusUpdateFrequency: '4s',
        syncFrequency: '10s',
      },
      null,
      2,
    ) + '\n'
  );
}

/** Flags a real kubelet gets on top of kubeletFlags(): its config file, runtime endpoint and node IP. Pure. */
export function runtimeKubeletFlags(i: { kubeletConfig: string; socket: string; nodeIp: string; rootDir: string }): string[] {
  // --root-dir comes after kubeletFlags()' one and so replaces it (the last occurrence of a flag wins).
  return [`--root-dir=${i.rootDir}`, `--config=${i.kubeletConfig}`, '--container-runtime=remote', `--container-runtime-endpoint=unix://${i.socket}`, `--node-ip=${i.nodeIp}`, '--runtime-request-timeout=2m'];
}
