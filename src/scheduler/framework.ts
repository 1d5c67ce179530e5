/**
 * The framework's core loop: pods in, offers in, launches out. It owns the queue, the offer pool, the task registry and
 * the agents it has heard of; each scheduling cycle takes a snapshot, asks placement's pure plan() what to do, assumes
 * the placements and sends one ACCEPT per agent with every pod that goes there. It never sees HTTP: Mesos and Kubernetes
 * are behind the ports it is given.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../telemetry/log.js';
import type { ExecutorInfo, Offer, SchedulerEvent, TaskStatus } from '../mesos/types.js';
import { plan as placementPlan } from '../placement/plan.js';
import { podFromV1 } from '../placement/pod.js';
import type { AgentView, PlacedPod, Plan, PlanConfig, PodDefaults, PodSpecView } from '../placement/types.js';
import { FailoverManager } from '../failover/manager.js';
import { DEFAULT_FAILOVER_CONFIG, type FailoverConfig } from '../failover/policy.js';
import { planRebalance, type RebalancePod } from '../failover/rebalance.js';
import { canAddKubelet, DEFAULT_POOL_CONFIG, kubeletCounts, planPool, utilization, type PoolConfig, type PoolKubelet } from '../pool/planner.js';
import { agentInfoFromOffer, type AgentInfo, type AgentInfoOptions } from './agent-info.js';
import { buildExecutorInfo, buildTaskInfo, carveTaskResources, executorIdFor, podOfTaskId, taskIdFor, type ExecutorConfig } from './launch.js';
import { OfferPool, offerStreamAction, refuseSecondsFor, spendRevive, type OfferPolicyConfig, type ReviveBudget } from './offer-pool.js';
import type { Clock, KubePort, MesosPort } from './ports.js';
import { SchedulingQueue } from './queue.js';
import { reservationRole } from '../mesos/resources.js';
import { agentView } from './snapshot.js';
import { isTerminal, TaskRegistry, type TaskRecord } from './tasks.js';
import { MaintenanceManager } from '../pool/maintenance.js';

export const ANNOTATION_TASK_ID = 'kube-mesos.io/task-id';
export const ANNOTATION_AGENT_ID = 'kube-mesos.io/agent-id';
export const ANNOTATION_EXECUTOR_ID = 'kube-mesos.io/executor-id';

export interface FrameworkCoreConfig {
  plan: PlanConfig;
  podDefaults: PodDefaults;
  executor: ExecutorConfig;
  agentInfo: AgentInfoOptions;
  offers: OfferPolicyConfig;
  /** How long an offer is held for pods that may still come before it is declined. */
  offerHoldMs: number;
  /** At most this many pods per cycle. */
  maxBatch: number;
  /** Re-report an unchanged unschedulable message at most this often per pod. */
  unschedulableReportIntervalMs: number;
  /**
   * While some agents have no offer outstanding (their resources are with Mesos, in flight, or filtered), a pod that fits
   * none of the offers held may still fit one of them: it is reported Unschedulable (condition and event, two API writes)
   * only after failing this long. With every agent offered, it is reported at once. Default 0: at once.
   */
  unschedulableGraceMs?: number;
  queue?: { initialBackoffMs?: number; maxBackoffMs?: number };
  failover?: FailoverConfig;
  pool?: PoolConfig;
  /** failover.rebalance: after a failed zone recovers, move pods back gradually (evictions, PDBs respected). */
  rebalance?: boolean;
  /** While agents are lost, their tasks are reconciled this often (to notice their return). */
  lostAgentReconcileMs?: number;
}

export interface FrameworkDeps {
  mesos: MesosPort;
  kube: KubePort;
  clock: Clock;
  log: Logger;
  config: FrameworkCoreConfig;
  /** Called when a cycle should run soon (the runner debounces). */
  onWake?: () => void;
  metrics?: FrameworkMetrics;
}

/** The subset of metrics the core updates; the ops layer supplies prom-client instruments. */
export interface FrameworkMetrics {
  offersReceived(n: number): void;
  offersDeclined(n: number): void;
  offersAccepted(n: number): void;
  offersRescinded(n: number): void;
  launches(n: number): void;
  taskState(state: string): void;
  cycle(durationMs: number, pods: number, placed: number): void;
  podScheduled(latencyMs: number): void;
  pending(n: number): void;
  kubeletScaleDown?(reason: string): void;
  kubeletLaunched?(): void;
  kubeletStarted?(seconds: number): void;
  podReplaced?(reason: string): void;
}

/** Gauges the ops layer refreshes now and then (counts by zone and state). */
export interface GaugeSnapshot {
  kubelets: { zone: string; state: string; count: number }[];
  agents: { zone: string; state: string; count: number }[];
  zones: [string, boolean][];
  tasks: [string, number][];
  offersHeld: number;
  pending: number;
  unschedulable: number;
}

export interface CycleResult {
  considered: number;
  placed: number;
  unschedulable: number;
  accepts: number;
  declined: number;
}

interface KnownAgent {
  info: AgentInfo;
  lastOfferMs: number;
  /** What its latest offers held (unreserved + reserved), for the dashboard's free resources. */
  lastOffered: { cpus: number; mem: number };
}

/** One line of the dashboard's recent-events list. */
export interface RecentEvent {
  atMs: number;
  type: 'Normal' | 'Warning';
  reason: string;
  object: string;
  message: string;
}

const RECENT_EVENTS = 200;

/** What a warm kubelet's keeper task holds: next to nothing, the executor's own resources are what count. */
const KEEPER_RESOURCES = { cpus: 0.01, mem: 1, disk: 0 };
/** Same label as the executor's KEEPER_LABEL (not imported: the scheduler does not depend on the executor). */
const KEEPER_LABEL = 'kube-mesos.io/kubelet-keeper';
export const ANNOTATION_SAFE_TO_EVICT = 'kube-mesos.io/safe-to-evict';
const DRAIN_RETRY_MS = 5000;
const POOL_REVIEW_MS = 5000;
/** Pods waiting this long without any offer, while not suppressed: REVIVE again. */
const STALLED_OFFERS_MS = 10_000;
/** Rebalancing runs this long after a zone recovers, one round of evictions every REBALANCE_ROUND_MS. */
const REBALANCE_WINDOW_MS = 10 * 60_000;
const REBALANCE_ROUND_MS = 10_000;

export class FrameworkCore {
  readonly queue: SchedulingQueue<PodSpecView>;
  readonly offers = new OfferPool<Offer>();
  readonly tasks = new TaskRegistry();
  private readonly agents = new Map<string, KnownAgent>();
  private readonly agentByNode = new Map<string, string>();
  /** Every pod of this scheduler the informer has shown us, by uid. Never mutated. */
  private readonly pods = new Map<string, V1Pod>();
  private readonly podUidByKey = new Map<string, string>();
  private readonly lastUnschedulable = new Map<string, { message: string; atMs: number }>();
  /** Pods that found no place while part of the cluster was not offered: since when (ms). */
  private readonly failingSince = new Map<string, number>();
  private readonly executorInfos = new Map<string, ExecutorInfo>(); // agentId → the ExecutorInfo its kubelet runs with
  private frameworkId: string | undefined;
  private suppressed = false;
  private offerStreamChain: Promise<unknown> = Promise.resolve();
  private lastOffersMs = 0;
  private reviveDueMs: number | undefined;
  private readonly underusedSince = new Map<string, number>();
  private lastUnhealthyZones = new Set<string>();
  private rebalanceUntilMs = 0;
  private lastRebalanceMs = -Infinity;
  private readonly drains = new Map<string, { startedMs: number; lastEvictMs: number }>();
  /** The pool wants offers although no pod waits (warm kubelets to start). */
  private wantsOffers = false;
  private lastReviveMs: number | undefined;
  private reviveBudget: ReviveBudget | undefined;
  private subscribed = false;
  private cycleRunning = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly recent: RecentEvent[] = [];
  readonly failover: FailoverManager;
  /** Mesos maintenance: inverse offers drain agents. */
  readonly maintenance: MaintenanceManager;
  /** Tasks whose pods failover replaced: never adopted again, killed if they come back. Bounded, oldest dropped. */
  private readonly replacedTasks = new Set<string>();
  private lastLostReconcileMs = 0;

