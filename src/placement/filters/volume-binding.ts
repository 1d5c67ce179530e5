import { compileNodeSelectorTerms, type NodeLike } from '../selectors.js';
import { fail, type FilterPlugin, type Status } from '../framework.js';
import type { PodClaimView } from '../types.js';

// kube-scheduler's VolumeBinding reasons (pkg/scheduler/framework/plugins/volumebinding), plus the Mesos volume's own.
export const REASON_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
export const REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const REASON_NOT_ENOUGH_SPACE = 'node(s) did not have enough free storage';
export const REASON_VOLUME_NOT_OFFERED = "node(s) didn't offer the claim's Mesos volume (in use, or not offered yet)";

const CONFLICT = fail(REASON_NODE_CONFLICT, true);
const NO_SPACE = fail(REASON_NOT_ENOUGH_SPACE);
const NOT_OFFERED = fail(REASON_VOLUME_NOT_OFFERED);

interface Prepared {
  /** A pod-level failure that holds on every agent (missing claim, unbound immediate claim). */
  everywhere?: Status;
  /** PV node affinities and Mesos volumes: all must hold on the agent. */
  affinities: ((n: NodeLike) => boolean)[];
  mesos: { agentId: string; persistenceId: string }[];
  /** MB of new Mesos volumes to carve out of the agent's offered disk, on top of the pod's own disk request. */
  newStorageMb: number;
}

export function prepareClaims(claims: readonly PodClaimView[]): Prepared | undefined {
  if (!claims.length) return undefined;
  const p: Prepared = { affinities: [], mesos: [], newStorageMb: 0 };
  for (const c of claims) {
    if (c.phase === 'missing') p.everywhere ??= fail(`persistentvolumeclaim "${c.name}" not found`, true);
    else if (c.phase === 'unbound') p.everywhere ??= fail(REASON_UNBOUND_IMMEDIATE, true);
    else if (c.phase === 'provision') p.newStorageMb += c.storageMb ?? 0;
    else {
      if (c.nodeAffinity?.nodeSelectorTerms?.length) p.affinities.push(compileNodeSelectorTerms(c.nodeAffinity.nodeSelectorTerms));
      if (c.mesos) p.mesos.push(c.mesos);
    }
  }
  return p;
}

/**
 * VolumeBinding: the pod's claims must exist and be bindable; a bound PV's node affinity must match the agent's Node; a
 * claim bound to a Mesos volume pins the pod to the agent that holds it, and there the volume must be in the offers
 * (else the pod waits: resolvable); a claim of the Mesos volume class that is still unbound needs its size in the
 * agent's offered disk, beside the pod's own disk request.
 */
export const volumeBindingFilter: FilterPlugin<Prepared> = {
  name: 'VolumeBinding',
  prepare: (pod) => (pod.pod.claims?.length ? prepareClaims(pod.pod.claims) : undefined),
  filter: (p, a, pod) => {
    if (p.everywhere) return p.everywhere;
    for (const m of p.affinities) if (!m(a)) return CONFLICT;
    for (const v of p.mesos) {
      if (v.agentId !== a.id) return CONFLICT;
      if (!a.view.volumes?.includes(v.persistenceId)) return NOT_OFFERED;
    }
    if (p.newStorageMb > 0) {
      let disk = 0;
      for (const s of a.slots) if (s.role === '*' || pod.roles.includes(s.role)) disk += s.disk;
      if (disk + 1e-9 < p.newStorageMb + pod.pod.requests.disk) return NO_SPACE;
    }
    return undefined;
  },
};
