/**
 * Carries out the elastic pool's plan (`planPool`) each scheduling cycle: warm kubelets started, idle ones removed
 * (cordon, executor SHUTDOWN, Node deleted), under-used ones drained onto the others (pool.consolidation) with
 * evictions retried while a PodDisruptionBudget blocks them. The framework core drives it through `PoolDeps`; this
 * module imports nothing of the scheduler.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATION_SAFE_TO_EVICT } from '../names.js';
import { isIdle, planPool, utilization, type PoolConfig, type PoolKubelet } from './planner.js';

/** A kubelet executor as the core's registry keeps it. */
export interface PoolKubeletRecord {
  agentId: string;
  executorId: string;
  nodeName: string;
  state: 'launching' | 'running' | 'draining' | 'removing' | 'gone';
  taskIds: ReadonlySet<string>;
  idleSinceMs: number | undefined;
  launchedAtMs: number;
}

export interface PoolDeps {
  config: PoolConfig;
  kubelets(): Iterable<PoolKubeletRecord>;
  kubelet(agentId: string): PoolKubeletRecord | undefined;
  task(taskId: string): { podKey: string; podUid: string; cpus: number; mem: number } | undefined;
  pod(uid: string): V1Pod | undefined;
  /** Every agent heard of, with what its latest offers held. */
  agents(): Iterable<{ id: string; zone: string; lastOffered: { cpus: number; mem: number } }>;
  /** The ids of the same agents (asked every cycle: nothing built per agent). */
  agentIds(): Iterable<string>;
  /** An offer of the agent is held and the agent is not lost: a kubelet can start there now. */
  launchable(agentId: string): boolean;
  /** Registry transitions; undefined when the kubelet is not in a state that allows it. */
  markDraining(agentId: string): PoolKubeletRecord | undefined;
  markRemoving(agentId: string): PoolKubeletRecord | undefined;
  /** A drain was abandoned: the kubelet is running (schedulable) again. */
  markRunning?(agentId: string): PoolKubeletRecord | undefined;
  /** Starts a kubelet with no pod (its keeper task holds it up): the core builds and sends the ACCEPT. */
  launchWarmKubelet(agentId: string, nowMs: number): void;
  kube: {
    cordonNode(nodeName: string): Promise<void>;
    uncordonNode?(nodeName: string): Promise<void>;
    /** A Warning Event on the Node (an abandoned drain). */
    reportNodeWarning?(nodeName: string, reason: string, message: string): Promise<void>;
    deleteNode(nodeName: string): Promise<void>;
    evictPod(pod: V1Pod): Promise<'evicted' | 'blocked' | 'gone'>;
  };
  mesos: { shutdownExecutor(executorId: string, agentId: string): Promise<void> };
  /** Tracks a fire-and-forget call (errors logged, awaited by the core's drain()). */
  send(p: Promise<unknown>, what: string): void;
  note(type: 'Normal' | 'Warning', reason: string, object: string, message: string): void;
  metrics?: { kubeletScaleDown?(reason: string): void };
  /**
   * The review (every kubelet's pods walked) runs at most this often; default 0: every cycle. Cycles run up to ten
   * times a second in a burst while idle timeouts are minutes; a warm kubelet starts at most this much later.
   */
  minReviewIntervalMs?: number;
}

const DRAIN_RETRY_MS = 5000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10 * 60_000;
const POOL_REVIEW_MS = 5000;

export class PoolApplier {
  private readonly underusedSince = new Map<string, number>();
  /** Kubelets running only DaemonSet pods, since when (they are idle unless pool.daemonSetPodsKeepKubelet). */
  private readonly daemonSetOnlySince = new Map<string, number>();
  private readonly drains = new Map<string, { startedMs: number; lastEvictMs: number; owners: Set<string> }>();
  /** Agents whose drain was abandoned: not consolidated again before this time (ms). */
  private readonly abandonedUntil = new Map<string, number>();
  private wants = false;
  private lastRunMs = -Infinity;

  constructor(private readonly deps: PoolDeps) {}

  get config(): PoolConfig {
    return this.deps.config;
  }

  /** Some healthy zone is short of warm kubelets and has agents to start them on: offers are wanted (no SUPPRESS). */
  get wantsOffers(): boolean {
    return this.wants;
  }

  /** A consolidation is draining a kubelet: its pods go to the other kubelets, not to new ones. */
  get draining(): boolean {
    return this.drains.size > 0;
  }

