import { takeExtended } from './filters/extended-resources.js';
import { chooseSlot, need } from './filters/fit.js';
import { fitFilter } from './filters/fit.js';
import { interPodAffinityFilter } from './filters/inter-pod-affinity.js';
import { marathonConstraintsFilter } from './filters/marathon-constraints.js';
import { nodeAffinityFilter } from './filters/node-affinity.js';
import { nodeNameFilter } from './filters/node-name.js';
import { nodePortsFilter } from './filters/node-ports.js';
import { staticMaskFilter } from './filters/static-mask.js';
import { spreadAnnotationFilter } from './filters/spread-annotation.js';
import { taintTolerationFilter } from './filters/taint-toleration.js';
import { topologySpreadFilter } from './filters/topology-spread.js';
import { unschedulableFilter } from './filters/unschedulable.js';
import { volumeBindingFilter } from './filters/volume-binding.js';
import { makePodCtx, type FilterPlugin, type PodCtx, type ScorePlugin, type Status } from './framework.js';
import { unschedulableMessage } from './message.js';
import { round3 } from './quantity.js';
import { interPodAffinityScore } from './scores/inter-pod-affinity.js';
import { kubeletScore } from './scores/kubelet.js';
import { nodePreferAvoidPodsScore } from './scores/node-prefer-avoid-pods.js';
import { nodeAffinityScore } from './scores/node-affinity.js';
import { resourcesAndBalanceScore } from './scores/resources.js';
import { taintTolerationScore } from './scores/taint-toleration.js';
import { topologySpreadScore } from './scores/topology-spread.js';
import { freeNeed, searchKey, type LocalScore } from './search-cache.js';
import { Search } from './search.js';
import { CycleState, slotOf, type AgentTable, type Slot, type WAgent } from './state.js';
import type { AgentView, Plan, PlanConfig, PlacedPod, PodSpecView, PortRange } from './types.js';

/** In kube-scheduler's order: cheap, static checks first; the first failing filter gives the agent's reasons. */
export const FILTERS: readonly FilterPlugin<unknown>[] = [
  unschedulableFilter,
  nodeNameFilter,
  taintTolerationFilter,
  nodeAffinityFilter,
  marathonConstraintsFilter,
  nodePortsFilter,
  volumeBindingFilter,
  fitFilter,
  topologySpreadFilter,
  spreadAnnotationFilter,
  interPodAffinityFilter,
] as unknown as FilterPlugin<unknown>[];

/**
 * Feasibility does not depend on filter order, so the search for feasible agents runs the most selective filters
 * first; only a pod that fits nowhere is re-run in FILTERS order to report kube-scheduler's reasons.
 */
const FAST_ORDER: readonly FilterPlugin<unknown>[] = [
  topologySpreadFilter,
  spreadAnnotationFilter,
  marathonConstraintsFilter,
  interPodAffinityFilter,
  nodePortsFilter,
  volumeBindingFilter,
] as unknown as FilterPlugin<unknown>[];

/**
 * Scores that read only the agent's own working copy and the pod's spec and are not normalised over the feasible
 * agents: the search caches their weighted sum per spec and agent (search-cache.ts). They come first in SCORES, so the
 * cached sum is the same sum, in the same order, as the loop would make.
 */
const LOCAL_SCORES: readonly ScorePlugin<unknown>[] = [
  resourcesAndBalanceScore, // resourcesScore + balancedAllocationScore
  nodePreferAvoidPodsScore,
  kubeletScore,
] as unknown as ScorePlugin<unknown>[];

/** Normalised over the feasible agents, or reading counters that change with every placement: computed per pod. */
const OTHER_SCORES: readonly ScorePlugin<unknown>[] = [
  nodeAffinityScore,
  taintTolerationScore,
  topologySpreadScore,
  interPodAffinityScore,
] as unknown as ScorePlugin<unknown>[];

