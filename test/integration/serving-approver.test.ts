// Kubelet serving certificates: a kubelet (system:node:<name>, issued by kube-mesos) asks for one with signer
// kubernetes.io/kubelet-serving; kube-mesos approves it only when every name is its Node's own, and the real
// kube-controller-manager signs it with the cluster CA.
import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.js';
import { buildCsr, newNodeKey } from '../../src/kube/csr.js';
import { KubeHttp } from '../../src/kube/http.js';
import { issueNodeCertificate } from '../../src/kube/node-certificates.js';
import { KUBELET_SERVING_SIGNER, ServingCertApprover } from '../../src/kube/serving-approver.js';
import { silentLogger } from '../../src/telemetry/log.js';
import { controlPlaneInfo, testKubeConfig, waitFor } from '../support/kube.js';

const node = `srv-${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'serving-'));
let admin: KubeClient;
let asNode: KubeClient;
let approver: ServingCertApprover;

beforeAll(async () => {
  const kc = testKubeConfig();
  admin = new KubeClient(kc);
  const key = newNodeKey();
  const issued = await issueNodeCertificate(admin, { nodeName: node, csrPem: buildCsr(key.privateKey, { commonName: `system:node:${node}`, organizations: ['system:nodes'] }), requester: 'test' });
  if (!issued.ok) throw new Error(issued.error);
  const cluster = kc.getCurrentCluster()!;
  const nkc = new KubeConfig();
  nkc.loadFromOptions({
    clusters: [{ name: 'c', server: cluster.server, caData: cluster.caData, caFile: cluster.caFile }],
    users: [{ name: 'n', certData: Buffer.from(issued.certificatePem).toString('base64'), keyData: Buffer.from(key.privateKeyPem).toString('base64') }],
    contexts: [{ name: 'n', cluster: 'c', user: 'n' }],
    currentContext: 'n',
  });
  asNode = new KubeClient(nkc);
  // The approver knows the Node's addresses as the Node informer would give them.
  approver = new ServingCertApprover(KubeHttp.from(kc), (n) => (n === node ? [{ type: 'InternalIP', address: '192.0.2.44' }, { type: 'Hostname', address: node }] : undefined), silentLogger());
  approver.start(200);
  await approver.ready;
}, 120_000);

afterAll(async () => {
  await approver?.stop();
  admin?.http.close();
  asNode?.http.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The CSR object a kubelet with serverTLSBootstrap creates, as the node itself. */
async function submit(name: string, san: string): Promise<void> {
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  const pem = execFileSync('openssl', ['req', '-new', '-sha256', '-key', key, '-subj', `/O=system:nodes/CN=system:node:${node}`, '-addext', `subjectAltName=${san}`], { encoding: 'utf8' });
  const r = await asNode.raw('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', {
    body: { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name }, spec: { request: Buffer.from(pem).toString('base64'), signerName: KUBELET_SERVING_SIGNER, usages: ['digital signature', 'key encipherment', 'server auth'] } },
  });
  if (!r.ok) throw new Error(`${r.kind}: ${r.message}`);
}

const csrOf = async (name: string) => {
  const r = await admin.raw<{ status?: { certificate?: string; conditions?: { type: string }[] } }>('GET', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

it("approves a serving CSR whose names are all the Node's, which kube-controller-manager signs with the cluster CA; leaves one naming a foreign IP pending", async () => {
  await submit(`${node}-good`, `DNS:${node},IP:192.0.2.44`);
  await submit(`${node}-bad`, `DNS:${node},IP:10.96.0.1`);
  const cert = await waitFor(async () => (await csrOf(`${node}-good`)).status?.certificate, { what: 'the good CSR signed', timeoutMs: 60_000 });
  const x = new X509Certificate(Buffer.from(cert, 'base64'));
  expect(x.subject).toContain(`CN=system:node:${node}`);
  expect(x.checkIP('192.0.2.44')).toBe('192.0.2.44');
  expect(x.verify(new X509Certificate(readFileSync(controlPlaneInfo().caFile)).publicKey)).toBe(true);
  // The approver has looked at the bad one many times by now (every 200 ms): still no decision on it.
  const bad = await csrOf(`${node}-bad`);
  expect(bad.status?.conditions ?? []).toEqual([]);
  for (const n of [`${node}-good`, `${node}-bad`]) await admin.raw('DELETE', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${n}`);
}, 120_000);
