import type {
  V1Affinity,
  V1LabelSelector,
  V1NodeSelector,
  V1Taint,
  V1Toleration,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';

/** Resources in Mesos units: cpus (float), mem and disk in MB. */
export interface Res {
  cpus: number;
  mem: number;
  disk: number;
}

/** Inclusive port range [begin, end], as Mesos' `ports` resource gives them. */
export type PortRange = [number, number];

/** What the held offers of one agent give to one role ('*' = unreserved). */
export interface OfferedSlice {
  role: string;
  res: Res;
  ports: PortRange[];
  /** Other Mesos scalars offered to this role (`gpus`, …), by Mesos name; absent = none. */
  scalars?: Record<string, number>;
}

/** A controller named in a Node's `scheduler.alpha.kubernetes.io/preferAvoidPods` annotation. */
export interface AvoidController {
  kind: string;
  uid: string;
}

/** One Mesos agent as the scheduler sees it this cycle. Read-only: plan() never mutates it. */
export interface AgentView {
  id: string;
  hostname: string;
  /** Name of the kubelet's Node (matchFields metadata.name, spec.nodeName); defaults to hostname. */
  nodeName?: string;
  zone?: string;
  region?: string;
  /** Mesos attributes in text form ('r1', '4', '[1-2]'). */
  attributes: Record<string, string>;
  /** Labels its kubelet's Node has or would get; see agentLabels(). */
  labels: Record<string, string>;
  taints: V1Taint[];
  /** Cordoned, zone failed, maintenance. */
  unschedulable: boolean;
  offered: OfferedSlice[];
  /** Absent: no kubelet executor on this agent yet. */
  kubelet?: { podCount: number; maxPods: number };
  /** Pods running or assumed here. */
  pods: readonly PlacedPod[];
  /**
   * Extended resources the Node advertises that Mesos does not manage (a device plugin's, or patched onto its
   * status): its allocatable, by Kubernetes name. Absent = none. Bound pods' requests are subtracted by plan().
   */
  nodeExtended?: Record<string, number>;
  /** Controllers the Node's preferAvoidPods annotation names (NodePreferAvoidPods score). */
  avoidControllers?: AvoidController[];
  /** What the agent holds for kube-mesos in all (offered + held by its pods), for balanced allocation; absent = offered + pods' requests. */
  capacity?: { cpus: number; mem: number };
  /** Persistence ids of the Mesos volumes the held offers carry (a volume in use by a task is not offered). */
  volumes?: string[];
}

/**
 * A PersistentVolumeClaim the pod mounts, as VolumeBinding needs it. `missing`: no such claim; `unbound`: waits for
 * another provisioner (Immediate binding); `provision`: unbound claim of the Mesos volume class, a volume is made where
 * the pod lands; `bound`: bound to a PV, whose node affinity restricts agents (`mesos`: the volume on that agent).
 */
export interface PodClaimView {
  name: string;
  phase: 'missing' | 'unbound' | 'provision' | 'bound';
  /** The claim's storage request in MB (provision). */
  storageMb?: number;
  nodeAffinity?: V1NodeSelector;
  mesos?: { agentId: string; persistenceId: string };
}

/** A pod already on an agent (running or assumed), as far as placement needs to know it. */
export interface PlacedPod {
  uid: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ownerUid?: string;
  hostPorts: number[];
  /** The pod's own affinity; its required anti-affinity terms are honoured symmetrically. */
  affinity?: V1Affinity;
  /** Sibling group for Marathon constraints and kube-mesos.io/spread; defaults to ownerUid, else uid. */
  constraintGroup?: string;
  /** For preemption and Node-advertised resources; absent = unknown (not a preemption victim). */
  priority?: number;
  /** The pod's requests and the role its task took them from. */
  requests?: Res;
  role?: string;
  /** Extended resource requests by Kubernetes name. */
  extended?: Record<string, number>;
  /** When the pod started (ms), for preemption's tie-break; and whether it is terminating already. */
  startedAtMs?: number;
  terminating?: boolean;
}

export type ConstraintOperator = 'UNIQUE' | 'CLUSTER' | 'GROUP_BY' | 'LIKE' | 'UNLIKE' | 'MAX_PER' | 'IS';

/** One parsed Marathon constraint. `field` is '@hostname', '@zone', '@region' or an agent attribute name. */
export interface MarathonConstraint {
  field: string;
  operator: ConstraintOperator;
  value?: string;
}

export type Scoring = 'spread' | 'binpack';

/** A pending pod, normalised by podFromV1(). */
export interface PodSpecView {
  /** namespace/name */
  key: string;
  uid: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ownerUid?: string;
  priority: number;
  createdAtMs: number;
  requests: Res;
  limits: Partial<Res>;
  /** Extended resource requests by Kubernetes name (`nvidia.com/gpu`, `example.com/widget`); absent = none. */
  extended?: Record<string, number>;
  /** Kind of the controlling owner (ReplicaSet, DaemonSet…), for NodePreferAvoidPods. */
  ownerKind?: string;
  /** spec.preemptionPolicy: 'Never' = this pod does not preempt others. */
  preemptionPolicy?: string;
  /** status.nominatedNodeName: the room preemption made for it. */
  nominatedNodeName?: string;
  hostPorts: { port: number; protocol: string }[];
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: V1Affinity;
  tolerations: V1Toleration[];
  topologySpreadConstraints: V1TopologySpreadConstraint[];
  /** Mesos roles in order of preference (kube-mesos.io/roles); empty = PlanConfig.defaultRoles. */
  roles: string[];
  constraints: MarathonConstraint[];
  /** kube-mesos.io/spread: even spread of the siblings over this field ('@zone', '@hostname', '@region' or an attribute). */
  spread?: { field: string };
  /** kube-mesos.io/placement; absent = PlanConfig.defaultScoring. */
  scoring?: Scoring;
  /** The PersistentVolumeClaims its volumes name; absent or empty = none. */
  claims?: PodClaimView[];
}

export interface PodDefaults {
  /** Requests for containers that declare none. */
  cpus: number;
  mem: number;
  /** Roles when kube-mesos.io/roles is absent. */
  roles: string[];
}

export interface PlanConfig {
  /** Resources of one kubelet executor, charged once on an agent's first pod. */
  executor: Res;
  defaultScoring: Scoring;
  preferExistingKubelet: boolean;
  /** Pod limit of a kubelet launched this cycle. */
  maxPodsPerKubelet: number;
  defaultRoles: string[];
  /**
   * Like kube-scheduler's percentageOfNodesToScore: stop filtering once this share of agents was found
   * feasible (at least 100). 0 or absent = kube-scheduler's adaptive default; 100 = always all agents.
   */
  percentageOfAgentsToScore?: number;
  /**
   * Extended resources that are Mesos scalars: Kubernetes name → Mesos resource name. Absent = DEFAULT_EXTENDED
   * ({ 'nvidia.com/gpu': 'gpus' }). A pod's request of one is taken from the offer, like cpus.
   */
  extendedResources?: Record<string, string>;
}

export interface Placement {
  podKey: string;
  agentId: string;
  role: string;
  res: Res;
  hostPorts: number[];
  /** This pod is the first on an agent without kubelet: its task carries the new kubelet executor. */
  newKubelet: boolean;
  /** Mesos scalars beyond cpus/mem/disk its task takes (`{ gpus: 1 }`); absent = none. */
  scalars?: Record<string, number>;
}

export interface Unschedulable {
  podKey: string;
  /** kube-scheduler's: `0/9 nodes are available: 3 Insufficient cpu, 6 node(s) didn't match ….` */
  message: string;
  /** reason → number of agents that gave it */
  reasons: Record<string, number>;
  /** True when no agent failed for a reason that freeing resources there could fix (kube's UnschedulableAndUnresolvable). */
  unresolvable: boolean;
}

export interface Plan {
  placements: Placement[];
  unschedulable: Unschedulable[];
  /** Agents that get their first kubelet this cycle. */
  kubeletsToLaunch: string[];
}

export type { V1Affinity, V1LabelSelector, V1Taint, V1Toleration, V1TopologySpreadConstraint };
