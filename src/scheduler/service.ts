/**
 * The scheduler process, assembled: Mesos client, pod informer, Kubernetes writes, the framework core and its runner
 * loop, the ops server. Used by `kube-mesos scheduler` and by the sandbox; configuration comes in as values.
 */
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { KubeMesosConfig } from '../config/config.js';
import { KubeClient } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { KubeHttp } from '../kube/http.js';
import { podInformer, type ResilientInformer } from '../kube/informer.js';
import { SchedulerClient } from '../mesos/scheduler.js';
import { isZkUrl, ZooKeeperMasterDetector } from '../mesos/zk/detector.js';
import type { FrameworkInfo, TaskStatus } from '../mesos/types.js';
import { SchedulerMetrics } from '../ops/metrics.js';
import { createRegistry } from '../telemetry/metrics.js';
import type { Logger } from '../telemetry/log.js';
import { FrameworkCore, type FrameworkCoreConfig, type FrameworkMetrics } from './framework.js';
import type { KubePort, MesosPort } from './ports.js';

export interface SchedulerServiceOptions {
  config: KubeMesosConfig;
  kubeconfig: KubeConfig;
  log: Logger;
  /** Secret for mesos.principal, read by the caller from mesos.secretFile. */
  secret?: string;
  /** PEM CA bundle for https masters, read by the caller. */
  ca?: string;
  /** Shell command Mesos agents run for the executor. */
  executorCommand: string;
  /** Kubeconfig path handed to executors (they reach the API server with it). */
  executorKubeconfig: string;
  /** The framework id from a previous run (state store), if any. */
  frameworkId?: string;
  onFrameworkId?: (id: string) => void;
  registry?: Registry;
}

export interface SchedulerService {
  core: FrameworkCore;
  client: SchedulerClient;
  informer: ResilientInformer<V1Pod>;
  metrics: SchedulerMetrics;
  registry: Registry;
  readiness(): { ready: boolean; checks: Record<string, boolean | string> };
  stop(): Promise<void>;
}

const CAPABILITIES = ['MULTI_ROLE', 'PARTITION_AWARE', 'REGION_AWARE', 'TASK_KILLING_STATE'] as const;

export function frameworkInfo(c: KubeMesosConfig, id: string | undefined, user: string): FrameworkInfo {
  return {
    user: c.mesos.user || user,
    name: c.mesos.frameworkName,
    ...(id ? { id: { value: id } } : {}),
    failover_timeout: c.mesos.failoverTimeout / 1000,
    checkpoint: c.mesos.checkpoint,
    roles: [...c.mesos.roles],
    ...(c.mesos.principal ? { principal: c.mesos.principal } : {}),
    ...(c.mesos.webuiUrl ? { webui_url: c.mesos.webuiUrl } : {}),
    capabilities: CAPABILITIES.map((type) => ({ type })),
  };
}

