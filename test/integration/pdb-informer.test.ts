// PodDisruptionBudgets as preemption reads them, against the real control plane (1.20: policy/v1beta1 only), as the
// kube-mesos ServiceAccount bound to manifests/rbac.yaml: discovery picks the served version and the informer sees the
// disruption controller's status.
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp } from '../../src/kube/http.js';
import { discoverPolicyVersion, PodDisruptionBudgets } from '../../src/kube/pdb-informer.js';
import { rbacYaml } from '../../src/kube/rbac.js';
import { createTestNamespace, kubectl, serviceAccountKubeConfig, waitFor, type TestNamespace } from '../support/kube.js';

let ns: TestNamespace;
let sa: KubeConfig;

beforeAll(async () => {
  ns = await createTestNamespace('pdb-informer');
  await waitFor(() => kubectl(['apply', '-f', '-'], { input: rbacYaml({ namespace: ns.name, omitNamespace: true }) }).then(() => true), { what: 'rbac.yaml applied', timeoutMs: 60_000 });
  sa = await serviceAccountKubeConfig(ns.name, 'kube-mesos', 'kube-mesos');
}, 120_000);

afterAll(async () => {
  await kubectl(['delete', 'clusterrolebinding', `kube-mesos:${ns.name}:kube-mesos`, '--ignore-not-found'], { allowFailure: true });
  await kubectl(['delete', 'rolebinding', '-n', 'kube-node-lease', `kube-mesos-node-lease:${ns.name}:kube-mesos`, '--ignore-not-found'], { allowFailure: true });
  await ns?.delete();
});

it('discovers the policy version the API server serves, and watches PDBs with the disruption controller\'s disruptionsAllowed', async () => {
  const http = KubeHttp.from(sa);
  try {
    const v = await discoverPolicyVersion(http);
    const served = (await kubectl(['api-versions'])).stdout.split('\n');
    expect(v.version).toBe(served.includes('policy/v1') ? 'policy/v1' : 'policy/v1beta1');
    expect(v.error).toBeUndefined();

    const pdbs = PodDisruptionBudgets.watch(http, v.version);
    let changes = 0;
    pdbs.onChange(() => changes++);
    pdbs.start();
    await pdbs.ready;
    try {
      const manifest = `apiVersion: ${v.version}\nkind: PodDisruptionBudget\nmetadata: { name: web, namespace: ${ns.name} }\nspec: { maxUnavailable: 1, selector: { matchLabels: { app: web } } }\n`;
      await kubectl(['apply', '-f', '-'], { input: manifest });
      // The disruption controller (kube-controller-manager) fills in status; with no pods, maxUnavailable 1 allows 1... or 0
      // until it has run: wait for its observedGeneration.
      const view = await waitFor(
        async () => {
          const mine = pdbs.views().filter((p) => p.namespace === ns.name);
          const out = await kubectl(['get', 'pdb', 'web', '-n', ns.name, '-o', 'jsonpath={.status.observedGeneration}']);
          return mine.length === 1 && out.stdout.trim() !== '' && mine[0].disruptionsAllowed === Number((await kubectl(['get', 'pdb', 'web', '-n', ns.name, '-o', 'jsonpath={.status.disruptionsAllowed}'])).stdout) && mine[0];
        },
        { what: 'the PDB with its status in the informer', timeoutMs: 60_000 },
      );
      expect(view).toMatchObject({ namespace: ns.name, selector: { matchLabels: { app: 'web' } } });
      expect(changes).toBeGreaterThan(0);
      await kubectl(['delete', 'pdb', 'web', '-n', ns.name]);
      await waitFor(async () => pdbs.views().every((p) => p.namespace !== ns.name), { what: 'the PDB gone from the informer', timeoutMs: 30_000 });
    } finally {
      await pdbs.stop();
    }
  } finally {
    http.close();
  }
}, 120_000);
