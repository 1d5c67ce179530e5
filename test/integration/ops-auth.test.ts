// The ops server's delegated authentication and authorization against the real control plane (issue 16 item 9):
// kube-mesos' own ServiceAccount (manifests/rbac.yaml: system:auth-delegator) asks TokenReview and SubjectAccessReview
// about callers; no token → 401, a token without the RBAC → 403, a token bound to kube-mesos-ops-viewer → 200.
import { request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { rbacYaml } from '../../src/kube/rbac.js';
import { createOpsApp } from '../../src/ops/app.js';
import { delegatedAuth, kubeAccessReviewer, selfSignedCertificate, type ServingCertificate } from '../../src/ops/auth.js';
import { startOpsServer, type OpsServer } from '../../src/ops/server.js';
import { createRegistry } from '../../src/telemetry/metrics.js';
import { createTestNamespace, kubectl, serviceAccountKubeConfig, waitFor, type TestNamespace } from '../support/kube.js';

function tokenOf(kc: KubeConfig): string {
  return kc.getCurrentUser()!.token!;
}

function get(url: string, path: string, ca: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { ca, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

let ns: TestNamespace;
let cert: ServingCertificate;
let server: OpsServer;
let viewerToken: string;
let strangerToken: string;

beforeAll(async () => {
  ns = await createTestNamespace('ops-auth');
  await waitFor(() => kubectl(['apply', '-f', '-'], { input: rbacYaml({ namespace: ns.name, omitNamespace: true }) }).then(() => true), { what: 'rbac.yaml applied', timeoutMs: 60_000 });
  const self = await serviceAccountKubeConfig(ns.name, 'kube-mesos', 'kube-mesos');
  viewerToken = tokenOf(await serviceAccountKubeConfig(ns.name, 'viewer', 'kube-mesos-ops-viewer'));
  strangerToken = tokenOf(await serviceAccountKubeConfig(ns.name, 'stranger', 'system:basic-user'));
  cert = await selfSignedCertificate(['127.0.0.1']);
  const app = createOpsApp({
    health: () => true,
    readiness: () => ({ ready: true, checks: {} }),
    registry: createRegistry(),
    debugState: () => ({ frameworkId: 'fw-1' }),
    auth: delegatedAuth({ reviewer: kubeAccessReviewer(self), cacheTtlMs: 10_000 }),
  });
  server = await startOpsServer(app, '127.0.0.1:0', cert);
}, 180_000);

afterAll(async () => {
  await server?.close();
  await kubectl(['delete', 'clusterrolebinding', `kube-mesos:${ns.name}:kube-mesos`, `kube-mesos:auth-delegator:${ns.name}:kube-mesos`, '--ignore-not-found'], { allowFailure: true });
  await ns?.delete();
});

describe('ops server against kube-apiserver', () => {
  it('/healthz is open', async () => {
    expect(await get(server.url, '/healthz', cert.cert)).toBe(200);
  });
  it.each(['/metrics', '/debug/state'])('%s: no token → 401, a token without the RBAC → 403, a kube-mesos-ops-viewer token → 200', async (path) => {
    expect(await get(server.url, path, cert.cert)).toBe(401);
    expect(await get(server.url, path, cert.cert, 'not-a-real-token')).toBe(401);
    expect(await get(server.url, path, cert.cert, strangerToken)).toBe(403);
    expect(await get(server.url, path, cert.cert, viewerToken)).toBe(200);
  });
});
