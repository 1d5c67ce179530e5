/**
 * The elastic kubelet pool's planner: compares the kubelets there are with the ones wanted and says what to change.
 * Scale-up happens in placement (a kubelet is launched with the first pod on an agent); here: warm kubelets for zones
 * short of `minPerZone`, removal of idle kubelets, and (optionally) consolidation of under-used ones, in the manner of
 * cluster-autoscaler's scale-down (idle for a while, utilisation below a threshold, pods fit elsewhere, PDBs and
 * `safe-to-evict` respected). Pure: time and state are passed in.
 */
export interface PoolConfig {
  minPerZone: number;
  /** 0 = unlimited. */
  max: number;
  /** 0 = unlimited. */
  maxPerZone: number;
  idleTimeoutMs: number;
  /** A kubelet whose requested/capacity is below this may be consolidated (cluster-autoscaler: 0.5). */
  scaleDownUtilization: number;
  consolidation: boolean;
  maxConcurrentScaleDowns: number;
  /** How long a kubelet must have been under-used before consolidation considers it. */
  consolidationDelayMs: number;
  /** A consolidation drain still not done after this long (a PodDisruptionBudget blocks it) is abandoned. Default 10 min. */
  drainTimeoutMs?: number;
  /**
   * Whether DaemonSet pods keep a kubelet up. false (the default): a kubelet whose only pods are DaemonSet pods is idle,
   * as cluster-autoscaler does not count DaemonSet pods; its Node goes and the DaemonSet's pod with it.
   */
  daemonSetPodsKeepKubelet?: boolean;
}

export const DEFAULT_POOL_CONFIG: PoolConfig = {
  minPerZone: 0,
  max: 0,
  maxPerZone: 0,
  idleTimeoutMs: 10 * 60_000,
  scaleDownUtilization: 0.5,
  consolidation: false,
  maxConcurrentScaleDowns: 1,
  consolidationDelayMs: 10 * 60_000,
};

export interface PoolPod {
  key: string;
  cpus: number;
  mem: number;
  /** Annotated `kube-mesos.io/safe-to-evict: "false"`, or otherwise not movable (bare pod without reschedule-on-loss). */
  evictable: boolean;
  /** Names of PDBs covering the pod. */
  pdbs: string[];
  /** Owned by a DaemonSet: does not keep the kubelet up unless `daemonSetPodsKeepKubelet`. */
  daemonSet?: boolean;
}

export interface PoolKubelet {
  agentId: string;
  zone: string;
  state: 'launching' | 'running' | 'draining' | 'removing';
  /** When the last pod that keeps it up left (see `daemonSetPodsKeepKubelet`); undefined while one runs. */
  idleSinceMs: number | undefined;
  /** Since when utilisation has been below the threshold (tracked by the applier); undefined if not. */
  underusedSinceMs: number | undefined;
  capacity: { cpus: number; mem: number };
  pods: PoolPod[];
}

export interface PoolAgent {
  id: string;
  zone: string;
  hasKubelet: boolean;
  /** Usable right now for a warm kubelet (offers held, not unschedulable, zone healthy). */
  launchable: boolean;
}

export interface PoolState {
  nowMs: number;
  kubelets: PoolKubelet[];
  agents: PoolAgent[];
  /** Disruptions still allowed per PDB name (status.disruptionsAllowed). */
  pdbAllowed: Record<string, number>;
  /** Zones where nothing may be placed (failed): no warm kubelets there. */
  failedZones?: ReadonlySet<string>;
}

export type PoolAction =
  | { kind: 'launch-warm'; agentId: string; zone: string; reason: 'min-per-zone' }
  | { kind: 'remove-idle'; agentId: string; zone: string; reason: 'idle' }
  | { kind: 'consolidate'; agentId: string; zone: string; reason: 'underutilized'; evict: string[] };

export interface PoolPlan {
  actions: PoolAction[];
  /** Why a kubelet that looked removable was kept (for events and metrics). */
  blocked: { agentId: string; reason: string }[];
}

