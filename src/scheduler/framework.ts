/**
 * The framework core, wired: one shared state (state.ts), one effects port (effects.ts), and the handlers over them —
 * Mesos events (mesos-events.ts), pod events (pod-events.ts), the cycle and its timer (cycle.ts), the offer stream
 * (offer-stream.ts), the launches (accept.ts), the pool's and failover's appliers, maintenance, and the read-only views
 * (views.ts). This file holds no logic of its own: it builds the parts and exposes them as one object.
 */
import { DEFAULT_RECONCILE, Reconciler, type ReconcileConfig } from './reconcile.js';
import { BoundPods } from './bound-pods.js';
import { TaskBinder } from './binder.js';
import { NodeIdentityIssuer, type NodeIdentityConfig } from './node-identity.js';
import { Preemptor } from './preemptor.js';
import type { PdbView } from '../placement/preemption.js';
import type { NodeChange } from '../kube/node-informer.js';
import type { V1Pod } from '@kubernetes/client-node';
import type { Offer, SchedulerEvent, TaskStatus } from '../mesos/types.js';
import type { PlanConfig, PodDefaults } from '../placement/types.js';
import { FailoverApplier } from '../failover/applier.js';
import type { FailoverConfig } from '../failover/policy.js';
import { PoolApplier } from '../pool/applier.js';
import { MaintenanceManager } from '../pool/maintenance.js';
import { DEFAULT_POOL_CONFIG, type PoolConfig } from '../pool/planner.js';
import type { DashboardState } from '../ops/types.js';
import type { Logger } from '../telemetry/log.js';
import { Launcher } from './accept.js';
import type { AgentInfo, AgentInfoOptions } from './agent-info.js';
import { CycleWaker, SchedulingCycle, type CycleResult } from './cycle.js';
import { Effects, type FrameworkMetrics } from './effects.js';
import { ExecutorLossHandler } from './executor-loss.js';
import type { ExecutorConfig } from './launch.js';
import { MesosEvents } from './mesos-events.js';
import type { OfferPolicyConfig } from './offer-pool.js';
import { OfferStream } from './offer-stream.js';
import { PodEvents } from './pod-events.js';
import type { Clock, KubePort, MesosPort } from './ports.js';
import { CoreState } from './state.js';
import { dashboardState, debugState, gauges, type GaugeSnapshot } from './views.js';
import type { StorageView } from './claims.js';
import { Volumes, type VolumesConfig } from './volumes.js';

export type { CycleResult } from './cycle.js';
export type { FrameworkMetrics } from './effects.js';
export type { GaugeSnapshot } from './views.js';

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
  /**
   * A pod whose own preferences (preferred node affinity, PreferNoSchedule taints) rank an agent not offered right now
   * above the one it was placed on, and that agent had room for it in its latest offer, waits for it this long at most
   * (placement/preferences.ts). Default 0: never.
   */
  preferenceWaitMs?: number;
  /**
   * Write each pod's Binding as soon as the master accepted its launch (the ACCEPT's answer) instead of on the task's
   * first TASK_STARTING; executors then send no TASK_STARTING (`placement.bindOnAccept`). A launch that fails before
   * its task reaches the agent leaves the pod bound: it is failed (BoundWithoutTask), its controller replaces it.
   */
  bindOnAccept?: boolean;
  /**
   * After SUBSCRIBED with a stored framework id, pending pods are not launched for this long: the implicit
   * reconciliation sent on subscribe reports the tasks an earlier leader launched for pods not yet bound, and they
   * are adopted instead of launched a second time. Default 0 (a new framework has no tasks to learn about).
   */
  adoptionGraceMs?: number;
  queue?: { initialBackoffMs?: number; maxBackoffMs?: number };
  failover?: FailoverConfig;
  pool?: PoolConfig;
  /** The elastic pool's review runs at most this often (it walks every kubelet's pods). Default 0: every cycle. */
  poolReviewIntervalMs?: number;
  /** failover.rebalance: after a failed zone recovers, move pods back gradually (evictions, PDBs respected). */
  rebalance?: boolean;
  /** While agents are lost, their tasks are reconciled this often (to notice their return). */
  lostAgentReconcileMs?: number;
  /** Node certificates for executors (node-identity.ts): where their kubeconfigs point. Absent: every CSR is denied. */
  nodeIdentity?: NodeIdentityConfig;
  /** Reconciliation backoff and the assumed-task timeout (reconcile.ts). */
  reconcile?: Partial<ReconcileConfig>;
  /** Mesos volumes for claims (volumes.ts); default agent work dir /var/lib/mesos, no principal. */
  volumes?: VolumesConfig;
}

