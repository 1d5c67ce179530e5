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

/** Per refuse_seconds: how many declined agents came back, the gap until they did, and how many came back earlier than it. */
export function reofferSummary(reoffers: readonly { refuse_seconds: number; gap_ms: number }[]): Record<string, { n: number; min_gap_ms: number; p50_gap_ms: number | null; early: number }> {
  const by = new Map<number, number[]>();
  for (const r of reoffers) {
    const l = by.get(r.refuse_seconds) ?? [];
    l.push(r.gap_ms);
    by.set(r.refuse_seconds, l);
  }
  const out: Record<string, { n: number; min_gap_ms: number; p50_gap_ms: number | null; early: number }> = {};
  for (const [refuse, gaps] of [...by].sort((a, b) => a[0] - b[0])) {
    out[String(refuse)] = { n: gaps.length, min_gap_ms: Math.min(...gaps), p50_gap_ms: percentile(gaps, 50), early: gaps.filter((g) => g < refuse * 1000).length };
  }
  return out;
}
