/**
 * What running on Mesos costs a pod on real kubelets: per-pod timelines (epoch ms, one host clock) of kube-mesos and
 * kube-scheduler pods on the same Nodes, summarised as p50/p90/max per step and per contender, and the difference. Pure.
 */
import { percentile } from './figures.js';

export type Contender = 'kube-mesos' | 'kube-scheduler';

/** One pod's way, every field a time in epoch ms (absent when it was not seen). */
export interface PodTimeline {
  name: string;
  contender: Contender;
  /** Just before the create request left the bench. */
  created: number;
  /** The bench's pod watch first saw spec.nodeName. */
  bound?: number;
  /** That spec.nodeName. */
  node?: string;
  /** The container's first instruction (it prints /proc/uptime first thing; converted to epoch ms). */
  started?: number;
  /** The bench's watch first saw the container's state.running (the kubelet's status write). */
  running?: number;
  /** The bench's watch first saw ContainersReady=True. */
  ready?: number;
  /** The container's first log line came back from the API server (pods/log, polled). */
  firstLog?: number;
  /** kube-mesos only, from the scheduler's side of the Mesos protocol: */
  mesos?: MesosTimes;
}

export interface MesosTimes {
  /** The scheduler's pod informer delivered the pod. */
  seen?: number;
  /** The latest arrival among the offers the pod's ACCEPT used. */
  offer?: number;
  /** The ACCEPT carrying the pod's task was sent. */
  accept?: number;
  /** The executor's TASK_STARTING status timestamp: when the executor had the LAUNCH. */
  launched?: number;
  /** TASK_STARTING reached the scheduler (which then writes the Binding). */
  starting?: number;
  /** TASK_RUNNING reached the scheduler. */
  taskRunning?: number;
}

export interface Spread {
  n: number;
  p50: number | null;
  p90: number | null;
  max: number | null;
}

function spread(values: number[]): Spread {
  const r = (x: number | null) => (x === null ? null : Math.round(x));
  return { n: values.length, p50: r(percentile(values, 50)), p90: r(percentile(values, 90)), max: r(values.length ? Math.max(...values) : null) };
}

/** Durations `to − from` of the pods that have both ends. */
function durations(pods: readonly PodTimeline[], from: (p: PodTimeline) => number | undefined, to: (p: PodTimeline) => number | undefined): number[] {
  const out: number[] = [];
  for (const p of pods) {
    const a = from(p);
    const b = to(p);
    if (a !== undefined && b !== undefined) out.push(b - a);
  }
  return out;
}

/** From create: what a user waits for. */
export const TOTALS = {
  create_to_bound: (p: PodTimeline) => p.bound,
  create_to_container_started: (p: PodTimeline) => p.started,
  create_to_running_in_api: (p: PodTimeline) => p.running,
  create_to_containers_ready: (p: PodTimeline) => p.ready,
  create_to_first_log_line: (p: PodTimeline) => p.firstLog,
} as const;

type Step = [from: (p: PodTimeline) => number | undefined, to: (p: PodTimeline) => number | undefined];

/**
 * kube-mesos' way, step by step, in order: the steps add up to create → container started (offer_wait is zero when the
 * pod found offers already held).
 */
export const MESOS_STEPS: Record<string, Step> = {
  /** API server → the scheduler's pod watch. */
  watch_to_scheduler: [(p) => p.created, (p) => p.mesos?.seen],
  /** Seen with no usable offer in hand: REVIVE (if suppressed) → the allocator's OFFERS. */
  offer_wait: [(p) => p.mesos?.seen, (p) => (p.mesos?.seen === undefined || p.mesos.offer === undefined ? undefined : Math.max(p.mesos.seen, p.mesos.offer))],
  /** Queue, cycle batching (placement.cycleInterval), plan, assume → ACCEPT sent. */
  cycle_to_accept: [(p) => (p.mesos?.seen === undefined || p.mesos.offer === undefined ? undefined : Math.max(p.mesos.seen, p.mesos.offer)), (p) => p.mesos?.accept],
  /** Master: ACCEPT → task → agent → LAUNCH on the executor's stream. */
  accept_to_launch: [(p) => p.mesos?.accept, (p) => p.mesos?.launched],
  /** Executor's TASK_STARTING → agent → master → the scheduler. */
  launch_to_task_starting: [(p) => p.mesos?.launched, (p) => p.mesos?.starting],
  /** The scheduler's Binding, until the pod watch shows spec.nodeName. */
  bind: [(p) => p.mesos?.starting, (p) => p.bound],
  /** The kubelet's sync: bound → the container's first instruction (sandbox, CNI, container create and start). */
  kubelet_sync: [(p) => p.bound, (p) => p.started],
};