  /**
   * Controller uids of the pods being drained: their re-created pods must land on running kubelets, not start new
   * ones (that would undo the consolidation). Other pods may start kubelets as usual while a drain lasts.
   */
  drainOwners(): ReadonlySet<string> {
    const out = new Set<string>();
    for (const d of this.drains.values()) for (const o of d.owners) out.add(o);
    return out;
  }

  /** The pool's part of a cycle. */
  run(now: number, unhealthyZones: ReadonlySet<string>): void {
    // The full review (scale-down, consolidation) walks every kubelet's pods: at most once per interval. Warm kubelets
    // are planned every cycle (they start on the offers held now) from the kubelets' zones and states alone.
    const review = !(now - this.lastRunMs < (this.deps.minReviewIntervalMs ?? 0) && now >= this.lastRunMs);
    if (review) this.lastRunMs = now;
    const cfg = this.deps.config;
    if (!review && (cfg.minPerZone === 0 || this.everyAgentHasKubelet())) {
      // No warm pool, or no agent a warm kubelet could start on: nothing to plan between reviews.
      if (cfg.minPerZone > 0) this.wants = false;
      this.runDrains(now);
      return;
    }
    // Agents matter only to the warm pool (pool.minPerZone).
    const agents = cfg.minPerZone > 0 ? [...this.deps.agents()].map((a) => ({ id: a.id, zone: a.zone, hasKubelet: this.deps.kubelet(a.id) !== undefined, launchable: this.deps.launchable(a.id) })) : [];
    const kubelets = review ? this.poolKubelets(now) : this.kubeletsWithoutPods(agents);
    if (review && cfg.consolidation) this.trackUnderuse(kubelets, cfg, now);
    // PodDisruptionBudgets are not read here: the Eviction API enforces them, and a blocked drain waits and says so.
    const plan = planPool({ nowMs: now, kubelets, agents, pdbAllowed: {}, failedZones: unhealthyZones }, cfg);
    this.wants = cfg.minPerZone > 0 && zonesShortOfWarmKubelets(agents, unhealthyZones, cfg.minPerZone);
    for (const action of plan.actions) {
      if (action.kind === 'launch-warm') {
        this.deps.launchWarmKubelet(action.agentId, now);
        continue;
      }
      if (!review) continue; // kubelets without pods give no scale-down actions; nothing else runs between reviews
      if (action.kind === 'consolidate') {
        if ((this.abandonedUntil.get(action.agentId) ?? -Infinity) > now) continue;
        const k = this.deps.markDraining(action.agentId);
        if (!k) continue;
        this.drains.set(action.agentId, { startedMs: now, lastEvictMs: -Infinity, owners: new Set() });
        this.deps.note('Normal', 'KubeletDraining', k.nodeName, `under-used: draining ${action.evict.length} pod(s) onto other kubelets (pool.consolidation)`);
        this.deps.send(this.deps.kube.cordonNode(k.nodeName), 'cordon for consolidation');
        continue;
      }
      if (action.kind !== 'remove-idle') continue;
      const k = kubelets.find((x) => x.agentId === action.agentId);
      const idleFor = Math.round((now - (k?.idleSinceMs ?? now)) / 1000);
      const dsOnly = k !== undefined && k.pods.length > 0;
      this.daemonSetOnlySince.delete(action.agentId);
      this.removeKubelet(action.agentId, dsOnly ? `only DaemonSet pods (${k.pods.length}) for ${idleFor} s` : `idle for ${idleFor} s`);
    }
    this.runDrains(now);
  }

  private everyAgentHasKubelet(): boolean {
    for (const id of this.deps.agentIds()) if (this.deps.kubelet(id) === undefined) return false;
    return true;
  }

  /** When the pool wants a cycle without other input: a drain to retry, a review, an idle timeout. */
  nextDueMs(now: number): number | undefined {
    const due = [this.nextReview(now), this.nextIdleExpiry()].filter((x): x is number => x !== undefined);
    // Something due before the review may run again waits for it.
    return due.length > 0 ? Math.max(Math.min(...due), this.lastRunMs + (this.deps.minReviewIntervalMs ?? 0)) : undefined;
  }

