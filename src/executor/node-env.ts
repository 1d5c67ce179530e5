/**
 * The node-local facts a real kubelet's runtime needs, from the environment the Mesos agent gives its executors
 * (`--executor_environment_variables`; the sandbox's emulated agents pass them the same way): where containerd, runc
 * and the CNI plugins are, which registry mirrors to use, how this host's slots are numbered. Pure parsing.
 */
import { imageRef, NODE_BINARIES } from '../controlplane/node-artifacts.js';
import { DEFAULT_SLOT_PLAN, parsePodNetwork, type SlotPlan } from './node-config.js';

export interface NodeRuntimeEnv {
  /** `containerd`: the executor runs a containerd of its own for the kubelet; `none`: the kubelet's flags say it all. */
  runtime: 'containerd' | 'none';
  containerd: string;
  ctr: string;
  runc: string;
  cniBinDir: string;
  pauseImage: string;
  mirrors: Record<string, string>;
  /** The kubelet's node IP; undefined = the address of the interface holding the default route. */
  nodeIp: string | undefined;
  /** Host-wide directory of slot claims and sockets. */
  runtimeDir: string;
  /** Host-wide directory of the kubelets' root dirs (short paths: the kubelet listens on sockets below it). */
  stateDir: string;
  slots: SlotPlan;
  /**
   * The CA the kubelet authenticates API-server callers (logs, exec, port-forward) by: the one that signed
   * kube-apiserver's `--kubelet-client-certificate`. Undefined: the CA of the kubelet's kubeconfig (kubeadm's layout).
   */
  clientCaFile: string | undefined;
}

export const NODE_ENV = {
  runtime: 'KUBE_MESOS_CONTAINER_RUNTIME',
  containerd: 'KUBE_MESOS_CONTAINERD',
  ctr: 'KUBE_MESOS_CTR',
  runc: 'KUBE_MESOS_RUNC',
  cniBinDir: 'KUBE_MESOS_CNI_BIN_DIR',
  pauseImage: 'KUBE_MESOS_PAUSE_IMAGE',
  mirrors: 'KUBE_MESOS_REGISTRY_MIRRORS',
  nodeIp: 'KUBE_MESOS_NODE_IP',
  runtimeDir: 'KUBE_MESOS_RUNTIME_DIR',
  stateDir: 'KUBE_MESOS_STATE_DIR',
  podNetwork: 'KUBE_MESOS_POD_NETWORK',
  kubeletPortBase: 'KUBE_MESOS_KUBELET_PORT_BASE',
  clientCaFile: 'KUBE_MESOS_KUBELET_CLIENT_CA',
} as const;

const ABSOLUTE = /^\/[^\0]*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const HOST = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d+)?$/;

export type NodeEnvResult = { ok: true; value: NodeRuntimeEnv } | { ok: false; errors: string[] };

/** Parses the node runtime variables; every problem is reported, each naming its variable. Pure. */
export function parseNodeRuntimeEnv(env: Record<string, string | undefined>): NodeEnvResult {
  const errors: string[] = [];
  const get = (k: string) => env[k]?.trim() || undefined;
  const runtime = get(NODE_ENV.runtime) ?? 'containerd';
  if (runtime !== 'containerd' && runtime !== 'none') errors.push(`${NODE_ENV.runtime}="${runtime}" must be containerd or none`);
  const path = (k: string, dflt: string) => {
    const v = get(k) ?? dflt;
    if (!ABSOLUTE.test(v)) errors.push(`${k}="${v}" must be an absolute path`);
    return v;
  };
  const containerd = path(NODE_ENV.containerd, NODE_BINARIES.containerd);
  const ctr = path(NODE_ENV.ctr, NODE_BINARIES.ctr);
  const runc = path(NODE_ENV.runc, NODE_BINARIES.runc);
  const cniBinDir = path(NODE_ENV.cniBinDir, NODE_BINARIES.cniBinDir);
  const runtimeDir = path(NODE_ENV.runtimeDir, '/run/kube-mesos');
  const stateDir = path(NODE_ENV.stateDir, '/var/lib/kube-mesos');
  const clientCaFile = get(NODE_ENV.clientCaFile);
  if (clientCaFile !== undefined && !ABSOLUTE.test(clientCaFile)) errors.push(`${NODE_ENV.clientCaFile}="${clientCaFile}" must be an absolute path`);
  const pauseImage = get(NODE_ENV.pauseImage) ?? imageRef('pause');
  if (/\s/.test(pauseImage)) errors.push(`${NODE_ENV.pauseImage}="${pauseImage}" is not an image reference`);

  const mirrors: Record<string, string> = {};
  const rawMirrors = get(NODE_ENV.mirrors);
  if (rawMirrors) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawMirrors);
    } catch (err) {
      errors.push(`${NODE_ENV.mirrors} is not valid JSON: ${(err as Error).message}`);
    }
    if (parsed !== undefined && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))) {
      errors.push(`${NODE_ENV.mirrors} must be a JSON object like {"registry.kube-mesos.local":"http://127.0.0.1:5000"}`);
    } else if (parsed) {
      for (const [host, url] of Object.entries(parsed as Record<string, unknown>)) {
        if (!HOST.test(host)) errors.push(`${NODE_ENV.mirrors}: "${host}" is not a registry host`);
        else if (typeof url !== 'string' || !/^https?:\/\/[^\s/]+\/?$/.test(url)) errors.push(`${NODE_ENV.mirrors}: the endpoint of ${host} must be an http(s)://host:port URL`);
        else mirrors[host] = url.replace(/\/$/, '');
      }
    }
  }

  const nodeIp = get(NODE_ENV.nodeIp);
  if (nodeIp !== undefined && (!IPV4.test(nodeIp) || nodeIp.startsWith('127.'))) errors.push(`${NODE_ENV.nodeIp}="${nodeIp}" must be a non-loopback IPv4 address (a kubelet refuses a loopback node IP)`);

  const podNetwork = get(NODE_ENV.podNetwork) ?? DEFAULT_SLOT_PLAN.podNetwork;
  const pn = parsePodNetwork(podNetwork);
  if (!pn.ok) errors.push(`${NODE_ENV.podNetwork}: ${pn.error}`);
  const rawBase = get(NODE_ENV.kubeletPortBase);
  const portBase = rawBase === undefined ? DEFAULT_SLOT_PLAN.portBase : Number(rawBase);
  if (!Number.isInteger(portBase) || portBase < 1024 || portBase > 65535 - 2 * 255) errors.push(`${NODE_ENV.kubeletPortBase}="${rawBase}" must be a port number from 1024 to ${65535 - 2 * 255}`);

  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    value: { runtime: runtime as NodeRuntimeEnv['runtime'], containerd, ctr, runc, cniBinDir, pauseImage, mirrors, nodeIp, runtimeDir, stateDir, slots: { podNetwork, portBase }, clientCaFile },
  };
}
