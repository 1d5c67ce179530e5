// The chart against the code it deploys: its README is generated from the values' comments, the scheduler sections of
// values.yaml carry the scheduler's own docs, and every alert and dashboard query names a metric kube-mesos serves.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { configKeys } from '../../src/config/config.js';
import { BINDING_RESULTS, FAILOVER_HOLD_REASONS, MESOS_CALL_RESULTS, MESOS_CONNECTION_STATES } from '../../src/ops/metrics.js';
import { definedMetricNames } from '../../src/ops/metrics-doc.js';
import { createRegistry } from '../../src/telemetry/metrics.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const chartFile = (f: string) => readFileSync(new URL(`../../charts/kube-mesos/${f}`, import.meta.url), 'utf8');

async function knownMetrics(): Promise<Set<string>> {
  const names = new Set(definedMetricNames());
  // the standard process and Node.js metrics every kube-mesos process serves
  for (const m of await createRegistry({ defaultMetrics: true }).getMetricsAsJSON()) names.add(m.name);
  names.add('up'); // Prometheus' own, per target
  return names;
}

/** Metric names in a PromQL expression: our prefixes, the process/Node.js ones and `up`; histogram series map to their metric. */
function metricsIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  const tokens = withoutStrings.match(/\b(kube_mesos_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)\b(?=\s*[{[)]|\s|$)/g) ?? [];
  return tokens.map((t) => t.replace(/_(bucket|sum|count)$/, (s) => (/_seconds_(bucket|sum|count)$|_pods_(bucket|sum|count)$/.test(t) ? '' : s)));
}

/**
 * The values a label of ours can take, for every label an alert or panel matches on a fixed value. A query filtering on
 * a value the code never emits shows nothing, silently (the dashboard's "bound/s" once matched result="ok").
 */
const LABEL_VALUES: Record<string, Record<string, readonly string[]>> = {
  kube_mesos_bindings_total: { result: BINDING_RESULTS },
  kube_mesos_mesos_call_duration_seconds: { result: MESOS_CALL_RESULTS },
  kube_mesos_mesos_connection_state: { state: MESOS_CONNECTION_STATES },
  kube_mesos_failover_held_pods: { reason: FAILOVER_HOLD_REASONS },
  // an open set (HTTP status codes, and '<error>' for no answer, src/kube/http.ts): a sample a pattern must match
  kube_mesos_rest_client_requests_total: { code: ['200', '201', '404', '409', '429', '500', '503', '<error>'] },
};
/** Labels every query selects on by the deployment, not by a value of ours. */
const SCOPE_LABELS = new Set(['namespace', 'job', 'pod', 'le']);

/** [metric, label, value, is a pattern] for each `label="v"` and each alternative of `label=~"a|b"` in a selector of ours. */
function fixedLabelValues(expr: string): [string, string, string, boolean][] {
  const out: [string, string, string, boolean][] = [];
  // the chart's template actions (`{{- $sel -}}`, the deployment's own selector) are not PromQL
  const promql = expr.replace(/\{\{[^}]*\}\}/g, '');
  for (const m of promql.matchAll(/\b(kube_mesos_[a-z0-9_]+?)(?:_bucket|_count|_sum)?\{([^}]*)\}/g)) {
    for (const l of m[2].matchAll(/([a-z_]+)\s*(=~|=)\s*"([^"]*)"/g)) {
      if (SCOPE_LABELS.has(l[1]) || l[3].includes('$')) continue;
      for (const v of l[2] === '=~' ? l[3].split('|') : [l[3]]) out.push([m[1], l[1], v, l[2] === '=~']);
    }
  }
  return out;
}

function expectKnownLabelValues(where: string, expr: string): void {
  for (const [metric, label, value, pattern] of fixedLabelValues(expr)) {
    const allowed = LABEL_VALUES[metric]?.[label];
    const re = new RegExp(`^(?:${value})$`); // Prometheus anchors =~
    const known = allowed ? (pattern ? allowed.some((a) => re.test(a)) : allowed.includes(value)) : 'add the label to LABEL_VALUES';
    expect([where, metric, label, value, known]).toEqual([where, metric, label, value, true]);
  }
}