  /** Zone and state of every kubelet: all that the pool limits need, without walking their tasks (hot path). */
  kubeletZones(zoneOf: (agentId: string) => string): Pick<PoolKubelet, 'zone' | 'state'>[] {
    const out: Pick<PoolKubelet, 'zone' | 'state'>[] = [];
    for (const k of this.deps.kubelets()) if (k.state !== 'gone') out.push({ zone: zoneOf(k.agentId), state: k.state });
    return out;
  }

  private trackUnderuse(kubelets: readonly PoolKubelet[], cfg: PoolConfig, now: number): void {
    for (const k of kubelets) {
      if (k.state !== 'running' || k.pods.length === 0 || utilization(k) >= cfg.scaleDownUtilization) this.underusedSince.delete(k.agentId);
      else if (!this.underusedSince.has(k.agentId)) this.underusedSince.set(k.agentId, now);
    }
  }

  /** Draining kubelets: evict their pods (again, while a PDB blocks), and remove the kubelet once it is empty. */
  private runDrains(now: number): void {
    for (const [agentId, d] of this.drains) {
      const k = this.deps.kubelet(agentId);
      if (!k || k.state !== 'draining') {
        this.drains.delete(agentId);
        continue;
      }
      const podTasks = [...k.taskIds].flatMap((id) => {
        const t = this.deps.task(id);
        const pod = t ? this.deps.pod(t.podUid) : undefined;
        return t && pod ? [{ key: t.podKey, pod }] : [];
      });
      if (podTasks.length === 0) {
        this.drains.delete(agentId);
        this.removeKubelet(agentId, 'drained');
        continue;
      }
      const timeout = this.deps.config.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
      if (now - d.startedMs >= timeout) {
        this.abandonDrain(agentId, k.nodeName, podTasks.map((t) => t.key), timeout, now);
        continue;
      }
      if (now - d.lastEvictMs < DRAIN_RETRY_MS) continue;
      d.lastEvictMs = now;
      for (const t of podTasks) {
        const owner = t.pod.metadata?.ownerReferences?.find((o) => o.controller)?.uid;
        if (owner) d.owners.add(owner);
        if (t.pod.metadata?.deletionTimestamp) continue;
        this.deps.send(
          this.deps.kube.evictPod(t.pod).then((r) => {
            if (r === 'blocked') this.deps.note('Warning', 'DrainBlocked', t.key, `a PodDisruptionBudget does not allow evicting it now; kubelet on ${k.nodeName} stays until it does`);
          }),
          'evict for consolidation',
        );
      }
    }
  }

  /** The drain took too long (a PDB keeps refusing): uncordon, the kubelet runs on, and it is not drained again soon. */
  private abandonDrain(agentId: string, nodeName: string, left: string[], timeoutMs: number, now: number): void {
    this.drains.delete(agentId);
    this.underusedSince.delete(agentId);
    // Not picked again before another full consolidation delay and drain timeout have passed.
    this.abandonedUntil.set(agentId, now + this.deps.config.consolidationDelayMs + timeoutMs);
    this.deps.markRunning?.(agentId);
    const message = `consolidation drain abandoned after ${Math.round(timeoutMs / 1000)} s: ${left.length} pod(s) could not be evicted (PodDisruptionBudget): ${left.slice(0, 5).join(', ')}${left.length > 5 ? ', …' : ''}; uncordoned`;
    this.deps.note('Warning', 'DrainAbandoned', nodeName, message);
    if (this.deps.kube.uncordonNode) this.deps.send(this.deps.kube.uncordonNode(nodeName), 'uncordon after an abandoned drain');
    if (this.deps.kube.reportNodeWarning) this.deps.send(this.deps.kube.reportNodeWarning(nodeName, 'DrainAbandoned', message), 'DrainAbandoned event');
  }

  private removeKubelet(agentId: string, why: string): void {
    const k = this.deps.markRemoving(agentId);
    if (!k) return;
    this.deps.note('Normal', 'KubeletRemoved', k.nodeName, `${why}: cordoned, executor shut down, Node deleted`);
    this.deps.metrics?.kubeletScaleDown?.(why.startsWith('idle') || why.startsWith('only DaemonSet') ? 'idle' : why);
    const { nodeName, executorId } = k;
    this.deps.send(
      (async () => {
        await this.deps.kube.cordonNode(nodeName);
        await this.deps.mesos.shutdownExecutor(executorId, agentId);
        await this.deps.kube.deleteNode(nodeName);
      })(),
      'remove kubelet',
    );
  }

