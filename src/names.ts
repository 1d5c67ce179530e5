/**
 * Every `kube-mesos.io/*` annotation, label and Mesos label name in one place. Pod authors write the annotations, the
 * scheduler and executor write the rest; both sides import the names from here so they cannot drift apart.
 */

// ---- pod annotations a pod author sets (untrusted input: parsed with clear errors where they are read) ----
/** Mesos roles in order of preference. */
export const ANNOTATION_ROLES = 'kube-mesos.io/roles';
/** Marathon-style placement constraints. */
export const ANNOTATION_CONSTRAINTS = 'kube-mesos.io/constraints';
/** Even spread of the pod's siblings over a field. */
export const ANNOTATION_SPREAD = 'kube-mesos.io/spread';
/** Scoring: spread or binpack. */
export const ANNOTATION_PLACEMENT = 'kube-mesos.io/placement';
/** How long after its agent is lost the pod is replaced. */
export const ANNOTATION_FAILOVER_AFTER = 'kube-mesos.io/failover-after';
/** A bare pod re-created elsewhere when its agent is lost. */
export const ANNOTATION_RESCHEDULE_ON_LOSS = 'kube-mesos.io/reschedule-on-loss';
/** "false": never evicted by consolidation or maintenance. */
export const ANNOTATION_SAFE_TO_EVICT = 'kube-mesos.io/safe-to-evict';
/** Hollow kubelet test hook: the pod ends with this exit code ("0" Succeeded, else Failed). */
export const ANNOTATION_HOLLOW_EXIT_CODE = 'kube-mesos.io/hollow-exit-code';

// ---- pod annotations kube-mesos writes (the executor, on binding) ----
export const ANNOTATION_TASK_ID = 'kube-mesos.io/task-id';
export const ANNOTATION_AGENT_ID = 'kube-mesos.io/agent-id';
export const ANNOTATION_EXECUTOR_ID = 'kube-mesos.io/executor-id';
/** The annotations a replacement copy of a pod must not carry over. */
export const BINDING_ANNOTATIONS: readonly string[] = [ANNOTATION_TASK_ID, ANNOTATION_AGENT_ID, ANNOTATION_EXECUTOR_ID];

// ---- Node labels and annotations ----
/** The Mesos agent id of a kubelet's Node. */
export const LABEL_AGENT_ID = 'kube-mesos.io/agent-id';
/** Prefix of the Node labels that carry the agent's Mesos attributes. */
export const LABEL_ATTRIBUTE_PREFIX = 'kube-mesos.io/attribute-';
/** Node annotation naming the kubelet kind ("hollow"). */
export const ANNOTATION_KUBELET = 'kube-mesos.io/kubelet';

// ---- Mesos labels on TaskInfo / ExecutorInfo ----
export const LABEL_POD_NAMESPACE = 'kube-mesos.io/pod-namespace';
export const LABEL_POD_NAME = 'kube-mesos.io/pod-name';
export const LABEL_POD_UID = 'kube-mesos.io/pod-uid';
/** On the kubelet executor's ExecutorInfo: the Node name it registers. */
export const LABEL_NODE_NAME = 'kube-mesos.io/node-name';
/** A task with this label (value "true") is no pod: it keeps a warm kubelet's executor alive (pool.minPerZone). */
export const LABEL_KUBELET_KEEPER = 'kube-mesos.io/kubelet-keeper';

/** The StorageClass provisioner whose claims become Mesos persistent volumes (RESERVE + CREATE on the chosen agent). */
export const PROVISIONER_MESOS_VOLUME = 'kube-mesos.io/mesos-volume';
/** Label of a Mesos volume's reservation and PV: the uid of the claim it was made for. */
export const LABEL_CLAIM_UID = 'kube-mesos.io/claim-uid';
/** Annotations of a PV made of a Mesos volume: the agent holding it and its persistence id. */
export const ANNOTATION_VOLUME_AGENT = 'kube-mesos.io/volume-agent-id';
export const ANNOTATION_PERSISTENCE_ID = 'kube-mesos.io/persistence-id';
