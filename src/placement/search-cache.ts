// The search's memory per pod spec. Replicas of one workload (and any pods that ask for the same resources the same
// way) meet the same agents, and what the search learns from an agent's own working copy — whether it passes the
// static mask, the pod limit, a role's resources and the Node-advertised extended resources, and the weighted sum of
// the scores that read only that agent — changes only when that agent does. Entries are stamped with the agent's
// version (AgentTable.ver), so an agent a placement drew on (or a new snapshot changed) is examined afresh and every
// other one is reused: by the later pods of one plan and, with a table kept, by later plans. Filters and scores that
// read counters over many agents (spread, affinity, Marathon constraints) or other inputs (ports, volumes) still run
// on every visit.
import { nodeExtFits } from './filters/extended-resources.js';
import { chooseSlot } from './filters/fit.js';
import type { PodCtx, ScorePlugin } from './framework.js';
import type { CycleState, SearchCache, WAgent } from './state.js';

/** A prepared score of the local kind (see LOCAL_SCORES in plan.ts): normalize 'none', reads the agent alone. */
export interface LocalScore {
  plugin: ScorePlugin<unknown>;
  data: unknown;
  weight: number;
}

/**
 * Everything an entry depends on besides the agent: the pod fields the static mask, the fit and the local scores read,
 * and the plan-wide inputs of those scores (maxFree; which plugins apply, with their weights). Equal keys share entries.
 */
export function searchKey(ctx: PodCtx, st: CycleState, local: readonly LocalScore[]): string {
  const p = ctx.pod;
  let scores = '';
  for (const l of local) scores += `${l.plugin.name}:${l.weight};`;
  return JSON.stringify([
    p.nodeName ?? '',
    ctx.nodeMatchSig,
    p.tolerations,
    p.requests,
    ctx.roles,
    ctx.ports,
    ctx.mesosScalars,
    ctx.nodeExt,
    ctx.scoring,
    p.claims ?? null,
    // NodePreferAvoidPods reads the controller; only pods it applies to need it in their key
    st.hasAvoidPods ? [p.ownerKind ?? '', p.ownerUid ?? ''] : null,
    scores,
    st.maxFree.cpus,
    st.maxFree.mem,
  ]);
}

/** Examines agent `a` for the pod and records the result under version `ver`. */
export function examine(c: SearchCache, a: WAgent, ctx: PodCtx, st: CycleState, mask: Uint8Array, local: readonly LocalScore[], ver: number): void {
  const i = a.idx;
  c.stamp[i] = ver;
  const ok = mask[i] !== 0 && a.podCount < a.maxPods && chooseSlot(ctx, a) !== undefined && (ctx.nodeExt === null || nodeExtFits(ctx, a));
  c.ok[i] = ok ? 1 : 0;
  if (!ok) return;
  // The same additions in the same order as plan()'s scoring loop makes for these plugins: bit-identical totals.
  let t = 0;
  for (let k = 0; k < local.length; k++) {
    const l = local[k];
    t += l.weight * l.plugin.score(l.data, a, ctx, st);
  }
  c.score[i] = t;
}
