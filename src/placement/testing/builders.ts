// Fluent builders for placement tests and benchmarks: makePod().requests({ cpus: 0.5 }).zone('a'),
// makeAgent().zone('b').offer('*', { cpus: 4 }).
import type { V1Affinity, V1PodAffinityTerm, V1Taint, V1Toleration, V1TopologySpreadConstraint } from '@kubernetes/client-node';
import { agentLabels, LABEL_HOSTNAME, LABEL_ZONE } from '../state.js';
import type { AgentView, MarathonConstraint, PlacedPod, PodClaimView, PlanConfig, PodSpecView, PortRange, Res, Scoring } from '../types.js';

export const testConfig = (over: Partial<PlanConfig> = {}): PlanConfig => ({
  executor: { cpus: 0.1, mem: 32, disk: 0 },
  defaultScoring: 'spread',
  preferExistingKubelet: true,
  maxPodsPerKubelet: 110,
  defaultRoles: ['*'],
  ...over,
});

let podSeq = 0;
let agentSeq = 0;
/** Restart the generated names (pod-1, agent-1, …) so tables read the same whatever ran before. */
export function resetSeq(): void {
  podSeq = 0;
  agentSeq = 0;
}

export class PodBuilder {
  readonly p: PodSpecView;
  constructor(name?: string) {
    const n = name ?? `pod-${++podSeq}`;
    this.p = {
      key: `default/${n}`,
      uid: `uid-${n}`,
      namespace: 'default',
      name: n,
      labels: {},
      annotations: {},
      priority: 0,
      createdAtMs: 0,
      requests: { cpus: 0.1, mem: 64, disk: 0 },
      limits: {},
      hostPorts: [],
      tolerations: [],
      topologySpreadConstraints: [],
      roles: [],
      constraints: [],
    };
  }
  name(n: string): this {
    this.p.name = n;
    this.p.key = `${this.p.namespace}/${n}`;
    this.p.uid = `uid-${n}`;
    return this;
  }
  namespace(ns: string): this {
    this.p.namespace = ns;
    this.p.key = `${ns}/${this.p.name}`;
    return this;
  }
  requests(r: Partial<Res>): this {
    this.p.requests = { ...this.p.requests, ...r };
    return this;
  }
  labels(l: Record<string, string>): this {
    this.p.labels = { ...this.p.labels, ...l };
    return this;
  }
  owner(uid: string, kind?: string): this {
    this.p.ownerUid = uid;
    if (kind) this.p.ownerKind = kind;
    return this;
  }
  /** An extended resource request (`nvidia.com/gpu`, `example.com/widget`). */
  extended(name: string, n: number): this {
    this.p.extended = { ...(this.p.extended ?? {}), [name]: n };
    return this;
  }
  priority(n: number): this {
    this.p.priority = n;
    return this;
  }
  preemptionPolicy(p: 'Never' | 'PreemptLowerPriority'): this {
    this.p.preemptionPolicy = p;
    return this;
  }
  nominated(node: string): this {
    this.p.nominatedNodeName = node;
    return this;
  }
  createdAt(ms: number): this {
    this.p.createdAtMs = ms;
    return this;
  }
  hostPort(port: number, protocol = 'TCP'): this {
    this.p.hostPorts.push({ port, protocol });
    return this;
  }
  nodeName(n: string): this {
    this.p.nodeName = n;
    return this;
  }
  nodeSelector(s: Record<string, string>): this {
    this.p.nodeSelector = s;
    return this;
  }
  /** Required node affinity to a zone. */
  zone(z: string): this {
    return this.nodeSelector({ ...(this.p.nodeSelector ?? {}), [LABEL_ZONE]: z });
  }
  affinity(a: V1Affinity): this {
    this.p.affinity = { ...(this.p.affinity ?? {}), ...a };
    return this;
  }
  antiAffinity(term: V1PodAffinityTerm): this {
    const anti = this.p.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    return this.affinity({ podAntiAffinity: { ...this.p.affinity?.podAntiAffinity, requiredDuringSchedulingIgnoredDuringExecution: [...anti, term] } });
  }
  podAffinity(term: V1PodAffinityTerm): this {
    const aff = this.p.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    return this.affinity({ podAffinity: { ...this.p.affinity?.podAffinity, requiredDuringSchedulingIgnoredDuringExecution: [...aff, term] } });
  }
  toleration(t: V1Toleration): this {
    this.p.tolerations.push(t);
    return this;
  }
  spreadConstraint(c: Partial<V1TopologySpreadConstraint> & { topologyKey: string }): this {
    this.p.topologySpreadConstraints.push({ maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: this.p.labels }, ...c });
    return this;
  }
  roles(...r: string[]): this {
    this.p.roles = r;
    return this;
  }
  constraint(field: string, operator: MarathonConstraint['operator'], value?: string): this {
    this.p.constraints.push(value === undefined ? { field, operator } : { field, operator, value });
    return this;
  }
  spread(field: string): this {
    this.p.spread = { field };
    return this;
  }
  claim(c: PodClaimView): this {
    (this.p.claims ??= []).push(c);
    return this;
  }
  scoring(s: Scoring): this {
    this.p.scoring = s;
    return this;
  }
  build(): PodSpecView {
    return structuredClone(this.p);
  }
  /** The same pod as already placed somewhere (role '*', started at its creation time). */
  placed(extra: Partial<PlacedPod> = {}): PlacedPod {
    const p = this.p;
    return {
      uid: p.uid,
      namespace: p.namespace,
      name: p.name,
      labels: { ...p.labels },
      ownerUid: p.ownerUid,
      hostPorts: p.hostPorts.map((h) => h.port),
      affinity: p.affinity,
      priority: p.priority,
      requests: { ...p.requests },
      role: '*',
      startedAtMs: p.createdAtMs,
      ...(p.extended ? { extended: { ...p.extended } } : {}),
      ...extra,
    };
  }
}