  /** With consolidation on (or a drain in progress), the pool is reviewed every few seconds even when nothing else happens. */
  private nextReview(now: number): number | undefined {
    if (this.drains.size > 0) return now + DRAIN_RETRY_MS;
    if (this.deps.config.consolidation && this.deps.kubelets()[Symbol.iterator]().next().done === false) return now + POOL_REVIEW_MS;
    return undefined;
  }

  private nextIdleExpiry(): number | undefined {
    let next: number | undefined;
    const timeout = this.deps.config.idleTimeoutMs;
    for (const k of this.deps.kubelets()) {
      if (k.state !== 'running') continue;
      const since = k.taskIds.size === 0 ? (k.idleSinceMs ?? k.launchedAtMs) : this.daemonSetOnlySince.get(k.agentId);
      if (since === undefined) continue;
      const at = since + timeout;
      next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  /** Zone and state only, pods unknown (no idle or under-use times): enough to plan warm kubelets, nothing to scale down. */
  private kubeletsWithoutPods(agents: readonly { id: string; zone: string }[]): PoolKubelet[] {
    const zones = new Map<string, string>();
    for (const a of agents) zones.set(a.id, a.zone);
    const out: PoolKubelet[] = [];
    for (const k of this.deps.kubelets()) {
      if (k.state === 'gone') continue;
      out.push({ agentId: k.agentId, zone: zones.get(k.agentId) ?? '', state: k.state, idleSinceMs: undefined, underusedSinceMs: undefined, capacity: { cpus: 0, mem: 0 }, pods: [] });
    }
    return out;
  }

  private poolKubelets(now: number): PoolKubelet[] {
    const agents = new Map([...this.deps.agents()].map((a) => [a.id, a]));
    const cfg = this.deps.config;
    const out: PoolKubelet[] = [];
    for (const k of this.deps.kubelets()) {
      if (k.state === 'gone') continue;
      const a = agents.get(k.agentId);
      let cpus = 0;
      let mem = 0;
      const pods: PoolKubelet['pods'] = [];
      for (const id of k.taskIds) {
        const t = this.deps.task(id);
        if (!t) continue;
        cpus += t.cpus;
        mem += t.mem;
        const pod = this.deps.pod(t.podUid);
        if (!pod) continue;
        const owner = (pod.metadata?.ownerReferences ?? []).find((o) => o.controller);
        const safe = pod.metadata?.annotations?.[ANNOTATION_SAFE_TO_EVICT] !== 'false';
        pods.push({ key: t.podKey, cpus: t.cpus, mem: t.mem, evictable: owner !== undefined && safe, pdbs: [], daemonSet: owner?.kind === 'DaemonSet' });
        // Without consolidation the pods only say whether the kubelet is idle: one pod that keeps it busy settles that
        // (the review runs every second over every kubelet's pods).
        if (!cfg.consolidation && (cfg.daemonSetPodsKeepKubelet || owner?.kind !== 'DaemonSet')) break;
      }
      let idleSinceMs = k.taskIds.size === 0 ? (k.idleSinceMs ?? k.launchedAtMs) : undefined;
      if (pods.length > 0 && pods.length === k.taskIds.size && isIdle({ pods }, this.deps.config)) {
        if (!this.daemonSetOnlySince.has(k.agentId)) this.daemonSetOnlySince.set(k.agentId, now);
        idleSinceMs = this.daemonSetOnlySince.get(k.agentId);
      } else this.daemonSetOnlySince.delete(k.agentId);
      out.push({
        agentId: k.agentId,
        zone: a?.zone ?? '',
        state: k.state,
        idleSinceMs,
        underusedSinceMs: this.underusedSince.get(k.agentId),
        capacity: { cpus: (a?.lastOffered.cpus ?? 0) + cpus, mem: (a?.lastOffered.mem ?? 0) + mem },
        pods,
      });
    }
    return out;
  }
}

function zonesShortOfWarmKubelets(agents: { zone: string; hasKubelet: boolean }[], unhealthy: ReadonlySet<string>, min: number): boolean {
  const have = new Map<string, number>();
  const free = new Map<string, number>();
  for (const a of agents) {
    if (a.hasKubelet) have.set(a.zone, (have.get(a.zone) ?? 0) + 1);
    else free.set(a.zone, (free.get(a.zone) ?? 0) + 1);
  }
  for (const [zone, n] of free) if (!unhealthy.has(zone) && n > 0 && (have.get(zone) ?? 0) < min) return true;
  return false;
}
