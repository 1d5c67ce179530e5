// Generates charts/kube-mesos/README.md from the chart's values.yaml comments, as helm-docs does: a `# -- text` comment
// (continued on the `#` lines after it) documents the key below it. `node tools/helm-render/gen-readme.mjs` writes the
// file, `--check` fails when it is out of date or when a value has no comment (neither its own nor an enclosing key's).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const chartDir = join(root, 'charts/kube-mesos');

/** The documented keys in file order: { key: 'a.b', description, line }. */
export function parseValuesComments(text) {
  const entries = [];
  const stack = []; // [{ indent, key }]
  let pending = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const doc = /^(\s*)# -- ?(.*)$/.exec(line);
    if (doc) {
      pending = { indent: doc[1].length, text: [doc[2].trim()] };
      continue;
    }
    const more = /^(\s*)#(?!\s*@)\s?(.*)$/.exec(line);
    if (more && pending && more[1].length === pending.indent) {
      pending.text.push(more[2].trim());
      continue;
    }
    const kv = /^(\s*)("[^"]+"|'[^']+'|[A-Za-z0-9_.\/-]+):(\s|$)/.exec(line);
    if (!kv) {
      if (line.trim() === '' || /^\s*-/.test(line)) continue; // list items belong to the key above
      if (/^\s*#/.test(line)) pending = null; // a plain comment breaks a description off its key
      continue;
    }
    const indent = kv[1].length;
    const key = kv[2].replace(/^["']|["']$/g, '');
    while (stack.length > 0 && stack.at(-1).indent >= indent) stack.pop();
    stack.push({ indent, key });
    const path = stack.map((s) => s.key).join('.');
    if (pending && pending.indent === indent) entries.push({ key: path, description: pending.text.join(' ').trim(), line: i + 1 });
    pending = null;
  }
  return entries;
}

function get(values, path) {
  return path.split('.').reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), values);
}

function typeOf(v) {
  if (Array.isArray(v)) return 'list';
  if (v === null) return 'string';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

const cell = (s) => s.replace(/\|/g, '\\|');

/** Every leaf of the values with no comment on it or on an enclosing key. */
export function undocumented(values, entries) {
  const documented = new Set(entries.map((e) => e.key));
  const out = [];
  const walk = (o, prefix) => {
    for (const [k, v] of Object.entries(o)) {
      const path = prefix ? `${prefix}.${k}` : k;
      const covered = path.split('.').some((_, i, parts) => documented.has(parts.slice(0, i + 1).join('.')));
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) walk(v, path);
      else if (!covered) out.push(path);
    }
  };
  walk(values, '');
  return out;
}

export function renderReadme() {
  const text = readFileSync(join(chartDir, 'values.yaml'), 'utf8');
  const values = yaml.load(text);
  const chart = yaml.load(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8'));
  const entries = parseValuesComments(text);
  const rows = entries.map((e) => {
    const v = get(values, e.key);
    return `| ${e.key} | ${typeOf(v)} | \`${cell(JSON.stringify(v ?? null))}\` | ${cell(e.description)} |`;
  });
  return [
    '# kube-mesos Helm chart',
    '',
    '<!-- Generated from values.yaml by `node tools/helm-render/gen-readme.mjs`; a test fails when this file is out of date. -->',
    '',
    `![Version: ${chart.version}](https://img.shields.io/badge/Version-${chart.version}-informational) ![AppVersion: ${chart.appVersion}](https://img.shields.io/badge/AppVersion-${chart.appVersion}-informational) ![Kubernetes: ${chart.kubeVersion}](https://img.shields.io/badge/Kubernetes-${encodeURIComponent(chart.kubeVersion)}-informational)`,
    '',
    chart.description,
    '',
    'Installs the kube-mesos scheduler (a Mesos framework that runs Kubernetes pods with `schedulerName: kube-mesos` on',
    'Mesos agents): ServiceAccount, RBAC, the scheduler\'s ConfigMap, an optional Secret for Mesos credentials, the',
    'Deployment (leader election when `replicas` > 1, `system-cluster-critical` priority, startup/liveness/readiness',
    'probes), a Service for the ops port, a PodDisruptionBudget, and optionally a ServiceMonitor, a PrometheusRule with',
    'kube-mesos\' alerts and a NetworkPolicy. `helm test` runs a pod that checks the ops Service answers.',
    '',
    '```sh',
    'helm install kube-mesos ./charts/kube-mesos -n kube-mesos --create-namespace \\',
    "  --set 'mesos.masters={http://master-1:5050,http://master-2:5050}'",
    'helm test kube-mesos -n kube-mesos',
    '```',
    '',
    'Values are checked against `values.schema.json`, which is generated from the scheduler\'s own configuration schema:',
    'a typo in `extraConfig` or a pool value fails `helm install` instead of crash-looping the scheduler. Upgrades and HA:',
    '[docs/deploy.md](../../docs/deploy.md); the scheduler\'s settings: [docs/configuration.md](../../docs/configuration.md);',
    'the metrics the alerts use: [docs/metrics.md](../../docs/metrics.md); a Grafana dashboard: `dashboards/kube-mesos.json`.',
    '',
    '## Alerts (`metrics.prometheusRule.enabled`)',
    '',
    '| alert | severity | fires when |',
    '|---|---|---|',
    '| KubeMesosDown | critical | no scheduler has been scraped for 5 minutes |',
    '| KubeMesosNotSubscribed | critical | the leader has had no Mesos subscription for `notSubscribedFor` |',
    '| KubeMesosMesosReconnecting | warning | more than 3 re-subscriptions in 15 minutes |',
    '| KubeMesosPodsPending | warning | pods have been pending for `podsPendingFor` with no pod launched |',
    '| KubeMesosPodsUnschedulable | info | pending pods have not fit any offer for `podsPendingFor` |',
    '| KubeMesosZoneUnhealthy | warning | a zone has lost enough agents to be called failed |',
    '| KubeMesosFailoverSafetyStop | critical | replacements are held because too much looks lost at once (`failover.safetyStopFraction`) |',
    '| KubeMesosKubeletLaunchesFailing | warning | more than 3 pod tasks failed on their agents before binding in 15 minutes |',
    '| KubeMesosKubernetesAPIErrors | warning | more than 10% of Kubernetes API requests failed for 10 minutes |',
    '| KubeMesosMesosCallsFailing | warning | more than 10% of the calls to the Mesos master failed for 10 minutes |',
    '',
    '## Values',
    '',
    '| Key | Type | Default | Description |',
    '|-----|------|---------|-------------|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = readFileSync(join(chartDir, 'values.yaml'), 'utf8');
  const missing = undocumented(yaml.load(text), parseValuesComments(text));
  if (missing.length > 0) {
    process.stderr.write(`values without a "# --" comment: ${missing.join(', ')}\n`);
    process.exit(1);
  }
  const out = renderReadme();
  const file = join(chartDir, 'README.md');
  if (process.argv.includes('--check')) {
    if (readFileSync(file, 'utf8') !== out) {
      process.stderr.write('charts/kube-mesos/README.md is out of date: run node tools/helm-render/gen-readme.mjs\n');
      process.exit(1);
    }
  } else writeFileSync(file, out);
}
