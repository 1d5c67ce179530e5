/**
 * Turns placements into what Mesos launches: one TaskInfo per pod, with resources carved out of the agent's offers
 * (same reservation role and allocation role as the offer's), `limits` from the pod's limits, and the agent's kubelet
 * executor. Pure apart from id generation.
 */
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { ExecutorInfo, Offer, Resource, TaskInfo } from '../mesos/types.js';
import type { PodSpecView, Res } from '../placement/types.js';
import type { AgentInfo } from './agent-info.js';
import { reservationRole } from './snapshot.js';

export const LABEL_POD_NAMESPACE = 'kube-mesos.io/pod-namespace';
export const LABEL_POD_NAME = 'kube-mesos.io/pod-name';
export const LABEL_POD_UID = 'kube-mesos.io/pod-uid';

export interface ExecutorConfig {
  /** Shell command that starts the executor on the agent (e.g. `kube-mesos executor`). */
  command: string;
  cpus: number;
  mem: number;
  /** Path of the kubeconfig the executor uses to reach the API server. */
  kubeconfigPath: string;
  kubeletMode: 'hollow' | 'real';
  kubeletCommand?: string;
  maxPods: number;
  logLevel?: string;
  /** Extra environment for the executor. */
  env?: Record<string, string>;
}

export function taskIdFor(pod: Pick<PodSpecView, 'namespace' | 'name'>): string {
  return `${pod.namespace}.${pod.name}.${randomBytes(4).toString('hex')}`;
}

export function executorIdFor(agentId: string, nowMs: number): string {
  return `kubelet.${agentId}.${nowMs.toString(36)}`;
}

interface WorkItem {
  res: Resource;
  role: string;
  /** Remaining scalar amount, or remaining ranges. */
  amount: number;
  ranges: [number, number][];
}

export interface Carving {
  items: WorkItem[];
}

function roleFields(r: Resource): Partial<Resource> {
  const out: Partial<Resource> = {};
  if (r.role !== undefined) out.role = r.role;
  if (r.reservation) out.reservation = r.reservation;
  if (r.reservations) out.reservations = r.reservations;
  if (r.allocation_info) out.allocation_info = r.allocation_info;
  return out;
}

const EPS = 1e-9;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

function takeScalar(c: Carving, name: string, role: string, want: number, out: Resource[]): boolean {
  let left = round3(want);
  for (const it of c.items) {
    if (left <= EPS) break;
    if (it.res.name !== name || it.role !== role || it.res.type !== 'SCALAR' || it.amount <= EPS) continue;
    const take = Math.min(it.amount, left);
    it.amount = round3(it.amount - take);
    left = round3(left - take);
    out.push({ name, type: 'SCALAR', scalar: { value: round3(take) }, ...roleFields(it.res) });
  }
  return left <= EPS;
}

function takePort(c: Carving, port: number, role: string, out: Resource[]): boolean {
  for (const it of c.items) {
    if (it.res.name !== 'ports' || it.role !== role || it.res.type !== 'RANGES') continue;
    const i = it.ranges.findIndex(([b, e]) => b <= port && port <= e);
    if (i < 0) continue;
    const [b, e] = it.ranges[i];
    const rest: [number, number][] = [];
    if (b < port) rest.push([b, port - 1]);
    if (port < e) rest.push([port + 1, e]);
    it.ranges.splice(i, 1, ...rest);
    out.push({ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: port, end: port }] }, ...roleFields(it.res) });
    return true;
  }
  return false;
}

export const carveTaskResources = {
  /** A working copy of the offers' resources; the new executor's resources (if any) are taken out first. */
  start(offers: readonly Offer[], newExecutor?: ExecutorInfo): Carving {
    const c: Carving = { items: [] };
    for (const o of offers) {
      for (const res of o.resources ?? []) {
        if (res.revocable || res.disk?.persistence) continue;
        c.items.push({
          res,
          role: reservationRole(res),
          amount: res.scalar?.value ?? 0,
          ranges: (res.ranges?.range ?? []).map((r) => [r.begin, r.end] as [number, number]),
        });
      }
    }
    for (const r of newExecutor?.resources ?? []) {
      if (r.type === 'SCALAR' && r.scalar) takeScalar(c, r.name, reservationRole(r), r.scalar.value, []);
    }
    return c;
  },

  /** Takes one pod's resources; a value, never an exception, when the offers do not hold them. */
  take(c: Carving, p: { role: string; res: Res; hostPorts: number[] }): { ok: true; resources: Resource[] } | { ok: false; reason: string } {
    const out: Resource[] = [];
    const wants: [string, number][] = [
      ['cpus', p.res.cpus],
      ['mem', p.res.mem],
      ['disk', p.res.disk],
    ];
    for (const [name, amount] of wants) {
      if (amount <= 0) continue;
      if (!takeScalar(c, name, p.role, amount, out)) return { ok: false, reason: `offers lack ${amount} ${name} for role ${p.role}` };
    }
    for (const port of p.hostPorts) {
      if (!takePort(c, port, p.role, out)) return { ok: false, reason: `offers lack port ${port} for role ${p.role}` };
    }
    return { ok: true, resources: mergePorts(out) };
  },
};

/** One `ports` resource per reservation/allocation, as Mesos prints them, instead of one per port. */
function mergePorts(list: Resource[]): Resource[] {
  const out: Resource[] = [];
  const byRole = new Map<string, Resource>();
  for (const r of list) {
    if (r.name !== 'ports') {
      out.push(r);
      continue;
    }
    const key = JSON.stringify(roleFields(r));
    const prev = byRole.get(key);
    if (prev) prev.ranges!.range!.push(...(r.ranges?.range ?? []));
    else {
      const copy: Resource = { ...r, ranges: { range: [...(r.ranges?.range ?? [])] } };
      byRole.set(key, copy);
      out.push(copy);
    }
  }
  return out;
}

export function buildExecutorInfo(a: { agent: AgentInfo; executorId: string; frameworkId: string; config: ExecutorConfig; role: string; offers: readonly Offer[] }): ExecutorInfo {
  const src = a.offers.flatMap((o) => o.resources ?? []).find((r) => reservationRole(r) === a.role && r.type === 'SCALAR') ?? a.offers[0]?.resources?.[0];
  const fields = src ? roleFields(src) : {};
  const env: Record<string, string> = {
    KUBE_MESOS_NODE_NAME: a.agent.nodeName,
    KUBE_MESOS_NODE_LABELS: JSON.stringify(a.agent.labels),
    KUBE_MESOS_NODE_CAPACITY: JSON.stringify({ pods: String(a.config.maxPods) }),
    KUBE_MESOS_KUBECONFIG: a.config.kubeconfigPath,
    KUBE_MESOS_KUBELET_MODE: a.config.kubeletMode,
    ...(a.config.kubeletCommand ? { KUBE_MESOS_KUBELET_COMMAND: a.config.kubeletCommand } : {}),
    ...(a.config.logLevel ? { KUBE_MESOS_LOG_LEVEL: a.config.logLevel } : {}),
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
      environment: { variables: Object.entries(env).map(([name, value]) => ({ name, type: 'VALUE', value })) },
    },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: a.config.cpus }, ...fields },
      { name: 'mem', type: 'SCALAR', scalar: { value: a.config.mem }, ...fields },
    ],
    labels: { labels: [{ key: 'kube-mesos.io/node-name', value: a.agent.nodeName }] },
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
