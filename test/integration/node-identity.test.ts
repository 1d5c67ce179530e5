// A kubelet's own identity (system:node:<name>, group system:nodes), issued through the certificates API with
// kube-mesos as the approver and kube-controller-manager as the signer, against the real control plane running with
// --authorization-mode=Node,RBAC and --enable-admission-plugins=NodeRestriction: it may register and update its own
// Node and the pods bound to it, and gets 403 for another Node or a pod bound elsewhere.
import { randomBytes } from 'node:crypto';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.js';
import { buildCsr, newNodeKey } from '../../src/kube/csr.js';
import { issueNodeCertificate } from '../../src/kube/node-certificates.js';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '../support/kube.js';

const suffix = randomBytes(3).toString('hex');
const nodeA = `nid-${suffix}-a`;
const nodeB = `nid-${suffix}-b`;
let ns: TestNamespace;
let admin: KubeClient;
let asA: KubeClient;

function nodeKubeConfig(adminKc: KubeConfig, certPem: string, keyPem: string): KubeConfig {
  const cluster = adminKc.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: cluster.server, caData: cluster.caData, caFile: cluster.caFile, skipTLSVerify: cluster.skipTLSVerify }],
    users: [{ name: `system:node:${nodeA}`, certData: Buffer.from(certPem).toString('base64'), keyData: Buffer.from(keyPem).toString('base64') }],
    contexts: [{ name: 'node', cluster: 'c', user: `system:node:${nodeA}` }],
    currentContext: 'node',
  });
  return kc;
}

const pod = (name: string, nodeName: string): V1Pod => ({ metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.2' }] } });

beforeAll(async () => {
  ns = await createTestNamespace('node-identity');
  const kc = testKubeConfig();
  admin = new KubeClient(kc);
  const key = newNodeKey();
  const t0 = Date.now();
  const issued = await issueNodeCertificate(admin, { nodeName: nodeA, csrPem: buildCsr(key.privateKey, { commonName: `system:node:${nodeA}`, organizations: ['system:nodes'] }), requester: 'test' });
  if (!issued.ok) throw new Error(issued.error);
  process.stdout.write(`node certificate issued in ${Date.now() - t0} ms\n`);
  asA = new KubeClient(nodeKubeConfig(kc, issued.certificatePem, key.privateKeyPem));
  const b = await admin.createNode({ metadata: { name: nodeB } });
  if (!b.ok) throw new Error(b.message);
}, 120_000);

afterAll(async () => {
  for (const n of [nodeA, nodeB]) await admin?.deleteNode(n);
  await ns?.delete();
  admin?.http.close();
  asA?.http.close();
});

describe('a kubelet identity issued by kube-mesos, under NodeRestriction', () => {
  it('registers and patches its own Node', async () => {
    const created = await asA.createNode({ metadata: { name: nodeA, labels: { 'kube-mesos.io/agent-id': 'a1' } } });
    expect(created.ok).toBe(true);
    const patched = await asA.patchNode(nodeA, { metadata: { labels: { 'kube-mesos.io/attribute-rack': 'r1' } } });
    expect(patched.ok).toBe(true);
  });

  it('cannot modify another Node: 403', async () => {
    const r = await asA.patchNode(nodeB, { metadata: { labels: { stolen: 'yes' } } });
    expect(r).toMatchObject({ ok: false, kind: 'Forbidden', status: 403 });
    expect(!r.ok && r.message).toMatch(/node "?nid-.*-a"? is not allowed to modify node "?nid-.*-b"?/);
    const d = await asA.deleteNode(nodeB);
    expect(d).toMatchObject({ ok: false, status: 403 });
  });

  it('updates the status of a pod bound to it, and gets 403 for a pod bound to another node', async () => {
    const mine = await admin.createPod(ns.name, pod('mine', nodeA));
    const other = await admin.createPod(ns.name, pod('other', nodeB));
    expect(mine.ok && other.ok).toBe(true);
    const status = (p: string) => asA.raw('PATCH', `/api/v1/namespaces/${ns.name}/pods/${p}/status`, { body: { status: { phase: 'Running' } }, contentType: 'application/strategic-merge-patch+json' });
    expect((await status('mine')).ok).toBe(true);
    const denied = await status('other');
    expect(denied).toMatchObject({ ok: false, status: 403 });
    expect(!denied.ok && denied.message).toMatch(/can only update pod status for pods with spec.nodeName set to itself|not allowed|forbidden/i);
    expect(await asA.deletePod(ns.name, 'other')).toMatchObject({ ok: false, status: 403 });
  });

  it('a burst of 100 executors asking at once: every certificate issued (latency printed, 32 at a time as the scheduler does)', async () => {
    const n = 100;
    const names = Array.from({ length: n }, (_, i) => `nid-${suffix}-burst-${i}`);
    const latencies: number[] = [];
    const t0 = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const nodeName = names[next++];
        const started = Date.now();
        const csrPem = buildCsr(newNodeKey().privateKey, { commonName: `system:node:${nodeName}`, organizations: ['system:nodes'] });
        const r = await issueNodeCertificate(admin, { nodeName, csrPem, requester: 'burst' });
        if (!r.ok) throw new Error(r.error);
        latencies.push(Date.now() - started);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const wall = Date.now() - t0;
    latencies.sort((a, b) => a - b);
    const q = (f: number) => latencies[Math.min(n - 1, Math.floor(f * n))];
    process.stdout.write(`node certificates, burst of ${n} (32 in flight): wall ${wall} ms, p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${latencies[n - 1]} ms\n`);
    expect(latencies).toHaveLength(n);
  }, 120_000);

  it('cannot bind pods (pods/binding is the scheduler\'s): 403', async () => {
    await admin.createPod(ns.name, { metadata: { name: 'pending' }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.2' }] } });
    const r = await asA.bindPod(ns.name, 'pending', undefined, nodeA);
    expect(r).toMatchObject({ ok: false, status: 403 });
  });
});