  constructor(private readonly deps: FrameworkDeps) {
    if (deps.config.maxBatch < 1) throw new RangeError('maxBatch must be ≥ 1');
    this.queue = new SchedulingQueue<PodSpecView>(deps.config.queue);
    this.failover = new FailoverManager(deps.config.failover ?? DEFAULT_FAILOVER_CONFIG, deps.clock.now());
    // ---- maintenance ----
    this.maintenance = new MaintenanceManager({
      mesos: deps.mesos,
      kube: deps.kube,
      offers: this.offers,
      clock: deps.clock,
      log: deps.log.child({ component: 'maintenance' }),
      podsOn: (agentId) => this.tasks.onAgent(agentId).flatMap((t) => this.pods.get(t.podUid) ?? []),
      nodeName: (agentId) => this.agents.get(agentId)?.info.nodeName ?? this.tasks.kubelet(agentId)?.nodeName,
      send: (p, what) => this.send(p, what),
      wake: () => this.wake(),
      note: (type, reason, object, message) => this.note(type, reason, object, message),
    });
  }

  // ---- Mesos side ---------------------------------------------------------------------------------------------------

  onSubscribed(frameworkId: string): void {
    this.frameworkId = frameworkId;
    this.subscribed = true;
    // A fresh subscription: REVIVE once, because the master keeps a framework's offer filters (and its suppression)
    // across a failover, so a dead leader's long declines would starve this one.
    this.lastOffersMs = this.deps.clock.now();
    this.revive(this.deps.clock.now());
    const known = [...this.tasks.all()].map((t) => ({ taskId: t.taskId, agentId: t.agentId }));
    if (known.length > 0) this.send(this.deps.mesos.reconcile(known), 'reconcile');
    this.wake();
  }

  /** The subscription broke: offers are void, nothing can be launched until the next SUBSCRIBED. */
  onDisconnected(): void {
    this.subscribed = false;
    this.offers.takeAll();
  }

  handleEvent(ev: SchedulerEvent): void {
    switch (ev.type) {
      case 'SUBSCRIBED':
        return this.onSubscribed(ev.subscribed.framework_id.value);
      case 'OFFERS':
        return this.onOffers(ev.offers.offers ?? []);
      case 'RESCIND':
        if (this.offers.remove(ev.rescind.offer_id.value)) this.deps.metrics?.offersRescinded(1);
        return;
      case 'UPDATE':
        return this.onUpdate(ev.update.status);
      case 'FAILURE':
        return this.onFailure(ev.failure.agent_id?.value, ev.failure.executor_id?.value);
      case 'ERROR':
        this.deps.log.error({ message: ev.error.message }, 'Mesos master sent ERROR');
        return;
      case 'INVERSE_OFFERS':
        return this.maintenance.onInverseOffers(ev.inverse_offers.inverse_offers ?? []);
      case 'RESCIND_INVERSE_OFFER':
        return this.maintenance.onRescindInverseOffer(ev.rescind_inverse_offer.inverse_offer_id.value);
      case 'HEARTBEAT':
      case 'MESSAGE':
      case 'UPDATE_OPERATION_STATUS':
        return;
      default: {
        const unknown: never = ev;
        this.deps.log.warn({ event: (unknown as { type: string }).type }, 'ignoring unknown Mesos event');
      }
    }
  }

  onOffers(offers: readonly Offer[]): void {
    const now = this.deps.clock.now();
    const offered = new Map<string, { cpus: number; mem: number }>();
    for (const o of offers) {
      const sum = offered.get(o.agent_id.value) ?? { cpus: 0, mem: 0 };
      for (const r of o.resources ?? []) {
        if (r.name === 'cpus') sum.cpus += r.scalar?.value ?? 0;
        if (r.name === 'mem') sum.mem += r.scalar?.value ?? 0;
      }
      offered.set(o.agent_id.value, sum);
    }
    for (const o of offers) {
      const info = agentInfoFromOffer(o, this.deps.config.agentInfo);
      this.agents.set(info.id, { info, lastOfferMs: now, lastOffered: offered.get(info.id)! });
      this.agentByNode.set(info.nodeName, info.id);
      this.offers.add(o, now);
      if (this.failover.agentBack(info.id)) this.note('Normal', 'AgentBack', info.nodeName, `agent ${info.id} offers again`);
    }
    this.deps.metrics?.offersReceived(offers.length);
    if (offers.length > 0) this.lastOffersMs = now;
    if (offers.length > 0 && this.queue.moveAllToActive() >= 0) this.wake();
  }

  onUpdate(status: TaskStatus): void {
    if (status.uuid && status.uuid.length > 0) this.send(this.deps.mesos.acknowledge(status), 'acknowledge');
    const now = this.deps.clock.now();
    const taskId = status.task_id.value;
    this.deps.metrics?.taskState(status.state);
    const out = this.tasks.applyUpdate({ taskId, state: status.state, agentId: status.agent_id?.value }, now);
    switch (out.kind) {
      case 'unknown-task':
        if (!isTerminal(status.state)) this.adoptOrKill(status, now);
        return;
      case 'progress': {
        const rec = out.record;
        const k = this.tasks.kubelet(rec.agentId);
        if (k && k.state === 'launching') {
          this.tasks.kubeletRunning(k.agentId, k.executorId);
          this.deps.metrics?.kubeletStarted?.((now - k.launchedAtMs) / 1000);
        }
        if (status.state === 'TASK_UNREACHABLE' || status.state === 'TASK_UNKNOWN') {
          this.taskLost(rec, status, false, now);
          return;
        }
        if (this.failover.isAgentLost(rec.agentId) && (status.state === 'TASK_RUNNING' || status.state === 'TASK_STARTING')) {
          this.failover.agentBack(rec.agentId);
          this.note('Normal', 'AgentBack', rec.agentId, `task ${taskId} is ${status.state} again`);
        }
        this.failover.podBack(rec.podUid);
        if (out.firstConfirmation && (status.state === 'TASK_STARTING' || status.state === 'TASK_RUNNING')) {
          const pod = this.pods.get(rec.podUid);
          const node = this.agents.get(rec.agentId)?.info.nodeName ?? rec.agentId;
          if (pod) {
            this.note('Normal', 'Scheduled', rec.podKey, `assigned to ${node} (task ${taskId})`);
            this.send(this.deps.kube.reportScheduled(pod, node), 'Scheduled event');
            const created = Date.parse(String(pod.metadata?.creationTimestamp ?? ''));
            if (Number.isFinite(created)) this.deps.metrics?.podScheduled(Math.max(0, now - created));
          }
        }
        return;
      }
      case 'launch-failed': {
        const pod = this.pods.get(out.record.podUid);
        this.deps.log.info({ pod: out.record.podKey, taskId, state: status.state, reason: status.reason, message: status.message }, 'launch failed before binding: re-queueing');
        this.note('Warning', 'FailedLaunch', out.record.podKey, `task ${taskId} ended ${status.state} before binding: ${status.message ?? status.reason ?? ''}`);
        if (pod) {
          this.send(this.deps.kube.reportWarning(pod, 'FailedLaunch', `task ${taskId} ended ${status.state} (${status.reason ?? 'no reason'}): ${status.message ?? ''}`.trim()), 'FailedLaunch event');
          this.requeue(pod);
          // Back off like a pod that did not fit: a launch that keeps failing must not spin (a new offer ends it early).
          this.queue.backoff(out.record.podKey, now);
        }
        this.wake();
        return;
      }
      case 'terminal':
        if (status.state === 'TASK_LOST' || status.state === 'TASK_GONE' || status.state === 'TASK_GONE_BY_OPERATOR') {
          this.taskLost(out.record, status, status.state !== 'TASK_LOST', now);
        } else {
          this.failover.podBack(out.record.podUid);
          if (status.state !== 'TASK_FINISHED' && status.state !== 'TASK_KILLED') this.note('Warning', status.state, out.record.podKey, `task ${taskId}: ${status.message ?? status.reason ?? ''}`);
        }
        // The pod's own status tells the story (the executor follows it); failover decides about replacements.
        this.queue.moveAllToActive();
        this.wake();
        return;
    }
  }