export const SCORES: readonly ScorePlugin<unknown>[] = [...LOCAL_SCORES, ...OTHER_SCORES];

const MIN_FEASIBLE = 100;

/** kube-scheduler's numFeasibleNodesToFind. */
export function feasibleToFind(agents: number, percentage = 0): number {
  if (agents < MIN_FEASIBLE || percentage >= 100) return agents;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(5, 50 - Math.floor(agents / 125));
  return Math.max(MIN_FEASIBLE, Math.floor((agents * pct) / 100));
}

/** `ranges` without `ports`, as a new array (slots share their ranges with the views: never changed in place). */
function withoutPorts(ranges: readonly PortRange[], ports: readonly number[]): PortRange[] {
  const out = [...ranges];
  for (const p of ports) {
    const i = out.findIndex((r) => p >= r[0] && p <= r[1]);
    if (i < 0) continue;
    const [b, e] = out[i];
    const rest: PortRange[] = [];
    if (b < p) rest.push([b, p - 1]);
    if (p < e) rest.push([p + 1, e]);
    out.splice(i, 1, ...rest);
  }
  return out;
}

/**
 * Places `pods` one by one in the given (queue) order on a working copy of `agents`, so later pods see earlier
 * ones: resources, ports, pod counts, spread and affinity counters. Pure: inputs are never mutated, no clock, no
 * randomness (ties go to the first agent in a rotating scan order, as kube-scheduler's start index rotates).
 * `table`: the working copy of the previous plans, to be brought up to date rather than rebuilt (agent-table.ts); the
 * plan is the same with or without it, provided a changed agent is a new AgentView object (views are never mutated).
 */
export function plan(agents: readonly AgentView[], pods: readonly PodSpecView[], cfg: PlanConfig, table?: AgentTable): Plan {
  const p = new Planner(agents, cfg, table);
  for (let k = 0; k < pods.length; k++) p.place(pods[k]);
  return p.out;
}

/**
 * One plan's state; place() is one pod's turn. A function called per pod rather than the body of plan()'s loop: V8
 * optimises it once, where the loop's body was compiled twice (on-stack-replaced, then whole), at up to ~100 ms of
 * compiler CPU each time the code had been dropped (measured in a 50 000-agent benchmark's first cycles).
 */
class Planner {
  readonly out: Plan = { placements: [], unschedulable: [], kubeletsToLaunch: [] };
  private readonly st: CycleState;
  private readonly n: number;
  private readonly search: Search;
  private readonly failed: Status[];
  private readonly activeF: FilterPlugin<unknown>[];
  private readonly dataF: unknown[];
  private readonly prepared = new Map<FilterPlugin<unknown>, unknown>();
  private readonly local: LocalScore[];
  private readonly cacheOn: boolean;
  /**
   * Within one plan free resources only shrink and counters only grow, so a pod whose feasibility depends on
   * nothing else (no spread, pod affinity or Marathon constraints) fails wherever an identical one failed. Any other
   * pod fails as an identical one did as long as nothing was placed since (`commits` unchanged): a burst of
   * zone-spread pods that outran the zones' offers is diagnosed once, not once per pod over every agent.
   */
  private readonly failedSpecs = new Map<string, { u: Plan['unschedulable'][number]; commits: number }>();
  /** Pods placed (or nominated agents held) so far: what a non-monotone pod's feasibility can change with. */
  private commits = 0;
  /** `commits` when the last failure was kept: a non-monotone pod has an answer to reuse only while it is current. */
  private lastFailureCommits = -1;

  constructor(
    agents: readonly AgentView[],
    private readonly cfg: PlanConfig,
    table: AgentTable | undefined,
  ) {
    this.st = new CycleState(agents, cfg, table);
    this.n = this.st.agents.length;
    this.search = new Search(this.st, feasibleToFind(this.n, cfg.percentageOfAgentsToScore));
    this.cacheOn = this.st.table.searchCacheEnabled;
    const lists = this.st.table.podLists; // emptied before each use
    this.failed = lists[0] as Status[];
    this.activeF = lists[1] as FilterPlugin<unknown>[];
    this.dataF = lists[2] as unknown[];
    this.local = lists[3] as LocalScore[];
  }