export function coreConfig(c: KubeMesosConfig, o: Pick<SchedulerServiceOptions, 'executorCommand' | 'executorKubeconfig'>): FrameworkCoreConfig {
  return {
    plan: {
      executor: { cpus: c.pool.executorCpus, mem: c.pool.executorMem, disk: 0 },
      defaultScoring: c.placement.defaultScoring,
      preferExistingKubelet: c.placement.preferExistingKubelet,
      maxPodsPerKubelet: c.pool.maxPodsPerKubelet,
      defaultRoles: [...c.mesos.roles],
    },
    podDefaults: { cpus: c.placement.defaultRequests.cpu, mem: c.placement.defaultRequests.memory, roles: [...c.mesos.roles] },
    executor: {
      command: o.executorCommand,
      cpus: c.pool.executorCpus,
      mem: c.pool.executorMem,
      kubeconfigPath: o.executorKubeconfig,
      kubeletMode: c.pool.kubeletMode,
      kubeletCommand: c.pool.kubeletMode === 'real' ? c.pool.kubeletCommand : undefined,
      kubeletExtraFlags: c.pool.kubeletMode === 'real' ? c.pool.kubeletExtraFlags : undefined,
      maxPods: c.pool.maxPodsPerKubelet,
      logLevel: c.ops.logLevel,
      schedulerName: c.kube.schedulerName,
    },
    agentInfo: { zoneAttribute: c.placement.zoneAttribute || undefined, regionAttribute: c.placement.regionAttribute || undefined },
    offers: { refuseWhileWaitingSeconds: c.mesos.refuseSeconds.waiting, refuseIdleSeconds: c.mesos.refuseSeconds.idle, reviveMinIntervalMs: c.mesos.reviveMinInterval },
    failover: {
      zoneUnhealthyFraction: c.failover.zoneUnhealthyFraction,
      safetyStopFraction: c.failover.safetyStopFraction,
      defaultFailoverAfterMs: c.failover.defaultFailoverAfter,
      replacementsPerMinute: c.failover.replacementsPerMinute,
      replacementBurst: c.failover.replacementBurst,
    },
    pool: {
      minPerZone: c.pool.minPerZone,
      max: c.pool.max,
      maxPerZone: c.pool.maxPerZone,
      idleTimeoutMs: c.pool.idleTimeout,
      scaleDownUtilization: c.pool.scaleDownUtilization,
      consolidation: c.pool.consolidation,
      maxConcurrentScaleDowns: c.pool.maxConcurrentScaleDowns,
      consolidationDelayMs: c.pool.consolidationDelay,
    },
    rebalance: c.failover.rebalance,
    offerHoldMs: 5000,
    maxBatch: c.placement.maxBatch,
    unschedulableReportIntervalMs: 60_000,
    // Two allocation intervals and a decline filter: long enough for the agents not offered right now to come back.
    unschedulableGraceMs: 5_000,
  };
}

function mesosPort(client: SchedulerClient): MesosPort {
  return {
    accept: (offerIds, operations, refuseSeconds) => client.accept(offerIds, operations, { refuse_seconds: refuseSeconds }),
    decline: (offerIds, refuseSeconds) => client.decline(offerIds, { refuse_seconds: refuseSeconds }),
    acknowledge: async (status: TaskStatus) => {
      await client.acknowledge(status);
    },
    reconcile: (tasks) => client.reconcile(tasks),
    kill: (taskId, agentId, grace) => client.kill(taskId, agentId, grace !== undefined ? { grace_period: { nanoseconds: grace * 1e9 } } : undefined),
    revive: () => client.revive(),
    suppress: () => client.suppress(),
    shutdownExecutor: (executorId, agentId) => client.shutdown(executorId, agentId),
    // maintenance
    acceptInverseOffers: (ids, refuseSeconds) => client.acceptInverseOffers(ids, { refuse_seconds: refuseSeconds }),
    declineInverseOffers: (ids, refuseSeconds) => client.declineInverseOffers(ids, { refuse_seconds: refuseSeconds }),
  };
}

