// The write path (binding, PodScheduled, events, eviction, nodes, node certificates) against the real control plane, as the kube-mesos
// ServiceAccount bound to manifests/rbac.yaml: a missing permission fails here.
import type { KubeConfig, V1Node, V1Pod } from '@kubernetes/client-node';
import { join } from 'node:path';
import { KubeClient } from '../../src/kube/client.js';
import { buildCsr, newNodeKey } from '../../src/kube/csr.js';
import { issueNodeCertificate } from '../../src/kube/node-certificates.js';
import { EventRecorder } from '../../src/kube/events.js';
import { nodeInformer } from '../../src/kube/informer.js';
import { rbacYaml } from '../../src/kube/rbac.js';
import { withStableApiserver } from '../../src/kube/testing/apiserver-lock.js';
import { controlPlaneInfo, createTestNamespace, kubectl, serviceAccountKubeConfig, testKubeConfig, waitFor, type TestNamespace } from '../support/kube.js';

function pendingPod(name: string, labels: Record<string, string> = { app: 'it' }): V1Pod {
  return { metadata: { name, labels }, spec: { schedulerName: 'kube-mesos', containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.2' }] } };
}

/** Tests that a kube-apiserver restart elsewhere in the run would spoil wait for it to finish, and hold one off meanwhile. */
const lockDir = () => join(controlPlaneInfo().dir, 'test-locks');
const stableIt = (name: string, fn: () => Promise<void>, timeoutMs?: number) => it(name, () => withStableApiserver(lockDir(), fn), timeoutMs);

let ns: TestNamespace;
let sa: KubeConfig;
let client: KubeClient;
const nodes: string[] = [];

beforeAll(async () => {
  ns = await createTestNamespace('kube-writes');
  const manifest = rbacYaml({ namespace: ns.name, omitNamespace: true });
  await waitFor(() => kubectl(['apply', '-f', '-'], { input: manifest }).then(() => true), { what: 'rbac.yaml applied', timeoutMs: 60_000 });
  sa = await serviceAccountKubeConfig(ns.name, 'kube-mesos', 'kube-mesos');
  client = new KubeClient(sa);
}, 120_000);

afterAll(async () => {
  const admin = new KubeClient(testKubeConfig());
  for (const n of nodes) await admin.deleteNode(n);
  admin.http.close();
  await kubectl(['delete', 'clusterrolebinding', `kube-mesos:${ns.name}:kube-mesos`, '--ignore-not-found'], { allowFailure: true });
  await ns?.delete();
  client?.http.close();
});

/** Nodes are registered by kubelets as themselves; the tests make them as the admin. */
async function adminCreateNode(node: V1Node) {
  const admin = new KubeClient(testKubeConfig());
  try {
    return await admin.createNode(node);
  } finally {
    admin.http.close();
  }
}

async function create(name: string, labels?: Record<string, string>): Promise<V1Pod> {
  const r = await waitFor(async () => {
    const res = await client.createPod(ns.name, pendingPod(name, labels));
    return res.ok ? res : res.kind === 'Retryable' ? undefined : res; // another test may be restarting kube-apiserver
  }, { what: `pod ${name} created`, timeoutMs: 60_000 });
  if (!r.ok) throw new Error(`creating ${name}: ${r.kind} ${r.message}`);
  return r.value;
}

describe('KubeClient writes (as the kube-mesos ServiceAccount)', () => {
  stableIt('binds a pod once; a second bind is kind Conflict, a missing pod NotFound', async () => {
    const node = `kube-writes-${ns.name}`;
    const created = await adminCreateNode({ metadata: { name: node, labels: { 'kube-mesos.io/agent-id': 'a1' } } });
    expect(created.ok).toBe(true);
    nodes.push(node);
    const pod = await create('bind-me');
    expect(await client.bindPod(ns.name, 'bind-me', pod.metadata!.uid!, node)).toEqual({ ok: true, value: undefined });
    const again = await client.bindPod(ns.name, 'bind-me', pod.metadata!.uid!, node);
    expect(again).toMatchObject({ ok: false, kind: 'Conflict', status: 409 });
    expect(await client.bindPod(ns.name, 'no-such-pod', undefined, node)).toMatchObject({ ok: false, kind: 'NotFound', status: 404 });
    const got = await client.getPod(ns.name, 'bind-me');
    expect(got.ok && got.value.spec?.nodeName).toBe(node);
  });

  stableIt('shows the PodScheduled condition and one FailedScheduling event with its count in `kubectl describe pod`', async () => {
    const pod = await create('unschedulable');
    const message = '0/3 agents available: 2 Insufficient cpu, 1 node(s) didn\'t match node selector.';
    const cond = await client.setPodScheduledCondition(pod, { status: 'False', reason: 'Unschedulable', message });
    expect(cond.ok).toBe(true);

    const recorder = new EventRecorder({ client, component: 'kube-mesos', instance: 'it' });
    for (let i = 0; i < 5; i++) {
      recorder.failedScheduling(pod, message);
      await recorder.flush(); // each failure reaches the API server: create once, then patch the count
    }
    expect(recorder.stats).toMatchObject({ created: 1, patched: 4, failed: 0 });
    const events = await kubectl(['get', 'events', '-n', ns.name, '--field-selector', `involvedObject.name=unschedulable`, '-o', 'json']);
    const items = (JSON.parse(events.stdout) as { items: Array<{ reason: string; count: number; type: string; message: string }> }).items;
    expect(items.map((e) => [e.type, e.reason, e.count, e.message])).toEqual([['Warning', 'FailedScheduling', 5, message]]);

    const out = (await kubectl(['describe', 'pod', '-n', ns.name, 'unschedulable'])).stdout;
    expect(out).toMatch(/PodScheduled\s+False/);
    expect(out).toMatch(/Warning\s+FailedScheduling\s+.*\(x5 over .*\)\s+kube-mesos\s+0\/3 agents available: 2 Insufficient cpu/);

    recorder.scheduled(pod, 'node-1');
    await recorder.stop();
    const described = (await kubectl(['describe', 'pod', '-n', ns.name, 'unschedulable'])).stdout;
    expect(described).toMatch(new RegExp(`Normal\\s+Scheduled\\s+.*Successfully assigned ${ns.name}/unschedulable to node-1`));
  });

  stableIt('evicts through the Eviction API, and a PodDisruptionBudget refusal is kind DisruptionBudget', async () => {
    await create('guarded', { app: 'guarded' });
    await create('free', { app: 'free' });
    const pdb = `apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: guard\n  namespace: ${ns.name}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: guarded\n`;
    await kubectl(['apply', '-f', '-'], { input: pdb });
    // Pending pods ignore PDBs (the eviction handler deletes them outright); a Running one is protected.
    const running = await client.raw('PATCH', `/api/v1/namespaces/${ns.name}/pods/guarded/status`, {
      body: { status: { phase: 'Running' } },
      contentType: 'application/strategic-merge-patch+json',
    });
    expect(running.ok).toBe(true);
    expect(await client.evictPod(ns.name, 'guarded')).toMatchObject({ ok: false, kind: 'DisruptionBudget', status: 429 });
    expect(await client.evictPod(ns.name, 'free', { gracePeriodSeconds: 0 })).toEqual({ ok: true, value: undefined });
    await waitFor(async () => {
      const r = await client.getPod(ns.name, 'free');
      return !r.ok && r.kind === 'NotFound';
    }, { what: 'the evicted pod to be gone' });
  });

  stableIt('annotates pods, cordons and deletes nodes (never registers one: kubelets do, as their node); the node informer follows', async () => {
    const label = `it-${ns.name}`;
    const inf = nodeInformer(sa, { labelSelector: `kube-mesos.io/test=${label}`, freeze: true });
    const seen: string[] = [];
    inf.on('add', (n) => seen.push(`add ${n.spec?.unschedulable ?? false}`));
    inf.on('update', (n) => seen.push(`update ${n.spec?.unschedulable ?? false}`));
    inf.on('delete', () => seen.push('delete'));
    inf.start();
    await inf.ready;
    await create('annotated');
    const a = await client.patchPodAnnotations(ns.name, 'annotated', { 'kube-mesos.io/task-id': 'task-1' });
    expect(a.ok && a.value.metadata?.annotations?.['kube-mesos.io/task-id']).toBe('task-1');
    const node = `kube-writes-n2-${ns.name}`;
    expect(await client.createNode({ metadata: { name: node } })).toMatchObject({ ok: false, kind: 'Forbidden' });
    expect((await adminCreateNode({ metadata: { name: node, labels: { 'kube-mesos.io/test': label } } })).ok).toBe(true);
    nodes.push(node);
    // A kubelet's Lease and Node status are its own (Node authorizer), not the scheduler's.
    const lease = await client.raw('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: node }, spec: { holderIdentity: node, leaseDurationSeconds: 40 } },
    });
    expect(lease).toMatchObject({ ok: false, kind: 'Forbidden' });
    expect(await client.patchNodeStatus(node, { status: { conditions: [{ type: 'Ready', status: 'True' }] } })).toMatchObject({ ok: false, kind: 'Forbidden' });
    const c = await client.cordonNode(node);
    expect(c.ok && c.value.spec?.unschedulable).toBe(true);
    expect((await client.deleteNode(node)).ok).toBe(true);
    expect(await client.getNode(node)).toMatchObject({ ok: false, kind: 'NotFound' });
    await waitFor(() => seen.includes('delete'), { what: 'the node informer to see the delete', timeoutMs: 10_000 });
    expect(seen[0]).toBe('add false');
    expect(seen).toContain('update true');
    await inf.stop();
  });

  stableIt('issues a kubelet client certificate: creates and approves the CSR, kube-controller-manager signs it', async () => {
    const nodeName = `kube-writes-cert-${ns.name}`;
    const csrPem = buildCsr(newNodeKey().privateKey, { commonName: `system:node:${nodeName}`, organizations: ['system:nodes'] });
    const r = await issueNodeCertificate(client, { nodeName, csrPem, requester: 'kube-writes test' });
    if (!r.ok) throw new Error(r.error);
    expect(r.certificatePem).toMatch(/BEGIN CERTIFICATE/);
    await kubectl(['delete', 'csr', r.csrName, '--ignore-not-found'], { allowFailure: true });
  });

  stableIt('creates and binds 300 pods with 50 requests in flight', async () => {
    const fast = new KubeClient(sa, { qps: 1000, burst: 1000, maxInFlight: 50 });
    const node = `kube-writes-bulk-${ns.name}`;
    expect((await adminCreateNode({ metadata: { name: node } })).ok).toBe(true);
    nodes.push(node);
    const names = Array.from({ length: 300 }, (_, i) => `bulk-${i}`);
    let t = Date.now();
    const created = await Promise.all(names.map((n) => fast.createPod(ns.name, pendingPod(n, { app: 'bulk' }))));
    const createMs = Date.now() - t;
    expect(created.filter((r) => !r.ok)).toEqual([]);
    t = Date.now();
    const bound = await Promise.all(created.map((r) => (r.ok ? fast.bindPod(ns.name, r.value.metadata!.name!, r.value.metadata!.uid, node) : r)));
    const bindMs = Date.now() - t;
    expect(bound.filter((r) => !r.ok)).toEqual([]);
    expect(fast.http.limiterState).toEqual({ active: 0, pending: 0 });
    console.log(`300 pods: create ${createMs} ms (${Math.round(300_000 / createMs)}/s), bind ${bindMs} ms (${Math.round(300_000 / bindMs)}/s)`);
    fast.http.close();
  }, 120_000);

  stableIt('is refused (kind Forbidden) what rbac.yaml does not grant', async () => {
    const r = await client.raw('GET', `/api/v1/namespaces/${ns.name}/secrets`);
    expect(r).toMatchObject({ ok: false, kind: 'Forbidden', status: 403 });
  });
});
