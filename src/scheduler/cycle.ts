/**
 * The scheduling cycle: expired offers declined, failover, pool and maintenance applied, then the ready pods (at most
 * maxBatch) planned against a snapshot and launched, the rest reported; last the offer stream is told whether pods
 * wait. Its timer runs it on wake-ups (debounced to one cycle per interval) and when something falls due.
 */
import { timerDelay } from '../time/timers.js';
import type { FailoverApplier } from '../failover/applier.js';
import { planExistingKubeletsFirst } from '../placement/existing-first.js';
import { AgentTable } from '../placement/agent-table.js';
import { plan as placementPlan } from '../placement/plan.js';
import { preferredElsewhere } from '../placement/preferences.js';
import type { AgentView, Placement, PlanConfig, PodSpecView } from '../placement/types.js';
import type { PoolApplier } from '../pool/applier.js';
import type { MaintenanceManager } from '../pool/maintenance.js';
import { kubeletCounts } from '../pool/planner.js';
import type { Logger } from '../telemetry/log.js';
import type { Launcher } from './accept.js';
import type { BoundPods } from './bound-pods.js';
import type { Effects } from './effects.js';
import type { ExecutorLossHandler } from './executor-loss.js';
import type { Preemptor } from './preemptor.js';
import type { OfferStream } from './offer-stream.js';
import type { PodEvents } from './pod-events.js';
import type { Reconciler } from './reconcile.js';
import type { Volumes } from './volumes.js';
import { buildSnapshot, SnapshotCache } from './snapshot.js';
import type { CoreState } from './state.js';

/**
 * When a held offer is given back: a tenth of the hold (at most 1 s) before it ends, so that the DECLINE — sent from a
 * cycle that may run late in a burst, then on its way to the master — is there within the hold.
 */
export function answerByMs(offerHoldMs: number): number {
  return offerHoldMs - Math.min(1000, offerHoldMs / 10);
}

/** At most one REVIVE per this interval for pods waiting for their Mesos volume to be offered. */
const VOLUME_REVIVE_MS = 5000;

export interface CycleConfig {
  plan: PlanConfig;
  /** How long an offer is held for pods that may still come before it is declined. */
  offerHoldMs: number;
  /** At most this many pods per cycle. */
  maxBatch: number;
  /** A pod that fits nothing while some agent has no offer out is reported only after this long (0: at once). */
  unschedulableGraceMs?: number;
  /** A pod placed on an agent its own preferences rank below one not offered right now waits this long for that one (0: never). */
  preferenceWaitMs?: number;
  /**
   * Keep placement's working copy and its per-spec search cache across cycles (AgentTable + SnapshotCache); default on.
   * The plan is the same either way (placement/agent-table.test.ts); off only to compare (docs/performance.md).
   */
  keepAgentTable?: boolean;
}

export interface CycleResult {
  considered: number;
  placed: number;
  unschedulable: number;
  accepts: number;
  declined: number;
}

export interface CycleParts {
  /** Pods bound by someone else, waiting for their task. */
  bound?: BoundPods;
  /** DefaultPreemption for pods that fit nowhere. */
  preemptor?: Preemptor;
  stream: OfferStream;
  pods: PodEvents;
  launcher: Launcher;
  pool: PoolApplier;
  failover: FailoverApplier;
  maintenance: MaintenanceManager;
  reconciler: Reconciler;
  loss: ExecutorLossHandler;
  /** Pods' claims for placement, and the reclaim of released Mesos volumes. */
  volumes?: Volumes;
}

export interface CycleRunnerOptions {
  /** Run cycles on a timer: at most one per this interval, and whenever `nextWakeMs` falls due. */
  timer?: { intervalMs: number };
  /** Called on every wake-up (tests drive cycles themselves). */
  onWake?: () => void;
}

/**
 * The handlers' way to ask for a cycle: created before the cycle (the handlers are built first), bound to it once it
 * exists. Until then a wake-up is dropped: nothing can run before the cycle is built.
 */
export class CycleWaker {
  private target: SchedulingCycle | undefined;
  bind(cycle: SchedulingCycle): void {
    this.target = cycle;
  }
  readonly wake = (): void => this.target?.wake();
}

