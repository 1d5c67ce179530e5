// The placement engine's public API (see README.md). Pure: no I/O, no clocks, no unseeded randomness.
export { plan, feasibleToFind } from './plan.js';
export { AgentTable } from './agent-table.js';
export { podFromV1 } from './pod.js';
export { agentLabels, LABEL_HOSTNAME, LABEL_REGION, LABEL_ZONE } from './state.js';
export { ANNOTATION_CONSTRAINTS, ANNOTATION_PLACEMENT, ANNOTATION_ROLES, ANNOTATION_SPREAD, LABEL_AGENT_ID, LABEL_ATTRIBUTE_PREFIX } from '../names.js';
export {
  parseConstraints,
  parsePlacement,
  parseRoles,
  parseSpread,
} from './annotations.js';
export { parseQuantity } from './quantity.js';
export type * from './types.js';
export { DEFAULT_NODE_VIEW, expectedNodeLabels, nodeView, parsePreferAvoidPods, ANNOTATION_PREFER_AVOID_PODS, LABEL_ARCH, LABEL_OS } from './node-view.js';
export type { AgentFacts, NodeView, NodeViewConfig } from './node-view.js';
export { DEFAULT_EXTENDED, isExtendedResourceName } from './filters/extended-resources.js';
export { planPreemption, numCandidates } from './preemption.js';
export type { NominatedPod, PdbView, PreemptionPlan, PreemptionResult, Victim } from './preemption.js';
export { fitBoundPod } from './bound-pod.js';
export type { AgentCapacity, BoundPodFit } from './bound-pod.js';
