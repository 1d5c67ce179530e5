// The Kubernetes half of an agent's view: what its kubelet's Node says (labels incl. `kubectl label`, taints incl. the
// node lifecycle controller's not-ready/unreachable, spec.unschedulable, Node-advertised extended resources,
// preferAvoidPods), or, for an agent without a kubelet yet, what that Node *will* say once the kubelet registers, so
// the first pod and the hundredth see the same world. Pure.
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { DEFAULT_EXTENDED, isExtendedResourceName } from './filters/extended-resources.js';
import { parseQuantity } from './quantity.js';
import { agentLabels } from './state.js';
import type { AvoidController } from './types.js';

export const LABEL_OS = 'kubernetes.io/os';
export const LABEL_ARCH = 'kubernetes.io/arch';
export const LABEL_BETA_OS = 'beta.kubernetes.io/os';
export const LABEL_BETA_ARCH = 'beta.kubernetes.io/arch';
export const LABEL_INSTANCE_TYPE = 'node.kubernetes.io/instance-type';
export const LABEL_BETA_INSTANCE_TYPE = 'beta.kubernetes.io/instance-type';
export const ANNOTATION_PREFER_AVOID_PODS = 'scheduler.alpha.kubernetes.io/preferAvoidPods';

export interface NodeViewConfig {
  /** OS and architecture of agents whose attributes do not say (the kubelet's GOOS/GOARCH). */
  os: string;
  arch: string;
  /** Agent attributes that give os, arch and instance type, when present. */
  osAttribute: string;
  archAttribute: string;
  instanceTypeAttribute: string;
  /** Labels every kube-mesos kubelet registers with (--node-labels). */
  labels: Record<string, string>;
  /** Taints every kube-mesos kubelet registers with (--register-with-taints). */
  taints: V1Taint[];
  /** Kubernetes name → Mesos scalar: these are Mesos' to account, never Node-advertised. */
  extendedResources: Record<string, string>;
}

export const DEFAULT_NODE_VIEW: NodeViewConfig = Object.freeze({
  os: 'linux',
  arch: 'amd64',
  osAttribute: 'os',
  archAttribute: 'arch',
  instanceTypeAttribute: 'instance-type',
  labels: {},
  taints: [],
  extendedResources: { ...DEFAULT_EXTENDED },
});

export interface AgentFacts {
  id: string;
  hostname: string;
  zone?: string;
  region?: string;
  attributes: Record<string, string>;
}

/** The labels a kube-mesos kubelet registers its Node with on this agent: ARCHITECTURE §4's, os/arch/instance type, the configured ones. */
export function expectedNodeLabels(a: AgentFacts, cfg: NodeViewConfig = DEFAULT_NODE_VIEW): Record<string, string> {
  const os = a.attributes[cfg.osAttribute] || cfg.os;
  const arch = a.attributes[cfg.archAttribute] || cfg.arch;
  const l: Record<string, string> = { ...cfg.labels, [LABEL_OS]: os, [LABEL_ARCH]: arch, [LABEL_BETA_OS]: os, [LABEL_BETA_ARCH]: arch };
  const it = a.attributes[cfg.instanceTypeAttribute];
  if (it) {
    l[LABEL_INSTANCE_TYPE] = it;
    l[LABEL_BETA_INSTANCE_TYPE] = it;
  }
  return Object.assign(l, agentLabels(a));
}

export interface NodeView {
  labels: Record<string, string>;
  taints: V1Taint[];
  unschedulable: boolean;
  nodeExtended?: Record<string, number>;
  avoidControllers?: AvoidController[];
  /** Parts of the Node that could not be read (a malformed annotation or quantity), for a warning; they are ignored. */
  problems: string[];
}

/**
 * The Node view of an agent. `node` absent: the Node the agent's kubelet will register (expected labels, configured
 * taints). The Node's own labels win over the expected ones, so `kubectl label --overwrite` is honoured; expected labels
 * the Node lacks are kept (a kubelet still registering). `agentUnschedulable`: kube-mesos' own reasons (maintenance, a
 * failed zone), added to spec.unschedulable.
 */
export function nodeView(a: AgentFacts, node: V1Node | undefined, agentUnschedulable: boolean, cfg: NodeViewConfig = DEFAULT_NODE_VIEW): NodeView {
  const expected = expectedNodeLabels(a, cfg);
  if (!node) return { labels: expected, taints: cfg.taints.map((t) => ({ ...t })), unschedulable: agentUnschedulable, problems: [] };
  const problems: string[] = [];
  const view: NodeView = {
    labels: { ...expected, ...(node.metadata?.labels ?? {}) },
    taints: node.spec?.taints ?? [],
    unschedulable: agentUnschedulable || node.spec?.unschedulable === true,
    problems,
  };
  const alloc = (node.status?.allocatable ?? {}) as Record<string, string>;
  for (const [name, raw] of Object.entries(alloc)) {
    if (!isExtendedResourceName(name) || cfg.extendedResources[name] !== undefined) continue;
    const q = parseQuantity(raw);
    if (q === undefined || q < 0) {
      problems.push(`status.allocatable[${name}]: not a quantity: "${String(raw)}"`);
      continue;
    }
    (view.nodeExtended ??= {})[name] = q;
  }
  const avoid = node.metadata?.annotations?.[ANNOTATION_PREFER_AVOID_PODS];
  if (avoid !== undefined) {
    const r = parsePreferAvoidPods(avoid);
    if (r.ok) {
      if (r.value.length) view.avoidControllers = r.value;
    } else problems.push(r.reason);
  }
  return view;
}

/** `scheduler.alpha.kubernetes.io/preferAvoidPods`: `{"preferAvoidPods":[{"podSignature":{"podController":{"kind":…,"uid":…}}}]}`. */
export function parsePreferAvoidPods(text: string): { ok: true; value: AvoidController[] } | { ok: false; reason: string } {
  const bad = (why: string) => ({ ok: false as const, reason: `annotation ${ANNOTATION_PREFER_AVOID_PODS}: ${why}` });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  const list = (doc as { preferAvoidPods?: unknown } | null)?.preferAvoidPods;
  if (list === undefined) return { ok: true, value: [] };
  if (!Array.isArray(list)) return bad('preferAvoidPods is not a list');
  const out: AvoidController[] = [];
  for (const [i, e] of list.entries()) {
    const c = (e as { podSignature?: { podController?: { kind?: unknown; uid?: unknown } } } | null)?.podSignature?.podController;
    if (typeof c?.kind !== 'string' || typeof c.uid !== 'string') return bad(`preferAvoidPods[${i}].podSignature.podController needs kind and uid`);
    out.push({ kind: c.kind, uid: c.uid });
  }
  return { ok: true, value: out };
}
