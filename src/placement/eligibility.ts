import { tolerates, type PodCtx } from './framework.js';
import { grown } from './agent-table.js';
import type { EligibleMask } from './domain-counter.js';
import type { CycleState } from './state.js';

/**
 * Agents whose pods count for a spread constraint: kube-scheduler's nodeAffinityPolicy (default Honor: the agent
 * matches the pod's nodeSelector/required affinity) and nodeTaintsPolicy (default Ignore), and which carry every
 * topology key in `keys`. Returns the mask (the table's, kept and updated across plans: counters keep it) and its text
 * identity.
 */
export function eligibleAgents(
  pod: PodCtx,
  st: CycleState,
  opts: { nodeAffinityPolicy?: string; nodeTaintsPolicy?: string; keys: string[]; fields?: string[]; schedulableOnly?: boolean },
): { eligible: EligibleMask; sig: string } {
  const honorAffinity = (opts.nodeAffinityPolicy ?? 'Honor') === 'Honor' && pod.nodeMatch !== undefined;
  const honorTaints = (opts.nodeTaintsPolicy ?? 'Ignore') === 'Honor';
  const keys = [...opts.keys].sort();
  const fields = [...(opts.fields ?? [])].sort();
  const sig = JSON.stringify([
    honorAffinity ? pod.nodeMatchSig : '',
    honorTaints ? pod.pod.tolerations : '',
    keys,
    fields,
    opts.schedulableOnly ? 1 : 0,
  ]);
  // Kept across plans, updated at agents whose view changed.
  const table = st.table;
  const e = st.perAgent<EligibleMask>(
    `elig:${sig}`,
    (n) => ({ m: new Uint8Array(n).fill(1) }),
    (e, a) => {
      let ok = !(opts.schedulableOnly && a.view.unschedulable);
      if (ok && honorAffinity) ok = pod.nodeMatch!(a);
      if (ok && honorTaints) {
        for (const t of a.view.taints) {
          if ((t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.pod.tolerations, t)) {
            ok = false;
            break;
          }
        }
      }
      // indexes, not for-of: this runs for every agent, and the iterators were most of a first cycle's garbage
      if (ok) for (let k = 0; k < keys.length; k++) if (a.labels[keys[k]] === undefined) ok = false;
      if (ok) for (let k = 0; k < fields.length; k++) if (table.domainIndex(`field:${fields[k]}`).ids[a.idx] < 0) ok = false;
      e.m[a.idx] = ok ? 1 : 0;
    },
    (e, from, to) => {
      e.m = grown(e.m, from, to, 1); // arrivals start "in", as make() has them; the same object, as counters hold it
      return e;
    },
  );
  return { eligible: e, sig };
}