export function validatePoolConfig(c: PoolConfig): string[] {
  const errs: string[] = [];
  if (!Number.isInteger(c.minPerZone) || c.minPerZone < 0) errs.push('pool.minPerZone must be a whole number ≥ 0');
  if (!Number.isInteger(c.max) || c.max < 0) errs.push('pool.max must be a whole number ≥ 0 (0 = unlimited)');
  if (!Number.isInteger(c.maxPerZone) || c.maxPerZone < 0) errs.push('pool.maxPerZone must be a whole number ≥ 0 (0 = unlimited)');
  if (c.maxPerZone > 0 && c.minPerZone > c.maxPerZone) errs.push('pool.minPerZone must not exceed pool.maxPerZone');
  if (c.scaleDownUtilization < 0 || c.scaleDownUtilization > 1) errs.push('pool.scaleDownUtilization must be within [0, 1]');
  if (!Number.isInteger(c.maxConcurrentScaleDowns) || c.maxConcurrentScaleDowns < 1) errs.push('pool.maxConcurrentScaleDowns must be ≥ 1');
  if (c.idleTimeoutMs < 0) errs.push('pool.idleTimeout must not be negative');
  return errs;
}

/** Whether a zone may get one more kubelet, given the limits. Used by placement's snapshot too. */
export function canAddKubelet(zone: string, counts: { total: number; perZone: ReadonlyMap<string, number> }, c: PoolConfig): boolean {
  if (c.max > 0 && counts.total >= c.max) return false;
  if (c.maxPerZone > 0 && (counts.perZone.get(zone) ?? 0) >= c.maxPerZone) return false;
  return true;
}

/** Kubelets in all and per zone, for the pool's limits. */
export interface KubeletCounts {
  total: number;
  perZone: Map<string, number>;
}

export function kubeletCounts(kubelets: readonly Pick<PoolKubelet, 'zone' | 'state'>[]): KubeletCounts {
  const perZone = new Map<string, number>();
  let total = 0;
  for (const k of kubelets) {
    if (k.state === 'removing') continue;
    total++;
    perZone.set(k.zone, (perZone.get(k.zone) ?? 0) + 1);
  }
  return { total, perZone };
}

export function utilization(k: PoolKubelet): number {
  let cpus = 0;
  let mem = 0;
  for (const p of k.pods) {
    cpus += p.cpus;
    mem += p.mem;
  }
  const cpuU = k.capacity.cpus > 0 ? cpus / k.capacity.cpus : 0;
  const memU = k.capacity.mem > 0 ? mem / k.capacity.mem : 0;
  return Math.max(cpuU, memU); // cluster-autoscaler: the larger of cpu and memory utilisation
}