/** kube-scheduler's way: the same last step, and everything before it in one. */
export const KUBE_SCHEDULER_STEPS: Record<string, Step> = {
  schedule_and_bind: [(p) => p.created, (p) => p.bound],
  kubelet_sync: [(p) => p.bound, (p) => p.started],
};

/** After the container started: what both contenders share (the kubelet's status write, the log path). */
export const AFTER_START: Record<string, Step> = {
  started_to_running_in_api: [(p) => p.started, (p) => p.running],
  started_to_first_log_line: [(p) => p.started, (p) => p.firstLog],
};

export interface ContenderFigures {
  pods: number;
  /** Pods that reached every point the bench waits for. */
  complete: number;
  /** Where the contender put them (a kubelet with more pods of a batch takes longer for its last ones). */
  pods_per_node: Record<string, number>;
  totals: Record<keyof typeof TOTALS, Spread>;
  steps: Record<string, Spread>;
  after_start: Record<string, Spread>;
}

export function contenderFigures(pods: readonly PodTimeline[], contender: Contender): ContenderFigures {
  const mine = pods.filter((p) => p.contender === contender);
  const steps = contender === 'kube-mesos' ? MESOS_STEPS : KUBE_SCHEDULER_STEPS;
  const of = (table: Record<string, Step>) => Object.fromEntries(Object.entries(table).map(([k, [a, b]]) => [k, spread(durations(mine, a, b))]));
  return {
    pods: mine.length,
    complete: mine.filter(isComplete).length,
    pods_per_node: countBy(mine.map((p) => p.node ?? '(none seen)')),
    totals: Object.fromEntries(Object.entries(TOTALS).map(([k, to]) => [k, spread(durations(mine, (p) => p.created, to))])) as ContenderFigures['totals'],
    steps: of(steps),
    after_start: of(AFTER_START),
  };
}

function countBy(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of [...keys].sort()) out[k] = (out[k] ?? 0) + 1;
  return out;
}

export function isComplete(p: PodTimeline): boolean {
  return p.bound !== undefined && p.started !== undefined && p.running !== undefined && p.ready !== undefined && p.firstLog !== undefined;
}

const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

/**
 * What Mesos costs per pod: kube-mesos minus kube-scheduler at p50 and p90, for every total; and kube-mesos' own steps
 * before the kubelet (what kube-scheduler does in `schedule_and_bind`), so the difference can be read by part.
 */
export function mesosCost(m: ContenderFigures, k: ContenderFigures): Record<string, { p50: number | null; p90: number | null }> & { parts_p50: Record<string, number | null> } {
  const out: Record<string, { p50: number | null; p90: number | null }> = {};
  for (const key of Object.keys(TOTALS) as (keyof typeof TOTALS)[]) out[key] = { p50: diff(m.totals[key].p50, k.totals[key].p50), p90: diff(m.totals[key].p90, k.totals[key].p90) };
  const parts: Record<string, number | null> = {};
  for (const key of Object.keys(MESOS_STEPS)) if (key !== 'kubelet_sync') parts[key] = m.steps[key]?.p50 ?? null;
  parts.kube_scheduler_schedule_and_bind = k.steps.schedule_and_bind?.p50 ?? null;
  parts.kubelet_sync_difference = diff(m.steps.kubelet_sync?.p50 ?? null, k.steps.kubelet_sync?.p50 ?? null);
  return Object.assign(out, { parts_p50: parts });
}

/**
 * Epoch ms of the host's boot, from `/proc/uptime` readings taken with Date.now(): uptime is truncated to 10 ms, so
 * every sample overestimates the boot time by up to 10 ms and the smallest is the best.
 */
export function bootEpochMs(samples: readonly { nowMs: number; uptimeText: string }[]): number {
  let best = Infinity;
  for (const s of samples) {
    const up = Number(s.uptimeText.trim().split(/\s+/)[0]);
    if (Number.isFinite(up)) best = Math.min(best, s.nowMs - up * 1000);
  }
  if (!Number.isFinite(best)) throw new Error('no readable /proc/uptime sample');
  return best;
}

/** The container's first line is `first-line <uptime seconds>`: its start in epoch ms, or undefined if not there yet. */
export function startedFromLog(log: string, bootMs: number): number | undefined {
  const m = /first-line (\d+(?:\.\d+)?)/.exec(log);
  return m ? bootMs + Number(m[1]) * 1000 : undefined;
}
