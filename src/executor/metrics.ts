import { Counter, Histogram, type Registry } from 'prom-client';

/** The executor's and hollow kubelet's metrics, on the registry given (in-process executors share one set). */
export class ExecutorMetrics {
  readonly taskUpdates: Counter<'state'>;
  readonly bindings: Counter<'result'>;
  readonly bindingSeconds: Histogram;
  readonly podStatusWrites: Counter<'phase'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.taskUpdates = new Counter({ name: 'kube_mesos_executor_task_updates_total', help: 'Task status updates sent by executors, by state.', labelNames: ['state'], registers });
    this.bindings = new Counter({
      name: 'kube_mesos_executor_bindings_total',
      help: 'LAUNCHed pods by binding outcome: bound, already_bound (re-launch on this node) or failed.',
      labelNames: ['result'],
      registers,
    });
    this.bindingSeconds = new Histogram({
      name: 'kube_mesos_executor_binding_duration_seconds',
      help: 'Seconds from LAUNCH to the pod bound (retries included).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.podStatusWrites = new Counter({ name: 'kube_mesos_hollow_pod_status_writes_total', help: 'Pod status patches by hollow kubelets, by new phase.', labelNames: ['phase'], registers });
  }
}
