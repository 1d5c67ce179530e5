import type { V1Pod } from '@kubernetes/client-node';
import type { KubeHttp } from '../kube/http.js';
import type { ResilientInformer } from '../kube/informer.js';
import type { ExecutorTransport } from '../mesos/executor-transport.js';
import type { Registry } from 'prom-client';
import { createLogger, type Logger } from '../telemetry/log.js';
import { ExecutorMetrics } from './metrics.js';
import { InformerPodSource, schedulerPodInformer } from './pod-source.js';
import { kubeHttpFromFile, parseFullEnv, runExecutor } from './runtime.js';

/** The emulator's in-process executor contract (src/emulator ExecutorFactory): resolves when the executor exits. */
export type InProcessExecutorFactory = (ctx: { env: Record<string, string>; transport: ExecutorTransport; signal: AbortSignal }) => Promise<void>;

export interface InProcessDeps {
  /** Shared API transport; default: loaded once from the first executor's KUBE_MESOS_KUBECONFIG. */
  http?: KubeHttp;
  /** The Bindings' own transport; default: loaded from KUBE_MESOS_KUBECONFIG (1000 QPS, 100 in flight), else `http`. */
  bindHttp?: KubeHttp;
  /**
   * Pods are followed through ONE informer, dispatched by node: over this scheduler's pods (default: the first executor's
   * KUBE_MESOS_SCHEDULER_NAME), else over every bound pod.
   */
  schedulerName?: string;
  log?: Logger;
  /** Where the executors' shared metrics go (e.g. the emulator's or sandbox's registry). */
  registry?: Registry;
}

/**
 * A factory for thousands of executors in one process: one API transport and one pod informer shared by all (no watch per
 * executor). Bad environment → the returned promise rejects with ExecutorConfigError naming each variable.
 */
export function createExecutorFactory(deps: InProcessDeps = {}): InProcessExecutorFactory & { close(): Promise<void> } {
  let http = deps.http;
  let bindHttp = deps.bindHttp;
  let informer: ResilientInformer<V1Pod> | undefined;
  let source: InformerPodSource | undefined;
  let log = deps.log;
  const metrics = deps.registry ? new ExecutorMetrics(deps.registry) : undefined;
  const factory = async (ctx: { env: Record<string, string>; transport: ExecutorTransport; signal: AbortSignal }): Promise<void> => {
    const env = parseFullEnv(ctx.env, { requireKubeconfig: !http });
    log ??= createLogger({ level: env.kube.logLevel, name: 'kube-mesos-executor' });
    // Shared by every executor of the process: 1000 nodes renew a Lease every 10 s, so the limit is sized for that.
    http ??= kubeHttpFromFile(env.kube.kubeconfig!, { qps: 1000, burst: 2000, maxInFlight: 200 });
    // Bindings get their own connection pool and queue: a burst of status writes and Lease renewals never delays them.
    bindHttp ??= env.kube.kubeconfig ? kubeHttpFromFile(env.kube.kubeconfig, { qps: 1000, burst: 2000, maxInFlight: 100 }) : undefined;
    if (!informer) {
      informer = schedulerPodInformer(http, deps.schedulerName ?? env.kube.schedulerName, { log });
      source = new InformerPodSource(informer);
      informer.start();
    }
    const exit = await runExecutor({ env, http, bindHttp, pods: source!, log, transport: ctx.transport, metrics }, ctx.signal);
    if (exit.code !== 0) throw new Error(`executor ${env.mesos.executorId} exited: ${exit.reason}`);
  };
  return Object.assign(factory, {
    async close() {
      await informer?.stop();
    },
  });
}

/** The default the emulator CLI loads: shared state created on first use. */
const defaultFactory = createExecutorFactory();
export default defaultFactory;
export const executorFactory: InProcessExecutorFactory = defaultFactory;
