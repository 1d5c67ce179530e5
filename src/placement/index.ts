// The placement engine's public API (see README.md). Pure: no I/O, no clocks, no unseeded randomness.
export { plan, feasibleToFind } from './plan.js';
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
