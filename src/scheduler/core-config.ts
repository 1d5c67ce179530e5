/**
 * The framework's configuration, derived from the validated kube-mesos config: the FrameworkInfo it subscribes with and
 * the core's settings. Pure.
 */
import type { KubeMesosConfig } from '../config/config.js';
import type { ExecutorDelivery } from '../delivery/executor-delivery.js';
import type { FrameworkInfo } from '../mesos/types.js';
import type { FrameworkCoreConfig } from './framework.js';
import type { NodeIdentityConfig } from './node-identity.js';

// GPU_RESOURCES: without it Mesos offers nothing of an agent that has GPUs (pods ask for them as nvidia.com/gpu).
const CAPABILITIES = ['MULTI_ROLE', 'PARTITION_AWARE', 'REGION_AWARE', 'TASK_KILLING_STATE', 'GPU_RESOURCES'] as const;

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

/** `executorDelivery` (delivery/setup.ts) replaces the command and adds the fetcher URIs or the container. */
export function coreConfig(
  c: KubeMesosConfig,
  o: { executorCommand: string; executorKubeconfig: string; executorDelivery?: ExecutorDelivery; frameworkId?: string; nodeIdentity?: Omit<NodeIdentityConfig, 'maxConcurrent'> },
): FrameworkCoreConfig {
  const d = o.executorDelivery;
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
      command: d?.command ?? o.executorCommand,
      ...(d && d.uris.length > 0 ? { uris: d.uris } : {}),
      ...(d?.container ? { container: d.container } : {}),
      cpus: c.pool.executorCpus,
      mem: c.pool.executorMem,
      kubeconfigPath: o.executorKubeconfig,
      kubeletMode: c.pool.kubeletMode,
      kubeletCommand: c.pool.kubeletMode === 'real' ? (d?.kubeletCommand ?? c.pool.kubeletCommand) : undefined,
      kubeletExtraFlags: c.pool.kubeletMode === 'real' ? c.pool.kubeletExtraFlags : undefined,
      maxPods: c.pool.maxPodsPerKubelet,
      logLevel: c.ops.logLevel,
      schedulerName: c.kube.schedulerName,
      ...(c.placement.bindOnAccept ? { env: { KUBE_MESOS_NO_TASK_STARTING: 'true' } } : {}),
    },
    volumes: { agentWorkDir: c.storage.agentWorkDir, principal: c.mesos.principal },
    agentInfo: { zoneAttribute: c.placement.zoneAttribute || undefined, regionAttribute: c.placement.regionAttribute || undefined },
    offers: { refuseWhileWaitingSeconds: c.mesos.refuseSeconds.waiting, refuseIdleSeconds: c.mesos.refuseSeconds.idle, reviveMinIntervalMs: c.mesos.reviveMinInterval },
    failover: {
      zoneUnhealthyFraction: c.failover.zoneUnhealthyFraction,
      safetyStopFraction: c.failover.safetyStopFraction,
      defaultFailoverAfterMs: c.failover.defaultFailoverAfter,
      replacementsPerMinute: c.failover.replacementsPerMinute,
      replacementBurst: c.failover.replacementBurst,
      nodeEvictionRate: c.failover.nodeEvictionRate,
      secondaryNodeEvictionRate: c.failover.secondaryNodeEvictionRate,
      largeClusterSizeThreshold: c.failover.largeClusterSizeThreshold,
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
      drainTimeoutMs: c.pool.drainTimeout,
      daemonSetPodsKeepKubelet: c.pool.daemonSetPodsKeepKubelet,
    },
    rebalance: c.failover.rebalance,
    offerHoldMs: c.mesos.offerHold,
    maxBatch: c.placement.maxBatch,
    preferenceWaitMs: c.placement.preferenceWait,
    ...(c.placement.bindOnAccept ? { bindOnAccept: true } : {}),
    unschedulableReportIntervalMs: 60_000,
    // Two allocation intervals and a decline filter: long enough for the agents not offered right now to come back.
    unschedulableGraceMs: 5_000,
    // Cycles run up to ten times a second in a burst; walking every kubelet's pods that often cost 5% of the scheduler's CPU.
    poolReviewIntervalMs: 1_000,
    ...(o.nodeIdentity ? { nodeIdentity: { ...o.nodeIdentity, server: c.pool.nodeApiServer || o.nodeIdentity.server, maxConcurrent: c.pool.nodeCertificateConcurrency } } : {}),
    // Resuming a stored framework: learn an earlier leader's in-flight tasks before launching (never a pod twice).
    adoptionGraceMs: o.frameworkId ? 3_000 : 0,
  };
}
