/**
 * Every scheduler metric, created once on a given registry, so the scheduler just calls `metrics.offersReceived.inc(n)`.
 * Names are prefixed `kube_mesos_`; docs/metrics.md is generated from these definitions (`npx tsx src/ops/gen-metrics-doc.ts`).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type MesosConnectionState = 'disconnected' | 'connecting' | 'subscribed';
/** Hold reasons reported (as 0 when nothing is held); the failover manager reports the safety stop's. */
export const FAILOVER_HOLD_REASONS = ['safety-stop'] as const;
/** `kube_mesos_bindings_total{result}`: the Binding's outcome (BindOutcome's kinds). */
export const BINDING_RESULTS = ['bound', 'already-bound', 'rejected', 'failed', 'cancelled'] as const;
export type BindingResult = (typeof BINDING_RESULTS)[number];
/** `kube_mesos_mesos_call_duration_seconds{result}`. */
export const MESOS_CALL_RESULTS = ['ok', 'error'] as const;
export type MesosCallResult = (typeof MESOS_CALL_RESULTS)[number];
export const MESOS_CONNECTION_STATES: readonly MesosConnectionState[] = ['disconnected', 'connecting', 'subscribed'];

/** Seconds; from sub-millisecond cycles (a few pods) to multi-second ones (thousands of pods against thousands of agents). */
const CYCLE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds from a pod entering the queue to its task launch; includes waiting for offers and kubelets. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const RECONCILE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class SchedulerMetrics {
  readonly pendingPods: Gauge;
  readonly unschedulablePods: Gauge;
  readonly schedulingCycleDuration: Histogram;
  readonly podsPlacedPerCycle: Histogram;
  readonly podSchedulingLatency: Histogram;
  readonly offersReceived: Counter;
  readonly offersDeclined: Counter;
  readonly offersAccepted: Counter;
  readonly offersRescinded: Counter;
  readonly offersHeld: Gauge;
  readonly podLaunches: Counter;
  readonly kubeletLaunches: Counter;
  readonly kubeletScaleDowns: Counter<'reason'>;
  readonly kubeletStartSeconds: Histogram;
  readonly bindings: Counter<'result'>;
  readonly bindingDuration: Histogram;
  readonly mesosCallDuration: Histogram;
  readonly taskReachedDuration: Histogram;
  readonly offerHeldDuration: Histogram;
  readonly nodeCertificates: Counter<'result'>;
  readonly nodeCertificateDuration: Histogram;
  readonly taskUpdates: Counter<'state'>;
  readonly tasks: Gauge<'state'>;
  readonly kubelets: Gauge<'zone' | 'state'>;
  readonly agents: Gauge<'zone' | 'state'>;
  readonly zoneHealthy: Gauge<'zone'>;
  readonly mesosConnectionState: Gauge<'state'>;
  readonly mesosReconnects: Counter;
  readonly reconciliationDuration: Histogram<'kind'>;
  readonly leader: Gauge;
  readonly podReplacements: Counter<'reason'>;
  readonly failoverHeldPods: Gauge<'reason'>;
  readonly kubeletLaunchFailures: Counter<'reason'>;
  readonly volumeOperations: Counter<'operation'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.pendingPods = new Gauge({ name: 'kube_mesos_pending_pods', help: 'Pods with our schedulerName waiting for placement.', registers });
    this.unschedulablePods = new Gauge({ name: 'kube_mesos_unschedulable_pods', help: 'Pending pods that did not fit in the last cycle they were tried in (see their FailedScheduling events).', registers });
    this.schedulingCycleDuration = new Histogram({
      name: 'kube_mesos_scheduling_cycle_duration_seconds',
      help: 'Time of one scheduling cycle: snapshot, plan, assume.',
      buckets: CYCLE_BUCKETS,
      registers,
    });
    this.podsPlacedPerCycle = new Histogram({
      name: 'kube_mesos_scheduling_cycle_pods',
      help: 'Pods placed in one scheduling cycle.',
      buckets: [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    });
    this.podSchedulingLatency = new Histogram({
      name: 'kube_mesos_pod_scheduling_duration_seconds',
      help: 'Time from a pod entering the queue to its task being launched (includes waiting for offers and kubelets).',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.offersReceived = new Counter({ name: 'kube_mesos_offers_received_total', help: 'Offers received from Mesos.', registers });
    this.offersDeclined = new Counter({ name: 'kube_mesos_offers_declined_total', help: 'Offers declined (with refuse_seconds from mesos.refuseSeconds).', registers });
    this.offersAccepted = new Counter({ name: 'kube_mesos_offers_accepted_total', help: 'Offers used in an ACCEPT call.', registers });
    this.offersRescinded = new Counter({ name: 'kube_mesos_offers_rescinded_total', help: 'Offers rescinded by the master.', registers });
    this.offersHeld = new Gauge({ name: 'kube_mesos_offers_held', help: 'Offers currently held by the offer pool.', registers });
    this.podLaunches = new Counter({ name: 'kube_mesos_pod_launches_total', help: 'Pod tasks sent to Mesos in LAUNCH operations.', registers });
    this.kubeletLaunches = new Counter({ name: 'kube_mesos_kubelet_launches_total', help: 'Kubelet executors started (the first pod task on an agent starts one).', registers });
    this.kubeletScaleDowns = new Counter({ name: 'kube_mesos_kubelet_scale_downs_total', help: 'Kubelets removed by the pool, by reason (idle, drained).', labelNames: ['reason'], registers });
    this.kubeletStartSeconds = new Histogram({
      name: 'kube_mesos_kubelet_start_duration_seconds',
      help: 'Time from launching a kubelet executor to its first task update.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.bindings = new Counter({
      name: 'kube_mesos_bindings_total',
      help: 'Bindings the scheduler wrote once a task reached its agent, by result: bound, already-bound, rejected (pod gone, replaced or bound elsewhere), failed (API refused or retries exhausted), cancelled (its task ended while it waited: in the client queue, a Retry-After or its backoff).',
      labelNames: ['result'],
      registers,
    });
    this.taskReachedDuration = new Histogram({
      name: 'kube_mesos_task_reached_agent_duration_seconds',
      help: 'Time from the ACCEPT that launched a pod task to its first TASK_STARTING (or RUNNING): the way through Mesos to the executor and back, before the Binding.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.offerHeldDuration = new Histogram({
      name: 'kube_mesos_offer_held_duration_seconds',
      help: 'How long the scheduler held an offer, from its arrival to the ACCEPT or DECLINE that answered it (or its rescind): the hold other frameworks wait out (mesos.offerHold bounds it).',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.bindingDuration = new Histogram({
      name: 'kube_mesos_binding_duration_seconds',
      help: 'Time from the first TASK_STARTING of a task to its pod bound (the Binding call, retries included).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.mesosCallDuration = new Histogram({
      name: 'kube_mesos_mesos_call_duration_seconds',
      help: 'Scheduler calls to the Mesos master (ACCEPT, DECLINE, ACKNOWLEDGE, …), from sending to the master\'s answer, retries and redirects included, by call and result (ok, error).',
      labelNames: ['call', 'result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.nodeCertificates = new Counter({
      name: 'kube_mesos_node_certificates_total',
      help: 'Kubelet client certificates requested by executors (node identity), by result: issued, denied (the CSR or its sender failed a check), failed (API error).',
      labelNames: ['result'],
      registers,
    });
    this.nodeCertificateDuration = new Histogram({
      name: 'kube_mesos_node_certificate_issue_duration_seconds',
      help: 'Time from an executor\'s CSR message to the certificate sent back: create, approve, signed by kube-controller-manager (queueing included).',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.taskUpdates = new Counter({ name: 'kube_mesos_task_updates_total', help: 'Task status updates received, by Mesos task state (TASK_RUNNING, TASK_LOST, …).', labelNames: ['state'], registers });
    this.tasks = new Gauge({ name: 'kube_mesos_tasks', help: 'Tasks the framework knows, by last Mesos task state.', labelNames: ['state'], registers });
    this.kubelets = new Gauge({ name: 'kube_mesos_kubelets', help: 'Kubelet executors by zone and state.', labelNames: ['zone', 'state'], registers });
    this.agents = new Gauge({ name: 'kube_mesos_agents', help: 'Mesos agents seen, by zone and health (active, unreachable, lost).', labelNames: ['zone', 'state'], registers });
    this.zoneHealthy = new Gauge({ name: 'kube_mesos_zone_healthy', help: '1 when the zone is healthy, 0 when enough of its agents are lost (failover.zoneUnhealthyFraction) to call it failed.', labelNames: ['zone'], registers });
    this.mesosConnectionState = new Gauge({
      name: 'kube_mesos_mesos_connection_state',
      help: '1 for the current connection state to the Mesos master (disconnected, connecting, subscribed), 0 for the others.',
      labelNames: ['state'],
      registers,
    });
    this.mesosReconnects = new Counter({ name: 'kube_mesos_mesos_reconnects_total', help: 'Re-subscriptions after the event stream was lost (master failover, network, missed heartbeats).', registers });
    this.reconciliationDuration = new Histogram({
      name: 'kube_mesos_reconciliation_duration_seconds',
      help: 'Task reconciliation time, explicit (after each SUBSCRIBED, until every task is answered) or implicit (periodic, until the call returned).',
      labelNames: ['kind'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.leader = new Gauge({ name: 'kube_mesos_leader', help: '1 when this replica is the leader (or leader election is off), 0 on standby.', registers });
    this.volumeOperations = new Counter({
      name: 'kube_mesos_volume_operations_total',
      help: 'Mesos volume operations sent in ACCEPTs for PersistentVolumeClaims (docs/stateful.md), by operation: create (RESERVE + CREATE of a new volume), destroy (DESTROY + UNRESERVE of a reclaimed one), unreserve (reserved disk without a volume).',
      labelNames: ['operation'],
      registers,
    });
    this.podReplacements = new Counter({ name: 'kube_mesos_pod_replacements_total', help: 'Pods replaced after their agent or zone was lost, by reason.', labelNames: ['reason'], registers });
    this.failoverHeldPods = new Gauge({
      name: 'kube_mesos_failover_held_pods',
      help: 'Pods on lost agents whose replacement is held back, by reason: safety-stop (more than failover.safetyStopFraction of the agents, or every zone, looks lost at once).',
      labelNames: ['reason'],
      registers,
    });
    this.kubeletLaunchFailures = new Counter({
      name: 'kube_mesos_kubelet_launch_failures_total',
      help: 'Pod tasks that failed on their agent before the pod was bound (kubelet executor did not start, LAUNCH refused), by Mesos reason.',
      labelNames: ['reason'],
      registers,
    });
    this.setMesosConnectionState('disconnected');
    this.leader.set(0);
  }

  setMesosConnectionState(state: MesosConnectionState): void {
    for (const s of MESOS_CONNECTION_STATES) this.mesosConnectionState.set({ state: s }, s === state ? 1 : 0);
  }

  setLeader(isLeader: boolean): void {
    this.leader.set(isLeader ? 1 : 0);
  }

  /** Replaces every kubelets{zone,state} series, so zones and states that are gone stop being reported. */
  setKubelets(counts: Iterable<{ zone: string; state: string; count: number }>): void {
    this.kubelets.reset();
    for (const c of counts) this.kubelets.inc({ zone: c.zone, state: c.state }, c.count);
  }

  /** Replaces every agents{zone,state} series. */
  setAgents(counts: Iterable<{ zone: string; state: string; count: number }>): void {
    this.agents.reset();
    for (const c of counts) this.agents.inc({ zone: c.zone, state: c.state }, c.count);
  }

  /** Replaces every zone_healthy series. */
  setZoneHealth(zones: Iterable<[zone: string, healthy: boolean]>): void {
    this.zoneHealthy.reset();
    for (const [zone, healthy] of zones) this.zoneHealthy.set({ zone }, healthy ? 1 : 0);
  }

  /** Replaces every failover_held_pods{reason} series; the reasons always present are reported as 0 when nothing is held. */
  setFailoverHeld(held: Iterable<[reason: string, count: number]>): void {
    this.failoverHeldPods.reset();
    for (const r of FAILOVER_HOLD_REASONS) this.failoverHeldPods.set({ reason: r }, 0);
    for (const [reason, count] of held) this.failoverHeldPods.inc({ reason }, count);
  }

  /** Replaces every tasks{state} series. */
  setTaskStates(counts: Iterable<[state: string, count: number]>): void {
    this.tasks.reset();
    for (const [state, count] of counts) this.tasks.inc({ state }, count);
  }
}
