import { Counter, Histogram, type Registry } from 'prom-client';

/** The executor's and hollow kubelet's metrics, on the registry given (in-process executors share one set). */
export class ExecutorMetrics {
  readonly taskUpdates: Counter<'state'>;
  readonly bindingWait: Histogram;
  readonly podStatusWrites: Counter<'phase'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.taskUpdates = new Counter({ name: 'kube_mesos_executor_task_updates_total', help: 'Task status updates sent by executors, by state.', labelNames: ['state'], registers });
    this.bindingWait = new Histogram({
      name: 'kube_mesos_executor_binding_wait_seconds',
      help: 'Seconds from LAUNCH to the pod seen bound to this node: TASK_STARTING to the scheduler, its Binding, the pod watch event.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.podStatusWrites = new Counter({ name: 'kube_mesos_hollow_pod_status_writes_total', help: 'Pod status patches by hollow kubelets, by new phase.', labelNames: ['phase'], registers });
  }
}
