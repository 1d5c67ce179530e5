// No cluster credential on agents (issue 15): each kubelet executor runs as system:node:<name> from the certificate it
// obtained through the scheduler. The credential is read from an agent's sandbox as an attacker on that agent would:
// under the API server's Node authorizer and NodeRestriction it gets 403 modifying another Node or a pod not bound to
// it. Pods still bind (the scheduler binds) and run. No file in any agent sandbox holds the test's admin credential.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.js';
import { controlPlaneInfo, waitFor } from '../support/kube.js';
import { listPods, startTestSandbox, type TestSandbox } from '../support/sandbox.js';

let t: TestSandbox;

beforeAll(async () => {
  t = await startTestSandbox('e2e-nodeid', { agents: 2, zones: ['a'] });
}, 180_000);

afterAll(async () => {
  await t?.stop();
}, 60_000);

/** Every regular file under `dir`. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return e.isFile() ? [p] : [];
  });
}

it('kubelets run as their node: pods bind and run; a node credential gets 403 for another Node and a pod bound elsewhere', async () => {
  await t.kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      schedulerName: ${t.schedulerName}
      topologySpreadConstraints:
      - { maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: { matchLabels: { app: web } } }
      containers: [{ name: web, image: nginx, resources: { requests: { cpu: 100m, memory: 64Mi } } }]
`,
  );
  const running = await waitFor(
    async () => {
      const list = await listPods(t, 'app=web');
      return list.length === 2 && list.every((p) => p.status.phase === 'Running') && new Set(list.map((p) => p.spec.nodeName)).size === 2 && list;
    },
    { timeoutMs: 120_000, what: '2 web pods Running on 2 Nodes' },
  );
  const kubeconfigs = files(join(t.sb.dir, 'mesos')).filter((f) => f.endsWith(join('node-identity', 'kubeconfig')));
  expect(kubeconfigs).toHaveLength(2);
  const [mine] = kubeconfigs;
  expect(statSync(mine).mode & 0o777).toBe(0o600);
  const kc = new KubeConfig();
  kc.loadFromFile(mine);
  const user = kc.getCurrentUser()!.name;
  const node = user.replace(/^system:node:/, '');
  expect(running.map((p) => p.spec.nodeName)).toContain(node);
  const other = running.find((p) => p.spec.nodeName !== node)!;
  const asNode = new KubeClient(kc);
  try {
    // Its own Node: allowed. Another Node: 403 from NodeRestriction.
    expect((await asNode.patchNode(node, { metadata: { labels: { 'kube-mesos.io/e2e': 'own' } } }, 'merge')).ok).toBe(true);
    const otherNode = await asNode.patchNode(other.spec.nodeName!, { metadata: { labels: { stolen: 'yes' } } }, 'merge');
    expect(otherNode).toMatchObject({ ok: false, kind: 'Forbidden', status: 403 });
    const otherPod = await asNode.raw('PATCH', `/api/v1/namespaces/${t.ns.name}/pods/${other.metadata.name}/status`, {
      body: { status: { phase: 'Failed' } },
      contentType: 'application/strategic-merge-patch+json',
    });
    expect(otherPod).toMatchObject({ ok: false, status: 403 });
    const deleteOther = await asNode.deletePod(t.ns.name, other.metadata.name);
    expect(deleteOther).toMatchObject({ ok: false, status: 403 });
    const bind = await asNode.bindPod(t.ns.name, other.metadata.name, other.metadata.uid, node);
    expect(bind).toMatchObject({ ok: false, status: 403 });
    const msg = (r: { ok: boolean; message?: string }) => (r.ok ? 'ok' : r.message);
    console.log(
      [
        `node credential ${user} (from ${mine.slice(t.sb.dir.length)}):`,
        `  patch Node ${other.spec.nodeName}: 403 ${msg(otherNode)}`,
        `  patch status of pod ${other.metadata.name} (bound to ${other.spec.nodeName}): 403 ${msg(otherPod)}`,
        `  delete that pod: 403 ${msg(deleteOther)}`,
        `  bind it: 403 ${msg(bind)}`,
      ].join('\n'),
    );
  } finally {
    asNode.http.close();
  }
}, 180_000);

it('no file in any agent sandbox holds the admin or scheduler credential', () => {
  const admin = new KubeConfig();
  admin.loadFromFile(controlPlaneInfo().kubeconfigPath);
  const u = admin.getCurrentUser()!;
  const secrets = [u.token, u.keyData, u.keyFile ? readFileSync(u.keyFile, 'utf8').trim() : undefined].filter((x): x is string => Boolean(x));
  expect(secrets.length).toBeGreaterThan(0);
  const all = files(join(t.sb.dir, 'mesos')).filter((f) => statSync(f).size < 16 * 1024 * 1024);
  expect(all.length).toBeGreaterThan(2);
  const leaks = all.filter((f) => {
    const text = readFileSync(f, 'latin1');
    return secrets.some((s) => text.includes(s)) || text.includes(controlPlaneInfo().kubeconfigPath);
  });
  expect(leaks).toEqual([]);
});