  place(pod: PodSpecView): void {
    const { st, out, n, cfg, search, failed, activeF, dataF, prepared, local, cacheOn, failedSpecs } = this;
    const monotone =
      pod.topologySpreadConstraints.length === 0 &&
      pod.constraints.length === 0 &&
      !pod.spread &&
      !pod.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length;
    // A nominated pod holds its agent when it fails (holdNominated): never answered from another pod's failure.
    // Non-monotone reuse rides on the search cache's switch, so the cache-off plan stays the reference to compare with.
    const reusable = !pod.nominatedNodeName && (monotone || cacheOn);
    // the key only where an answer may be kept: no text built per pod while every pod fits
    let specKey: string | undefined;
    if (reusable && failedSpecs.size > 0 && (monotone || this.lastFailureCommits === this.commits)) {
      specKey = failureKey(pod, monotone);
      const known = failedSpecs.get(specKey);
      if (known && (monotone || known.commits === this.commits)) {
        out.unschedulable.push({ ...known.u, podKey: pod.key, reasons: { ...known.u.reasons } });
        return;
      }
    }
    const ctx = makePodCtx(pod, st);
    activeF.length = 0;
    dataF.length = 0;
    prepared.clear();
    for (const f of FILTERS) {
      const d = f.prepare(ctx, st);
      if (d !== undefined) prepared.set(f, d);
    }
    // The static mask, pod limit and resources are checked (and cached per spec) in the search; the rest through the plugins.
    const mask = staticMaskFilter.prepare(ctx, st)!;
    for (const f of FAST_ORDER) {
      const d = prepared.get(f);
      if (d === undefined) continue;
      activeF.push(f);
      dataF.push(d);
    }
    local.length = 0;
    for (const sc of LOCAL_SCORES) {
      const p = sc.prepare(ctx, st);
      if (p) local.push({ plugin: sc, data: p.data, weight: p.weight });
    }
    const kept = cacheOn ? st.table.searchCache(searchKey(ctx, st, local)) : undefined;
    // a spec's first pod searches with a cache of its own that holds nothing (as fast, and no other loop to compile)
    const cache = kept ?? st.table.scratchCache();
    const useCache = cacheOn;
    search.found = 0;
    // the columns with the cache; without it (the reference the tests compare against) the agent objects are read
    const free = cacheOn ? freeNeed(ctx, st, local) : null;
    // binpack with preferExistingKubelet: agents that have a kubelet first, the rest only if none of them fits,
    // so a partial scan does not start kubelets on fresh agents while running ones have room.
    if (ctx.scoring === 'binpack' && cfg.preferExistingKubelet && st.kubeletAgents.length > 0) {
      const ka = st.kubeletAgents;
      const visited = search.scan(ka, st.nextStartKubelet, ctx, mask, cache, useCache, local, activeF, dataF, free);
      st.nextStartKubelet = (st.nextStartKubelet + visited) % ka.length;
    }
    if (search.found === 0 && n > 0) {
      const visited = search.scan(null, st.nextStart, ctx, mask, cache, useCache, local, activeF, dataF, free);
      st.nextStart = (st.nextStart + visited) % n;
    }

    if (search.found === 0) {
      failed.length = 0;
      for (const a of st.agents) {
        for (const [f, d] of prepared) {
          const s = f.filter(d, a, ctx, st);
          if (s) {
            failed.push(s);
            break;
          }
        }
      }
      const u = { podKey: pod.key, ...unschedulableMessage(n, failed) };
      out.unschedulable.push(u);
      if (pod.nominatedNodeName) {
        holdNominated(st, ctx);
        this.commits++;
      } else if (reusable) {
        failedSpecs.set(specKey ?? failureKey(pod, monotone), { u, commits: this.commits });
        this.lastFailureCommits = this.commits;
      }
      return;
    }
    const best = search.best(ctx, cache, OTHER_SCORES);
    commit(st, out, ctx, best);
    this.commits++;
  }
}