  /** A bound pod's task is unreachable, lost or gone: failover decides when to replace the pod. */
  private taskLost(rec: TaskRecord, status: TaskStatus, gone: boolean, now: number): void {
    const pod = this.pods.get(rec.podUid);
    if (status.reason === 'REASON_AGENT_REMOVED' || status.reason === 'REASON_AGENT_DISCONNECTED' || status.state === 'TASK_UNREACHABLE' || gone) {
      this.failover.agentLost(rec.agentId, now);
    }
    this.note('Warning', status.state, rec.podKey, `task ${rec.taskId} on agent ${rec.agentId}: ${status.message ?? status.reason ?? ''}`);
    if (!pod || !rec.bound) return;
    const zone = this.agents.get(rec.agentId)?.info.zone ?? '';
    const r = this.failover.podLost(pod, rec.agentId, zone, gone, now);
    if (!r.ok) this.send(this.deps.kube.reportWarning(pod, 'InvalidAnnotation', r.error), 'invalid failover-after');
    this.wake();
  }

  /**
   * An update for a task the registry does not know. If it names a pod we have (same namespace, name and uid) whose
   * binding does not point elsewhere, it is ours from before a restart: adopt it. Otherwise it is an orphan: kill it.
   */
  private adoptOrKill(status: TaskStatus, now: number): void {
    const taskId = status.task_id.value;
    const agentId = status.agent_id?.value;
    const ref = podOfTaskId(taskId);
    const pod = ref ? this.podByName(ref.namespace, ref.name) : undefined;
    const uidOk = pod && ref && (pod.metadata?.uid ?? '').replace(/-/g, '').startsWith(ref.uidPrefix);
    const annotated = pod?.metadata?.annotations?.[ANNOTATION_TASK_ID];
    if (pod && uidOk && agentId && !this.replacedTasks.has(taskId) && (annotated === undefined || annotated === taskId) && !isFinished(pod) && !pod.metadata?.deletionTimestamp) {
      this.tasks.adopt({
        taskId,
        podKey: podKey(pod),
        podUid: pod.metadata!.uid!,
        agentId,
        executorId: status.executor_id?.value ?? pod.metadata?.annotations?.[ANNOTATION_EXECUTOR_ID] ?? '',
        state: status.state,
        bound: Boolean(pod.spec?.nodeName),
        launchedAtMs: now,
        lastUpdateMs: now,
        ...requestsOf(pod),
        hostPorts: hostPortsOf(pod),
      });
      this.queue.delete(podKey(pod));
      this.deps.log.info({ taskId, pod: podKey(pod) }, 'adopted a running task');
      return;
    }
    this.deps.log.warn({ taskId, state: status.state }, 'update for a task no pod claims: killing it');
    this.note('Warning', 'OrphanTask', taskId, `task ${taskId} (${status.state}) belongs to no pod: killed`);
    this.send(this.deps.mesos.kill(taskId, agentId), 'kill orphan');
  }

  private podByName(namespace: string, name: string): V1Pod | undefined {
    const uid = this.podUidByKey.get(`${namespace}/${name}`);
    return uid ? this.pods.get(uid) : undefined;
  }

  /**
   * After the pod informer synced (a restart, a new leader): adopt every task the pods' annotations name, and the
   * kubelets running them, so nothing running is killed or launched twice. Reconciled on the next SUBSCRIBED.
   */
  adoptFromPods(): number {
    const now = this.deps.clock.now();
    let n = 0;
    for (const pod of this.pods.values()) {
      const a = pod.metadata?.annotations ?? {};
      const taskId = a[ANNOTATION_TASK_ID];
      const agentId = a[ANNOTATION_AGENT_ID];
      const executorId = a[ANNOTATION_EXECUTOR_ID];
      if (!taskId || !agentId || !executorId || isFinished(pod) || this.tasks.get(taskId)) continue;
      if (!this.tasks.kubelet(agentId)) {
        this.tasks.launchKubelet(agentId, executorId, pod.spec?.nodeName ?? agentId, now);
        this.tasks.kubeletRunning(agentId, executorId);
      }
      this.tasks.adopt({
        taskId,
        podKey: podKey(pod),
        podUid: pod.metadata!.uid!,
        agentId,
        executorId,
        state: 'TASK_RUNNING',
        bound: true,
        launchedAtMs: now,
        lastUpdateMs: now,
        ...requestsOf(pod),
        hostPorts: hostPortsOf(pod),
      });
      n++;
    }
    return n;
  }

  onFailure(agentId: string | undefined, executorId: string | undefined): void {
    if (agentId && executorId) {
      const gone = this.tasks.kubeletGone(agentId, executorId);
      if (gone) {
        this.note('Warning', 'KubeletGone', gone.nodeName, `executor ${executorId} terminated`);
        this.executorInfos.delete(agentId);
        this.deps.log.warn({ agentId, executorId }, 'kubelet executor terminated');
      }
    } else if (agentId) {
      this.deps.log.warn({ agentId }, 'agent lost');
      this.note('Warning', 'AgentLost', this.agents.get(agentId)?.info.nodeName ?? agentId, `agent ${agentId} is unreachable`);
      this.offers.dropAgent(agentId);
      this.failover.agentLost(agentId, this.deps.clock.now());
      this.wake();
    }
  }

  // ---- Kubernetes side ----------------------------------------------------------------------------------------------

  /** A pod of this scheduler was added or changed (informer). The object is read-only. */
  onPodUpsert(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const prev = this.pods.get(uid);
    this.pods.set(uid, pod);
    const key = podKey(pod);
    this.podUidByKey.set(key, uid);
    if (pod.spec?.nodeName) {
      this.queue.delete(key);
      this.tasks.markBound(uid);
      return;
    }
    if (pod.metadata?.deletionTimestamp || isFinished(pod)) {
      this.queue.delete(key);
      return;
    }
    if (this.tasks.forPod(uid)) return; // assumed: launch in flight
    if (prev && prev.metadata?.resourceVersion === pod.metadata?.resourceVersion && this.queue.has(key)) return;
    this.requeue(pod);
  }