describe('charts/kube-mesos/README.md', () => {
  it('is generated from values.yaml and every value has a helm-docs comment (node tools/helm-render/gen-readme.mjs)', () => {
    expect(() => execFileSync(process.execPath, [`${root}tools/helm-render/gen-readme.mjs`, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});

describe('values.yaml', () => {
  it('documents each placement, pool and failover key with the scheduler\'s own description', () => {
    const text = chartFile('values.yaml');
    for (const k of configKeys().filter((x) => /^(placement|pool|failover)\./.test(x.path))) {
      const leaf = k.path.split('.').pop()!;
      const re = new RegExp(`# -- (.*)\\n\\s*${leaf}:`, 'g');
      const comments = [...text.matchAll(re)].map((m) => m[1]);
      expect([k.path, comments]).toEqual([k.path, expect.arrayContaining([k.field.doc])]);
    }
  });

  it('defaults the scheduler pods to system-cluster-critical and probes start-up before liveness', () => {
    const v = yaml.load(chartFile('values.yaml')) as Record<string, unknown>;
    expect(v.priorityClassName).toBe('system-cluster-critical');
    expect(v.startupProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'ops' } });
  });
});

describe('every alert and dashboard query names a metric kube-mesos serves', () => {
  it('PrometheusRule (templates/prometheusrule.yaml)', async () => {
    const known = await knownMetrics();
    const exprs = [...chartFile('templates/prometheusrule.yaml').matchAll(/^\s*expr: (.*)$/gm)].map((m) => m[1]);
    expect(exprs.length).toBeGreaterThanOrEqual(9);
    for (const e of exprs) {
      const used = metricsIn(e);
      expect([e, used.length > 0]).toEqual([e, true]);
      for (const m of used) expect([e, m, known.has(m)]).toEqual([e, m, true]);
      expectKnownLabelValues('alert', e);
    }
    const alerts = [...chartFile('templates/prometheusrule.yaml').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(alerts).toEqual(
      expect.arrayContaining(['KubeMesosNotSubscribed', 'KubeMesosPodsPending', 'KubeMesosZoneUnhealthy', 'KubeMesosFailoverSafetyStop', 'KubeMesosKubeletLaunchesFailing']),
    );
  });

  it('Grafana dashboard (dashboards/kube-mesos.json)', async () => {
    const known = await knownMetrics();
    const dash = JSON.parse(chartFile('dashboards/kube-mesos.json')) as { panels: { title: string; targets?: { expr: string }[] }[]; templating: { list: { query?: unknown }[] } };
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.expr] as const));
    expect(exprs.length).toBeGreaterThan(20);
    for (const [title, e] of exprs) {
      const used = metricsIn(e);
      expect([title, e, used.length > 0]).toEqual([title, e, true]);
      for (const m of used) expect([title, m, known.has(m)]).toEqual([title, m, true]);
      expectKnownLabelValues(title, e);
    }
    const titles = dash.panels.map((p) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['Queue', 'Scheduling cycle duration', 'Pods launched per second', 'Kubelets by zone', 'Zone health (1 = healthy)']));
  });

  it('the label-value check reads exact and alternative matches, and not the deployment\'s selectors', () => {
    expect(fixedLabelValues('sum(rate(kube_mesos_bindings_total{namespace="$namespace",job=~"$job",result="ok"}[5m]))')).toEqual([['kube_mesos_bindings_total', 'result', 'ok', false]]);
    expect(fixedLabelValues('rate(kube_mesos_mesos_call_duration_seconds_count{result=~"ok|error"}[5m])')).toEqual([
      ['kube_mesos_mesos_call_duration_seconds', 'result', 'ok', true],
      ['kube_mesos_mesos_call_duration_seconds', 'result', 'error', true],
    ]);
    expect(fixedLabelValues('kube_mesos_mesos_connection_state{ {{- $sel -}} ,state="subscribed"} == 0')).toEqual([['kube_mesos_mesos_connection_state', 'state', 'subscribed', false]]);
    expect(BINDING_RESULTS).not.toContain('ok');
  });

  it('the metric-name check catches a name that does not exist', async () => {
    const known = await knownMetrics();
    expect(metricsIn('rate(kube_mesos_pod_scheduling_latency_seconds_bucket{job="x"}[5m])').every((m) => known.has(m))).toBe(false);
    expect(metricsIn('rate(kube_mesos_pod_scheduling_duration_seconds_bucket{job="x"}[5m])')).toEqual(['kube_mesos_pod_scheduling_duration_seconds']);
  });
});
