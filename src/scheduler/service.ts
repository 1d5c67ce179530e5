/**
 * The scheduler process, assembled: Mesos client, pod informer, Kubernetes writes, the framework core (which runs its
 * own cycle timer), the gauges and implicit reconciliation timers. Only wiring: the adapters live in adapters.ts, the
 * derived configuration in core-config.ts. Used by `kube-mesos scheduler` and by the sandbox; configuration comes in as
 * values.
 */
import { readFileSync } from 'node:fs';
import { setClampedInterval } from '../time/timers.js';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { ExecutorDelivery } from '../delivery/executor-delivery.js';
import type { KubeMesosConfig } from '../config/config.js';
import { KubeClient } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { KubeHttp } from '../kube/http.js';
import { httpListWatch, podInformer, ResilientInformer } from '../kube/informer.js';
import { KubeMesosNodes } from '../kube/node-informer.js';
import { ServingCertApprover } from '../kube/serving-approver.js';
import { KubeStorage } from '../kube/storage-informer.js';
import { discoverPolicyVersion, PodDisruptionBudgets } from '../kube/pdb-informer.js';
import { SchedulerClient } from '../mesos/scheduler.js';
import { isZkUrl, ZooKeeperMasterDetector } from '../mesos/zk/detector.js';
import { SchedulerMetrics, type MesosCallResult } from '../ops/metrics.js';
import { createRegistry } from '../telemetry/metrics.js';
import { userAgent } from '../telemetry/build.js';
import type { Logger } from '../telemetry/log.js';
import { kubePort, mesosPort, metricsAdapter } from './adapters.js';
import { coreConfig, frameworkInfo } from './core-config.js';
import { FrameworkCore } from './framework.js';


export interface SchedulerServiceOptions {
  config: KubeMesosConfig;
  kubeconfig: KubeConfig;
  /** The kubeconfig's token file (or the service account's), re-read when it rotates. */
  tokenFile?: string;
  log: Logger;
  /** Secret for mesos.principal, read by the caller from mesos.secretFile. */
  secret?: string;
  /** PEM CA bundle for https masters, read by the caller. */
  ca?: string;
  /** Shell command Mesos agents run for the executor. */
  executorCommand: string;
  /** pool.executorKubeconfig: a shared kubeconfig path for every executor (insecure opt-out); empty = node certificates. */
  executorKubeconfig: string;
  /** How the executor reaches the agents (delivery/setup.ts); without it, `executorCommand` and nothing fetched. */
  executorDelivery?: ExecutorDelivery;
  /** FrameworkInfo.user when mesos.user is empty (the CLI passes $USER); default root. */
  user?: string;
  /** The framework id from a previous run (state store), if any. */
  frameworkId?: string;
  onFrameworkId?: (id: string) => void;
  registry?: Registry;
  /** false: ready but not subscribed until `subscribe()` (a leader elector decides); default true. */
  subscribe?: boolean;
}

export interface SchedulerService {
  core: FrameworkCore;
  client: SchedulerClient;
  informer: ResilientInformer<V1Pod>;
  metrics: SchedulerMetrics;
  registry: Registry;
  readiness(): { ready: boolean; checks: Record<string, boolean | string> };
  /** Starts the Mesos subscription; idempotent (done at start unless `subscribe: false`). */
  subscribe(): void;
  stop(): Promise<void>;
}