  onPodDelete(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    this.pods.delete(uid);
    const key = podKey(pod);
    if (this.podUidByKey.get(key) === uid) this.podUidByKey.delete(key);
    this.failover.podBack(uid);
    this.queue.delete(key);
    this.lastUnschedulable.delete(key);
    this.failingSince.delete(key);
    const rec = this.tasks.forPod(uid);
    if (rec) {
      this.send(this.deps.mesos.kill(rec.taskId, rec.agentId), 'kill deleted pod');
    }
    this.queue.moveAllToActive();
    this.wake();
  }

  private requeue(pod: V1Pod): void {
    const view = podFromV1(pod, this.deps.config.podDefaults);
    if (!view.ok) {
      this.queue.delete(podKey(pod));
      this.reportUnschedulable(pod, view.reason, this.deps.clock.now());
      return;
    }
    this.queue.upsert(view.pod);
    this.wake();
  }

  // ---- the scheduling cycle -------------------------------------------------------------------------------------------

  /** Runs one cycle now. Returns what it did. Safe to call at any time; does nothing while unsubscribed. */
  runCycle(): CycleResult {
    const result: CycleResult = { considered: 0, placed: 0, unschedulable: 0, accepts: 0, declined: 0 };
    if (!this.subscribed || this.cycleRunning) return result;
    this.cycleRunning = true;
    const started = this.deps.clock.now();
    try {
      const now = started;
      const cfg = this.deps.config;
      const refuse = refuseSecondsFor(this.queue.size, cfg.offers);

      const expired = this.offers.takeExpired(now, cfg.offerHoldMs);
      if (expired.length > 0) result.declined += this.decline(expired, refuse);

      const unhealthyZones = this.runFailover(now);
      this.runRebalance(now, unhealthyZones);
      this.runPool(now, unhealthyZones);
      this.maintenance.runCycle(now); // draining agents: their offers out of the pool, cordon/evict/answer

      const pods = this.queue.ready(now, cfg.maxBatch);
      result.considered = pods.length;
      if (pods.length > 0 && this.offers.size > 0) {
        const views = this.snapshot(unhealthyZones);
        const plan = this.poolConfig().consolidation ? planExistingKubeletsFirst(views, pods, cfg.plan) : placementPlan(views, pods, cfg.plan);
        result.placed = plan.placements.length;
        result.accepts = this.launch(plan.placements, now);
        const byKey = new Map(pods.map((p) => [p.key, p]));
        const partialView = plan.unschedulable.length > 0 && (cfg.unschedulableGraceMs ?? 0) > 0 && this.someAgentNotOffered(unhealthyZones);
        for (const u of plan.unschedulable) {
          this.queue.backoff(u.podKey, now);
          const view = byKey.get(u.podKey);
          const pod = view ? this.pods.get(view.uid) : undefined;
          if (!pod) continue;
          if (partialView) {
            const since = this.failingSince.get(u.podKey) ?? now;
            this.failingSince.set(u.podKey, since);
            if (now - since < cfg.unschedulableGraceMs!) continue;
          }
          this.reportUnschedulable(pod, u.message, now);
        }
        result.unschedulable = plan.unschedulable.length;
      } else if (pods.length > 0) {
        // Nothing offered right now: the pods wait for offers (backoff ends early when offers arrive).
        for (const p of pods) this.queue.backoff(p.key, now);
      }

      if (this.queue.size === 0 && this.offers.size > 0 && !this.wantsOffers) {
        result.declined += this.decline(this.offers.takeAll(), refuseSecondsFor(0, cfg.offers));
      }
      this.updateOfferStream(now);
      this.deps.metrics?.pending(this.queue.size);
      this.deps.metrics?.cycle(this.deps.clock.now() - started, result.considered, result.placed);
      return result;
    } finally {
      this.cycleRunning = false;
    }
  }

  /** When the next cycle is due without new input (backoff or offer-hold expiry), or undefined. */
  nextWakeMs(): number | undefined {
    const now = this.deps.clock.now();
    // Pods ready (left over beyond maxBatch, or back from backoff) and offers held: the next cycle is due now.
    if (this.subscribed && this.offers.size > 0 && this.queue.counts(now).active > 0) return now;
    const due = [
      this.queue.nextBackoffExpiry(now),
      this.offers.size > 0 ? this.offers.nextExpiry(this.deps.config.offerHoldMs) : undefined,
      this.failover.nextDueMs(),
      this.nextIdleExpiry(),
      this.nextPoolReview(now),
      this.reviveDueMs,
      this.deps.config.rebalance && now < this.rebalanceUntilMs ? Math.max(now, this.lastRebalanceMs + REBALANCE_ROUND_MS) : undefined,
      this.failover.lostAgentIds().length > 0 ? this.lastLostReconcileMs + (this.deps.config.lostAgentReconcileMs ?? 10_000) : undefined,
    ].filter((x): x is number => x !== undefined);
    return due.length > 0 ? Math.min(...due) : undefined;
  }

