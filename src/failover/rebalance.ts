/**
 * Rebalancing after a zone recovers (failover.rebalance): while a zone was failed its pods were replaced in the other
 * zones, so spread groups now lean away from it. This pure planner picks, per group of siblings whose pods declare a
 * zone topology spread, the pods to move back — a few at a time, from the fullest zones, never below what the spread
 * allows — for the caller to evict through the Eviction API (PodDisruptionBudgets decide the pace).
 */
export interface RebalancePod {
  key: string;
  /** Sibling group: the controller's uid. */
  group: string;
  zone: string;
  /** The group's zone spread allows this skew (maxSkew of its zone topologySpreadConstraint). */
  maxSkew: number;
}

export interface RebalanceConfig {
  /** Most pods moved per group per round. */
  perGroup: number;
  /** Most pods moved per round overall. */
  total: number;
}

export const DEFAULT_REBALANCE: RebalanceConfig = { perGroup: 1, total: 10 };

/**
 * Pods to evict so each group's zones come back within maxSkew, counting the recovered (healthy) zones that have fewer
 * pods. `zones`: the healthy zones eligible for the group's pods.
 */
export function planRebalance(pods: readonly RebalancePod[], zones: readonly string[], cfg: RebalanceConfig = DEFAULT_REBALANCE): string[] {
  const groups = new Map<string, RebalancePod[]>();
  for (const p of pods) {
    const list = groups.get(p.group) ?? [];
    list.push(p);
    groups.set(p.group, list);
  }
  const out: string[] = [];
  for (const [, list] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    if (out.length >= cfg.total) break;
    const maxSkew = Math.max(1, Math.min(...list.map((p) => p.maxSkew)));
    const count = new Map<string, number>(zones.map((z) => [z, 0]));
    for (const p of list) if (count.has(p.zone)) count.set(p.zone, count.get(p.zone)! + 1);
    const picked: string[] = [];
    for (let i = 0; i < cfg.perGroup && out.length + picked.length < cfg.total; i++) {
      const sorted = [...count].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const [fullZone, full] = sorted[0];
      const [, empty] = sorted[sorted.length - 1];
      // Moving one pod must leave the group at least as balanced: only when the gap exceeds the allowed skew.
      if (full - empty <= maxSkew) break;
      const candidate = list.filter((p) => p.zone === fullZone && !picked.includes(p.key)).sort((a, b) => a.key.localeCompare(b.key))[0];
      if (!candidate) break;
      picked.push(candidate.key);
      count.set(fullZone, full - 1);
      const emptyZone = sorted[sorted.length - 1][0];
      count.set(emptyZone, empty + 1);
    }
    out.push(...picked);
  }
  return out;
}