export interface FrameworkDeps {
  mesos: MesosPort;
  kube: KubePort;
  clock: Clock;
  log: Logger;
  config: FrameworkCoreConfig;
  /** Run cycles on a timer, at most one per interval (the service). Without it the caller runs them (tests). */
  cycleIntervalMs?: number;
  /** Called when a cycle should run soon. */
  onWake?: () => void;
  metrics?: FrameworkMetrics;
}

export class FrameworkCore {
  private readonly state: CoreState;
  private readonly fx: Effects;
  private readonly stream: OfferStream;
  /** The informer's events go here (service.ts wires them directly). */
  readonly podEvents: PodEvents;
  /** The Mesos client's events go here. */
  readonly mesosEvents: MesosEvents;
  private readonly cycle: SchedulingCycle;
  readonly maintenance: MaintenanceManager;
  /** Explicit reconciliation until every task has a state (reconcile.ts). */
  readonly reconciler: Reconciler;
  private readonly wakeCycle: () => void;
  private readonly binder: TaskBinder;

  constructor(deps: FrameworkDeps) {
    const cfg = deps.config;
    const pool = cfg.pool ?? DEFAULT_POOL_CONFIG;
    const s = (this.state = new CoreState({ queue: cfg.queue, failover: cfg.failover, nowMs: deps.clock.now() }));
    const offerHeld = deps.metrics?.offerHeld;
    if (offerHeld) s.offers.onRelease = (at) => offerHeld(Math.max(0, deps.clock.now() - at) / 1000);
    const fx = (this.fx = new Effects(deps));
    const note = fx.note.bind(fx);
    const send = fx.send.bind(fx);
    const waker = new CycleWaker();
    const wake = waker.wake;
    this.wakeCycle = wake;
    this.stream = new OfferStream(s, fx, cfg.offers);
    this.podEvents = new PodEvents(s, fx, cfg, wake);
    this.maintenance = new MaintenanceManager({
      mesos: deps.mesos,
      kube: deps.kube,
      offers: s.offers,
      clock: deps.clock,
      log: deps.log.child({ component: 'maintenance' }),
      podsOn: (agentId) => s.podsOn(agentId),
      nodeName: (agentId) => s.nodeName(agentId),
      send,
      wake,
      note,
    });
    const volumes = new Volumes(s, fx, { roles: cfg.plan.defaultRoles, ...(cfg.volumes ?? { agentWorkDir: '/var/lib/mesos' }) });
    const launcher = new Launcher(
      s,
      fx,
      this.stream,
      { executor: cfg.executor, pool },
      (pod) => this.podEvents.requeue(pod),
      (tasks) => this.reconciler.check(tasks, fx.clock.now()),
      volumes,
      cfg.bindOnAccept ? (rec) => this.binder.taskStarted(rec) : undefined,
    );
    const poolApplier = new PoolApplier({
      config: pool,
      minReviewIntervalMs: cfg.poolReviewIntervalMs,
      kubelets: () => s.tasks.allKubelets(),
      kubelet: (agentId) => s.tasks.kubelet(agentId),
      task: (taskId) => s.tasks.get(taskId),
      pod: (uid) => s.pods.get(uid),
      agents: () => [...s.agents.values()].map((a) => ({ id: a.info.id, zone: a.info.zone ?? '', lastOffered: a.lastOffered })),
      agentIds: () => s.agents.keys(),
      launchable: (agentId) => s.offers.hasAgent(agentId) && !s.failover.isAgentLost(agentId),
      markDraining: (agentId) => s.tasks.kubeletDraining(agentId),
      markRemoving: (agentId) => s.tasks.kubeletRemoving(agentId),
      markRunning: (agentId) => s.tasks.kubeletUndrain(agentId),
      launchWarmKubelet: (agentId, now) => launcher.launchWarmKubelet(agentId, now),
      kube: deps.kube,
      mesos: deps.mesos,
      send,
      note,
      metrics: deps.metrics,
    });
    const failover = new FailoverApplier({
      manager: s.failover,
      rebalance: cfg.rebalance ?? false,
      lostAgentReconcileMs: cfg.lostAgentReconcileMs ?? 10_000,
      agents: () => s.agentZones(),
      tasks: () => s.tasks.all(),
      tasksOn: (agentId) => s.tasks.onAgent(agentId),
      taskForPod: (uid) => s.tasks.forPod(uid),
      forgetReplaced: (taskId, now) => {
        this.binder.taskEnded(taskId, s.tasks.get(taskId)?.agentId);
        s.tasks.forget(taskId, now);
        s.markReplaced(taskId);
      },
      pod: (uid) => s.pods.get(uid),
      pendingPods: () => s.queue.size,
      // Lost pods whose task ended (TASK_GONE forgets it) still count: the fraction is lost / (running + lost).
      taskCounts: () => ({ total: s.tasks.taskCount + s.failover.lostPodUids().filter((uid) => !s.tasks.forPod(uid)).length, awaitingReconciliation: s.tasks.unconfirmedCount() }),
      kube: deps.kube,
      mesos: deps.mesos,
      send,
      note,
      log: deps.log,
      metrics: deps.metrics,
    });
    const reconciler = (this.reconciler = new Reconciler(s, fx, { ...DEFAULT_RECONCILE, ...cfg.reconcile }));
    const loss = new ExecutorLossHandler(s, fx, wake);
    const binder = (this.binder = new TaskBinder(s, fx, wake));
    const identity = new NodeIdentityIssuer(s, fx, cfg.nodeIdentity);
    this.mesosEvents = new MesosEvents(s, fx, { stream: this.stream, pods: this.podEvents, maintenance: this.maintenance, loss, reconciler, binder, identity, volumes }, cfg, wake);
    const bound = new BoundPods(s, fx, { plan: cfg.plan, podDefaults: cfg.podDefaults });
    this.podEvents.bound = bound;
    const preemptor = new Preemptor(s, fx, { plan: cfg.plan });
    const parts = { stream: this.stream, pods: this.podEvents, launcher, volumes, pool: poolApplier, failover, maintenance: this.maintenance, loss, bound, preemptor, reconciler };
    const runner = { timer: deps.cycleIntervalMs !== undefined ? { intervalMs: deps.cycleIntervalMs } : undefined, onWake: deps.onWake };
    this.cycle = new SchedulingCycle(s, fx, parts, cfg, runner, waker);
  }

