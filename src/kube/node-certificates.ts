/**
 * Issues a kubelet client certificate (`system:node:<name>`, group `system:nodes`) through the certificates API: the
 * CSR the executor made on its agent (its private key never leaves the agent) is checked to ask for exactly that node,
 * submitted with signer `kubernetes.io/kube-apiserver-client-kubelet`, approved by kube-mesos, and signed by
 * kube-controller-manager's csrsigning controller (`--cluster-signing-cert-file/--cluster-signing-key-file`).
 *
 * Approving here rather than through the csrapproving controller lets kube-mesos add the check the controller cannot
 * make: that the CSR came from the executor Mesos runs for that node (the caller checks the sender), so a CSR can only
 * ever name the one node whose executor sent it. The checks csrapproving makes (subject, organization, no extensions,
 * usages) are made here too.
 */
import { createHash } from 'node:crypto';
import type { KubeClient, Result } from './client.js';
import { checkNodeCsr } from './csr.js';

export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
const USAGES = ['digital signature', 'key encipherment', 'client auth'];
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

interface CsrObject {
  metadata?: { name?: string; resourceVersion?: string };
  spec?: { request?: string; signerName?: string; usages?: string[] };
  status?: { certificate?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export type IssueResult = { ok: true; certificatePem: string; csrName: string } | { ok: false; error: string; retryable: boolean };

/** The CSR object's name: one per node and request, so a retried request finds its earlier submission. */
export function csrName(nodeName: string, csrPem: string): string {
  const h = createHash('sha256').update(csrPem).digest('hex').slice(0, 12);
  return `kube-mesos-node-${nodeName}`.slice(0, 240) + `-${h}`;
}

/**
 * Submits, approves and waits for the certificate. `waitMs` bounds the wait for the signer; `sleep` is injected so
 * tests need no real timers.
 */
export async function issueNodeCertificate(
  kube: KubeClient,
  req: { nodeName: string; csrPem: string; requester: string },
  o: { waitMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<IssueResult> {
  const bad = checkNodeCsr(req.csrPem, req.nodeName);
  if (bad) return { ok: false, error: bad, retryable: false };
  const name = csrName(req.nodeName, req.csrPem);
  const body = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'kube-mesos' }, annotations: { 'kube-mesos.io/node-name': req.nodeName, 'kube-mesos.io/requester': req.requester } },
    spec: { request: Buffer.from(req.csrPem).toString('base64'), signerName: KUBELET_CLIENT_SIGNER, usages: USAGES },
  };
  const created = await kube.raw<CsrObject>('POST', CSR_PATH, { body });
  let csr: CsrObject;
  if (created.ok) csr = created.value;
  else if (created.kind === 'AlreadyExists') {
    const got = await kube.raw<CsrObject>('GET', `${CSR_PATH}/${name}`);
    if (!got.ok) return failed('reading the existing CSR', got);
    csr = got.value;
  } else return failed('creating the CSR', created);

  const conds = csr.status?.conditions ?? [];
  if (conds.some((c) => c.type === 'Denied' || c.type === 'Failed')) return { ok: false, error: `CSR ${name} was denied or failed`, retryable: false };
  if (!conds.some((c) => c.type === 'Approved')) {
    const approved = await kube.raw<CsrObject>('PUT', `${CSR_PATH}/${name}/approval`, {
      body: {
        ...body,
        metadata: { ...body.metadata, resourceVersion: csr.metadata?.resourceVersion },
        status: { conditions: [{ type: 'Approved', status: 'True', reason: 'KubeMesosNodeIdentity', message: `kube-mesos: CSR from the executor Mesos runs for node ${req.nodeName} (${req.requester})` }] },
      },
    });
    if (!approved.ok && approved.kind !== 'Conflict') return failed('approving the CSR', approved);
  }
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = o.waitMs ?? 30_000;
  let waited = 0;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    const got = await kube.raw<CsrObject>('GET', `${CSR_PATH}/${name}`);
    if (!got.ok) return failed('reading the CSR', got);
    const cert = got.value.status?.certificate;
    if (cert) return { ok: true, certificatePem: Buffer.from(cert, 'base64').toString('utf8'), csrName: name };
    if ((got.value.status?.conditions ?? []).some((c) => c.type === 'Failed' || c.type === 'Denied'))
      return { ok: false, error: `CSR ${name} was not signed: ${JSON.stringify(got.value.status?.conditions)}`, retryable: false };
    if (waited >= deadline)
      return { ok: false, error: `CSR ${name} approved but not signed within ${deadline} ms: is kube-controller-manager running with --cluster-signing-cert-file?`, retryable: true };
    await sleep(delay);
    waited += delay;
  }
}

function failed(what: string, r: Extract<Result<unknown>, { ok: false }>): IssueResult {
  return { ok: false, error: `${what}: ${r.kind} (${r.status}): ${r.message}`, retryable: r.kind !== 'Forbidden' && r.kind !== 'Invalid' };
}
