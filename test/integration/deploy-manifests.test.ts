// manifests/ (the plain-YAML install) against the run's real kube-apiserver with `kubectl apply --dry-run=server`,
// exactly as manifests/README.md tells an operator to apply it, plus the checks a dry-run cannot make.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { loadConfig } from '../../src/config/config.js';
import { kubectl, waitFor } from '../support/kube.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MANIFESTS = join(ROOT, 'manifests');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [k: string]: any;
}

function load(rel: string): K8sObject[] {
  return (yaml.loadAll(readFileSync(join(MANIFESTS, rel), 'utf8')) as (K8sObject | null)[]).filter((d): d is K8sObject => d !== null);
}

/** What `kubectl apply -f manifests/` reads: the .yaml/.yml/.json files of the folder itself, in name order. */
const topLevel = readdirSync(MANIFESTS)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort();
const all = topLevel.flatMap(load);
const byKind = (kind: string) => all.filter((o) => o.kind === kind);

let createdNamespace = false;

/** `kubectl apply --dry-run=server`, retried only while kube-apiserver is briefly away (another test may restart it). */
async function dryRun(args: string[]): Promise<string> {
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = await kubectl(['apply', '--dry-run=server', ...args], { timeoutMs: 90_000, allowFailure: true });
    if (r.code === 0) return r.stdout;
    last = r.stderr;
    if (!/connection refused|EOF|timeout|ServiceUnavailable|the server is currently unable/i.test(r.stderr)) break;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  throw new Error(`kubectl apply --dry-run=server ${args.join(' ')} failed:\n${last}`);
}

beforeAll(async () => {
  // A server-side dry-run creates nothing, so the namespace the objects live in must exist for real first — as it does
  // after the first real `kubectl apply -f manifests/`, which creates it from rbac.yaml before the rest.
  const namespaceDoc = byKind('Namespace');
  expect(namespaceDoc.map((n) => n.metadata.name)).toEqual(['kube-mesos']);
  const exists = (await kubectl(['get', 'namespace', 'kube-mesos'], { allowFailure: true })).code === 0;
  if (!exists) {
    await waitFor(() => kubectl(['apply', '-f', '-'], { input: yaml.dump(namespaceDoc[0]) }).then(() => true), { what: 'namespace kube-mesos', timeoutMs: 60_000 });
    createdNamespace = true;
  }
}, 90_000);

afterAll(async () => {
  if (createdNamespace) await kubectl(['delete', 'namespace', 'kube-mesos', '--wait=false'], { allowFailure: true });
});

describe('manifests/', () => {
  it('applies rbac.yaml before scheduler.yaml (kubectl reads a folder in name order)', () => {
    expect(topLevel).toEqual(['rbac.yaml', 'scheduler.yaml']);
  });

  it('the kube API server accepts `kubectl apply -f manifests/` and the PodDisruptionBudget this cluster serves', async () => {
    const versions = (await kubectl(['api-versions'])).stdout.split('\n');
    const pdb = versions.includes('policy/v1') ? 'pdb/policy-v1.yaml' : 'pdb/policy-v1beta1.yaml';
    const out = await dryRun(['-f', MANIFESTS, '-f', join(MANIFESTS, pdb)]);
    const expected = [...all, ...load(pdb)];
    expect(out.trim().split('\n')).toHaveLength(expected.length);
    for (const o of expected) expect(out).toMatch(new RegExp(`^${o.kind.toLowerCase()}[./][^ ]*${o.metadata.name} .*\\(server dry run\\)$`, 'm'));
  }, 120_000);

  it('the other PodDisruptionBudget file is the other API version', () => {
    expect([load('pdb/policy-v1.yaml')[0].apiVersion, load('pdb/policy-v1beta1.yaml')[0].apiVersion]).toEqual(['policy/v1', 'policy/v1beta1']);
    expect(load('pdb/policy-v1.yaml')[0].spec).toEqual(load('pdb/policy-v1beta1.yaml')[0].spec);
  });

  it('gives the scheduler a config it accepts, naming the namespace, Lease and state ConfigMap that rbac.yaml covers', () => {
    const [cm] = byKind('ConfigMap');
    const r = loadConfig({ fileText: cm.data['config.yaml'], fileName: 'manifests/scheduler.yaml' });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const [role] = byKind('Role');
    expect(r.config.kube.namespace).toBe(role.metadata.namespace);
    expect(r.config.kube.leaseName).toBe('kube-mesos-scheduler');
    expect(r.config.kube.stateConfigMap).toBe('kube-mesos-state');
    expect(role.rules.map((x: { resources: string[] }) => x.resources[0]).sort()).toEqual(['configmaps', 'leases']);
  });

  it('runs the Deployment as the ServiceAccount that rbac.yaml binds, every object in one namespace', () => {
    const [deploy] = byKind('Deployment');
    const [sa] = byKind('ServiceAccount');
    expect(deploy.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      for (const b of byKind(kind)) expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    }
    // Node heartbeat Leases live in kube-node-lease; everything else in the framework's namespace.
    const namespaced = all.filter((o) => !['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind) && o.metadata.namespace !== 'kube-node-lease');
    expect(new Set(namespaced.map((o) => o.metadata.namespace))).toEqual(new Set(['kube-mesos']));
    expect(deploy.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    expect(deploy.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });
});