function kubePort(kube: KubeClient, events: EventRecorder, log: Logger): KubePort {
  const ref = (pod: V1Pod) => ({ kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? '', uid: pod.metadata?.uid });
  return {
    async reportUnschedulable(pod, message) {
      events.event(ref(pod), 'Warning', 'FailedScheduling', message);
      const r = await kube.setPodScheduledCondition(pod, { status: 'False', reason: 'Unschedulable', message });
      if (!r.ok && r.kind !== 'NotFound') log.warn({ pod: ref(pod).name, kind: r.kind, message: r.message }, 'could not set PodScheduled condition');
    },
    async reportScheduled(pod, nodeName) {
      events.event(ref(pod), 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata?.namespace}/${pod.metadata?.name} to ${nodeName}`);
    },
    async reportWarning(pod, reason, message) {
      events.event(ref(pod), 'Warning', reason, message);
    },
    async deletePod(pod, gracePeriodSeconds) {
      const r = await kube.deletePod(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '', { gracePeriodSeconds, uid: pod.metadata?.uid });
      if (!r.ok && r.kind !== 'NotFound' && r.kind !== 'Conflict') throw new Error(`delete pod ${ref(pod).name}: ${r.kind}: ${r.message}`);
    },
    async evictPod(pod) {
      const r = await kube.evictPod(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '', { uid: pod.metadata?.uid });
      if (r.ok) return 'evicted';
      if (r.kind === 'NotFound' || r.kind === 'Conflict') return 'gone';
      if (r.kind === 'DisruptionBudget') return 'blocked';
      throw new Error(`evict pod ${ref(pod).name}: ${r.kind}: ${r.message}`);
    },
    async cordonNode(name) {
      const r = await kube.cordonNode(name);
      if (!r.ok && r.kind !== 'NotFound') throw new Error(`cordon node ${name}: ${r.kind}: ${r.message}`);
    },
    async deleteNode(name) {
      const r = await kube.deleteNode(name);
      if (!r.ok && r.kind !== 'NotFound') throw new Error(`delete node ${name}: ${r.kind}: ${r.message}`);
    },
    // maintenance
    async uncordonNode(name) {
      const r = await kube.cordonNode(name, false);
      if (!r.ok && r.kind !== 'NotFound') throw new Error(`uncordon node ${name}: ${r.kind}: ${r.message}`);
    },
    async recreatePod(pod) {
      const ns = pod.metadata?.namespace ?? 'default';
      const del = await kube.deletePod(ns, pod.metadata?.name ?? '', { gracePeriodSeconds: 0, uid: pod.metadata?.uid });
      if (!del.ok && del.kind !== 'NotFound') throw new Error(`delete pod ${ref(pod).name}: ${del.kind}: ${del.message}`);
      const r = await kube.createPod(ns, freshCopy(pod));
      if (!r.ok) throw new Error(`re-create pod ${ref(pod).name}: ${r.kind}: ${r.message}`);
    },
  };
}

/** A bare pod as the user wrote it: no identity, binding, status or kube-mesos annotations. */
export function freshCopy(pod: V1Pod): V1Pod {
  const annotations = Object.fromEntries(Object.entries(pod.metadata?.annotations ?? {}).filter(([k]) => !['kube-mesos.io/task-id', 'kube-mesos.io/agent-id', 'kube-mesos.io/executor-id'].includes(k)));
  const { nodeName: _nodeName, ...spec } = pod.spec ?? { containers: [] };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, labels: pod.metadata?.labels, annotations },
    spec: spec as V1Pod['spec'],
  };
}

function metricsAdapter(m: SchedulerMetrics): FrameworkMetrics {
  return {
    offersReceived: (n) => m.offersReceived.inc(n),
    offersDeclined: (n) => m.offersDeclined.inc(n),
    offersAccepted: (n) => m.offersAccepted.inc(n),
    offersRescinded: (n) => m.offersRescinded.inc(n),
    launches: (n) => m.podLaunches.inc(n),
    taskState: (state) => m.taskUpdates.inc({ state }),
    cycle: (ms, _pods, placed) => {
      m.schedulingCycleDuration.observe(ms / 1000);
      m.podsPlacedPerCycle.observe(placed);
    },
    podScheduled: (ms) => m.podSchedulingLatency.observe(ms / 1000),
    pending: (n) => m.pendingPods.set(n),
    kubeletScaleDown: (reason) => m.kubeletScaleDowns.inc({ reason }),
    kubeletStarted: (seconds) => m.kubeletStartSeconds.observe(seconds),
    kubeletLaunched: () => m.kubeletLaunches.inc(),
    podReplaced: (reason) => m.podReplacements.inc({ reason }),
  };
}

/** Starts the scheduler: nothing is scheduled until Mesos says SUBSCRIBED and the pod informer has synced. */
export async function startSchedulerService(o: SchedulerServiceOptions): Promise<SchedulerService> {
  const c = o.config;
  const log = o.log;
  const registry = o.registry ?? createRegistry({ defaultMetrics: true });
  const metrics = new SchedulerMetrics(registry);
  metrics.setLeader(true); // the service runs only on the leader (or without leader election)
  const http = new KubeHttp(o.kubeconfig, { qps: c.kube.qps, burst: c.kube.burst });
  const kube = new KubeClient(http);
  // Events get their own transport and QPS budget so they never delay scheduling writes.
  const events = new EventRecorder({ client: new KubeClient(new KubeHttp(o.kubeconfig, { qps: 20, burst: 50 })), component: 'kube-mesos', log });

  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  let stopped = false;
  let lastCycle = 0;
  const cycleInterval = c.placement.cycleInterval;
  /** Runs a cycle at `atMs`, or earlier if one is already due sooner: a wake-up never waits behind a later timer. */
  const schedule = (atMs: number) => {
    if (stopped || atMs >= timerAt) return;
    if (timer) clearTimeout(timer);
    timerAt = atMs;
    timer = setTimeout(tick, Math.max(0, atMs - Date.now()));
  };
  const tick = () => {
    timer = undefined;
    timerAt = Infinity;
    if (stopped) return;
    lastCycle = Date.now();
    try {
      core.runCycle();
    } catch (err) {
      log.error({ err }, 'scheduling cycle failed');
    }
    const next = core.nextWakeMs();
    if (next !== undefined) schedule(Math.max(next, lastCycle + cycleInterval));
  };

  // One zk:// URL: follow the leading master through ZooKeeper, as Mesos' own detector does; else a list of masters.
  const detector = c.mesos.masters.length === 1 && isZkUrl(c.mesos.masters[0]) ? new ZooKeeperMasterDetector({ url: c.mesos.masters[0], log: log.child({ component: 'zk' }) }) : undefined;
  const client = new SchedulerClient({
    ...(detector ? { detector } : { masters: [...c.mesos.masters] }),
    framework: frameworkInfo(c, o.frameworkId, process.env.USER ?? 'root'),
    contentType: c.mesos.contentType === 'json' ? 'application/json' : 'application/x-protobuf',
    credentials: c.mesos.principal && o.secret !== undefined ? { principal: c.mesos.principal, secret: o.secret } : undefined,
    ca: o.ca,
    heartbeatMissLimit: c.mesos.heartbeatMissLimit,
    log: log.child({ component: 'mesos' }),
  });
  const core = new FrameworkCore({
    mesos: mesosPort(client),
    kube: kubePort(kube, events, log.child({ component: 'kube' })),
    clock: { now: () => Date.now() },
    log: log.child({ component: 'core' }),
    config: coreConfig(c, o),
    metrics: metricsAdapter(metrics),
    onWake: () => schedule(lastCycle + cycleInterval),
  });


  client.on('subscribed', (info) => {
    log.info({ frameworkId: info.frameworkId, master: info.master }, 'subscribed to Mesos');
    metrics.setMesosConnectionState('subscribed');
    o.onFrameworkId?.(info.frameworkId);
  });
  client.on('disconnected', (err) => {
    log.warn({ err: err.message }, 'Mesos subscription lost');
    metrics.mesosReconnects.inc();
    metrics.setMesosConnectionState('disconnected');
    core.onDisconnected();
  });
  client.on('event', (ev) => core.handleEvent(ev));

  const informer = podInformer(http, { schedulerName: c.kube.schedulerName, log: log.child({ component: 'pod-informer' }) });
  informer.on('add', (pod) => core.onPodUpsert(pod));
  informer.on('update', (pod) => core.onPodUpsert(pod));
  informer.on('delete', (pod) => core.onPodDelete(pod));
  informer.start();
  await informer.ready;
  const adopted = core.adoptFromPods();
  log.info({ pods: informer.size, adoptedTasks: adopted }, 'pod informer synced');
  client.start();

  // Gauges by zone and state are recomputed every few seconds rather than on every change.
  const gaugeTimer = setInterval(() => {
    const g = core.gauges();
    metrics.setKubelets(g.kubelets);
    metrics.setAgents(g.agents);
    metrics.setZoneHealth(g.zones);
    metrics.setTaskStates(g.tasks);
    metrics.offersHeld.set(g.offersHeld);
    metrics.unschedulablePods.set(g.unschedulable);
  }, 5000);
  gaugeTimer.unref();

  const reconcileTimer = setInterval(() => {
    if (client.state === 'subscribed') client.reconcile([]).catch((err: unknown) => log.warn({ err }, 'implicit reconciliation failed'));
  }, c.mesos.implicitReconcileInterval);
  reconcileTimer.unref();

  return {
    core,
    client,
    informer,
    metrics,
    registry,
    readiness: () => {
      const checks = { mesosSubscribed: client.state === 'subscribed', informersSynced: informer.hasSynced() };
      return { ready: Object.values(checks).every(Boolean), checks };
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      clearInterval(reconcileTimer);
      clearInterval(gaugeTimer);
      await client.stop();
      await detector?.stop();
      await informer.stop();
      await core.drain();
      await events.stop();
    },
  };
}