export function planPool(s: PoolState, c: PoolConfig): PoolPlan {
  const actions: PoolAction[] = [];
  const blocked: PoolPlan['blocked'] = [];
  const counts = kubeletCounts(s.kubelets);
  const failed = s.failedZones ?? new Set<string>();

  // 1. Warm pool: launch kubelets in zones short of minPerZone, on agents that have none.
  if (c.minPerZone > 0) {
    const zones = [...new Set(s.agents.map((a) => a.zone))].sort();
    for (const zone of zones) {
      if (failed.has(zone)) continue;
      const candidates = s.agents.filter((a) => a.zone === zone && !a.hasKubelet && a.launchable).sort((a, b) => a.id.localeCompare(b.id));
      let have = counts.perZone.get(zone) ?? 0;
      for (const a of candidates) {
        if (have >= c.minPerZone || !canAddKubelet(zone, counts, c)) break;
        actions.push({ kind: 'launch-warm', agentId: a.id, zone, reason: 'min-per-zone' });
        have++;
        counts.total++;
        counts.perZone.set(zone, have);
      }
    }
  }

  // 2. Scale down, at most maxConcurrentScaleDowns at a time (those already draining/removing count).
  let budget = c.maxConcurrentScaleDowns - s.kubelets.filter((k) => k.state === 'draining' || k.state === 'removing').length;
  const keepInZone = (zone: string) => (counts.perZone.get(zone) ?? 0) <= c.minPerZone;

  const idle = s.kubelets
    .filter((k) => k.state === 'running' && isIdle(k, c) && k.idleSinceMs !== undefined && s.nowMs - k.idleSinceMs >= c.idleTimeoutMs)
    .sort((a, b) => a.idleSinceMs! - b.idleSinceMs! || a.agentId.localeCompare(b.agentId));
  for (const k of idle) {
    if (keepInZone(k.zone)) {
      blocked.push({ agentId: k.agentId, reason: `zone ${k.zone} is at pool.minPerZone (${c.minPerZone})` });
      continue;
    }
    if (budget <= 0) {
      blocked.push({ agentId: k.agentId, reason: `pool.maxConcurrentScaleDowns (${c.maxConcurrentScaleDowns}) reached` });
      continue;
    }
    actions.push({ kind: 'remove-idle', agentId: k.agentId, zone: k.zone, reason: 'idle' });
    counts.perZone.set(k.zone, (counts.perZone.get(k.zone) ?? 1) - 1);
    budget--;
  }

  // 3. Consolidation: an under-used kubelet whose pods all fit on the remaining kubelets is drained.
  if (c.consolidation && budget > 0) {
    const removing = new Set(actions.filter((a) => a.kind !== 'launch-warm').map((a) => a.agentId));
    const live = s.kubelets.filter((k) => k.state === 'running' && !removing.has(k.agentId));
    const free = new Map(live.map((k) => [k.agentId, freeOf(k)]));
    const pdbLeft = { ...s.pdbAllowed };
    const candidates = live
      .filter((k) => k.pods.length > 0 && utilization(k) < c.scaleDownUtilization)
      .filter((k) => k.underusedSinceMs !== undefined && s.nowMs - k.underusedSinceMs >= c.consolidationDelayMs)
      .sort((a, b) => utilization(a) - utilization(b) || a.agentId.localeCompare(b.agentId));
    const targets = new Set<string>();
    for (const k of candidates) {
      if (budget <= 0) break;
      if (targets.has(k.agentId)) continue; // already receiving pods from another consolidation
      if (keepInZone(k.zone)) continue;
      const notEvictable = k.pods.find((p) => !p.evictable);
      if (notEvictable) {
        blocked.push({ agentId: k.agentId, reason: `pod ${notEvictable.key} is not safe to evict` });
        continue;
      }
      const pdbNeed = new Map<string, number>();
      for (const p of k.pods) for (const pdb of p.pdbs) pdbNeed.set(pdb, (pdbNeed.get(pdb) ?? 0) + 1);
      const pdbBlock = [...pdbNeed].find(([pdb, n]) => (pdbLeft[pdb] ?? 0) < n);
      if (pdbBlock) {
        blocked.push({ agentId: k.agentId, reason: `PodDisruptionBudget ${pdbBlock[0]} allows ${pdbLeft[pdbBlock[0]] ?? 0} disruption(s), ${pdbBlock[1]} needed` });
        continue;
      }
      // First-fit-decreasing of its pods onto the other live kubelets (not itself, not other candidates being drained).
      const trial = new Map([...free].filter(([id]) => id !== k.agentId && !removing.has(id)).map(([id, f]) => [id, { ...f }]));
      const pods = [...k.pods].sort((a, b) => b.cpus - a.cpus || b.mem - a.mem);
      const used: string[] = [];
      let fits = true;
      for (const p of pods) {
        const target = [...trial].find(([, f]) => f.cpus >= p.cpus - 1e-9 && f.mem >= p.mem - 1e-9 && f.slots > 0);
        if (!target) {
          fits = false;
          break;
        }
        target[1].cpus -= p.cpus;
        target[1].mem -= p.mem;
        target[1].slots--;
        used.push(target[0]);
      }
      if (!fits) {
        blocked.push({ agentId: k.agentId, reason: 'its pods do not fit on the other kubelets' });
        continue;
      }
      for (const [id, f] of trial) free.set(id, f);
      for (const id of used) targets.add(id);
      for (const [pdb, n] of pdbNeed) pdbLeft[pdb] = (pdbLeft[pdb] ?? 0) - n;
      removing.add(k.agentId);
      free.delete(k.agentId);
      actions.push({ kind: 'consolidate', agentId: k.agentId, zone: k.zone, reason: 'underutilized', evict: k.pods.map((p) => p.key) });
      counts.perZone.set(k.zone, (counts.perZone.get(k.zone) ?? 1) - 1);
      budget--;
    }
  }
  return { actions, blocked };
}

const MAX_PODS_DEFAULT = 110;

function freeOf(k: PoolKubelet): { cpus: number; mem: number; slots: number } {
  let cpus = k.capacity.cpus;
  let mem = k.capacity.mem;
  for (const p of k.pods) {
    cpus -= p.cpus;
    mem -= p.mem;
  }
  return { cpus, mem, slots: MAX_PODS_DEFAULT - k.pods.length };
}

/** No pod keeps the kubelet up: none at all, or only DaemonSet pods unless `daemonSetPodsKeepKubelet`. */
export function isIdle(k: Pick<PoolKubelet, 'pods'>, c: Pick<PoolConfig, 'daemonSetPodsKeepKubelet'>): boolean {
  return k.pods.length === 0 || (!c.daemonSetPodsKeepKubelet && k.pods.every((p) => p.daemonSet === true));
}
