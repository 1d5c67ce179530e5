/** The sharing benchmark's arithmetic, pure: what the batch framework can hold, when it is back, how declines came back. */
import { percentile } from './figures.js';

export interface ShareSample {
  /** ms since the burst started (negative before it). */
  t: number;
  km: number;
  batch: number;
  kmOfferedCpus: number;
  kmSuppressed: boolean;
}

export interface ClusterShape {
  agents: number;
  agentCpus: number;
  agentMemMb: number;
  totalCpus: number;
  totalMemMb: number;
}

/**
 * The dominant share the batch framework holds when it fills every agent with whole tasks around what kube-mesos uses
 * there (`used`: agent id → scalars; agents not listed are free). Agents are alike (the benchmark's cluster).
 */
export function attainableShare(c: ClusterShape, task: { cpus: number; memMb: number }, used: Record<string, Record<string, number>>): number {
  const fit = (cpus: number, mem: number) => Math.max(0, Math.floor(Math.min(cpus / task.cpus, mem / task.memMb) + 1e-9));
  const listed = Object.values(used);
  let tasks = (c.agents - listed.length) * fit(c.agentCpus, c.agentMemMb);
  for (const u of listed) tasks += fit(c.agentCpus - (u.cpus ?? 0), c.agentMemMb - (u.mem ?? 0));
  if (c.totalCpus <= 0 || c.totalMemMb <= 0) return 0;
  return Math.max((tasks * task.cpus) / c.totalCpus, (tasks * task.memMb) / c.totalMemMb);
}

/**
 * The batch framework's share when the burst was placed (the last sample at or before it), and the ms from then to the
 * first sample at or after it that reaches `target` (0 if it already had; undefined if never).
 */
export function backAfter(samples: readonly ShareSample[], placedMs: number, target: number): { atPlaced: number; ms: number | undefined } {
  let atPlaced = 0;
  for (const s of samples) if (s.t <= placedMs) atPlaced = s.batch;
  if (atPlaced >= target) return { atPlaced, ms: 0 };
  const first = samples.find((s) => s.t >= placedMs && s.batch >= target);
  return { atPlaced, ms: first ? first.t - placedMs : undefined };
}

export interface ReofferFigures {
  n: number;
  min_gap_ms: number;
  p50_gap_ms: number | null;
  /** Came back before refuse_seconds ended because the agent had more to offer than was refused (as in Mesos). */
  early_grown: number;
  /** Came back before refuse_seconds ended with nothing more to offer: a filter that did not hold. Must be 0. */
  early_not_grown: number;
}

/** When kube-mesos' share settled: the first sample from which on it stays within `tol` of its final share. */
export function settledAt(samples: readonly ShareSample[], tol: number): number | undefined {
  if (samples.length === 0) return undefined;
  const final = samples[samples.length - 1].km;
  let at: number | undefined;
  for (let i = samples.length - 1; i >= 0 && Math.abs(samples[i].km - final) <= tol; i--) at = samples[i].t;
  return at;
}

/** Per refuse_seconds: how many declined agents came back, the gap until they did, and how many came back before it ended. */
export function reofferSummary(reoffers: readonly { refuse_seconds: number; gap_ms: number; grown: boolean }[]): Record<string, ReofferFigures> {
  const by = new Map<number, { gap_ms: number; grown: boolean }[]>();
  for (const r of reoffers) {
    const l = by.get(r.refuse_seconds) ?? [];
    l.push(r);
    by.set(r.refuse_seconds, l);
  }
  const out: Record<string, ReofferFigures> = {};
  for (const [refuse, rs] of [...by].sort((a, b) => a[0] - b[0])) {
    const gaps = rs.map((r) => r.gap_ms);
    const early = rs.filter((r) => r.gap_ms < refuse * 1000);
    out[String(refuse)] = { n: rs.length, min_gap_ms: Math.min(...gaps), p50_gap_ms: percentile(gaps, 50), early_grown: early.filter((r) => r.grown).length, early_not_grown: early.filter((r) => !r.grown).length };
  }
  return out;
}

/**
 * A quantile (0–1) from cumulative histogram buckets (`le` upper bounds, +Inf included, counts cumulative), as
 * Prometheus' histogram_quantile interpolates within the bucket; null without observations. In the +Inf bucket: the
 * last finite bound.
 */
export function histogramQuantile(buckets: readonly { le: number; count: number }[], q: number): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      return prevLe + (b.le - prevLe) * ((rank - prevCount) / Math.max(1e-12, b.count - prevCount));
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