export const makePod = (name?: string): PodBuilder => new PodBuilder(name);

export class AgentBuilder {
  readonly a: AgentView;
  constructor(id?: string) {
    const n = id ?? `agent-${++agentSeq}`;
    this.a = { id: n, hostname: n, attributes: {}, labels: {}, taints: [], unschedulable: false, offered: [], pods: [] };
  }
  hostname(h: string): this {
    this.a.hostname = h;
    return this;
  }
  zone(z: string): this {
    this.a.zone = z;
    return this;
  }
  region(r: string): this {
    this.a.region = r;
    return this;
  }
  attr(k: string, v: string): this {
    this.a.attributes[k] = v;
    return this;
  }
  label(k: string, v: string): this {
    this.a.labels[k] = v;
    return this;
  }
  taint(t: V1Taint): this {
    this.a.taints.push(t);
    return this;
  }
  unschedulable(u = true): this {
    this.a.unschedulable = u;
    return this;
  }
  offer(role: string, res: Partial<Res>, ports: PortRange[] = [], scalars?: Record<string, number>): this {
    this.a.offered.push({ role, res: { cpus: 0, mem: 0, disk: 0, ...res }, ports, ...(scalars ? { scalars } : {}) });
    return this;
  }
  /** Other Mesos scalars (`gpus`) in the last offer (a new '*' one when there is none). */
  scalar(name: string, amount: number): this {
    if (this.a.offered.length === 0) this.offer('*', {});
    const o = this.a.offered[this.a.offered.length - 1];
    o.scalars = { ...(o.scalars ?? {}), [name]: amount };
    return this;
  }
  /** An extended resource the Node advertises (its allocatable). */
  nodeExtended(name: string, n: number): this {
    this.a.nodeExtended = { ...(this.a.nodeExtended ?? {}), [name]: n };
    return this;
  }
  /** The Node's preferAvoidPods names this controller. */
  avoid(kind: string, uid: string): this {
    (this.a.avoidControllers ??= []).push({ kind, uid });
    return this;
  }
  capacity(cpus: number, mem: number): this {
    this.a.capacity = { cpus, mem };
    return this;
  }
  /** A typical unreserved offer: 4 cpus, 8 GB, ports 31000-32000. */
  big(): this {
    return this.offer('*', { cpus: 4, mem: 8192, disk: 10000 }, [[31000, 32000]]);
  }
  /** A Mesos volume (by persistence id) in the agent's held offers. */
  volume(persistenceId: string): this {
    (this.a.volumes ??= []).push(persistenceId);
    return this;
  }
  kubelet(podCount = 0, maxPods = 110): this {
    this.a.kubelet = { podCount, maxPods };
    return this;
  }
  pod(p: PlacedPod | PodBuilder, extra: Partial<PlacedPod> = {}): this {
    (this.a.pods as PlacedPod[]).push(p instanceof PodBuilder ? p.placed(extra) : { ...p, ...extra });
    if (this.a.kubelet) this.a.kubelet.podCount++;
    return this;
  }
  build(): AgentView {
    const labels = { ...agentLabels(this.a), ...this.a.labels };
    return structuredClone({ ...this.a, labels });
  }
}

export const makeAgent = (id?: string): AgentBuilder => new AgentBuilder(id);

export { LABEL_HOSTNAME, LABEL_ZONE };
