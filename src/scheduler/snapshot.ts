/**
 * Builds the read-only snapshot that placement's plan() sees: every known agent with what its held offers give per role,
 * its kubelet, the pods on it, and its Kubernetes side (the kubelet's Node, or the Node it will have). Pure: it reads
 * the core's state and changes nothing.
 */
import type { V1Node } from '@kubernetes/client-node';
import { reservationRole } from '../mesos/resources.js';
import { DEFAULT_NODE_VIEW, nodeView, type NodeView, type NodeViewConfig } from '../placement/node-view.js';
import type { Offer } from '../mesos/types.js';
import type { AgentView, OfferedSlice, PlacedPod, PortRange } from '../placement/types.js';
import { canAddKubelet, type KubeletCounts, type PoolConfig } from '../pool/planner.js';
import type { AgentInfo } from './agent-info.js';
import type { CoreState } from './state.js';
import { offersOfOneRole } from './offer-roles.js';

/** `scalars`: Mesos scalars beyond cpus/mem/disk that placement accounts (the extended-resource mapping's Mesos names). */
export function offeredSlices(offers: readonly Offer[], scalars: ReadonlySet<string> = DEFAULT_MESOS_SCALARS): OfferedSlice[] {
  const byRole = new Map<string, OfferedSlice>();
  for (const o of offers) {
    for (const r of o.resources ?? []) {
      if (r.revocable || r.disk?.persistence) continue; // revocable and persistent volumes are not used for pods
      const role = reservationRole(r);
      let s = byRole.get(role);
      if (!s) byRole.set(role, (s = { role, res: { cpus: 0, mem: 0, disk: 0 }, ports: [] }));
      if (r.type === 'SCALAR' && r.scalar) {
        if (r.name === 'cpus') s.res.cpus += r.scalar.value;
        else if (r.name === 'mem') s.res.mem += r.scalar.value;
        else if (r.name === 'disk') s.res.disk += r.scalar.value;
        else if (scalars.has(r.name)) (s.scalars ??= {})[r.name] = (s.scalars[r.name] ?? 0) + r.scalar.value;
      } else if (r.type === 'RANGES' && r.name === 'ports') {
        for (const range of r.ranges?.range ?? []) s.ports.push([range.begin, range.end] as PortRange);
      }
    }
  }
  for (const s of byRole.values()) s.ports.sort((a, b) => a[0] - b[0]);
  return [...byRole.values()];
}

const DEFAULT_MESOS_SCALARS: ReadonlySet<string> = new Set(Object.values(DEFAULT_NODE_VIEW.extendedResources));
/** Persistence ids of the Mesos volumes the offers carry, sorted. */
export function offeredVolumes(offers: readonly Offer[]): string[] {
  const ids = new Set<string>();
  for (const o of offers) for (const r of o.resources ?? []) if (r.disk?.persistence?.id) ids.add(r.disk.persistence.id);
  return [...ids].sort();
}

export interface SnapshotAgent {
  info: AgentInfo;
  offers: readonly Offer[];
  kubelet?: { podCount: number; maxPods: number };
  pods: readonly PlacedPod[];
  /** kube-mesos' own reasons: lost, kubelet going away, no kubelet may start. A cordon comes from the Node. */
  unschedulable: boolean;
  /** The kubelet's Node, when it has registered. */
  node?: V1Node;
}

// A Node object (or, for an agent without one, its AgentInfo) gives the same view until it changes.
const viewCache = new WeakMap<object, { cfg: NodeViewConfig; view: NodeView }>();

function kubeSide(a: SnapshotAgent, cfg: NodeViewConfig): NodeView {
  const key: object = a.node ?? a.info;
  const hit = viewCache.get(key);
  if (hit && hit.cfg === cfg) return hit.view;
  const view = nodeView(a.info, a.node, false, cfg);
  viewCache.set(key, { cfg, view });
  return view;
}

export function agentView(a: SnapshotAgent, cfg: NodeViewConfig = DEFAULT_NODE_VIEW, scalars?: ReadonlySet<string>): AgentView {
  const k = kubeSide(a, cfg);
  return {
    id: a.info.id,
    hostname: a.info.hostname,
    nodeName: a.info.nodeName,
    zone: a.info.zone,
    region: a.info.region,
    attributes: a.info.attributes,
    labels: k.labels,
    taints: k.taints,
    unschedulable: a.unschedulable || k.unschedulable,
    offered: offeredSlices(a.offers, scalars),
    kubelet: a.kubelet,
    pods: a.pods,
    nodeExtended: k.nodeExtended,
    avoidControllers: k.avoidControllers,
    capacity: undefined,
    volumes: offeredVolumes(a.offers),
  };
}

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The previous snapshot's views by agent. An agent whose inputs are all the same objects as last time (info, Node,
 * offers, pods, kubelet figures, unschedulable) keeps its AgentView object, so that placement's AgentTable rebuilds
 * only the agents that changed (plan(…, table)).
 */