  /**
   * Failover's part of a cycle: replaces the lost pods that are due, reconciles the tasks of lost agents now and then
   * (to notice their return), and returns the zones placement must leave alone.
   */
  private runFailover(now: number): Set<string> {
    const agents = [...this.agents.values()].map((a) => ({ id: a.info.id, zone: a.info.zone ?? '' }));
    const tick = this.failover.tick(agents, now);
    for (const action of tick.replace) {
      const rec = this.tasks.forPod(action.lost.uid);
      // Forget the task: if its agent comes back, the task is an orphan and gets killed, so nothing runs twice.
      if (rec) {
        this.tasks.forget(rec.taskId, now);
        this.replacedTasks.add(rec.taskId);
        if (this.replacedTasks.size > 100_000) this.replacedTasks.delete(this.replacedTasks.values().next().value!);
      }
      this.note('Warning', 'Replaced', action.lost.key, `agent ${action.lost.agentId} lost: ${action.kind === 'delete' ? 'deleted for its controller to re-create' : 're-created elsewhere'}`);
      this.deps.log.warn({ pod: action.lost.key, agentId: action.lost.agentId, kind: action.kind }, 'replacing a pod of a lost agent');
      this.deps.metrics?.podReplaced?.(action.lost.gone ? 'gone' : 'agent-lost');
      this.send(action.kind === 'delete' ? this.deps.kube.deletePod(action.pod, 0) : this.deps.kube.recreatePod(action.pod), `failover ${action.kind}`);
    }
    const lost = this.failover.lostAgentIds();
    const every = this.deps.config.lostAgentReconcileMs ?? 10_000;
    if (lost.length > 0 && now - this.lastLostReconcileMs >= every) {
      this.lastLostReconcileMs = now;
      const tasks = lost.flatMap((agentId) => this.tasks.onAgent(agentId).map((t) => ({ taskId: t.taskId, agentId })));
      if (tasks.length > 0) this.send(this.deps.mesos.reconcile(tasks), 'reconcile lost agents');
    }
    return tick.health.unhealthyZones;
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
      const k = this.tasks.kubelet(agentId);
      if (!k || k.state !== 'draining') {
        this.drains.delete(agentId);
        continue;
      }
      const podTasks = [...k.taskIds].map((id) => this.tasks.get(id)).filter((t): t is TaskRecord => t !== undefined && this.pods.has(t.podUid));
      if (podTasks.length === 0) {
        this.drains.delete(agentId);
        this.removeKubelet(agentId, 'drained');
        continue;
      }
      if (now - d.lastEvictMs < DRAIN_RETRY_MS) continue;
      d.lastEvictMs = now;
      for (const t of podTasks) {
        const pod = this.pods.get(t.podUid)!;
        if (pod.metadata?.deletionTimestamp) continue;
        this.send(
          this.deps.kube.evictPod(pod).then((r) => {
            if (r === 'blocked') this.note('Warning', 'DrainBlocked', t.podKey, `a PodDisruptionBudget does not allow evicting it now; kubelet on ${k.nodeName} stays until it does`);
          }),
          'evict for consolidation',
        );
      }
    }
  }

  private removeKubelet(agentId: string, why: string): void {
    const k = this.tasks.kubeletRemoving(agentId);
    if (!k) return;
    this.note('Normal', 'KubeletRemoved', k.nodeName, `${why}: cordoned, executor shut down, Node deleted`);
    this.deps.metrics?.kubeletScaleDown?.(why.startsWith('idle') ? 'idle' : why);
    const nodeName = k.nodeName;
    this.send(
      (async () => {
        await this.deps.kube.cordonNode(nodeName);
        await this.deps.mesos.shutdownExecutor(k.executorId, k.agentId);
        await this.deps.kube.deleteNode(nodeName);
      })(),
      'remove kubelet',
    );
  }

  private zonesShortOfWarmKubelets(agents: { zone: string; hasKubelet: boolean }[], unhealthy: ReadonlySet<string>, min: number): boolean {
    const have = new Map<string, number>();
    const free = new Map<string, number>();
    for (const a of agents) {
      if (a.hasKubelet) have.set(a.zone, (have.get(a.zone) ?? 0) + 1);
      else free.set(a.zone, (free.get(a.zone) ?? 0) + 1);
    }
    for (const [zone, n] of free) if (!unhealthy.has(zone) && n > 0 && (have.get(zone) ?? 0) < min) return true;
    return false;
  }

  /** Starts a kubelet with no pod on it (pool.minPerZone): the executor with a tiny keeper task that holds it up. */
  private launchWarmKubelet(agentId: string, now: number): void {
    const agent = this.agents.get(agentId);
    const offers = this.offers.takeAgent(agentId);
    if (!agent || offers.length === 0 || this.tasks.kubelet(agentId)) return;
    const role = offers.flatMap((o) => o.resources ?? []).map((r) => reservationRole(r))[0] ?? '*';
    const executorId = executorIdFor(agentId, now);
    const executor = buildExecutorInfo({ agent: agent.info, executorId, frameworkId: this.frameworkId!, config: this.deps.config.executor, role, offers });
    const carving = carveTaskResources.start(offers, executor);
    const carved = carveTaskResources.take(carving, { role, res: KEEPER_RESOURCES, hostPorts: [] });
    if (!carved.ok) {
      this.decline(offers, refuseSecondsFor(this.queue.size, this.deps.config.offers));
      return;
    }
    const taskId = `kubelet.${agentId}.${now.toString(36)}`;
    this.executorInfos.set(agentId, executor);
    this.tasks.launchKubelet(agentId, executorId, agent.info.nodeName, now);
    this.tasks.assume({ taskId, podKey: `kubelet/${agent.info.nodeName}`, podUid: `keeper:${agentId}`, agentId, executorId, launchedAtMs: now, ...KEEPER_RESOURCES, hostPorts: [] }, now);
    this.note('Normal', 'KubeletLaunched', agent.info.nodeName, `warm kubelet ${executorId} (pool.minPerZone) on agent ${agentId}`);
    this.deps.metrics?.kubeletLaunched?.();
    const task = {
      name: `kubelet keeper ${agent.info.nodeName}`,
      task_id: { value: taskId },
      agent_id: { value: agentId },
      resources: carved.resources,
      executor,
      labels: { labels: [{ key: KEEPER_LABEL, value: 'true' }] },
    };
    this.send(
      this.deps.mesos.accept(offers.map((o) => o.id.value), [{ type: 'LAUNCH', launch: { task_infos: [task] } }], refuseSecondsFor(this.queue.size, this.deps.config.offers)).catch((err: unknown) => {
        this.deps.log.warn({ err, agentId }, 'warm kubelet launch failed');
        this.tasks.forget(taskId, this.deps.clock.now());
        this.tasks.kubeletGone(agentId, executorId);
        this.executorInfos.delete(agentId);
      }),
      'launch warm kubelet',
    );
  }

  /** With consolidation on (or a drain in progress), the pool is reviewed every few seconds even when nothing else happens. */
  private nextPoolReview(now: number): number | undefined {
    if (this.drains.size > 0) return now + DRAIN_RETRY_MS;
    if (this.poolConfig().consolidation && this.tasks.allKubelets().next().done === false) return now + POOL_REVIEW_MS;
    return undefined;
  }

  private nextIdleExpiry(): number | undefined {
    let next: number | undefined;
    const timeout = this.poolConfig().idleTimeoutMs;
    for (const k of this.tasks.allKubelets()) {
      if (k.state !== 'running' || k.taskIds.size > 0) continue;
      const at = (k.idleSinceMs ?? k.launchedAtMs) + timeout;
      next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  private poolConfig(): PoolConfig {
    return this.deps.config.pool ?? DEFAULT_POOL_CONFIG;
  }

  /** Zone and state of every kubelet: all that the pool limits need, without walking their tasks (hot path). */
  private kubeletZones(): Pick<PoolKubelet, 'zone' | 'state'>[] {
    const out: Pick<PoolKubelet, 'zone' | 'state'>[] = [];
    for (const k of this.tasks.allKubelets()) if (k.state !== 'gone') out.push({ zone: this.agents.get(k.agentId)?.info.zone ?? '', state: k.state });
    return out;
  }

  private poolKubelets(): PoolKubelet[] {
    const out: PoolKubelet[] = [];
    for (const k of this.tasks.allKubelets()) {
      if (k.state === 'gone') continue;
      const a = this.agents.get(k.agentId);
      let cpus = 0;
      let mem = 0;
      for (const id of k.taskIds) {
        const t = this.tasks.get(id);
        if (t) {
          cpus += t.cpus;
          mem += t.mem;
        }
      }
      const pods: PoolKubelet['pods'] = [];
      for (const id of k.taskIds) {
        const t = this.tasks.get(id);
        const pod = t ? this.pods.get(t.podUid) : undefined;
        if (!t || !pod) continue;
        const owned = (pod.metadata?.ownerReferences ?? []).some((o) => o.controller);
        const safe = pod.metadata?.annotations?.[ANNOTATION_SAFE_TO_EVICT] !== 'false';
        pods.push({ key: t.podKey, cpus: t.cpus, mem: t.mem, evictable: owned && safe, pdbs: [] });
      }
      out.push({
        agentId: k.agentId,
        zone: a?.info.zone ?? '',
        state: k.state,
        idleSinceMs: k.taskIds.size === 0 ? (k.idleSinceMs ?? k.launchedAtMs) : undefined,
        underusedSinceMs: this.underusedSince.get(k.agentId),
        capacity: { cpus: (a?.lastOffered.cpus ?? 0) + cpus, mem: (a?.lastOffered.mem ?? 0) + mem },
        pods,
      });
    }
    return out;
  }

  /** The elastic pool's part of a cycle: idle kubelets are cordoned, shut down and their Nodes deleted. */
  private runPool(now: number, unhealthyZones: ReadonlySet<string>): void {
    const cfg = this.poolConfig();
    const agents = [...this.agents.values()].map((a) => ({
      id: a.info.id,
      zone: a.info.zone ?? '',
      hasKubelet: this.tasks.kubelet(a.info.id) !== undefined,
      launchable: this.offers.forAgent(a.info.id).length > 0 && !this.failover.isAgentLost(a.info.id),
    }));
    const kubelets = this.poolKubelets();
    if (cfg.consolidation) this.trackUnderuse(kubelets, cfg, now);
    // PodDisruptionBudgets are not read here: the Eviction API enforces them, and a blocked drain waits and says so.
    const pdbAllowed: Record<string, number> = {};
    const plan = planPool({ nowMs: now, kubelets, agents, pdbAllowed, failedZones: unhealthyZones }, cfg);
    // Offers are wanted (no SUPPRESS) while some healthy zone is short of warm kubelets and has agents to start them on.
    this.wantsOffers = cfg.minPerZone > 0 && this.zonesShortOfWarmKubelets(agents, unhealthyZones, cfg.minPerZone);
    for (const action of plan.actions) {
      if (action.kind === 'launch-warm') {
        this.launchWarmKubelet(action.agentId, now);
        continue;
      }
      if (action.kind === 'consolidate') {
        const k = this.tasks.kubeletDraining(action.agentId);
        if (!k) continue;
        this.drains.set(action.agentId, { startedMs: now, lastEvictMs: -Infinity });
        this.note('Normal', 'KubeletDraining', k.nodeName, `under-used: draining ${action.evict.length} pod(s) onto other kubelets (pool.consolidation)`);
        this.send(this.deps.kube.cordonNode(k.nodeName), 'cordon for consolidation');
        continue;
      }
      if (action.kind !== 'remove-idle') continue;
      const k = this.tasks.kubelet(action.agentId);
      const idleFor = k ? Math.round((now - (k.idleSinceMs ?? now)) / 1000) : 0;
      this.removeKubelet(action.agentId, `idle for ${idleFor} s`);
    }
    this.runDrains(now);
  }

  /** After a zone recovers (failover.rebalance), evict a few pods per round from the fullest zones of their spread. */
  private runRebalance(now: number, unhealthyZones: ReadonlySet<string>): void {
    const recovered = [...this.lastUnhealthyZones].filter((z) => !unhealthyZones.has(z));
    this.lastUnhealthyZones = new Set(unhealthyZones);
    if (!this.deps.config.rebalance) return;
    if (recovered.length > 0) {
      this.rebalanceUntilMs = now + REBALANCE_WINDOW_MS;
      this.note('Normal', 'Rebalancing', recovered.join(','), `zone(s) ${recovered.join(', ')} recovered: moving pods back for ${REBALANCE_WINDOW_MS / 60_000} min`);
    }
    if (now >= this.rebalanceUntilMs || now - this.lastRebalanceMs < REBALANCE_ROUND_MS || this.queue.size > 0) return;
    this.lastRebalanceMs = now;
    const zones = new Set<string>();
    for (const [id, a] of this.agents) if (a.info.zone && !unhealthyZones.has(a.info.zone) && !this.failover.isAgentLost(id)) zones.add(a.info.zone);
    const candidates: RebalancePod[] = [];
    for (const t of this.tasks.all()) {
      const pod = this.pods.get(t.podUid);
      const zone = this.agents.get(t.agentId)?.info.zone;
      const owner = pod?.metadata?.ownerReferences?.find((o) => o.controller);
      const spread = pod?.spec?.topologySpreadConstraints?.find((c) => c.topologyKey === 'topology.kubernetes.io/zone');
      if (!pod || !zone || !owner || !spread || pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) continue;
      candidates.push({ key: t.podUid, group: owner.uid, zone, maxSkew: spread.maxSkew });
    }
    for (const uid of planRebalance(candidates, [...zones])) {
      const pod = this.pods.get(uid)!;
      this.note('Normal', 'Rebalance', podKey(pod), 'evicted so its controller re-creates it in the recovered zone');
      this.send(this.deps.kube.evictPod(pod), 'rebalance eviction');
    }
  }

  private snapshot(unhealthyZones: ReadonlySet<string> = new Set()) {
    const podsByAgent = new Map<string, PlacedPod[]>();
    const add = (agentId: string, p: PlacedPod) => {
      let list = podsByAgent.get(agentId);
      if (!list) podsByAgent.set(agentId, (list = []));
      list.push(p);
    };
    const seen = new Set<string>();
    for (const t of this.tasks.all()) {
      const pod = this.pods.get(t.podUid);
      if (!pod) continue;
      seen.add(t.podUid);
      add(t.agentId, placedPod(pod, t.hostPorts));
    }
    for (const pod of this.pods.values()) {
      const uid = pod.metadata!.uid!;
      if (seen.has(uid) || !pod.spec?.nodeName || isFinished(pod)) continue;
      const agentId = pod.metadata?.annotations?.[ANNOTATION_AGENT_ID] ?? this.agentByNode.get(pod.spec.nodeName);
      if (agentId) add(agentId, placedPod(pod, hostPortsOf(pod)));
    }
    const views = [];
    const counts = kubeletCounts(this.kubeletZones());
    const poolCfg = this.poolConfig();
    for (const [id, a] of this.agents) {
      // A failed zone is not a spreading domain at all: nothing goes there and it does not hold replacements back.
      if (a.info.zone !== undefined && unhealthyZones.has(a.info.zone)) continue;
      const k = this.tasks.kubelet(id);
      const pods = podsByAgent.get(id) ?? [];
      // While a consolidation drains a kubelet, its pods go to the other kubelets, not to new ones.
      const noNewKubelet = !k && (!canAddKubelet(a.info.zone ?? '', counts, poolCfg) || this.drains.size > 0);
      views.push(
        agentView({
          info: a.info,
          offers: this.offers.forAgent(id),
          kubelet: k ? { podCount: pods.length, maxPods: this.deps.config.plan.maxPodsPerKubelet } : undefined,
          pods,
          unschedulable: this.failover.isAgentLost(id) || k?.state === 'removing' || k?.state === 'draining' || noNewKubelet,
        }),
      );
    }
    return views;
  }

  /** Assumes each placement and sends one ACCEPT per agent. Returns the number of ACCEPT calls. */
  private launch(placements: readonly { podKey: string; agentId: string; role: string; res: { cpus: number; mem: number; disk: number }; hostPorts: number[]; newKubelet: boolean }[], now: number): number {
    const byAgent = new Map<string, typeof placements[number][]>();
    for (const p of placements) {
      let list = byAgent.get(p.agentId);
      if (!list) byAgent.set(p.agentId, (list = []));
      list.push(p);
    }
    let accepts = 0;
    const counts = kubeletCounts(this.kubeletZones());
    for (const [agentId, list] of byAgent) {
      const agent = this.agents.get(agentId);
      if (!agent) continue;
      const existing = this.tasks.kubelet(agentId);
      if (!existing && !canAddKubelet(agent.info.zone ?? '', counts, this.poolConfig())) {
        // plan() placed several pods on new kubelets in one cycle beyond pool.max: these wait for the next cycle.
        for (const p of list) this.queue.backoff(p.podKey, now);
        continue;
      }
      const offers = this.offers.takeAgent(agentId);
      if (offers.length === 0) continue;
      let executor = this.executorInfos.get(agentId);
      if (!executor || !existing) {
        // An adopted kubelet (after a restart) keeps its executor id: the ExecutorInfo is rebuilt the same way.
        const executorId = existing?.executorId ?? executorIdFor(agentId, now);
        executor = buildExecutorInfo({ agent: agent.info, executorId, frameworkId: this.frameworkId!, config: this.deps.config.executor, role: list[0].role, offers });
        this.executorInfos.set(agentId, executor);
        if (!existing) {
          this.tasks.launchKubelet(agentId, executorId, agent.info.nodeName, now);
          counts.total++;
          counts.perZone.set(agent.info.zone ?? '', (counts.perZone.get(agent.info.zone ?? '') ?? 0) + 1);
          this.note('Normal', 'KubeletLaunched', agent.info.nodeName, `kubelet executor ${executorId} launched with the first pod on agent ${agentId}`);
          this.deps.metrics?.kubeletLaunched?.();
        }
      }
      const remaining = carveTaskResources.start(offers, this.tasks.kubelet(agentId)!.state === 'launching' && this.tasks.kubelet(agentId)!.taskIds.size === 0 ? executor : undefined);
      const taskInfos = [];
      const assumed: TaskRecord[] = [];
      for (const p of list) {
        const view = this.queue.get(p.podKey);
        const pod = view ? this.pods.get(view.uid) : undefined;
        if (!view || !pod) continue;
        const carved = carveTaskResources.take(remaining, p);
        if (!carved.ok) {
          this.deps.log.error({ pod: p.podKey, agentId, reason: carved.reason }, 'placement does not fit the offers (bug): re-queueing');
          this.queue.backoff(p.podKey, now);
          continue;
        }
        const taskId = taskIdFor(view);
        taskInfos.push(buildTaskInfo({ taskId, agentId, pod, view, resources: carved.resources, executor }));
        assumed.push(
          this.tasks.assume(
            { taskId, podKey: view.key, podUid: view.uid, agentId, executorId: executor.executor_id.value, launchedAtMs: now, cpus: p.res.cpus, mem: p.res.mem, disk: p.res.disk, hostPorts: p.hostPorts },
            now,
          ),
        );
        this.queue.delete(view.key);
        this.lastUnschedulable.delete(view.key);
        this.failingSince.delete(view.key);
      }
      const offerIds = offers.map((o) => o.id.value);
      if (taskInfos.length === 0) {
        this.decline(offers, refuseSecondsFor(this.queue.size, this.deps.config.offers));
        continue;
      }
      accepts++;
      this.deps.metrics?.offersAccepted(offerIds.length);
      this.deps.metrics?.launches(taskInfos.length);
      const refuse = refuseSecondsFor(this.queue.size, this.deps.config.offers);
      this.send(
        this.deps.mesos.accept(offerIds, [{ type: 'LAUNCH', launch: { task_infos: taskInfos } }], refuse).catch((err: unknown) => {
          // The master never got the launch: forget the assumed tasks and try the pods again.
          this.deps.log.warn({ err, agentId, pods: assumed.length }, 'ACCEPT failed: re-queueing its pods');
          const t = this.deps.clock.now();
          for (const rec of assumed) {
            this.tasks.forget(rec.taskId, t);
            const pod = this.pods.get(rec.podUid);
            if (pod && !pod.spec?.nodeName) this.requeue(pod);
          }
          const k = this.tasks.kubelet(agentId);
          if (k && k.taskIds.size === 0 && k.state === 'launching') {
            this.tasks.kubeletGone(agentId, k.executorId);
            this.executorInfos.delete(agentId);
          }
        }),
        'accept',
      );
    }
    return accepts;
  }

  private decline(offers: readonly Offer[], refuseSeconds: number): number {
    if (offers.length === 0) return 0;
    this.deps.metrics?.offersDeclined(offers.length);
    this.send(this.deps.mesos.decline(offers.map((o) => o.id.value), refuseSeconds), 'decline');
    return offers.length;
  }

  private updateOfferStream(now: number): void {
    const action = offerStreamAction(
      { pendingPods: this.queue.size, wantsOffers: this.wantsOffers, suppressed: this.suppressed, reviveBudget: this.reviveBudget, nowMs: now },
      this.deps.config.offers,
    );
    if (action.kind === 'suppress') {
      this.suppressed = true;
      this.offerStreamCall(() => this.deps.mesos.suppress(), 'suppress');
    } else if (action.kind === 'revive') {
      this.revive(now);
    } else if (action.kind === 'revive-later') {
      this.reviveDueMs = action.atMs; // the next cycle at that time sends it (nextWakeMs)
    } else if (
      action.kind === 'none' &&
      !this.suppressed &&
      this.queue.size > 0 &&
      now - this.lastOffersMs > STALLED_OFFERS_MS &&
      (this.lastReviveMs === undefined || now - this.lastReviveMs > STALLED_OFFERS_MS)
    ) {
      // Pods wait, we think we are not suppressed, yet no offer came for a while: say REVIVE again (it is idempotent).
      this.revive(now);
    }
  }

  private revive(now: number): void {
    this.reviveDueMs = undefined;
    this.suppressed = false;
    this.lastReviveMs = now;
    this.reviveBudget = spendRevive(this.reviveBudget, now, this.deps.config.offers.reviveMinIntervalMs);
    this.offerStreamCall(() => this.deps.mesos.revive(), 'revive');
  }

  /** SUPPRESS and REVIVE go out one after the other: two calls racing on separate connections could land reversed. */
  private offerStreamCall(call: () => Promise<void>, what: string): void {
    const next = this.offerStreamChain.then(call);
    this.offerStreamChain = next.catch(() => undefined);
    this.send(next, what);
  }

  /** True when a healthy, schedulable agent has no offer held: the cycle did not see the whole cluster. */
  private someAgentNotOffered(unhealthyZones: ReadonlySet<string>): boolean {
    for (const [id, a] of this.agents) {
      if (a.info.zone !== undefined && unhealthyZones.has(a.info.zone)) continue;
      if (this.failover.isAgentLost(id)) continue;
      const k = this.tasks.kubelet(id);
      if (k?.state === 'removing' || k?.state === 'draining') continue;
      if (this.offers.forAgent(id).length === 0) return true;
    }
    return false;
  }

  private reportUnschedulable(pod: V1Pod, message: string, now: number): void {
    const key = podKey(pod);
    const last = this.lastUnschedulable.get(key);
    if (last && last.message === message && now - last.atMs < this.deps.config.unschedulableReportIntervalMs) return;
    this.lastUnschedulable.set(key, { message, atMs: now });
    this.note('Warning', 'FailedScheduling', key, message);
    this.send(this.deps.kube.reportUnschedulable(pod, message), 'report unschedulable');
  }

  /** Wakes the runner: pods or offers arrived, or something freed capacity. */
  private wake(): void {
    if (this.subscribed && this.queue.size > 0 && this.suppressed) this.updateOfferStream(this.deps.clock.now());
    this.deps.onWake?.();
  }

  /** Tracks a fire-and-forget call so errors are logged, never unhandled, and `drain()` can wait for them. */
  private send(p: Promise<unknown>, what: string): void {
    const tracked = p.catch((err: unknown) => this.deps.log.warn({ err, what }, 'call failed')).finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  /** Resolves when every call sent so far has settled (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  // ---- read-only views for ops and tests --------------------------------------------------------------------------------

  debugState() {
    const now = this.deps.clock.now();
    return {
      subscribed: this.subscribed,
      frameworkId: this.frameworkId,
      suppressed: this.suppressed,
      queue: this.queue.counts(now),
      offersHeld: this.offers.size,
      agents: [...this.agents.values()].map((a) => ({ id: a.info.id, hostname: a.info.hostname, zone: a.info.zone, nodeName: a.info.nodeName, offers: this.offers.forAgent(a.info.id).length, kubelet: this.tasks.kubelet(a.info.id)?.state })),
      tasks: this.tasks.taskCount,
      kubelets: [...this.tasks.allKubelets()].map((k) => ({ agentId: k.agentId, executorId: k.executorId, nodeName: k.nodeName, state: k.state, tasks: k.taskIds.size })),
      failover: this.failover.debugState(),
      maintenance: this.maintenance.debugState(),
    };
  }

  private note(type: RecentEvent['type'], reason: string, object: string, message: string): void {
    this.recent.push({ atMs: this.deps.clock.now(), type, reason, object, message });
    if (this.recent.length > RECENT_EVENTS) this.recent.splice(0, this.recent.length - RECENT_EVENTS);
  }

  /**
   * What the dashboard shows: zones × agents with their kubelet, pods and free resources, pending pods with the reason
   * they wait, and recent events (newest first). A plain JSON-able value.
   */
  dashboardState(): DashboardState {
    const now = this.deps.clock.now();
    const podsByAgent = new Map<string, DashboardPod[]>();
    const used = new Map<string, { cpus: number; mem: number }>();
    for (const t of this.tasks.all()) {
      const pod = this.pods.get(t.podUid);
      const list = podsByAgent.get(t.agentId) ?? [];
      list.push({ key: t.podKey, phase: pod?.status?.phase ?? 'Pending', taskState: t.state });
      podsByAgent.set(t.agentId, list);
      const u = used.get(t.agentId) ?? { cpus: 0, mem: 0 };
      u.cpus += t.cpus;
      u.mem += t.mem;
      used.set(t.agentId, u);
    }
    const zones = new Map<string, DashboardAgent[]>();
    for (const [id, a] of this.agents) {
      const zone = a.info.zone ?? '(none)';
      const k = this.tasks.kubelet(id);
      const list = zones.get(zone) ?? [];
      list.push({
        id,
        hostname: a.info.hostname,
        nodeName: a.info.nodeName,
        kubelet: k ? k.state : null,
        pods: (podsByAgent.get(id) ?? []).sort((x, y) => x.key.localeCompare(y.key)),
        used: used.get(id) ?? { cpus: 0, mem: 0 },
        free: a.lastOffered,
        lastOfferAgoMs: now - a.lastOfferMs,
        lost: this.failover.isAgentLost(id),
      });
      zones.set(zone, list);
    }
    const pending = this.queue.ready(Number.MAX_SAFE_INTEGER).map((p) => ({ key: p.key, message: this.lastUnschedulable.get(p.key)?.message ?? 'waiting for offers', sinceMs: p.createdAtMs }));
    return {
      atMs: now,
      subscribed: this.subscribed,
      frameworkId: this.frameworkId,
      zones: [...zones.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, agents]) => ({ name, agents: agents.sort((x, y) => x.hostname.localeCompare(y.hostname)) })),
      pending,
      events: [...this.recent].reverse(),
      unhealthyZones: this.failover.debugState().unhealthyZones,
      totals: { agents: this.agents.size, kubelets: [...this.tasks.allKubelets()].length, tasks: this.tasks.taskCount, pending: this.queue.size, offersHeld: this.offers.size },
    };
  }

  gauges(): GaugeSnapshot {
    const count = <K extends string>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
    const kubelets = new Map<string, number>();
    for (const k of this.tasks.allKubelets()) count(kubelets, `${this.agents.get(k.agentId)?.info.zone ?? ''}\u0000${k.state}`);
    const agents = new Map<string, number>();
    for (const [id, a] of this.agents) count(agents, `${a.info.zone ?? ''}\u0000${this.failover.isAgentLost(id) ? 'lost' : 'active'}`);
    const tasks = new Map<string, number>();
    for (const t of this.tasks.all()) count(tasks, t.state);
    const health = this.failover.health([...this.agents.values()].map((a) => ({ id: a.info.id, zone: a.info.zone ?? '' })));
    const split = (m: Map<string, number>) =>
      [...m].map(([key, n]) => {
        const [zone, state] = key.split('\u0000');
        return { zone, state, count: n };
      });
    return {
      kubelets: split(kubelets),
      agents: split(agents),
      zones: [...health.zones].map(([z, h]) => [z, h.healthy]),
      tasks: [...tasks],
      offersHeld: this.offers.size,
      pending: this.queue.size,
      unschedulable: this.lastUnschedulable.size,
    };
  }

  agentInfo(agentId: string): AgentInfo | undefined {
    return this.agents.get(agentId)?.info;
  }
}

