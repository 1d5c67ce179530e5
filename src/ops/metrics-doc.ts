/**
 * Renders docs/metrics.md from the metric definitions themselves (scheduler, Kubernetes client, executor, build info), so
 * the reference cannot drift from the code: `npx tsx src/ops/gen-metrics-doc.ts`; a test fails when the file is stale.
 */
import type { Registry } from 'prom-client';
import { ExecutorMetrics } from '../executor/metrics.js';
import { KubeClientMetrics } from '../kube/metrics.js';
import { BUILD_INFO_METRIC, createRegistry, registerBuildInfo } from '../telemetry/metrics.js';
import { SchedulerMetrics } from './metrics.js';

interface Described {
  name: string;
  type: string;
  labels: readonly string[];
  help: string;
}

function describe(registry: Registry): Described[] {
  return registry.getMetricsAsArray().map((m) => {
    const x = m as unknown as { name: string; help: string; type: string; labelNames?: string[] };
    return { name: x.name, type: x.type, labels: x.labelNames ?? [], help: x.help };
  });
}

/** Every metric kube-mesos defines, by where it is served. */
export function metricGroups(): { title: string; intro: string; metrics: Described[] }[] {
  const scheduler = createRegistry();
  new SchedulerMetrics(scheduler);
  const client = createRegistry();
  KubeClientMetrics.for(client);
  const executor = createRegistry();
  new ExecutorMetrics(executor);
  const build = createRegistry();
  registerBuildInfo(build);
  return [
    { title: 'Scheduler', intro: 'Served by `kube-mesos scheduler` (the leader; a standby reports `kube_mesos_leader 0`).', metrics: describe(scheduler) },
    {
      title: 'Kubernetes client',
      intro: 'Every Kubernetes API request of the scheduler and of the executors, as client-go\'s `rest_client_*` metrics.',
      metrics: describe(client),
    },
    {
      title: 'Executor and hollow kubelet',
      intro:
        'Served at `/metrics` by `kube-mesos executor --metrics-listen <host:port>` (off by default; set it in `pool.executorCommand`, ' +
        'e.g. `kube-mesos executor --metrics-listen 0.0.0.0:10256`; see docs/executor.md), and by the scheduler process for ' +
        'in-process executors (the sandbox, benchmarks).',
      metrics: describe(executor),
    },
    { title: 'Build and process', intro: 'Every kube-mesos process.', metrics: describe(build) },
  ];
}

/** Every metric name a kube-mesos process can serve (the process metrics aside). */
export function definedMetricNames(): string[] {
  return metricGroups().flatMap((g) => g.metrics.map((m) => m.name));
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function renderMetricsDoc(): string {
  const out = [
    '# Metrics',
    '',
    '<!-- Generated from the metric definitions by `npx tsx src/ops/gen-metrics-doc.ts`; a test fails when this file is out of date. -->',
    '',
    'The scheduler serves Prometheus metrics at `http://<ops.listen>/metrics` (default port 10251), from its own registry.',
    'kube-mesos\' own metrics start with `kube_mesos_`; histograms of time are in seconds and named `*_duration_seconds`.',
    'The Helm chart\'s optional ServiceMonitor scrapes this endpoint, its PrometheusRule alerts on it, and',
    '`charts/kube-mesos/dashboards/kube-mesos.json` is a Grafana dashboard over it.',
    '',
  ];
  for (const g of metricGroups()) {
    out.push(`## ${g.title}`, '', g.intro, '', '| metric | type | labels | meaning |', '|---|---|---|---|');
    for (const m of g.metrics) out.push(`| \`${m.name}\` | ${m.type} | ${m.labels.map((l) => `\`${l}\``).join(', ')} | ${cell(m.help)} |`);
    out.push('');
  }
  out.push(
    'Besides these, every process serves the standard process and Node.js metrics under their usual names, so stock',
    'dashboards work: `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`,',
    '`process_start_time_seconds`, `nodejs_eventloop_lag_seconds`, `nodejs_heap_size_used_bytes`, `nodejs_gc_duration_seconds`, …',
    `\`${BUILD_INFO_METRIC}\` carries the version for joins: \`… * on (instance) group_left(version) ${BUILD_INFO_METRIC}\`.`,
    '',
    'Useful queries:',
    '',
    '```promql',
    '# pods waiting right now, and how long scheduling takes (p99)',
    'kube_mesos_pending_pods',
    'histogram_quantile(0.99, sum by (le) (rate(kube_mesos_pod_scheduling_duration_seconds_bucket[5m])))',
    '# is the framework connected to Mesos, and is it flapping?',
    'kube_mesos_mesos_connection_state{state="subscribed"} == 0',
    'increase(kube_mesos_mesos_reconnects_total[15m]) > 3',
    '# zones kube-mesos considers failed; replacements held by the safety stop',
    'kube_mesos_zone_healthy == 0',
    'kube_mesos_failover_held_pods{reason="safety-stop"} > 0',
    '# share of offers declined (high while idle is normal)',
    'rate(kube_mesos_offers_declined_total[5m]) / rate(kube_mesos_offers_received_total[5m])',
    '# Kubernetes API errors and client-side throttling',
    'sum by (verb, resource, code) (rate(kube_mesos_rest_client_requests_total{code!~"2.."}[5m]))',
    'histogram_quantile(0.99, sum by (le) (rate(kube_mesos_rest_client_rate_limiter_duration_seconds_bucket[5m])))',
    '```',
    '',
  );
  return out.join('\n');
}
