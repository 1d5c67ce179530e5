/**
 * Node identity, scheduler side: a kubelet executor's CSR arrives as a Mesos MESSAGE, which the master stamps with the
 * agent and executor it came from. The CSR is accepted only from the kubelet executor this framework runs on that agent
 * and only for that agent's node name (src/kube/csr.ts `checkNodeCsr`: subject, organization, signature, no
 * extensions); it is then submitted, approved and signed (src/kube/node-certificates.ts) and the certificate goes back
 * in a MESSAGE with the API server's address. Every refusal or failure is a reply the executor can report, a Warning
 * event on the Node, a log line and a metric — never a crash.
 *
 * A burst of executors (hundreds starting at once) is issued concurrently, at most `maxConcurrent` at a time; a CSR sent
 * again (the executor resends until answered: MESSAGEs are best-effort) joins the request in flight or gets the
 * certificate already issued.
 */
import { createHash } from 'node:crypto';
import { checkNodeCsr } from '../kube/csr.js';
import { decodeIdentityMessage, encodeIdentityMessage, type IdentityMessage } from '../kube/node-identity-messages.js';
import type { Effects } from './effects.js';
import type { CoreState } from './state.js';

export interface NodeIdentityConfig {
  /** The API server URL put in the executors' kubeconfigs. */
  server: string;
  /** Base64 PEM CA bundle of the API server. */
  caData?: string;
  insecureSkipTlsVerify?: boolean;
  /** Certificates issued at once (default 32); more wait in line. */
  maxConcurrent?: number;
}

/** Issued certificates kept for resends, at most this many (oldest dropped). */
const ISSUED_MAX = 10_000;

export class NodeIdentityIssuer {
  private readonly inflight = new Set<string>();
  private readonly issued = new Map<string, string>();
  private readonly queue: Array<() => void> = [];
  private running = 0;

  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly config: NodeIdentityConfig | undefined,
  ) {}

  /** A MESSAGE event from an executor of this framework. */
  onMessage(agentId: string | undefined, executorId: string | undefined, data: Uint8Array | undefined): void {
    const started = this.fx.clock.now();
    if (!agentId || !executorId) return this.fx.log.warn({ agentId, executorId }, 'MESSAGE without agent or executor id: ignored');
    const m = decodeIdentityMessage(data);
    if (!m.ok) {
      this.fx.log.warn({ agentId, executorId, error: m.error }, 'unreadable executor MESSAGE: ignored');
      this.fx.metrics?.nodeCertificate?.('invalid', 0);
      return;
    }
    if (m.value.type !== 'NODE_CSR') return this.fx.log.warn({ agentId, executorId, type: m.value.type }, 'unexpected executor MESSAGE type: ignored');
    const { nodeName, csr } = m.value;
    const deny = (error: string, retryable: boolean) => this.deny(agentId, executorId, nodeName, error, retryable, started);
    if (!this.config || !this.fx.kube.issueNodeCertificate) return deny('this scheduler issues no node certificates (no API server address configured)', false);
    const expected = this.state.nodeName(agentId);
    if (!expected) return deny(`agent ${agentId} is not known to this scheduler yet`, true);
    const k = this.state.tasks.kubelet(agentId);
    const ours = k ? k.executorId === executorId : executorId.startsWith(`kubelet.${agentId}.`);
    if (!ours) return deny(`executor ${executorId} is not the kubelet executor kube-mesos runs on agent ${agentId}${k ? ` (that is ${k.executorId})` : ''}`, false);
    if (nodeName !== expected) return deny(`executor ${executorId} on agent ${agentId} asks for node ${nodeName}; that agent's node is ${expected}`, false);
    const bad = checkNodeCsr(csr, expected);
    if (bad) return deny(bad, false);

    const key = `${executorId}/${createHash('sha256').update(csr).digest('hex').slice(0, 16)}`;
    const cert = this.issued.get(key);
    if (cert) return this.reply(agentId, executorId, this.certificateMessage(nodeName, cert));
    if (this.inflight.has(key)) return; // the answer to the first copy is on its way
    this.inflight.add(key);
    this.fx.send(this.issue(key, agentId, executorId, nodeName, csr, started), 'issue node certificate');
  }

  private async issue(key: string, agentId: string, executorId: string, nodeName: string, csrPem: string, startedMs: number): Promise<void> {
    await this.slot();
    try {
      const r = await this.fx.kube.issueNodeCertificate!({ nodeName, csrPem, requester: `mesos executor ${executorId} on agent ${agentId}` });
      if (!r.ok) return this.deny(agentId, executorId, nodeName, r.error, r.retryable, startedMs, 'failed');
      this.issued.set(key, r.certificatePem);
      if (this.issued.size > ISSUED_MAX) this.issued.delete(this.issued.keys().next().value!);
      const seconds = (this.fx.clock.now() - startedMs) / 1000;
      this.fx.metrics?.nodeCertificate?.('issued', seconds);
      this.fx.log.info({ nodeName, executorId, csr: r.csrName, seconds }, 'node certificate issued');
      this.fx.note('Normal', 'NodeCertificateIssued', nodeName, `client certificate system:node:${nodeName} issued to executor ${executorId} (${r.csrName})`);
      this.reply(agentId, executorId, this.certificateMessage(nodeName, r.certificatePem));
    } catch (err) {
      this.deny(agentId, executorId, nodeName, `issuing failed: ${String((err as Error)?.message ?? err)}`, true, startedMs, 'failed');
    } finally {
      this.inflight.delete(key);
      this.release();
    }
  }

  private certificateMessage(nodeName: string, certificate: string): IdentityMessage {
    const c = this.config!;
    return { type: 'NODE_CERTIFICATE', nodeName, certificate, server: c.server, ...(c.caData ? { caData: c.caData } : {}), ...(c.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}) };
  }

  private deny(agentId: string, executorId: string, nodeName: string, error: string, retryable: boolean, startedMs: number, result: 'denied' | 'failed' = 'denied'): void {
    const message = `node certificate for ${nodeName} (executor ${executorId} on agent ${agentId}) ${result}: ${error}`;
    this.fx.log.warn({ agentId, executorId, nodeName, retryable }, message);
    this.fx.metrics?.nodeCertificate?.(result, (this.fx.clock.now() - startedMs) / 1000);
    this.fx.note('Warning', 'NodeCertificateDenied', nodeName, message);
    if (this.fx.kube.reportNodeWarning) this.fx.send(this.fx.kube.reportNodeWarning(nodeName, 'NodeCertificateDenied', message), 'node certificate event');
    this.reply(agentId, executorId, { type: 'NODE_CSR_DENIED', nodeName, error: message, retryable });
  }

  private reply(agentId: string, executorId: string, m: IdentityMessage): void {
    if (!this.fx.mesos.message) return;
    this.fx.send(this.fx.mesos.message(agentId, executorId, encodeIdentityMessage(m)), 'node identity reply');
  }

  private async slot(): Promise<void> {
    if (this.running < (this.config?.maxConcurrent ?? 32)) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  /** Hands the slot to the next in line (running unchanged), or frees it. */
  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.running--;
  }
}
