// Plugin shapes, after kube-scheduler's framework: a filter sees the working copy and returns a status value,
// never throws; a score returns a raw number that plan() normalises and weighs.
import { splitExtended, type MesosScalarNeed, type NodeExtNeed } from './filters/extended-resources.js';
import type { FreeNeed } from './search-cache.js';
import { podNodeMatcher, type NodeLike } from './selectors.js';
import { podGroupKey, type CycleState, type WAgent } from './state.js';
import type { PodSpecView, Res, Scoring } from './types.js';

/** Why one agent cannot take the pod. unresolvable: freeing resources on that agent would not help. */
export interface Status {
  readonly reasons: readonly string[];
  readonly unresolvable: boolean;
}

const statuses = new Map<string, Status>();

/** Shared, frozen status values: filters return them without allocating. */
export function fail(reason: string, unresolvable = false): Status {
  const key = `${unresolvable ? 'U' : 'R'}${reason}`;
  let s = statuses.get(key);
  if (!s) {
    s = Object.freeze({ reasons: Object.freeze([reason]), unresolvable });
    statuses.set(key, s);
  }
  return s;
}

export function failMany(reasons: string[], unresolvable = false): Status {
  if (reasons.length === 1) return fail(reasons[0], unresolvable);
  const key = `${unresolvable ? 'U' : 'R'}${reasons.join('\u0000')}`;
  let s = statuses.get(key);
  if (!s) {
    s = Object.freeze({ reasons: Object.freeze([...reasons]), unresolvable });
    statuses.set(key, s);
  }
  return s;
}

/** What plan() knows about the pod it is placing, computed once per pod and cycle. */
export interface PodCtx {
  pod: PodSpecView;
  roles: readonly string[];
  scoring: Scoring;
  /** Sibling group: the controller's uid, else the pod's own. */
  groupKey: string;
  /** Distinct host ports. */
  ports: number[];
  /** nodeSelector AND required node affinity; undefined when the pod has neither. */
  nodeMatch?: (n: NodeLike) => boolean;
  /** Text identity of nodeMatch, for memoising per-agent masks. */
  nodeMatchSig: string;
  /** Requests plus the kubelet executor: what the first pod on an agent takes. */
  needExec: Res;
  /** Numbers this pod within the cycle (per-agent caches compare it). */
  seq: number;
  /** Extended resources taken from Mesos offers (nvidia.com/gpu → gpus); null = none. */
  mesosScalars: MesosScalarNeed[] | null;
  /** Extended resources the Node advertises, outside Mesos; null = none. */
  nodeExt: NodeExtNeed[] | null;
}

export function makePodCtx(pod: PodSpecView, st: CycleState): PodCtx {
  const required = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const sel = pod.nodeSelector && Object.keys(pod.nodeSelector).length ? pod.nodeSelector : undefined;
  let nodeMatch: PodCtx['nodeMatch'];
  let nodeMatchSig = '';
  if (sel || required) {
    nodeMatchSig = JSON.stringify([sel ?? null, required?.nodeSelectorTerms ?? null]);
    nodeMatch = st.memoize(`nodematch:${nodeMatchSig}`, () => podNodeMatcher(sel, required)!);
  }
  const ext = splitExtended(pod, st.cfg);
  return {
    pod,
    roles: pod.roles.length ? pod.roles : st.cfg.defaultRoles,
    scoring: pod.scoring ?? st.cfg.defaultScoring,
    groupKey: podGroupKey({ ownerUid: pod.ownerUid, uid: pod.uid }),
    ports: [...new Set(pod.hostPorts.map((p) => p.port))],
    nodeMatch,
    nodeMatchSig,
    needExec: {
      cpus: pod.requests.cpus + st.cfg.executor.cpus,
      mem: pod.requests.mem + st.cfg.executor.mem,
      disk: pod.requests.disk + st.cfg.executor.disk,
    },
    seq: st.nextPodSeq(),
    mesosScalars: ext.mesos,
    nodeExt: ext.node,
  };
}

