/** Renders docs/configuration.md from the schema itself, so the reference cannot drift from the code. */
import { CONFIG_SCHEMA, configKeys, type KubeMesosConfig } from './config.js';
import { redactUrl } from '../mesos/zk/master-info.js';
import { isField, type Section } from './schema.js';

const INTRO = `# Configuration reference

<!-- Generated from src/config/config.ts by \`npx tsx src/config/gen-doc.ts\`; a test fails when this file is out of date. -->

kube-mesos reads one configuration, in this order (later wins):

1. the defaults below;
2. a YAML file: \`kube-mesos scheduler --config kube-mesos.yaml\` (in Helm, the chart's ConfigMap);
3. environment variables \`KUBE_MESOS_<SECTION>_<KEY>\`, the key in UPPER_SNAKE_CASE
   (\`mesos.failoverTimeout\` → \`KUBE_MESOS_MESOS_FAILOVER_TIMEOUT\`);
4. flags: \`--set section.key=value\` (repeatable) and the named shorthands
   \`--master\`, \`--framework-name\`, \`--role\`, \`--kubeconfig\`, \`--namespace\`, \`--leader-elect\`, \`--listen\`, \`--log-level\`.

In environment variables and flags, lists are comma-separated (\`--set mesos.roles=prod,*\`; a \`zk://\` URL keeps its commas).
Durations are written as Kubernetes and Go write them: \`300ms\`, \`15s\`, \`5m\`, \`1h30m\` (no days: one week is \`168h\`).
CPU and memory are Kubernetes quantities: \`250m\`, \`0.5\`, \`128Mi\`, \`1Gi\` (a plain number of memory is bytes).

An unknown key or a bad value stops the process at start with every problem listed, each naming the key:

\`\`\`
config: mesos.masters[1]: "ftp://x" is not a Mesos master URL (expected http(s)://host:port or zk://host:port/path)
config: mesos.mastrs: unknown key (did you mean mesos.masters? known keys in mesos: masters, contentType, …)
config: pool.idleTimeout (from KUBE_MESOS_POOL_IDLE_TIMEOUT): "10 min" is not a duration (expected e.g. 15s, 5m, 1h30m)
\`\`\`

The Mesos secret is never part of the configuration: \`mesos.secretFile\` names a file (e.g. a mounted Secret) read at start.
`;

const SECTION_TITLES: Record<string, string> = {
  mesos: 'Mesos framework',
  kube: 'Kubernetes',
  placement: 'Placement',
  pool: 'Kubelet pool',
  failover: 'Failover',
  ops: 'Ops server and logs',
};

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function renderConfigDoc(): string {
  const out = [INTRO];
  const keys = configKeys();
  for (const section of Object.keys(CONFIG_SCHEMA)) {
    out.push(`## \`${section}\` — ${SECTION_TITLES[section] ?? section}`, '', '| key | type | default | environment | description |', '|---|---|---|---|---|');
    for (const k of keys.filter((k) => k.path.startsWith(`${section}.`))) {
      const def = k.field.format(k.field.default);
      out.push(`| \`${k.path}\` | ${cell(k.field.type)}${k.field.range ? ` (${cell(k.field.range)})` : ''} | ${def === '' ? '*(empty)*' : `\`${cell(def)}\``} | \`${k.env}\` | ${cell(k.field.doc)} |`);
    }
    out.push('');
  }
  out.push('## The defaults as a file', '', 'A complete file with every default; copy what you want to change.', '', '```yaml', ...yamlOf(CONFIG_SCHEMA, undefined, ''), '```', '');
  return out.join('\n');
}

/** The effective configuration as a YAML file in the units users write (`5m`, `128Mi`), e.g. for `--print-config` or logs at start. */
export function formatConfig(config: KubeMesosConfig): string {
  return yamlOf(CONFIG_SCHEMA, config as unknown as Record<string, unknown>, '').join('\n') + '\n';
}

function yamlOf(section: Section, values: Record<string, unknown> | undefined, indent: string): string[] {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(section)) {
    if (!isField(v)) {
      lines.push(`${indent}${k}:`, ...yamlOf(v, values?.[k] as Record<string, unknown> | undefined, `${indent}  `));
      continue;
    }
    const value = values ? values[k] : v.default;
    // URLs are printed without userinfo (zk:// digest credentials): this text goes to logs.
    if (Array.isArray(value)) lines.push(`${indent}${k}: [${(value as string[]).map((s) => JSON.stringify(redactUrl(s))).join(', ')}]`);
    else if (typeof value === 'string') lines.push(`${indent}${k}: ${JSON.stringify(redactUrl(v.format(value)))}`);
    else lines.push(`${indent}${k}: ${v.format(value)}`);
  }
  return lines;
}
