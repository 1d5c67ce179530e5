// The search's memory per pod spec. Replicas of one workload (and any pods that ask for the same resources the same
// way) meet the same agents, and what the search learns from an agent's own working copy — whether it passes the
// static mask, the pod limit, a role's resources and the Node-advertised extended resources, and the weighted sum of
// the scores that read only that agent — changes only when that agent does. Entries are stamped with the agent's
// version (AgentTable.ver), so an agent a placement drew on (or a new snapshot changed) is examined afresh and every
// other one is reused: by the later pods of one plan and, with a table kept, by later plans. Filters and scores that
// read counters over many agents (spread, affinity, Marathon constraints) or other inputs (ports, volumes) still run
// on every visit.
import { nodeExtFits } from './filters/extended-resources.js';
import { chooseSlot, EPS } from './filters/fit.js';
import { NO_ROLE, SEVERAL_ROLES, type FreeColumns } from './free-columns.js';
import type { PodCtx, ScorePlugin } from './framework.js';
import { markExamined } from './spec-caches.js';
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
  markExamined(c, i, ok);
  if (!ok) return;
  // The same additions in the same order as plan()'s scoring loop makes for these plugins: bit-identical totals.
  let t = 0;
  for (let k = 0; k < local.length; k++) {
    const l = local[k];
    t += l.weight * l.plugin.score(l.data, a, ctx, st);
  }
  c.score[i] = t;
}

/** The pod's side of an examination from the table's columns (examineFree()). */
export interface FreeNeed {
  free: FreeColumns;
  /** Per role number, 1 where the pod may take that role's offers. */
  roleOk: Uint8Array;
  /** What the pod takes on an agent with a kubelet (its requests), and on one without (plus the executor). */
  cpus: number;
  mem: number;
  disk: number;
  execCpus: number;
  execMem: number;
  execDisk: number;
  /** What the pod takes on the agent being examined: [cpus, mem] (its requests, plus the executor without a kubelet). */
  take: Float64Array;
  /** Where ScorePlugin.scoreFree() leaves its score. */
  out: Float64Array;
}

/**
 * The pod's side of examineFree(), or null when its examination needs the agent objects: host ports, extended
 * resources, or a local score without scoreFree().
 */
export function freeNeed(ctx: PodCtx, st: CycleState, local: readonly LocalScore[]): FreeNeed | null {
  if (ctx.ports.length !== 0 || ctx.mesosScalars !== null || ctx.nodeExt !== null) return null;
  for (let k = 0; k < local.length; k++) if (!local[k].plugin.scoreFree) return null;
  const free = st.table.free;
  const roles = ctx.roles;
  const roleOk = st.memoize(`free-roles:${roles.join('\u0001')}`, () => free.roleMask(roles));
  const r = ctx.pod.requests;
  const e = ctx.needExec;
  return { free, roleOk, cpus: r.cpus, mem: r.mem, disk: r.disk, execCpus: e.cpus, execMem: e.mem, execDisk: e.disk, take: new Float64Array(2), out: new Float64Array(1) };
}

/**
 * examine() for agent i read from the table's columns: the same entry, bit for bit. Returns false, recording nothing,
 * when the agent has offers for several roles (examine() it).
 */
export function examineFree(c: SearchCache, i: number, f: FreeNeed, st: CycleState, mask: Uint8Array, local: readonly LocalScore[], ver: number): boolean {
  const cols = f.free;
  const r = cols.role[i];
  if (r === SEVERAL_ROLES) return false;
  c.stamp[i] = ver;
  const kubelet = cols.kubelet[i] !== 0;
  const cpus = kubelet ? f.cpus : f.execCpus;
  const mem = kubelet ? f.mem : f.execMem;
  const disk = kubelet ? f.disk : f.execDisk;
  // chooseSlot(): a one-role agent's slot is chosen iff its role is one of the pod's and it holds the pod
  const ok =
    mask[i] !== 0 &&
    cols.pods[i] < cols.maxPods[i] &&
    r !== NO_ROLE &&
    f.roleOk[r] !== 0 &&
    cols.cpus[i] + EPS >= cpus &&
    cols.mem[i] + EPS >= mem &&
    cols.disk[i] + EPS >= disk;
  c.ok[i] = ok ? 1 : 0;
  markExamined(c, i, ok);
  if (!ok) return true;
  f.take[0] = cpus;
  f.take[1] = mem;
  // the same additions in the same order as examine() makes
  let t = 0;
  for (let k = 0; k < local.length; k++) {
    const l = local[k];
    l.plugin.scoreFree!(l.data, i, f, st);
    t += l.weight * f.out[0];
  }
  c.score[i] = t;
  return true;
}
