/**
 * Turns placements into what Mesos launches: one TaskInfo per pod, with resources carved out of the agent's offers
 * (same reservation role and allocation role as the offer's), `limits` from the pod's limits, and the agent's kubelet
 * executor. Pure apart from id generation.
 */
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { CommandURI, ContainerInfo, ExecutorInfo, Offer, Resource, TaskInfo } from '../mesos/types.js';
import type { PodSpecView, Res } from '../placement/types.js';
import type { AgentInfo } from './agent-info.js';
import * as resources from '../mesos/resources.js';
import { takeResources } from '../mesos/carve.js';
import { expectedNodeLabels } from '../placement/node-view.js';
import { LABEL_NODE_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../names.js';


export interface ExecutorConfig {
  /** Shell command that starts the executor on the agent (e.g. `kube-mesos executor`). */
  command: string;
  /** What the agent's fetcher downloads into the sandbox first (executor bundle, kubelet): docs/executor.md "Delivery". */
  uris?: readonly CommandURI[];
  /** Image delivery: the Mesos container the executor runs in. */
  container?: ContainerInfo;
  cpus: number;
  mem: number;
  /**
   * Path, on the agents, of a shared kubeconfig for every executor (pool.executorKubeconfig, the insecure opt-out);
   * empty: each executor obtains its own node certificate through the scheduler.
   */
  kubeconfigPath: string;
  kubeletMode: 'hollow' | 'real';
  kubeletCommand?: string;
  /** Extra flags for a real kubelet (pool.kubeletExtraFlags). */
  kubeletExtraFlags?: readonly string[];
  maxPods: number;
  logLevel?: string;
  /** The scheduler name whose pods the executor follows. */
  schedulerName?: string;
  /** Extra environment for the executor. */
  env?: Record<string, string>;
}

/** `<namespace>.<name>.<first 8 of the pod uid>-<random>`: readable, unique per launch, and tied to one pod object. */
export function taskIdFor(pod: Pick<PodSpecView, 'namespace' | 'name' | 'uid'>): string {
  return `${pod.namespace}.${pod.name}.${pod.uid.replace(/-/g, '').slice(0, 8)}-${randomSuffix()}`;
}

/** Six random hex digits, from a buffer refilled 1 KiB at a time (one randomBytes call per task was 40 µs in a burst). */
let entropy = Buffer.alloc(0);
let entropyAt = 0;
function randomSuffix(): string {
  if (entropyAt + 3 > entropy.length) {
    entropy = randomBytes(3 * 342);
    entropyAt = 0;
  }
  const hex = entropy.toString('hex', entropyAt, entropyAt + 3);
  entropyAt += 3;
  return hex;
}

/** Which pod a task id names (namespaces have no dots; pod names may). */
export function podOfTaskId(taskId: string): { namespace: string; name: string; uidPrefix: string } | undefined {
  const first = taskId.indexOf('.');
  const last = taskId.lastIndexOf('.');
  if (first <= 0 || last <= first) return undefined;
  const tail = taskId.slice(last + 1);
  const dash = tail.indexOf('-');
  if (dash <= 0) return undefined;
  return { namespace: taskId.slice(0, first), name: taskId.slice(first + 1, last), uidPrefix: tail.slice(0, dash) };
}

export function executorIdFor(agentId: string, nowMs: number): string {
  return `kubelet.${agentId}.${nowMs.toString(36)}`;
}

/** The resources of one agent's offers still free while a cycle carves pods out of them. */
export interface Carving {
  remaining: Resource[];
}

export const carveTaskResources = {
  /** A working copy of the offers' resources; the new executor's resources (if any) are taken out first. */
  start(offers: readonly Offer[], newExecutor?: ExecutorInfo): Carving {
    let remaining = resources.normalize(offers.flatMap((o) => o.resources ?? []));
    if (newExecutor?.resources) remaining = resources.subtract(remaining, newExecutor.resources);
    return { remaining };
  },

  /** Takes one pod's resources; a value, never an exception, when the offers do not hold them. */
  take(c: Carving, p: { role: string; res: Res; hostPorts: number[]; scalars?: Record<string, number> }): { ok: true; resources: Resource[] } | { ok: false; reason: string } {
    const r = takeResources(c.remaining, { cpus: p.res.cpus, mem: p.res.mem, disk: p.res.disk, ports: p.hostPorts, scalars: p.scalars }, [p.role]);
    if (!r.ok) return { ok: false, reason: `offers lack ${r.insufficient.join(', ')} for role ${p.role}` };
    c.remaining = r.remaining;
    return { ok: true, resources: r.resources };
  },
};

function roleFields(r: Resource): Partial<Resource> {
  const out: Partial<Resource> = {};
  if (r.role !== undefined) out.role = r.role;
  if (r.reservation) out.reservation = r.reservation;
  if (r.reservations) out.reservations = r.reservations;
  if (r.allocation_info) out.allocation_info = r.allocation_info;
  return out;
}

export function buildExecutorInfo(a: { agent: AgentInfo; executorId: string; frameworkId: string; config: ExecutorConfig; role: string; offers: readonly Offer[] }): ExecutorInfo {
  const src = a.offers.flatMap((o) => o.resources ?? []).find((r) => resources.reservationRole(r) === a.role && r.type === 'SCALAR') ?? a.offers[0]?.resources?.[0];
  const fields = src ? roleFields(src) : {};
  const env: Record<string, string> = {
    KUBE_MESOS_NODE_NAME: a.agent.nodeName,
    // The labels the Node will have, as placement assumed them for this agent before its kubelet existed (os/arch too).
    KUBE_MESOS_NODE_LABELS: JSON.stringify(expectedNodeLabels(a.agent)),
    // Only the pod limit: the executor takes cpu and memory from its agent (SUBSCRIBED), so this ExecutorInfo is the same
    // whichever scheduler instance builds it — Mesos refuses a different one for an executor that is already running.
    KUBE_MESOS_NODE_CAPACITY: JSON.stringify({ pods: String(a.config.maxPods) }),
    ...(a.config.kubeconfigPath ? { KUBE_MESOS_KUBECONFIG: a.config.kubeconfigPath } : {}),
    KUBE_MESOS_KUBELET_MODE: a.config.kubeletMode,
    ...(a.config.kubeletCommand ? { KUBE_MESOS_KUBELET_COMMAND: a.config.kubeletCommand } : {}),
    ...(a.config.kubeletExtraFlags && a.config.kubeletExtraFlags.length > 0 ? { KUBE_MESOS_KUBELET_EXTRA_FLAGS: JSON.stringify(a.config.kubeletExtraFlags) } : {}),
    ...(a.config.logLevel ? { KUBE_MESOS_LOG_LEVEL: a.config.logLevel } : {}),
    ...(a.config.schedulerName ? { KUBE_MESOS_SCHEDULER_NAME: a.config.schedulerName } : {}),
    ...(a.config.env ?? {}),
  };
  return {
    type: 'CUSTOM',
    executor_id: { value: a.executorId },
    framework_id: { value: a.frameworkId },
    name: `kube-mesos kubelet on ${a.agent.nodeName}`,
    source: 'kube-mesos',
    command: {
      shell: true,
      value: a.config.command,
      ...(a.config.uris && a.config.uris.length > 0 ? { uris: a.config.uris.map((u) => ({ ...u })) } : {}),
      environment: { variables: Object.entries(env).map(([name, value]) => ({ name, type: 'VALUE', value })) },
    },
    ...(a.config.container ? { container: a.config.container } : {}),
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: a.config.cpus }, ...fields },
      { name: 'mem', type: 'SCALAR', scalar: { value: a.config.mem }, ...fields },
    ],
    labels: { labels: [{ key: LABEL_NODE_NAME, value: a.agent.nodeName }] },
  };
}

export function buildTaskInfo(a: { taskId: string; agentId: string; pod: V1Pod; view: PodSpecView; resources: Resource[]; executor: ExecutorInfo }): TaskInfo {
  const grace = a.pod.spec?.terminationGracePeriodSeconds ?? 30;
  const limits: Record<string, { value: number }> = {};
  if (a.view.limits.cpus !== undefined) limits.cpus = { value: a.view.limits.cpus };
  if (a.view.limits.mem !== undefined) limits.mem = { value: a.view.limits.mem };
  return {
    name: `pod ${a.view.key}`,
    task_id: { value: a.taskId },
    agent_id: { value: a.agentId },
    resources: a.resources,
    executor: a.executor,
    kill_policy: { grace_period: { nanoseconds: grace * 1e9 } },
    labels: {
      labels: [
        { key: LABEL_POD_NAMESPACE, value: a.view.namespace },
        { key: LABEL_POD_NAME, value: a.view.name },
        { key: LABEL_POD_UID, value: a.view.uid },
      ],
    },
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
}