  get queue() {
    return this.state.queue;
  }
  get offers() {
    return this.state.offers;
  }
  get tasks() {
    return this.state.tasks;
  }
  get failover() {
    return this.state.failover;
  }

  // ---- Mesos events (mesos-events.ts) ----
  handleEvent = (ev: SchedulerEvent): void => this.mesosEvents.handle(ev);
  onSubscribed = (frameworkId: string): void => this.mesosEvents.subscribed(frameworkId);
  onDisconnected = (): void => this.mesosEvents.disconnected();
  onOffers = (offers: readonly Offer[]): void => this.mesosEvents.offers(offers);
  onUpdate = (status: TaskStatus): void => this.mesosEvents.update(status);
  onFailure = (agentId: string | undefined, executorId: string | undefined): void => this.mesosEvents.failure(agentId, executorId);
  adoptFromPods = (): number => this.mesosEvents.adoptFromPods();

  // ---- Node events (the kubelets' Nodes: labels, taints, cordon, resources) ----
  /** A Node placement reads changed (or appeared, or went): pods that waited may fit now, so they are tried again. */
  onNodeChange = (c: NodeChange): void => {
    if (c.node) this.state.nodes.set(c.agentId, c.node);
    else this.state.nodes.delete(c.agentId);
    if (c.node) this.binder.agentKnown(c.agentId);
    this.state.queue.moveAllToActive();
    this.wakeCycle();
  };

  // ---- storage (claims, volumes, classes: kube/storage-informer.ts) ----
  /** From now on pods' claims are looked at (placement's VolumeBinding, Mesos volumes). */
  setStorage = (storage: StorageView): void => {
    this.state.storage = storage;
  };
  /** A claim, volume or class changed: pods that waited for it may fit now, and volumes may be reclaimable. */
  onStorageChange = (): void => {
    this.state.queue.moveAllToActive();
    this.wakeCycle();
  };
  /** The PDB informer's latest list: preemption picks victims that violate as few as possible. */
  setPodDisruptionBudgets = (pdbs: readonly PdbView[]): void => {
    this.state.pdbs = pdbs;
  };

  // ---- pod events (pod-events.ts) ----
  onPodUpsert = (pod: V1Pod): void => this.podEvents.upsert(pod);
  onPodDelete = (pod: V1Pod): void => this.podEvents.delete(pod);

  // ---- the cycle (cycle.ts) ----
  runCycle = (): CycleResult => this.cycle.run();
  nextWakeMs = (): number | undefined => this.cycle.nextWakeMs();

  /** Stops the cycle timer and resolves when every call sent so far has settled. */
  async stop(): Promise<void> {
    this.cycle.stop();
    await this.fx.drain();
  }

  /** Resolves when every call sent so far has settled (tests, shutdown). */
  drain = (): Promise<void> => this.fx.drain();

  // ---- views (views.ts) ----
  debugState = () => debugState(this.state, { nowMs: this.fx.clock.now(), suppressed: this.stream.isSuppressed, maintenance: this.maintenance.debugState() });
  dashboardState = (): DashboardState => dashboardState(this.state, { nowMs: this.fx.clock.now(), events: this.fx.recentEvents() });
  gauges = (): GaugeSnapshot => gauges(this.state);
  agentInfo = (agentId: string): AgentInfo | undefined => this.state.agents.get(agentId)?.info;
}
