/**
 * The pieces of Mesos' hierarchical DRF allocator that are pure arithmetic (master/allocator/mesos/hierarchical.cpp,
 * sorter/drf/sorter.cpp): dominant shares, the sort order, the per-cycle agent shuffle, min allocatable resources and the
 * lifetime of a refusal filter.
 */
import type { ResourceBag } from '../resources.js';

/** The master's default --min_allocatable_resources: `cpus:0.01|mem:32` (master/constants.hpp MIN_CPUS, MIN_MEM). */
export const DEFAULT_MIN_ALLOCATABLE: Record<string, number>[] = [{ cpus: 0.01 }, { mem: 32 }];

/**
 * DRFSorter::calculateShare: the largest allocated/total ratio over every scalar the cluster has (cpus, mem, disk,
 * gpus…), divided by the client's weight.
 */
export function dominantShare(allocated: ResourceBag | undefined, total: ReadonlyMap<string, number>, weight = 1): number {
  if (!allocated) return 0;
  let share = 0;
  for (const [name, t] of total) {
    if (t <= 0) continue;
    const a = allocated.scalars.get(name);
    if (a !== undefined && a / t > share) share = a / t;
  }
  return share / (weight > 0 ? weight : 1);
}

/** One client of a sorter (a role, or a framework within a role). */
export interface SortKey {
  share: number;
  /** How many times it was chosen for an allocation (DRFSorter's `allocation.count`). */
  count: number;
  name: string;
}

/** DRFSorter::Node::compareDRF: lower share first, then fewer allocations, then the name. */
export function compareDrf(a: SortKey, b: SortKey): number {
  if (a.share !== b.share) return a.share - b.share;
  if (a.count !== b.count) return a.count - b.count;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** std::random_shuffle of the candidate agents each cycle, with the emulator's seeded randomness (Fisher–Yates, in place). */
export function shuffle<T>(xs: T[], random: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const t = xs[i];
    xs[i] = xs[j];
    xs[j] = t;
  }
  return xs;
}

/** HierarchicalAllocatorProcess::allocatable: non-empty and holding at least one of the minimum quantity sets. */
export function allocatable(offered: ResourceBag, mins: readonly Record<string, number>[]): boolean {
  if (offered.isEmpty()) return false;
  if (mins.length === 0) return true;
  return mins.some((m) => Object.entries(m).every(([name, q]) => offered.scalar(name) >= q));
}

/**
 * How long a refusal filter lives (recoverResources): refuse_seconds, but never less than one allocation interval so
 * the filter outlives the next batch allocation of the agent (MESOS-4302); 0 means no filter.
 */
export function filterLifetimeMs(refuseSeconds: number, allocationIntervalMs: number): number {
  if (refuseSeconds <= 0) return 0;
  return Math.max(allocationIntervalMs, refuseSeconds * 1000);
}

/** The master's --weights text, `role=weight,role=weight` (weights > 0), as a record; an error names the bad pair. */
export function parseWeights(text: string): { ok: true; value: Record<string, number> } | { ok: false; error: string } {
  const value: Record<string, number> = {};
  for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([^=\s]+)=([0-9]*\.?[0-9]+)$/.exec(pair);
    const w = m ? Number(m[2]) : NaN;
    if (!m || !(w > 0)) return { ok: false, error: `"${pair}" is not role=weight with a weight > 0` };
    value[m[1]] = w;
  }
  return { ok: true, value };
}
