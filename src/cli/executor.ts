import { createLogger } from '../telemetry/log.js';
import { createRegistry } from '../telemetry/metrics.js';
import { stringFlag, type Command } from './command.js';

export const command: Command = {
  name: 'executor',
  summary: 'Run the kubelet executor (started by a Mesos agent)',
  details: [
    'Configured by its environment, as a Mesos agent launches it:',
    '  MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_CHECKPOINT, … (set by the agent)',
    '  KUBE_MESOS_NODE_NAME, KUBE_MESOS_NODE_LABELS (JSON), KUBE_MESOS_NODE_TAINTS (JSON), KUBE_MESOS_NODE_CAPACITY (JSON),',
    '  KUBE_MESOS_KUBELET_MODE (hollow|real), KUBE_MESOS_LOG_LEVEL (set by the scheduler)',
    'Node identity (docs/executor.md): the executor obtains a system:node:<name> certificate through the scheduler (a Mesos',
    '  MESSAGE) within KUBE_MESOS_NODE_CERTIFICATE_TIMEOUT (2m); KUBE_MESOS_KUBECONFIG (pool.executorKubeconfig) replaces it',
    '  with a shared kubeconfig file (insecure opt-out)',
    'Real kubelet mode (KUBE_MESOS_KUBELET_MODE=real; see docs/executor.md):',
    '  KUBE_MESOS_KUBELET_COMMAND (the kubelet, may carry arguments), KUBE_MESOS_KUBELET_EXTRA_FLAGS (JSON array),',
    '  KUBE_MESOS_KUBELET_MAX_RESTARTS (5) within KUBE_MESOS_KUBELET_RESTART_WINDOW (5m), KUBE_MESOS_KUBELET_BACKOFF (1s),',
    '  KUBE_MESOS_KUBELET_BACKOFF_MAX (30s), KUBE_MESOS_KUBELET_STOP_GRACE (10s)',
  ].join('\n'),
  flags: {
    'metrics-listen': {
      type: 'string',
      value: '<host:port>',
      description: 'Serve /metrics (executor, hollow kubelet, Kubernetes client and process metrics) and /healthz here; off when not given',
    },
  },
  async run(args, io) {
    const { ExecutorConfigError, parseFullEnv, runExecutor } = await import('../executor/runtime.js');
    const { ExecutorMetrics } = await import('../executor/metrics.js');
    const { startMetricsServer } = await import('../executor/metrics-server.js');
    const registry = createRegistry({ defaultMetrics: true });
    let env;
    try {
      env = parseFullEnv(io.env);
    } catch (err) {
      if (!(err instanceof ExecutorConfigError)) throw err;
      io.stderr.write(`kube-mesos executor: ${err.message}\n`);
      return 1;
    }
    const log = createLogger({ level: env.kube.logLevel, destination: io.stderr, name: 'kube-mesos-executor' });
    const listen = stringFlag(args, 'metrics-listen');
    // A metrics port that is taken must not cost the pods their executor: say so and run without it.
    const metricsServer = listen
      ? await startMetricsServer(registry, listen).catch((err: unknown) => {
          log.warn({ err }, 'metrics server not started');
          return undefined;
        })
      : undefined;
    if (metricsServer) log.info({ url: `${metricsServer.url}/metrics` }, 'serving metrics');
    try {
      const exit = await runExecutor({ env, httpOptions: { registry }, log, metrics: new ExecutorMetrics(registry) }, io.signal);
      if (exit.code !== 0) io.stderr.write(`kube-mesos executor: ${exit.reason}\n`);
      return exit.code;
    } catch (err) {
      if (!(err instanceof ExecutorConfigError)) throw err;
      io.stderr.write(`kube-mesos executor: ${err.message}\n`);
      return 1;
    } finally {
      await metricsServer?.close();
    }
  },
};