export class SnapshotCache {
  readonly byAgent = new Map<string, { a: SnapshotAgent; cfg: NodeViewConfig; view: AgentView; offersVersion: number; stamp: number }>();
  /** Views reused by the last buildSnapshot(). */
  reused = 0;
  stamp = 0;
}

/**
 * The snapshot of a cycle: every agent outside the failed zones with its held offers, its kubelet and the pods on it
 * (tasks' pods, and bound pods the registry does not know yet). An agent is marked unschedulable while it is lost, its
 * kubelet is going away, or it has no kubelet and the pool may not start one (limit reached, a drain in progress, or its
 * dead executor's Node not deleted yet).
 */
export function buildSnapshot(
  s: CoreState,
  o: {
    unhealthyZones: ReadonlySet<string>;
    kubeletCounts: KubeletCounts;
    pool: PoolConfig;
    maxPodsPerKubelet: number;
    nodeView?: NodeViewConfig;
    /** Reuse unchanged agents' views from the previous snapshot (and remember this one's). */
    cache?: SnapshotCache;
  },
): AgentView[] {
  const cache = o.cache;
  const stamp = cache ? ++cache.stamp : 0;
  if (cache) cache.reused = 0;
  const nodeCfg = o.nodeView ?? DEFAULT_NODE_VIEW;
  const scalars = nodeCfg === DEFAULT_NODE_VIEW ? DEFAULT_MESOS_SCALARS : new Set(Object.values(nodeCfg.extendedResources));
  const views: AgentView[] = [];
  for (const [id, a] of s.agents) {
    // A failed zone is not a spreading domain at all: nothing goes there and it does not hold replacements back.
    if (a.info.zone !== undefined && o.unhealthyZones.has(a.info.zone)) continue;
    const k = s.tasks.kubelet(id);
    const pods = s.placed.forAgent(id);
    // While a consolidation drains a kubelet, its pods go to the other kubelets, not to new ones.
    // A dead executor's Node is deleted before the agent gets a new executor, so the new kubelet registers a fresh Node.
    const noNewKubelet = !k && (!canAddKubelet(a.info.zone ?? '', o.kubeletCounts, o.pool) || s.executorLoss.agentWaiting(id));
    const unschedulable = s.failover.isAgentLost(id) || k?.state === 'removing' || k?.state === 'draining' || noNewKubelet;
    const node = s.nodes.get(id);
    const offersVersion = s.offers.version(id);
    const prev = cache?.byAgent.get(id);
    // Everything but the offers the same objects as last time (this runs for every agent every cycle).
    const sameRest =
      prev !== undefined &&
      prev.cfg === nodeCfg &&
      prev.a.info === a.info &&
      prev.a.node === node &&
      prev.a.unschedulable === unschedulable &&
      prev.a.kubelet?.podCount === (k ? pods.length : undefined) &&
      prev.a.kubelet?.maxPods === (k ? o.maxPodsPerKubelet : undefined) &&
      sameItems(prev.a.pods, pods);
    // The same held offers (nothing built), or new ones of which the same are picked (another role's offer came or went).
    const offers = sameRest && prev.offersVersion === offersVersion ? prev.a.offers : offersOfOneRole(s.offers.forAgent(id)); // what one ACCEPT can use (offer-roles.ts)
    if (sameRest && sameItems(prev.a.offers, offers)) {
      prev.offersVersion = offersVersion;
      prev.stamp = stamp;
      views.push(prev.view);
      cache!.reused++;
      continue;
    }
    const sa: SnapshotAgent = { info: a.info, offers, kubelet: k ? { podCount: pods.length, maxPods: o.maxPodsPerKubelet } : undefined, pods, unschedulable, node };
    if (!cache) {
      views.push(agentView(sa, nodeCfg, scalars));
      continue;
    }
    const view = agentView(sa, nodeCfg, scalars);
    cache.byAgent.set(id, { a: sa, cfg: nodeCfg, view, offersVersion, stamp });
    views.push(view);
  }
  if (cache) for (const [id, e] of cache.byAgent) if (e.stamp !== stamp) cache.byAgent.delete(id);
  return views;
}