export class SchedulingCycle {
  private running = false;
  /** The last cycle had pods ready and no offer held. */
  private starved = false;
  /** Pods waiting for an agent their preferences rank first (waitForPreferredAgents): podKey → first wait. */
  private readonly preferenceWaits = new Map<string, number>();
  private readonly timer: CycleTimer | undefined;
  /**
   * Kept from cycle to cycle unless `keepAgentTable: false`: unchanged agents keep their views, plan() rebuilds only the
   * agents that changed and reuses what its search learned about the others (docs/performance.md, issue 18).
   */
  private readonly snapshotCache: SnapshotCache | undefined;
  private readonly agentTable: AgentTable | undefined;

  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly parts: CycleParts,
    private readonly config: CycleConfig,
    private readonly runner: CycleRunnerOptions = {},
    waker?: CycleWaker,
  ) {
    if (config.maxBatch < 1) throw new RangeError('maxBatch must be ≥ 1');
    waker?.bind(this);
    if (config.keepAgentTable ?? true) {
      this.snapshotCache = new SnapshotCache();
      this.agentTable = new AgentTable();
    }
    this.timer = runner.timer ? new CycleTimer(this, { intervalMs: runner.timer.intervalMs, now: () => fx.clock.now(), log: fx.log }) : undefined;
  }

  /** Pods or offers arrived, or something freed capacity: REVIVE now if suppressed, and run a cycle soon. */
  wake(): void {
    this.parts.stream.onWake(this.fx.clock.now());
    // The last cycle had pods and no offer to place them on: offers that come now are what it waited for, so the next
    // cycle runs at once instead of waiting out the interval (a REVIVE's offers arrive 10–30 ms after that cycle).
    if (this.starved && this.state.offers.size > 0) {
      this.starved = false;
      this.timer?.wakeNow();
    } else this.timer?.wake();
    this.runner.onWake?.();
  }

  /** Stops the timer for good (shutdown). */
  stop(): void {
    this.timer?.stop();
  }

  /** Runs one cycle now. Returns what it did. Safe to call at any time; does nothing while unsubscribed. */
  run(): CycleResult {
    const result: CycleResult = { considered: 0, placed: 0, unschedulable: 0, accepts: 0, declined: 0 };
    if (!this.state.subscribed || this.running) return result;
    this.running = true;
    try {
      this.runOnce(result);
      return result;
    } finally {
      this.running = false;
    }
  }

  /** When the next cycle is due without new input (backoff, offer-hold expiry, failover, pool, a held-back REVIVE), or undefined. */
  nextWakeMs(): number | undefined {
    const s = this.state;
    const now = this.fx.clock.now();
    // Pods ready (left over beyond maxBatch, or back from backoff) and offers held: the next cycle is due now.
    if (s.subscribed && now < s.launchHoldUntilMs) return s.launchHoldUntilMs;
    if (s.subscribed && s.offers.size > 0 && s.queue.counts(now).active > 0) return now;
    const due = [
      s.queue.nextBackoffExpiry(now),
      s.offers.size > 0 ? s.offers.nextExpiry(answerByMs(this.config.offerHoldMs)) : undefined,
      this.parts.failover.nextDueMs(now),
      this.parts.loss.nextDueMs(now),
      this.parts.pool.nextDueMs(now),
      this.parts.stream.nextDueMs(),
      this.parts.reconciler.nextDueMs(),
    ].filter((x): x is number => x !== undefined);
    return due.length > 0 ? Math.min(...due) : undefined;
  }

  private runOnce(result: CycleResult): void {
    const s = this.state;
    const { stream, pods: podEvents, launcher, pool, failover, maintenance } = this.parts;
    const cfg = this.config;
    const now = this.fx.clock.now();

    const expired = s.offers.takeExpired(now, answerByMs(cfg.offerHoldMs));
    if (expired.length > 0) result.declined += stream.decline(expired, stream.refuseSeconds());

    this.parts.reconciler.run(now); // tasks without a state yet: RECONCILE with backoff
    const unhealthyZones = failover.run(now);
    this.parts.loss.sweep();
    pool.run(now, unhealthyZones);
    stream.wantsOffers = pool.wantsOffers || (this.parts.volumes?.wantsOffers(now) ?? false);
    maintenance.runCycle(now); // draining agents: their offers out of the pool, cordon/evict/answer

    // Volumes of deleted claims go back before pods are placed: their disk is free for the pods of this cycle's next offers.
    // Not held by the adoption grace: a volume in use is never offered, so a restart's first offers are safe to reclaim.
    this.parts.volumes?.reclaim(now);

    // Within the adoption grace, tasks of an earlier leader may still be reported for pods that look pending.
    const ready = now < s.launchHoldUntilMs ? [] : s.queue.ready(now, cfg.maxBatch);
    const pods = this.parts.volumes && ready.length > 0 ? this.parts.volumes.withClaims(ready) : ready;
    // A volume offered while its pod was away was declined with the idle refuse_seconds: REVIVE clears that filter.
    const awaitingVolume = pods !== ready ? this.parts.volumes!.agentsAwaitingVolume(pods) : [];
    if (awaitingVolume.length > 0) stream.reviveFiltered(now, VOLUME_REVIVE_MS);
    result.considered = pods.length;
    if (pods.length > 0 && s.offers.size > 0) {
      const counts = kubeletCounts(pool.kubeletZones((id) => s.zoneOf(id)));
      const views = buildSnapshot(s, {
        unhealthyZones,
        kubeletCounts: counts,
        pool: pool.config,
        maxPodsPerKubelet: cfg.plan.maxPodsPerKubelet,
        cache: this.snapshotCache,
      });
      // Consolidation plans twice over different agent lists: a kept table would start over each time, so it gets none.
      const plan = pool.config.consolidation ? planExistingKubeletsFirst(views, pods, cfg.plan) : placementPlan(views, pods, cfg.plan, this.agentTable);
      const kept = pool.draining ? this.keepDrainedPodsOffNewKubelets(plan.placements, pool.drainOwners(), now) : plan.placements;
      const placements = (cfg.preferenceWaitMs ?? 0) > 0 ? this.waitForPreferredAgents(views, kept, pods, now) : kept;
      result.placed = placements.length;
      result.accepts = launcher.launch(placements, counts, now);
      const partialView = plan.unschedulable.length > 0 && (cfg.unschedulableGraceMs ?? 0) > 0 && this.someAgentNotOffered(unhealthyZones);
      podEvents.unschedulable(plan.unschedulable, pods, partialView, now);
      result.unschedulable = plan.unschedulable.length;
      if (plan.unschedulable.length > 0) this.parts.preemptor?.run(views, plan.unschedulable, pods, now);
    } else if (pods.length > 0) {
      // Nothing offered right now: the pods wait for offers (backoff ends early when offers arrive).
      for (const p of pods) s.queue.backoff(p.key, now);
    }
    this.starved = pods.length > 0 && s.offers.size === 0 && result.placed === 0;

    // Mesos offers a reservation only with some cpus or mem (--min_allocatable_resources): while the agent's unreserved
    // rest is offered to another of our roles, the volume's role never gets the agent. That offer goes back with the
    // short filter, so the next allocation gives the volume's role the agent, reservation and rest together.
    if (awaitingVolume.length > 0) {
      const held = awaitingVolume.flatMap((agentId) => s.offers.takeAgent(agentId));
      if (held.length > 0) result.declined += stream.decline(held, stream.refuseSeconds());
    }

    // Pods bound by someone else take their room from what the offers still hold.
    if (this.parts.bound && s.boundWaiting.size > 0 && s.offers.size > 0 && now >= s.launchHoldUntilMs) {
      const counts = kubeletCounts(pool.kubeletZones((id) => s.zoneOf(id)));
      const views = buildSnapshot(s, { unhealthyZones, kubeletCounts: counts, pool: pool.config, maxPodsPerKubelet: cfg.plan.maxPodsPerKubelet });
      const placements = this.parts.bound.run(views, counts);
      if (placements.length > 0) {
        result.placed += placements.length;
        result.accepts += launcher.launch(placements, counts, now);
      }
    }

    // Nothing pending and no pod for a while: everything held goes back. While pods keep coming, offers are kept (up to the hold).
    if (s.queue.size === 0 && s.offers.size > 0 && !stream.wantsOffers && s.boundWaiting.size === 0 && !stream.podsArriving(now)) result.declined += stream.decline(s.offers.takeAll(), stream.refuseSeconds());
    stream.update(now);
    this.fx.metrics?.pending(s.queue.size);
    this.fx.metrics?.cycle(this.fx.clock.now() - now, result.considered, result.placed);
  }

  /** Pods re-created from a consolidation drain wait for room on a running kubelet instead of starting a new one. */
  private keepDrainedPodsOffNewKubelets(placements: readonly Placement[], owners: ReadonlySet<string>, now: number): Placement[] {
    const s = this.state;
    return placements.filter((p) => {
      if (s.tasks.kubelet(p.agentId) || owners.size === 0) return true;
      const view = s.queue.get(p.podKey);
      const owner = view ? s.pods.get(view.uid)?.metadata?.ownerReferences?.find((o) => o.controller)?.uid : undefined;
      if (!owner || !owners.has(owner)) return true;
      s.queue.backoff(p.podKey, now);
      return false;
    });
  }

  /**
   * Delay scheduling for a pod's own preferences: a placement beaten by an agent not offered right now (that had room
   * for the pod in its latest offer) is held back, the pod waits in the queue for that agent's offer, at most
   * preferenceWaitMs from its first wait; filters that keep the agent away are cleared by a (rate-limited) REVIVE.
   */
  private waitForPreferredAgents(views: readonly AgentView[], placements: readonly Placement[], pods: readonly PodSpecView[], now: number): readonly Placement[] {
    const s = this.state;
    const waitMs = this.config.preferenceWaitMs ?? 0;
    for (const [key, since] of this.preferenceWaits) if (now - since > 2 * waitMs || !s.queue.get(key)) this.preferenceWaits.delete(key);
    const elsewhere = preferredElsewhere(views, placements, pods, (id) => s.agents.get(id)?.lastOffered, this.config.plan.executor);
    if (elsewhere.size === 0) return placements;
    const out: Placement[] = [];
    for (const p of placements) {
      const better = elsewhere.get(p.podKey);
      const since = this.preferenceWaits.get(p.podKey) ?? now;
      if (better === undefined || now - since >= waitMs) {
        out.push(p);
        continue;
      }
      if (!this.preferenceWaits.has(p.podKey)) {
        this.preferenceWaits.set(p.podKey, now);
        this.fx.log.debug({ pod: p.podKey, offered: p.agentId, preferred: better }, 'the pod prefers an agent not offered right now: waiting for its offer');
      }
    }
    this.parts.stream.reviveFiltered(now, VOLUME_REVIVE_MS);
    return out;
  }

  /** True when a healthy, schedulable agent has no offer held: the cycle did not see the whole cluster. */
  private someAgentNotOffered(unhealthyZones: ReadonlySet<string>): boolean {
    const s = this.state;
    for (const [id, a] of s.agents) {
      if (a.info.zone !== undefined && unhealthyZones.has(a.info.zone)) continue;
      if (s.failover.isAgentLost(id)) continue;
      const k = s.tasks.kubelet(id);
      if (k?.state === 'removing' || k?.state === 'draining') continue;
      if (s.offers.forAgent(id).length === 0) return true;
    }
    return false;
  }
}