export interface DashboardPod {
  key: string;
  phase: string;
  taskState: string;
}

export interface DashboardAgent {
  id: string;
  hostname: string;
  nodeName: string;
  kubelet: string | null;
  pods: DashboardPod[];
  used: { cpus: number; mem: number };
  /** What the agent's latest offers held: roughly its free resources. */
  free: { cpus: number; mem: number };
  lastOfferAgoMs: number;
  /** Failover counts it lost (unreachable, FAILURE): its pods are replaced after their failover-after. */
  lost: boolean;
}

export interface DashboardState {
  atMs: number;
  subscribed: boolean;
  frameworkId: string | undefined;
  zones: { name: string; agents: DashboardAgent[] }[];
  pending: { key: string; message: string; sinceMs: number }[];
  events: RecentEvent[];
  /** Zones failover considers failed (nothing is placed there). */
  unhealthyZones: string[];
  totals: { agents: number; kubelets: number; tasks: number; pending: number; offersHeld: number };
}

export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

function isFinished(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}


function hostPortsOf(pod: V1Pod): number[] {
  const out: number[] = [];
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.hostPort) out.push(p.hostPort);
  return out;
}

/**
 * With consolidation on, new kubelets start only for pods no running kubelet can take (as Karpenter launches capacity
 * only for pods that do not fit): pass 1 places on agents with a kubelet, pass 2 places the rest on agents without one.
 */
