/**
 * Approves kubelet serving certificates (signer `kubernetes.io/kubelet-serving`), which kube-controller-manager signs
 * but, unlike client certificates, never approves by itself. A real kubelet with `serverTLSBootstrap: true` asks for one
 * as its own identity (`system:node:<name>`); kube-mesos approves it when the node is one of its kubelets and every
 * name the certificate would carry is one of that Node's addresses (csr.ts checkServingCsr) — so a node can never get
 * a certificate for another node's IP or the API server's names. CSRs of Nodes that are not kube-mesos' are left to
 * whoever approves them; a CSR that fails a check is left pending (and logged once), not denied, as kube-controller-
 * manager's approver leaves what it does not recognise.
 */
import type { Logger } from '../telemetry/log.js';
import { checkServingCsr } from './csr.js';
import { KubeHttp } from './http.js';
import { httpListWatch, ResilientInformer, type InformerOptions, type KubeObject } from './informer.js';

export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const ALLOWED_USAGES = new Set(['digital signature', 'key encipherment', 'server auth']);

export interface ServingCsr extends KubeObject {
  metadata?: { name?: string; resourceVersion?: string; uid?: string };
  spec?: { request?: string; signerName?: string; usages?: string[]; username?: string; groups?: string[] };
  status?: { conditions?: { type: string; status?: string }[]; certificate?: string };
}

type Addresses = readonly { type: string; address: string }[];

/** What to do with a CSR: approve, leave it (not ours / not a serving CSR / decided), or wait (its Node has no addresses yet). Pure. */
export function reviewServingCsr(
  csr: ServingCsr,
  addressesOf: (nodeName: string) => Addresses | undefined,
): { action: 'approve'; node: string } | { action: 'ignore' } | { action: 'wait'; node: string } | { action: 'refuse'; node: string; reason: string } {
  const spec = csr.spec ?? {};
  if (spec.signerName !== KUBELET_SERVING_SIGNER) return { action: 'ignore' };
  if ((csr.status?.conditions ?? []).some((c) => c.type === 'Approved' || c.type === 'Denied' || c.type === 'Failed')) return { action: 'ignore' };
  const m = /^system:node:(.+)$/.exec(spec.username ?? '');
  if (!m) return { action: 'ignore' };
  const node = m[1];
  const addresses = addressesOf(node);
  if (addresses === undefined) return { action: 'ignore' }; // not one of our kubelets
  if (!(spec.groups ?? []).includes('system:nodes')) return { action: 'refuse', node, reason: `requester ${spec.username} is not in group system:nodes` };
  const usages = spec.usages ?? [];
  if (!usages.includes('server auth') || usages.some((u) => !ALLOWED_USAGES.has(u))) return { action: 'refuse', node, reason: `usages ${JSON.stringify(usages)} are not a serving certificate's` };
  if (addresses.length === 0) return { action: 'wait', node };
  let pem: string;
  try {
    pem = Buffer.from(spec.request ?? '', 'base64').toString('utf8');
  } catch {
    return { action: 'refuse', node, reason: 'spec.request is not base64' };
  }
  const bad = checkServingCsr(pem, node, addresses);
  return bad ? { action: 'refuse', node, reason: bad } : { action: 'approve', node };
}

export class ServingCertApprover {
  private readonly informer: ResilientInformer<ServingCsr>;
  private readonly refused = new Set<string>();
  private readonly inFlight = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly http: KubeHttp,
    private readonly addressesOf: (nodeName: string) => Addresses | undefined,
    private readonly log: Logger,
    opts: InformerOptions = {},
  ) {
    this.informer = new ResilientInformer(httpListWatch<ServingCsr>(http, { path: CSR_PATH }), { name: 'kubelet-serving-csrs', log, ...opts });
    this.informer.on('add', (c) => this.review(c));
    this.informer.on('update', (c) => this.review(c));
  }

  /** `recheckMs`: how often pending CSRs are looked at again (their Node's addresses may have arrived since). */
  start(recheckMs = 5000): void {
    this.informer.start();
    this.timer = setInterval(() => this.recheck(), recheckMs);
    this.timer.unref();
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    return this.informer.stop();
  }

  get ready(): Promise<void> {
    return this.informer.ready;
  }

  /** Looks at the CSRs still pending again. */
  recheck(): void {
    for (const c of this.informer.list()) this.review(c);
  }

  private review(csr: ServingCsr): void {
    const name = csr.metadata?.name;
    if (!name || this.inFlight.has(name)) return;
    const r = reviewServingCsr(csr, this.addressesOf);
    if (r.action === 'refuse') {
      if (!this.refused.has(name)) this.log.warn({ csr: name, node: r.node, reason: r.reason }, 'kubelet serving CSR left unapproved');
      this.refused.add(name);
      return;
    }
    if (r.action !== 'approve') return;
    this.inFlight.add(name);
    const body = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name, resourceVersion: csr.metadata?.resourceVersion },
      spec: csr.spec,
      status: { conditions: [{ type: 'Approved', status: 'True', reason: 'KubeMesosKubeletServing', message: `kube-mesos: serving certificate for its kubelet ${r.node}, names all the Node's own` }] },
    };
    this.http
      .request('PUT', `${CSR_PATH}/${encodeURIComponent(name)}/approval`, { body })
      .then((res) => {
        if (res.status === 200) this.log.info({ csr: name, node: r.node }, 'kubelet serving CSR approved');
        else if (res.status !== 409 && res.status !== 404) this.log.warn({ csr: name, status: res.status, error: res.error?.message }, 'approving a kubelet serving CSR failed');
      })
      .catch((err: unknown) => this.log.warn({ err, csr: name }, 'approving a kubelet serving CSR failed'))
      .finally(() => this.inFlight.delete(name));
  }
}