/**
 * What a pod's feasibility depends on besides the plan's state: two pods with the same key pass and fail the same
 * filters. Marathon constraints and the spread annotation count the pod's group (its owner, or itself).
 */
function failureKey(pod: PodSpecView, monotone: boolean): string {
  const base = [pod.namespace, pod.labels, pod.requests, pod.extended, pod.roles, pod.hostPorts, pod.nodeName, pod.nodeSelector, pod.affinity, pod.tolerations, pod.claims ?? null];
  if (monotone) return JSON.stringify(base);
  const grouped = pod.constraints.length > 0 || pod.spread !== undefined;
  return JSON.stringify([...base, pod.topologySpreadConstraints, pod.constraints, pod.spread ?? null, grouped ? (pod.ownerUid ?? pod.uid) : null]);
}

/**
 * A pod that preemption nominated to an agent and that does not fit there yet (its victims are still terminating)
 * keeps what is free there from the pods after it in this plan, as kube-scheduler counts nominated pods on their
 * node: the room the evictions made is for it.
 */
function holdNominated(st: CycleState, ctx: PodCtx): void {
  const name = ctx.pod.nominatedNodeName;
  const a = st.agents.find((x) => x.name === name || x.id === name || x.view.hostname === name);
  if (!a) return;
  const slot = slotOf(a, ctx.roles[0] ?? '*');
  if (!slot) return;
  const n = need(ctx, a, st);
  slot.cpus = round3(Math.max(0, slot.cpus - n.cpus));
  slot.mem = round3(Math.max(0, slot.mem - n.mem));
  slot.disk = round3(Math.max(0, slot.disk - n.disk));
  st.touch(a);
  if (ctx.mesosScalars && slot.scalars) for (const x of ctx.mesosScalars) slot.scalars[x.mesos] = Math.max(0, (slot.scalars[x.mesos] ?? 0) - x.amount);
  a.slotSeq = 0;
}

function commit(st: CycleState, out: Plan, ctx: PodCtx, a: WAgent): void {
  const slot = chooseSlot(ctx, a, st) as Slot; // the filter just found one
  const n = need(ctx, a, st);
  slot.cpus = round3(slot.cpus - n.cpus);
  slot.mem = round3(slot.mem - n.mem);
  slot.disk = round3(slot.disk - n.disk);
  const scalars = ctx.mesosScalars || ctx.nodeExt ? takeExtended(ctx, a, slot) : undefined;
  if (ctx.ports.length) {
    slot.ports = withoutPorts(slot.ports, ctx.ports);
    for (const p of ctx.ports) (a.usedPorts ??= new Set()).add(p);
  }
  a.podCount++;
  const newKubelet = !a.hasKubelet;
  if (newKubelet) {
    a.hasKubelet = true;
    a.newKubelet = true;
    st.kubeletAgents.push(a);
    out.kubeletsToLaunch.push(a.id);
  }
  st.touch(a); // after the changes: the table's columns are written from the working copy
  const pod = ctx.pod;
  const placed: PlacedPod = {
    uid: pod.uid,
    namespace: pod.namespace,
    name: pod.name,
    labels: pod.labels,
    ownerUid: pod.ownerUid,
    hostPorts: ctx.ports,
    affinity: pod.affinity,
    constraintGroup: ctx.groupKey,
  };
  st.addPod(a, placed);
  out.placements.push({
    podKey: pod.key,
    agentId: a.id,
    role: slot.role,
    res: { cpus: pod.requests.cpus, mem: pod.requests.mem, disk: pod.requests.disk },
    hostPorts: [...ctx.ports],
    newKubelet,
    ...(scalars ? { scalars } : {}),
  });
}
