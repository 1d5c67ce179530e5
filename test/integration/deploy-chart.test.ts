// The Helm chart charts/kube-mesos, rendered by tools/helm-render (the `helm template` stand-in, which validates values
// against values.schema.json as helm does and lints as `helm lint` does), checked against the scheduler's own config
// schema and manifests/rbac.yaml, and applied with `kubectl apply --dry-run=server` to the run's real kube-apiserver
// (1.20: PodDisruptionBudget is policy/v1beta1 there), with minimal Prometheus Operator CRDs installed for the
// ServiceMonitor and PrometheusRule.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { defaultConfig, loadConfig } from '../../src/config/config.js';
import { controlPlaneInfo, createTestNamespace, kubectl, type TestNamespace } from '../support/kube.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'charts/kube-mesos');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof (err as { code?: unknown }).code !== 'number') reject(err);
      else resolve({ code: err ? ((err as { code: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let helmRender: string;
let scratch: string;
let ns: TestNamespace;

/** Renders the chart; rejects with the tool's stderr on failure. */
async function render(args: string[]): Promise<string> {
  const r = await run(helmRender, [...args]);
  if (r.code !== 0) throw new Error(`helm-render ${args.join(' ')} failed (exit ${r.code}):\n${r.stderr}`);
  return r.stdout;
}

function docs(text: string): K8sObject[] {
  return (yaml.loadAll(text) as (K8sObject | null)[]).filter((d): d is K8sObject => d !== null);
}

function one(objects: K8sObject[], kind: string): Any {
  const found = objects.filter((o) => o.kind === kind);
  expect(found.map((o) => o.kind)).toEqual([kind]);
  return found[0];
}

function valuesFile(name: string, values: object): string {
  const path = join(scratch, name);
  writeFileSync(path, yaml.dump(values));
  return path;
}

/** `kubectl apply --dry-run=server`, retried while another test restarts kube-apiserver; rejects with kubectl's error. */
async function dryRun(text: string): Promise<string> {
  let last: unknown;
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: text, timeoutMs: 90_000, allowFailure: true });
    if (r.code === 0) return r.stdout;
    last = r.stderr;
    if (!/connection refused|EOF|timeout|ServiceUnavailable|the server is currently unable/i.test(r.stderr)) break;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  throw new Error(`kubectl apply --dry-run=server failed:\n${String(last)}`);
}

const HA_VALUES = {
  replicas: 3,
  mesos: {
    masters: 'zk://zk-1.example:2181,zk-2.example:2181,zk-3.example:2181/mesos',
    principal: 'kube-mesos',
    credentials: { secret: 's3cr3t-value' },
    roles: ['prod', '*'],
    frameworkName: 'kube-mesos-prod',
    ca: { pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
  },
  placement: { defaultScoring: 'binpack', zoneAttribute: 'zone' },
  pool: { minPerZone: 1, maxPerZone: 20, idleTimeout: '15m' },
  failover: { defaultFailoverAfter: '2m', rebalance: true },
  metrics: { serviceMonitor: { enabled: true, labels: { release: 'prometheus' } }, prometheusRule: { enabled: true, labels: { release: 'prometheus' } } },
  networkPolicy: { enabled: true, ingress: { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] } },
  image: { digest: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' },
  extraConfig: { mesos: { heartbeatMissLimit: 10 } },
  resources: { requests: { cpu: '200m', memory: '512Mi' }, limits: { memory: '1Gi' } },
};

beforeAll(async () => {
  const built = await run(join(ROOT, 'tools/helm-render/build.sh'), [], 300_000);
  if (built.code !== 0) throw new Error(`tools/helm-render/build.sh failed:\n${built.stderr}`);
  helmRender = built.stdout.trim();
  scratch = mkdtempSync(join(tmpdir(), 'kube-mesos-chart-'));
  ns = await createTestNamespace('deploy-chart');
}, 360_000);

afterAll(async () => {
  await ns?.delete();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('default values', () => {
  let objects: K8sObject[];
  let text: string;
  beforeAll(async () => {
    // as `helm install` does, the capabilities come from the cluster the render is for
    text = await render(['km', CHART, '--namespace', ns.name, '--kubeconfig', controlPlaneInfo().kubeconfigPath]);
    objects = docs(text);
  });

  it('renders the whole install, every namespaced object in the release namespace (none in kube-node-lease: kubelets renew their own Leases)', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(
      // the Pod is the `helm test` hook (templates/tests/), which `helm template` prints too
      // with ops.secure (the default): the auth-delegator binding and the metrics-reader / ops-viewer ClusterRoles
      ['ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Pod', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'].sort(),
    );
    const namespaced = objects.filter((x) => !x.kind.startsWith('Cluster'));
    for (const o of namespaced) expect([o.kind, o.metadata.namespace]).toEqual([o.kind, ns.name]);
    expect(objects.every((o) => o.metadata.labels?.['app.kubernetes.io/name'] === 'kube-mesos')).toBe(true);
  });

  it('writes a scheduler config the scheduler accepts, with its framework objects in the release namespace', () => {
    const cm = one(objects, 'ConfigMap');
    const r = loadConfig({ fileText: cm.data['config.yaml'], fileName: 'config.yaml' });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.kube.namespace).toBe(ns.name);
    expect(r.config.kube.leaderElect).toBe(false);
    expect(r.config.mesos.masters).toEqual(['http://leader.mesos:5050']);
    expect(r.config.kube.stateConfigMap).toBe('km-kube-mesos-state');
    expect(r.config.mesos.secretFile).toBe('');
  });

  it('runs one non-root scheduler with a read-only root, probes on /healthz and /readyz, and Recreate (no two leaders)', () => {
    const d = one(objects, 'Deployment');
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    expect(c.args).toEqual(['scheduler', '--config=/etc/kube-mesos/config/config.yaml']);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'ops', scheme: 'HTTPS' });
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(60);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'ops', scheme: 'HTTPS' });
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(c.image).toBe('ghcr.io/kube-mesos/kube-mesos:0.1.0');
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'ops', scheme: 'HTTPS' });
    const cfg = loadConfig({ fileText: one(objects, 'ConfigMap').data['config.yaml'] });
    if (!cfg.ok) throw new Error(cfg.errors.join('\n'));
    const port = Number(cfg.config.ops.listen.split(':').pop());
    expect(c.ports).toEqual([{ name: 'ops', containerPort: port, protocol: 'TCP' }]);
    expect(one(objects, 'Service').spec.ports).toEqual([{ name: 'ops', port, targetPort: 'ops', protocol: 'TCP' }]);
    expect(pod.serviceAccountName).toBe(one(objects, 'ServiceAccount').metadata.name);
    const mount = c.volumeMounts.find((m: Any) => m.name === 'config');
    expect(mount.mountPath).toBe('/etc/kube-mesos/config');
    expect(d.spec.template.metadata.annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('grants exactly the rules of manifests/rbac.yaml', () => {
    const manual = docs(readFileSync(join(ROOT, 'manifests/rbac.yaml'), 'utf8'));
    // the same ClusterRoles by role (the chart's names carry the release), the same rules
    const byRole = (list: K8sObject[], prefix: string) =>
      Object.fromEntries(list.filter((o) => o.kind === 'ClusterRole').map((o) => [o.metadata.name.replace(prefix, '') || 'scheduler', (o as Any).rules]));
    expect(byRole(objects, 'km-kube-mesos')).toEqual(byRole(manual, 'kube-mesos'));
    const delegator = (list: K8sObject[]) => list.filter((o) => o.kind === 'ClusterRoleBinding' && (o as Any).roleRef.name === 'system:auth-delegator').length;
    expect(delegator(objects)).toBe(delegator(manual));
    const roles = (list: K8sObject[]) => list.filter((o) => o.kind === 'Role').map((o) => [o.metadata.namespace === 'kube-node-lease', o.rules]);
    const release = (list: K8sObject[], n: string) => roles(list).map(([lease, rules]) => [lease, rules, n]);
    expect(release(objects, 'chart')).toEqual(release(manual, 'chart'));
    const sa = one(objects, 'ServiceAccount').metadata.name;
    for (const crb of objects.filter((o) => o.kind === 'ClusterRoleBinding')) expect((crb as Any).subjects).toEqual([{ kind: 'ServiceAccount', name: sa, namespace: ns.name }]);
    for (const rb of objects.filter((o) => o.kind === 'RoleBinding')) expect(rb.subjects).toEqual([{ kind: 'ServiceAccount', name: sa, namespace: ns.name }]);
  });

  it('the kube API server accepts it (kubectl apply --dry-run=server)', async () => {
    const out = await dryRun(text);
    for (const o of objects) expect(out).toMatch(new RegExp(`^${o.kind.toLowerCase()}[./][^ ]*${o.metadata.name} created \\(server dry run\\)$`, 'm'));
    expect(out.trim().split('\n')).toHaveLength(objects.length);
  }, 120_000);
});

describe('values.yaml', () => {
  it('repeats the scheduler defaults for placement, pool and failover (no key the scheduler does not know)', () => {
    const values = yaml.load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Any;
    const r = loadConfig({ fileText: yaml.dump({ placement: values.placement, pool: values.pool, failover: values.failover }) });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config).toEqual(defaultConfig());
    const d = defaultConfig();
    const le = loadConfig({ fileText: yaml.dump({ kube: { leaseDuration: values.leaderElection.leaseDuration, renewDeadline: values.leaderElection.renewDeadline, retryPeriod: values.leaderElection.retryPeriod } }) });
    expect(le.ok && le.config.kube).toEqual(d.kube);
    expect(values.mesos.frameworkName).toBe(d.mesos.frameworkName);
    expect(values.mesos.roles).toEqual(d.mesos.roles);
    expect(Number(d.ops.listen.split(':').pop())).toBe(values.ops.port);
  });

});

describe('HA, ZooKeeper, credentials, CA, ServiceMonitor, PrometheusRule and NetworkPolicy', () => {
  let objects: K8sObject[];
  let text: string;
  beforeAll(async () => {
    text = await render(['prod', CHART, '-n', ns.name, '-f', valuesFile('ha.yaml', HA_VALUES), '--set', 'pool.maxPerZone=30', '--kubeconfig', controlPlaneInfo().kubeconfigPath]);
    objects = docs(text);
  });

  it('turns leader election on for several replicas and rolls them one at a time, spread over nodes', () => {
    const cfg = loadConfig({ fileText: one(objects, 'ConfigMap').data['config.yaml'] });
    if (!cfg.ok) throw new Error(cfg.errors.join('\n'));
    expect(cfg.config.kube.leaderElect).toBe(true);
    expect(cfg.config.kube.leaseName).toBe('prod-kube-mesos-scheduler');
    const d = one(objects, 'Deployment');
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(d.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(one(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  it('passes the zk:// URL, roles, placement, pool and failover values, extraConfig last and --set over -f', () => {
    const cfg = loadConfig({ fileText: one(objects, 'ConfigMap').data['config.yaml'] });
    if (!cfg.ok) throw new Error(cfg.errors.join('\n'));
    const c = cfg.config;
    expect(c.mesos.masters).toEqual([HA_VALUES.mesos.masters]);
    expect(c.mesos.roles).toEqual(['prod', '*']);
    expect(c.mesos.frameworkName).toBe('kube-mesos-prod');
    expect(c.mesos.heartbeatMissLimit).toBe(10);
    expect(c.placement).toMatchObject({ defaultScoring: 'binpack', zoneAttribute: 'zone' });
    expect(c.pool).toMatchObject({ minPerZone: 1, maxPerZone: 30, idleTimeout: 15 * 60_000 });
    expect(c.failover).toMatchObject({ defaultFailoverAfter: 2 * 60_000, rebalance: true });
  });

  it('mounts the created credentials Secret and the CA bundle where the config points', () => {
    const cfg = loadConfig({ fileText: one(objects, 'ConfigMap').data['config.yaml'] });
    if (!cfg.ok) throw new Error(cfg.errors.join('\n'));
    const secret = one(objects, 'Secret');
    expect(Buffer.from(secret.data.secret, 'base64').toString()).toBe('s3cr3t-value');
    expect(text).not.toContain('s3cr3t-value'); // only base64 in the Secret, never in the config
    const pod = one(objects, 'Deployment').spec.template.spec;
    const mounts = pod.containers[0].volumeMounts;
    const credMount = mounts.find((m: Any) => m.name === 'mesos-credentials');
    expect(cfg.config.mesos.principal).toBe('kube-mesos');
    expect(cfg.config.mesos.secretFile).toBe(`${credMount.mountPath}/secret`);
    expect(pod.volumes.find((v: Any) => v.name === 'mesos-credentials').secret).toMatchObject({ secretName: secret.metadata.name, items: [{ key: 'secret', path: 'secret' }] });
    const caMount = mounts.find((m: Any) => m.name === 'mesos-ca');
    expect(cfg.config.mesos.caFile).toBe(`${caMount.mountPath}/ca.crt`);
    expect(one(objects, 'ConfigMap').data['ca.crt']).toContain('BEGIN CERTIFICATE');
    expect(one(objects, 'Deployment').spec.template.metadata.annotations['checksum/credentials']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('picks the PodDisruptionBudget API the cluster serves (policy/v1 from 1.21, else policy/v1beta1)', async () => {
    const versions = (await kubectl(['api-versions'])).stdout.split('\n');
    const served = (await kubectl(['get', '--raw', '/apis/policy/v1'], { allowFailure: true })).code === 0 && versions.includes('policy/v1');
    expect(one(objects, 'PodDisruptionBudget').apiVersion).toBe(served ? 'policy/v1' : 'policy/v1beta1');
  });

  it('renders a ServiceMonitor for the ops port, a PrometheusRule with the alerts, a NetworkPolicy and the image by digest', () => {
    const sm = one(objects, 'ServiceMonitor');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels.release).toBe('prometheus');
    expect(sm.spec.endpoints).toEqual([
      { port: 'ops', path: '/metrics', interval: '30s', scrapeTimeout: '10s', scheme: 'https', bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token', tlsConfig: { insecureSkipVerify: true } },
    ]);
    expect(sm.spec.selector.matchLabels).toEqual(one(objects, 'Service').spec.selector);
    const rule = one(objects, 'PrometheusRule');
    const alerts = rule.spec.groups[0].rules.map((r: Any) => r.alert);
    expect(alerts).toEqual(expect.arrayContaining(['KubeMesosNotSubscribed', 'KubeMesosPodsPending', 'KubeMesosZoneUnhealthy', 'KubeMesosFailoverSafetyStop', 'KubeMesosKubeletLaunchesFailing']));
    for (const r of rule.spec.groups[0].rules) expect(r.expr).toContain(`namespace="${ns.name}",job="prod-kube-mesos"`);
    const np = one(objects, 'NetworkPolicy');
    expect(np.spec.podSelector.matchLabels).toEqual(one(objects, 'Service').spec.selector);
    expect(np.spec.ingress).toEqual([{ ports: [{ port: 'ops', protocol: 'TCP' }], from: HA_VALUES.networkPolicy.ingress.from }]);
    expect(np.spec.egress[0].ports).toContainEqual({ port: 5050, protocol: 'TCP' });
    expect(one(objects, 'Deployment').spec.template.spec.containers[0].image).toBe(`ghcr.io/kube-mesos/kube-mesos@${HA_VALUES.image.digest}`);
  });

  it('the kube API server accepts all of it, ServiceMonitor and PrometheusRule included (kubectl apply --dry-run=server)', async () => {
    await installPrometheusOperatorCrds();
    const out = await dryRun(text);
    for (const o of objects) expect(out).toMatch(new RegExp(`^${o.kind.toLowerCase()}[./][^ ]*${o.metadata.name} created \\(server dry run\\)$`, 'm'));
    expect(out.trim().split('\n')).toHaveLength(objects.length);
  }, 180_000);

  it('passes the checks `helm lint` makes, and the standard labels, for the cluster it renders for', async () => {
    const r = await run(helmRender, ['prod', CHART, '-n', ns.name, '-f', valuesFile('ha-lint.yaml', HA_VALUES), '--lint', '--kubeconfig', controlPlaneInfo().kubeconfigPath]);
    expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.stdout).not.toContain('[ERROR]');
    expect(r.code).toBe(0);
  });
});

/**
 * The two Prometheus Operator CRDs the chart uses, cut down to the fields it sets (structural schemas, so the API server
 * checks types and required fields as the real CRDs do). Applied, never removed: other runs may use them at once.
 */
async function installPrometheusOperatorCrds(): Promise<void> {
  const crd = (plural: string, kind: string, spec: object) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec } } } }],
    },
  });
  const labelSelector = { type: 'object', properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } } };
  const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
  const crds = [
    crd('servicemonitors', 'ServiceMonitor', {
      type: 'object',
      required: ['selector', 'endpoints'],
      properties: {
        selector: labelSelector,
        namespaceSelector: { type: 'object', properties: { matchNames: { type: 'array', items: { type: 'string' } } } },
        endpoints: { type: 'array', items: { type: 'object', properties: {
              port: { type: 'string' },
              path: { type: 'string' },
              interval: { type: 'string' },
              scrapeTimeout: { type: 'string' },
              scheme: { type: 'string' },
              bearerTokenFile: { type: 'string' },
              tlsConfig: { type: 'object', properties: { insecureSkipVerify: { type: 'boolean' } } },
            } } },
      },
    }),
    crd('prometheusrules', 'PrometheusRule', {
      type: 'object',
      required: ['groups'],
      properties: {
        groups: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'rules'],
            properties: {
              name: { type: 'string' },
              rules: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['expr'],
                  properties: { alert: { type: 'string' }, record: { type: 'string' }, expr: { type: 'string' }, for: { type: 'string' }, labels: stringMap, annotations: stringMap },
                },
              },
            },
          },
        },
      },
    }),
  ];
  await kubectl(['apply', '-f', '-'], { input: crds.map((c) => JSON.stringify(c)).join('\n') });
  for (const c of crds) await kubectl(['wait', '--for=condition=Established', `crd/${c.metadata.name}`, '--timeout=60s']);
}