/** Starts the scheduler: nothing is scheduled until Mesos says SUBSCRIBED and the pod informer has synced. */
export async function startSchedulerService(o: SchedulerServiceOptions): Promise<SchedulerService> {
  const c = o.config;
  const log = o.log;
  const registry = o.registry ?? createRegistry({ defaultMetrics: true });
  const metrics = new SchedulerMetrics(registry);
  metrics.setLeader(true); // the service runs only on the leader (or without leader election)
  const http = new KubeHttp(o.kubeconfig, { qps: c.kube.qps, burst: c.kube.burst, tokenFile: o.tokenFile, registry, userAgent: userAgent('kube-mesos-scheduler') });
  // policy/v1 where served (Kubernetes ≥ 1.21), policy/v1beta1 on 1.20: Evictions and the PDB informer use it.
  const policy = await discoverPolicyVersion(http);
  if (policy.error) log.warn({ error: policy.error, version: policy.version }, 'policy API discovery failed; using a default version');
  const kube = new KubeClient(http, { evictionVersion: policy.version });
  // Events get their own transport and QPS budget so they never delay scheduling writes.
  const events = new EventRecorder({ client: new KubeClient(new KubeHttp(o.kubeconfig, { qps: 20, burst: 50, tokenFile: o.tokenFile, registry, userAgent: userAgent('kube-mesos-scheduler') })), component: 'kube-mesos', log });

  // One zk:// URL: follow the leading master through ZooKeeper, as Mesos' own detector does; else a list of masters.
  const detector = c.mesos.masters.length === 1 && isZkUrl(c.mesos.masters[0]) ? new ZooKeeperMasterDetector({ url: c.mesos.masters[0], scheme: c.mesos.scheme, log: log.child({ component: 'zk' }) }) : undefined;
  const client = new SchedulerClient({
    ...(detector ? { detector } : { masters: [...c.mesos.masters] }),
    framework: frameworkInfo(c, o.frameworkId, o.user ?? 'root'),
    contentType: c.mesos.contentType === 'json' ? 'application/json' : 'application/x-protobuf',
    credentials: c.mesos.principal && o.secret !== undefined ? { principal: c.mesos.principal, secret: o.secret } : undefined,
    ca: o.ca,
    heartbeatMissLimit: c.mesos.heartbeatMissLimit,
    log: log.child({ component: 'mesos' }),
    onCall: (call, seconds, ok) => metrics.mesosCallDuration.observe({ call, result: (ok ? 'ok' : 'error') satisfies MesosCallResult }, seconds),
  });
  const core = new FrameworkCore({
    mesos: mesosPort(client),
    kube: kubePort(kube, events, log.child({ component: 'kube' })),
    clock: { now: () => Date.now() },
    log: log.child({ component: 'core' }),
    config: coreConfig(c, { ...o, nodeIdentity: nodeIdentityFrom(o.kubeconfig) }),
    metrics: metricsAdapter(metrics),
    cycleIntervalMs: c.placement.cycleInterval,
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
    core.mesosEvents.disconnected();
  });
  client.on('event', (ev) => core.mesosEvents.handle(ev));
  client.on('frameworkRemoved', ({ frameworkId, message }) => {
    log.error({ frameworkId, message }, 'Mesos removed this framework (its failover timeout passed while no scheduler was subscribed, or it was torn down): registering as a new framework; its tasks are gone and their pods will be replaced');
    core.mesosEvents.frameworkRemoved(frameworkId, message);
  });

  const informer = podInformer(http, { schedulerName: c.kube.schedulerName, log: log.child({ component: 'pod-informer' }) });
  informer.on('add', (pod) => core.podEvents.upsert(pod));
  informer.on('update', (pod) => core.podEvents.upsert(pod));
  informer.on('delete', (pod) => core.podEvents.delete(pod));
  informer.start();
  // The kubelets' Nodes: labels, taints, cordon and Node-advertised resources for placement.
  const nodes = KubeMesosNodes.watch(http, { log: log.child({ component: 'node-informer' }) });
  nodes.onChange((ch) => core.onNodeChange(ch));
  nodes.start();
  // Kubelet serving certificates of kube-mesos' Nodes (their kubelets ask as system:node:<name>): approved when every
  // name is the Node's own; kube-controller-manager signs them with the cluster CA.
  const servingApprover = new ServingCertApprover(
    http,
    (nodeName) => {
      const agentId = nodes.agentOf(nodeName);
      return agentId === undefined ? undefined : (nodes.byAgent(agentId)?.status?.addresses ?? []);
    },
    log.child({ component: 'serving-approver' }),
  );
  servingApprover.start();
  // Claims, volumes and storage classes: placement's VolumeBinding and the Mesos volumes (docs/stateful.md). Synced
  // before Mesos is subscribed, so that no volume offered after a restart is taken for an orphan.
  const storage = KubeStorage.watch(http, { log: log.child({ component: 'storage-informer' }) });
  core.setStorage(storage);
  storage.onChange(() => core.onStorageChange());
  storage.start();
  // PodDisruptionBudgets: preemption prefers victims whose eviction violates none.
  const pdbs = PodDisruptionBudgets.watch(http, policy.version, { log: log.child({ component: 'pdb-informer' }) });
  pdbs.onChange(() => core.setPodDisruptionBudgets(pdbs.views()));
  pdbs.start();
  await Promise.all([informer.ready, nodes.ready, pdbs.ready, storage.ready]);
  // Pods other schedulers (or their authors, or the DaemonSet controller) bound to kube-mesos Nodes: they need Mesos tasks too.
  const foreign = new ResilientInformer<V1Pod>(
    httpListWatch<V1Pod>(http, { path: '/api/v1/pods', fieldSelector: `spec.schedulerName!=${c.kube.schedulerName},spec.nodeName!=` }),
    { name: 'foreign-pods', log: log.child({ component: 'foreign-pod-informer' }) },
  );
  // Only Nodes of agents this framework was offered: other kube-mesos instances' kubelets (another framework on the same
  // API server, as the test suites run them) are not ours to account.
  const ours = (pod: V1Pod) => {
    const agentId = nodes.agentOf(pod.spec?.nodeName ?? '');
    return agentId !== undefined && core.agentInfo(agentId) !== undefined;
  };
  foreign.on('add', (pod) => ours(pod) && core.podEvents.upsert(pod));
  foreign.on('update', (pod) => ours(pod) && core.podEvents.upsert(pod));
  foreign.on('delete', (pod) => ours(pod) && core.podEvents.delete(pod));
  foreign.start();
  await foreign.ready;
  const adopted = core.mesosEvents.adoptFromPods();
  log.info({ pods: informer.size, adoptedTasks: adopted }, 'pod informer synced');
  let subscribing = false;
  const subscribe = (): void => {
    if (subscribing) return;
    subscribing = true;
    client.start();
  };
  if (o.subscribe !== false) subscribe();

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

  const reconcileTimer = setClampedInterval(() => {
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
      const checks = { mesosSubscribed: client.state === 'subscribed', informersSynced: informer.hasSynced() && nodes.hasSynced() && pdbs.hasSynced() && storage.hasSynced() };
      return { ready: Object.values(checks).every(Boolean), checks };
    },
    subscribe,
    async stop() {
      clearInterval(reconcileTimer);
      clearInterval(gaugeTimer);
      await client.stop();
      await detector?.stop();
      await informer.stop();
      await nodes.stop();
      await servingApprover.stop();
      await storage.stop();
      await pdbs.stop();
      await foreign.stop();
      await core.stop();
      await events.stop();
    },
  };
}

/** Where the executors' node kubeconfigs point: the scheduler's own API server and CA (pool.nodeApiServer overrides the URL). */
export function nodeIdentityFrom(kc: KubeConfig): { server: string; caData?: string; insecureSkipTlsVerify?: boolean } | undefined {
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) return undefined;
  const caData = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  return { server: cluster.server, ...(caData ? { caData } : {}), ...(cluster.skipTLSVerify ? { insecureSkipTlsVerify: true } : {}) };
}