/** Runs the cycle at most once per interval after a wake-up, and again when `nextWakeMs` says something is due. */
export class CycleTimer {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;
  private lastCycleMs = 0;

  constructor(
    private readonly cycle: { run(): unknown; nextWakeMs(): number | undefined },
    private readonly o: { intervalMs: number; now: () => number; log: Logger },
  ) {}

  wake(): void {
    this.schedule(this.lastCycleMs + this.o.intervalMs);
  }

  /** A cycle as soon as possible, not at the end of the interval. */
  wakeNow(): void {
    this.schedule(this.o.now());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs a cycle at `atMs`, or earlier if one is already due sooner: a wake-up never waits behind a later timer. */
  private schedule(atMs: number): void {
    if (this.stopped || atMs >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = atMs;
    // Clamped: a wake-up due beyond Node's 24.8-day timer maximum (a pod's failover-after) must not fire after 1 ms.
    this.timer = setTimeout(() => this.tick(), timerDelay(atMs - this.o.now()));
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.stopped) return;
    this.lastCycleMs = this.o.now();
    try {
      this.cycle.run();
    } catch (err) {
      this.o.log.error({ err }, 'scheduling cycle failed');
    }
    const next = this.cycle.nextWakeMs();
    if (next !== undefined) this.schedule(Math.max(next, this.lastCycleMs + this.o.intervalMs));
  }
}