describe('values.schema.json, as helm validates values (helm-render uses helm\'s validator, gojsonschema)', () => {
  it('rejects a wrong type and an unknown key, naming the same keys as the scheduler does', async () => {
    const r = await run(helmRender, [CHART, '--set', 'pool.idleTimeout=10', '--set', 'extraConfig.mesos.mastrs=http://m:5050']);
    expect(r.code).toBe(1);
    const helm = r.stderr.split('\n').filter((l) => l.startsWith('- '));
    expect(helm.sort()).toEqual(['- extraConfig.mesos: Additional property mastrs is not allowed', '- pool.idleTimeout: Invalid type. Expected: string, given: integer']);
    expect(r.stderr).toContain("values don't meet the specifications of the schema(s) in the following chart(s):\nkube-mesos:");
    const scheduler = loadConfig({ fileText: yaml.dump({ pool: { idleTimeout: 10 }, mesos: { mastrs: ['http://m:5050'] } }) });
    expect(scheduler.ok).toBe(false);
    const errors = scheduler.ok ? [] : scheduler.errors;
    // side by side: the same key and the same kind of problem, in each tool's own wording
    expect(errors).toEqual([expect.stringMatching(/^config: mesos\.mastrs: unknown key \(did you mean mesos\.masters\?/), 'config: pool.idleTimeout: expected a duration such as 15s, 5m or 1h30m, got 10']);
  });

  it('accepts the default values and the HA values', async () => {
    expect((await run(helmRender, [CHART])).code).toBe(0);
    expect((await run(helmRender, [CHART, '-f', valuesFile('ha-schema.yaml', HA_VALUES)])).code).toBe(0);
  });
});

describe('an existing credentials Secret and masters given with --set', () => {
  it('mounts that Secret and creates none', async () => {
    const objects = docs(
      await render([
        CHART,
        '-n',
        ns.name,
        '--set',
        'mesos.principal=fw,mesos.credentials.existingSecret=mesos-creds,mesos.credentials.key=pw',
        '--set',
        'mesos.masters={http://m1:5050,https://m2:5050}',
        '--kube-version',
        '1.20',
      ]),
    );
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const cfg = loadConfig({ fileText: one(objects, 'ConfigMap').data['config.yaml'] });
    if (!cfg.ok) throw new Error(cfg.errors.join('\n'));
    expect(cfg.config.mesos.masters).toEqual(['http://m1:5050', 'https://m2:5050']);
    expect(cfg.config.mesos.secretFile).toBe('/etc/kube-mesos/mesos-credentials/pw');
    const vol = one(objects, 'Deployment').spec.template.spec.volumes.find((v: Any) => v.name === 'mesos-credentials');
    expect(vol.secret.secretName).toBe('mesos-creds');
    expect(one(objects, 'PodDisruptionBudget').apiVersion).toBe('policy/v1beta1');
  });
});

describe('bad values fail the render with a message naming the value', () => {
  it.each([
    ['a master that is no URL', ['--set', 'mesos.masters={ftp://m:5050}'], /mesos\.masters: "ftp:\/\/m:5050" is not a Mesos master URL/],
    ['no master', ['--set', 'mesos.masters=null'], /mesos\.masters: set at least one Mesos master/],
    ['zk:// next to another master', ['--set', 'mesos.masters={http://a:5050,zk://z:2181/mesos}'], /mesos\.masters: a zk:\/\/ URL must be the only entry/],
    ['replicas without leader election', ['--set', 'replicas=2,leaderElection.enabled=false'], /replicas: 2 replicas need leader election/],
    ['credentials without a principal', ['--set', 'mesos.credentials.secret=x'], /mesos\.principal: set the principal the credentials belong to/],
    ['no ServiceAccount name when not creating one', ['--set', 'serviceAccount.create=false'], /serviceAccount\.name is required/],
  ])('%s', async (_what, args, message) => {
    const r = await run(helmRender, [CHART, ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^Error: execution error at \(kube-mesos\/templates\/\S+:\d+:\d+\): /);
  });
});

it('a leader election mode that is none is refused by values.schema.json before any template runs', async () => {
  const r = await run(helmRender, [CHART, '--set', 'leaderElection.enabled=sometimes']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('- leaderElection.enabled: leaderElection.enabled must be one of the following: "auto", true, false, "true", "false"');
});

describe('NOTES.txt and the plain manifests', () => {
  it('NOTES.txt renders (kept out of the manifests) and tells how to reach the scheduler', async () => {
    const r = await run(helmRender, ['km', CHART, '-n', 'ops', '--notes', '--set', 'replicas=2']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('NOTES');
    expect(r.stderr).toContain('kubectl -n ops rollout status deployment/km-kube-mesos');
    expect(r.stderr).toContain('with leader election (Lease ops/km-kube-mesos-scheduler)');
  });

  it('manifests/scheduler.yaml and manifests/pdb/ are what the chart renders (node tools/helm-render/gen-manifests.mjs)', async () => {
    const r = await run(process.execPath, [join(ROOT, 'tools/helm-render/gen-manifests.mjs'), '--check'], 120_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);
});

describe('executor delivery values (delivery.*)', () => {
  it('fetch from the scheduler: the config serves the bundle at the advertised URL, pod and Service expose the artifacts port; the API server accepts it', async () => {
    const values = valuesFile('delivery-fetch.yaml', { delivery: { mode: 'fetch', serve: { port: 10252, advertiseUrl: 'http://mesos-artifacts.example:30252' } } });
    const text = await render(['km', CHART, '--namespace', ns.name, '-f', values, '--kubeconfig', controlPlaneInfo().kubeconfigPath]);
    const objects = docs(text);
    const cfg = loadConfig({ fileText: one(objects, 'ConfigMap').data['config.yaml'] });
    if (!cfg.ok) throw new Error(cfg.errors.join('\n'));
    expect(cfg.config.delivery).toEqual({ mode: 'fetch', executorBundleUrl: '', kubeletUrl: '', image: '', serve: { ...defaultConfig().delivery.serve, listen: '0.0.0.0:10252', advertiseUrl: 'http://mesos-artifacts.example:30252' } });
    const c = one(objects, 'Deployment').spec.template.spec.containers[0];
    expect(c.ports).toContainEqual({ name: 'artifacts', containerPort: 10252, protocol: 'TCP' });
    expect(one(objects, 'Service').spec.ports).toContainEqual({ name: 'artifacts', port: 10252, targetPort: 'artifacts', protocol: 'TCP' });
    await dryRun(text);
  }, 120_000);

  it('image delivery defaults to the chart\'s own image; the default install serves nothing', async () => {
    const values = valuesFile('delivery-image.yaml', { image: { repository: 'reg.example.com/kube-mesos', tag: '9.9.9' }, delivery: { mode: 'image' } });
    const cfgOf = async (args: string[]) => {
      const objects = docs(await render(['km', CHART, '--namespace', ns.name, ...args]));
      const r = loadConfig({ fileText: one(objects, 'ConfigMap').data['config.yaml'] });
      if (!r.ok) throw new Error(r.errors.join('\n'));
      return { config: r.config, objects };
    };
    expect((await cfgOf(['-f', values])).config.delivery).toMatchObject({ mode: 'image', image: 'reg.example.com/kube-mesos:9.9.9' });
    const d = await cfgOf([]);
    expect(d.config.delivery).toEqual(defaultConfig().delivery);
    expect(one(d.objects, 'Service').spec.ports.map((p: { name: string }) => p.name)).toEqual(['ops']);
  });
});