export interface FilterPlugin<D = unknown> {
  readonly name: string;
  /** Once per pod, before any agent: undefined means this filter has nothing to check for the pod. */
  prepare(pod: PodCtx, st: CycleState): D | undefined;
  /** undefined = the agent passes. */
  filter(data: D, a: WAgent, pod: PodCtx, st: CycleState): Status | undefined;
  /**
   * Optional, for filters that read only per-agent arrays: true when filter() would fail the agent numbered `idx`.
   * The search uses it when every active filter has one, and then never loads the agents it rejects.
   */
  rejectsAt?(data: D, idx: number): boolean;
  /**
   * Optional, with rejectsAt: whether allowedWord() can answer for this pod. allowedWord(data, w): the agents
   * 32w..32w+31 rejectsAt() lets through, as the bits of one word (bit k: agent 32w + k), so that the search skips the
   * rejected ones 32 at a time.
   */
  answersByWord?(data: D): boolean;
  allowedWord?(data: D, w: number): number;
}

/**
 * How raw scores become 0..100 over the feasible agents: 'none' (already 0..100), 'max' (raw·100/max),
 * 'reverseMax' (100 − raw·100/max), 'minmax' ((raw−min)·100/(max−min)), 'minmaxReverse' (lowest raw best).
 * A NaN raw score means "worst" and normalises to 0.
 */
export type Normalize = 'none' | 'max' | 'reverseMax' | 'minmax' | 'minmaxReverse';

export interface ScorePlugin<D = unknown> {
  readonly name: string;
  readonly normalize: Normalize;
  /** undefined = this score does not apply to the pod. */
  prepare(pod: PodCtx, st: CycleState): { data: D; weight: number } | undefined;
  score(data: D, a: WAgent, pod: PodCtx, st: CycleState): number;
  /** Optional, for scores that read only per-agent arrays: score() of the agent numbered `idx`, without loading it. */
  scoreAt?(data: D, idx: number): number;
  /**
   * Optional, for local scores (search-cache.ts): score() of agent `idx` read from the table's columns, into
   * need.out[0], for an agent with one offered role that holds the pod (need.take: what the pod takes there). Must
   * equal score() bit for bit. Numbers cross the call in typed arrays only: a double argument or result of a call V8
   * does not inline is a heap allocation, here one per agent examined.
   */
  scoreFree?(data: D, idx: number, need: FreeNeed, st: CycleState): void;
}

export function normalizeScores(raw: Float64Array, n: number, how: Normalize): void {
  if (how === 'none') return;
  let max = -Infinity;
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    const v = raw[i];
    if (Number.isNaN(v)) continue;
    if (v > max) max = v;
    if (v < min) min = v;
  }
  for (let i = 0; i < n; i++) {
    const v = raw[i];
    if (Number.isNaN(v)) {
      raw[i] = 0;
      continue;
    }
    switch (how) {
      case 'max':
        raw[i] = max > 0 ? (v * 100) / max : 0;
        break;
      case 'reverseMax':
        raw[i] = max > 0 ? 100 - (v * 100) / max : 100;
        break;
      case 'minmax':
        raw[i] = max > min ? ((v - min) * 100) / (max - min) : 0;
        break;
      case 'minmaxReverse':
        raw[i] = max > min ? ((max - v) * 100) / (max - min) : 100;
        break;
    }
  }
}

/** Kubernetes' ToleratesTaint. */
export function tolerates(
  tolerations: readonly { key?: string; operator?: string; value?: string; effect?: string }[],
  taint: { key: string; value?: string; effect: string },
): boolean {
  for (const t of tolerations) {
    if (t.effect && t.effect !== taint.effect) continue;
    if (t.key && t.key !== taint.key) continue;
    const op = t.operator || 'Equal';
    if (op === 'Exists') return true;
    if (op === 'Equal' && (t.value ?? '') === (taint.value ?? '')) return true;
  }
  return false;
}
