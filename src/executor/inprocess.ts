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
  /**
   * A transport every executor shares (a test harness's credential); default: one loaded from the first executor's
   * KUBE_MESOS_KUBECONFIG when the scheduler sends one. Without either, each executor obtains its node certificate and
   * its own transport and pod watch, exactly as a process executor does.
   */
  http?: KubeHttp;
  /**
   * With `http`: pods are followed through ONE informer, dispatched by node: over this scheduler's pods (default: the
   * first executor's KUBE_MESOS_SCHEDULER_NAME), else over every bound pod.
   */
  schedulerName?: string;
  log?: Logger;
  /** Where the executors' shared metrics go (e.g. the emulator's or sandbox's registry). */
  registry?: Registry;
}

/**
 * A factory for many executors in one process. With a shared `http`: one API transport and one pod informer for all (no
 * watch per executor), as the benchmarks need for thousands of agents. Bad environment → the returned promise rejects
 * with ExecutorConfigError naming each variable.
 */
export function createExecutorFactory(deps: InProcessDeps = {}): InProcessExecutorFactory & { close(): Promise<void> } {
  let http = deps.http;
  let informer: ResilientInformer<V1Pod> | undefined;
  let source: InformerPodSource | undefined;
  let log = deps.log;
  const metrics = deps.registry ? new ExecutorMetrics(deps.registry) : undefined;
  const factory = async (ctx: { env: Record<string, string>; transport: ExecutorTransport; signal: AbortSignal }): Promise<void> => {
    const env = parseFullEnv(ctx.env);
    log ??= createLogger({ level: env.kube.logLevel, name: 'kube-mesos-executor' });
    // A shared kubeconfig (the insecure opt-out) is loaded once and shared, as a given transport is.
    if (!http && env.kube.kubeconfig) http = kubeHttpFromFile(env.kube.kubeconfig, { qps: 1000, burst: 2000, maxInFlight: 200 });
    if (http && !informer) {
      informer = schedulerPodInformer(http, deps.schedulerName ?? env.kube.schedulerName, { log });
      source = new InformerPodSource(informer);
      informer.start();
    }
    const shared = http ? { http, pods: source! } : undefined;
    const exit = await runExecutor({ env, shared, log, transport: ctx.transport, metrics, httpOptions: deps.registry ? { registry: deps.registry } : undefined }, ctx.signal);
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
