/**
 * Replacement pacing as Kubernetes' node lifecycle controller paces evictions (pkg/controller/nodelifecycle): agents,
 * not pods, are admitted for replacement, through one token bucket per zone (burst 1) whose rate follows the zone's
 * state:
 * - normal: `nodeEvictionRate` (--node-eviction-rate, 0.1 agent/s);
 * - partial disruption (more than 2 agents lost and at least `unhealthyZoneThreshold` of them, 0.55): the
 *   `secondaryNodeEvictionRate` (0.01/s) if the zone has more than `largeClusterSizeThreshold` (50) agents, else 0;
 * - full disruption (every agent of the zone lost): `nodeEvictionRate`, unless every zone is fully disrupted, then 0.
 * Once an agent is admitted every pod of it may be replaced. Pure: state in, state out, time passed in.
 */

export interface PacingConfig {
  nodeEvictionRate: number;
  secondaryNodeEvictionRate: number;
  unhealthyZoneThreshold: number;
  largeClusterSizeThreshold: number;
}

export const DEFAULT_PACING: PacingConfig = { nodeEvictionRate: 0.1, secondaryNodeEvictionRate: 0.01, unhealthyZoneThreshold: 0.55, largeClusterSizeThreshold: 50 };

export type ZoneState = 'normal' | 'partial-disruption' | 'full-disruption';

/** ComputeZoneState of the node lifecycle controller. */
export function zoneState(agents: number, lost: number, c: PacingConfig): ZoneState {
  const ready = agents - lost;
  if (ready === 0 && lost > 0) return 'full-disruption';
  if (lost > 2 && lost / agents >= c.unhealthyZoneThreshold) return 'partial-disruption';
  return 'normal';
}

/** Agents admitted per second in a zone of that state and size; `allFull`: every zone is fully disrupted. */
export function zoneRate(state: ZoneState, zoneSize: number, allFull: boolean, c: PacingConfig): number {
  if (allFull) return 0;
  if (state === 'partial-disruption') return zoneSize > c.largeClusterSizeThreshold ? c.secondaryNodeEvictionRate : 0;
  return c.nodeEvictionRate;
}

export interface PacingState {
  /** zone → tokens (at most 1) and when last refilled. */
  zones: Readonly<Record<string, { tokens: number; lastMs: number }>>;
  /** Agents admitted for replacement (all their pods may go). */
  admitted: ReadonlySet<string>;
}

export const newPacing = (): PacingState => ({ zones: {}, admitted: new Set() });

export interface ZoneCounts {
  agents: number;
  lost: number;
}

/**
 * Admits agents whose pods are due, in the order given (earliest due first), one token each from their zone's bucket.
 * Returns the new state, the agents admitted now or before, and when the next token of a waiting zone is ready.
 */
export function admitAgents(
  want: readonly { agentId: string; zone: string }[],
  zones: ReadonlyMap<string, ZoneCounts>,
  state: PacingState,
  c: PacingConfig,
  nowMs: number,
): { state: PacingState; admitted: ReadonlySet<string>; nextTokenMs: number | undefined } {
  const states = new Map([...zones].map(([z, n]) => [z, zoneState(n.agents, n.lost, c)]));
  const allFull = states.size > 0 && [...states.values()].every((s) => s === 'full-disruption');
  const buckets: Record<string, { tokens: number; lastMs: number }> = {};
  const rateOf = (z: string) => zoneRate(states.get(z) ?? 'normal', zones.get(z)?.agents ?? 0, allFull, c);
  const bucket = (z: string) => {
    let b = buckets[z];
    if (!b) {
      const old = state.zones[z] ?? { tokens: 1, lastMs: nowMs };
      const add = (Math.max(0, nowMs - old.lastMs) / 1000) * rateOf(z);
      b = buckets[z] = { tokens: Math.min(1, old.tokens + add), lastMs: Math.max(nowMs, old.lastMs) };
    }
    return b;
  };
  const admitted = new Set(state.admitted);
  let nextTokenMs: number | undefined;
  for (const w of want) {
    if (admitted.has(w.agentId)) continue;
    const b = bucket(w.zone);
    const rate = rateOf(w.zone);
    // Rate 0 is Kubernetes' never-limiter: not even the first token.
    if (rate > 0 && b.tokens >= 1) {
      b.tokens -= 1;
      admitted.add(w.agentId);
      continue;
    }
    if (rate > 0) {
      const at = nowMs + ((1 - b.tokens) / rate) * 1000;
      nextTokenMs = nextTokenMs === undefined ? at : Math.min(nextTokenMs, at);
    }
  }
  return { state: { zones: { ...state.zones, ...buckets }, admitted }, admitted, nextTokenMs };
}

/** An agent is back (or forgotten): it needs a token again next time. */
export function releaseAgent(state: PacingState, agentId: string): PacingState {
  if (!state.admitted.has(agentId)) return state;
  const admitted = new Set(state.admitted);
  admitted.delete(agentId);
  return { ...state, admitted };
}