function planExistingKubeletsFirst(views: AgentView[], pods: readonly PodSpecView[], cfg: PlanConfig): Plan {
  const withKubelet = views.map((v) => (v.kubelet ? v : { ...v, unschedulable: true }));
  const first = placementPlan(withKubelet, pods, cfg);
  if (first.unschedulable.length === 0) return first;
  const rest = new Set(first.unschedulable.map((u) => u.podKey));
  const withoutKubelet = views.map((v) => (v.kubelet ? { ...v, unschedulable: true } : v));
  const second = placementPlan(withoutKubelet, pods.filter((p) => rest.has(p.key)), cfg);
  return {
    placements: [...first.placements, ...second.placements],
    unschedulable: second.unschedulable,
    kubeletsToLaunch: second.kubeletsToLaunch,
  };
}

/** A bound pod's requests in Mesos units, for an adopted task's bookkeeping (no defaults: what the spec says). */
function requestsOf(pod: V1Pod): { cpus: number; mem: number; disk: number } {
  const view = podFromV1(pod, { cpus: 0, mem: 0, roles: ['*'] });
  return view.ok ? { ...view.pod.requests } : { cpus: 0, mem: 0, disk: 0 };
}

function placedPod(pod: V1Pod, hostPorts: number[]): PlacedPod {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  return {
    uid: pod.metadata!.uid!,
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    labels: pod.metadata?.labels ?? {},
    ownerUid: owner?.uid,
    hostPorts,
    affinity: pod.spec?.affinity,
  };
}
