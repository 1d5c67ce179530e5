/**
 * Node identity, executor side: before it touches the API server, the executor generates its key (it never leaves this
 * process and the sandbox) and a CSR for `system:node:<name>`, sends the CSR to the scheduler as an executor MESSAGE
 * (resent until answered: MESSAGEs are best-effort), and waits for the certificate. It then writes a kubeconfig with the
 * certificate and key into `$MESOS_SANDBOX/node-identity/` (directory 0700, file 0600) for itself and the real
 * kubelet. Events that arrive meanwhile (LAUNCH, KILL) are held by `HeldEventsDriver` and handed to the executor once it
 * runs; when no certificate comes, the held tasks fail with the reason.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { buildCsr, newNodeKey } from '../kube/csr.js';
import { decodeIdentityMessage, encodeIdentityMessage } from '../kube/node-identity-messages.js';
import type { ExecutorEvent } from '../mesos/types.js';
import type { Logger } from '../telemetry/log.js';
import type { ExecutorDriver, ExecutorStatusUpdate } from './executor.js';

/** The Mesos side the exchange needs; src/mesos/executor.ts's ExecutorClient satisfies it. */
export interface IdentityChannel {
  readonly state: string;
  on(event: 'event', h: (ev: ExecutorEvent) => void): unknown;
  on(event: 'subscribed', h: () => void): unknown;
  on(event: 'exit', h: (reason: string) => void): unknown;
  off(event: 'event', h: (ev: ExecutorEvent) => void): unknown;
  off(event: 'subscribed', h: () => void): unknown;
  off(event: 'exit', h: (reason: string) => void): unknown;
  message(data: Uint8Array): Promise<void>;
}

export interface NodeCredential {
  kubeConfig: KubeConfig;
  /** The kubeconfig file written into the sandbox (absent without a sandbox: in-process executors keep it in memory). */
  kubeconfigPath?: string;
  /** How long the exchange took. */
  ms: number;
}

export type CredentialResult = { ok: true; value: NodeCredential } | { ok: false; error: string };

export interface ObtainOptions {
  channel: IdentityChannel;
  nodeName: string;
  sandbox?: string;
  /** Give up after this long without a certificate. */
  timeoutMs: number;
  /** Send the CSR again this often while unanswered. */
  resendMs: number;
  log: Logger;
  signal?: AbortSignal;
}

/** The whole exchange; resolves with the credential or the reason there is none. Never rejects. */
export async function obtainNodeCredential(o: ObtainOptions): Promise<CredentialResult> {
  const started = Date.now();
  const key = newNodeKey();
  const csr = buildCsr(key.privateKey, { commonName: `system:node:${o.nodeName}`, organizations: ['system:nodes'] });
  const request = encodeIdentityMessage({ type: 'NODE_CSR', nodeName: o.nodeName, csr });
  const answer = await new Promise<{ ok: true; certificate: string; server: string; caData?: string; insecure?: boolean } | { ok: false; error: string }>((resolve) => {
    let lastDenial = '';
    const send = () => {
      if (o.channel.state !== 'subscribed') return;
      o.channel.message(request).catch((err: unknown) => o.log.warn({ err }, 'CSR message not sent; will resend'));
    };
    const timer = setInterval(send, o.resendMs);
    const finish = (r: Parameters<typeof resolve>[0]) => {
      clearInterval(timer);
      clearTimeout(deadline);
      o.channel.off('event', onEvent);
      o.channel.off('subscribed', send);
      o.channel.off('exit', onExit);
      o.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onEvent = (ev: ExecutorEvent) => {
      if (ev.type !== 'MESSAGE') return;
      const m = decodeIdentityMessage(ev.message.data);
      if (!m.ok) return o.log.warn({ error: m.error }, 'unreadable MESSAGE from the scheduler: ignored');
      if (m.value.nodeName !== o.nodeName) return;
      if (m.value.type === 'NODE_CSR_DENIED') {
        lastDenial = m.value.error;
        o.log.warn({ error: m.value.error, retryable: m.value.retryable }, 'the scheduler denied the node certificate');
        if (!m.value.retryable) finish({ ok: false, error: m.value.error });
        return;
      }
      if (m.value.type !== 'NODE_CERTIFICATE') return;
      const bad = certificateProblem(m.value.certificate, key.privateKey, o.nodeName);
      if (bad) return finish({ ok: false, error: `the certificate the scheduler sent is unusable: ${bad}` });
      finish({ ok: true, certificate: m.value.certificate, server: m.value.server, caData: m.value.caData, insecure: m.value.insecureSkipTlsVerify });
    };
    const onExit = (reason: string) => finish({ ok: false, error: `the executor is ending before a node certificate came: ${reason}` });
    const onAbort = () => finish({ ok: false, error: 'stopped before a node certificate came' });
    const deadline = setTimeout(
      () => finish({ ok: false, error: `no node certificate from the scheduler within ${Math.round(o.timeoutMs / 1000)}s${lastDenial ? ` (last answer: ${lastDenial})` : ' (no answer to the CSR message: is the scheduler running and subscribed?)'}` }),
      o.timeoutMs,
    );
    o.channel.on('event', onEvent);
    o.channel.on('subscribed', send);
    o.channel.on('exit', onExit);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    send();
  });
  if (!answer.ok) return answer;
  const kubeConfig = nodeKubeConfig({ nodeName: o.nodeName, server: answer.server, caData: answer.caData, insecure: answer.insecure, certificatePem: answer.certificate, keyPem: key.privateKeyPem });
  let kubeconfigPath: string | undefined;
  if (o.sandbox) {
    const dir = join(o.sandbox, 'node-identity');
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
      kubeconfigPath = join(dir, 'kubeconfig');
      await writeFile(kubeconfigPath, renderKubeconfig(kubeConfig), { mode: 0o600 });
      await chmod(kubeconfigPath, 0o600);
    } catch (err) {
      return { ok: false, error: `cannot write the node kubeconfig into ${dir}: ${(err as Error).message}` };
    }
  }
  const ms = Date.now() - started;
  o.log.info({ nodeName: o.nodeName, ms, kubeconfig: kubeconfigPath }, 'node certificate received');
  return { ok: true, value: { kubeConfig, kubeconfigPath, ms } };
}

/** Why `pem` is not a client certificate for this key and node, or undefined. */
export function certificateProblem(pem: string, key: KeyObject, nodeName: string): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    return `not a PEM certificate (${(err as Error).message})`;
  }
  if (!cert.checkPrivateKey(key)) return 'it is not for this executor\'s key';
  if (!cert.subject.split('\n').includes(`CN=system:node:${nodeName}`)) return `its subject is ${cert.subject.replace(/\n/g, ', ')}, not CN=system:node:${nodeName}`;
  return undefined;
}

export function nodeKubeConfig(a: { nodeName: string; server: string; caData?: string; insecure?: boolean; certificatePem: string; keyPem: string }): KubeConfig {
  const user = `system:node:${a.nodeName}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'kubernetes', server: a.server, caData: a.caData, skipTLSVerify: a.insecure ?? false }],
    users: [{ name: user, certData: Buffer.from(a.certificatePem).toString('base64'), keyData: Buffer.from(a.keyPem).toString('base64') }],
    contexts: [{ name: user, cluster: 'kubernetes', user }],
    currentContext: user,
  });
  return kc;
}

/** The kubeconfig file a kubelet reads (client-go's field names). */
function renderKubeconfig(kc: KubeConfig): string {
  const c = kc.getCurrentCluster()!;
  const u = kc.getCurrentUser()!;
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: c.name, cluster: { server: c.server, ...(c.caData ? { 'certificate-authority-data': c.caData } : {}), ...(c.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}) } }],
    users: [{ name: u.name, user: { 'client-certificate-data': u.certData, 'client-key-data': u.keyData } }],
    contexts: [{ name: kc.currentContext, context: { cluster: c.name, user: u.name } }],
    'current-context': kc.currentContext,
  });
}

/**
 * Holds the executor events that arrive while the credential is obtained (LAUNCH, KILL, SUBSCRIBED) and hands them to
 * the executor when it starts; `failHeld` fails the tasks of held LAUNCHes when there will be no executor.
 */
export class HeldEventsDriver implements ExecutorDriver {
  private held: ExecutorEvent[] = [];
  private heldExit: string | undefined;
  private eventHandler: ((ev: ExecutorEvent) => void) | undefined;
  private exitHandler: ((reason: string) => void) | undefined;
  private started = false;

  /** Tasks reported TASK_STARTING while held: the executor's own STARTING for them is not sent twice. */
  private readonly startedEarly = new Set<string>();

  constructor(private readonly inner: ExecutorDriver & { readonly state?: string }) {
    inner.on('event', (ev) => {
      if (this.started && this.eventHandler) return this.eventHandler(ev);
      this.held.push(ev);
      // The task reached its agent: TASK_STARTING at once lets the scheduler bind the pod while the certificate is on
      // its way (the Binding needs no credential of ours), so a leader change meanwhile finds the pod bound.
      for (const id of launchedTaskIds(ev)) {
        this.startedEarly.add(id);
        this.inner.update({ task_id: { value: id }, state: 'TASK_STARTING', message: 'launching: the executor is obtaining its node certificate' }).catch(() => undefined);
      }
    });
    inner.on('exit', (reason) => (this.started && this.exitHandler ? this.exitHandler(reason) : (this.heldExit = reason)));
  }

  /** Starts the underlying client (once), so events flow and are held. */
  connect(): void {
    if (this.inner.state === undefined || this.inner.state === 'idle') this.inner.start();
  }

  on(event: 'event', h: (ev: ExecutorEvent) => void): unknown;
  on(event: 'exit', h: (reason: string) => void): unknown;
  on(event: 'event' | 'exit', h: ((ev: ExecutorEvent) => void) | ((reason: string) => void)): unknown {
    if (event === 'event') this.eventHandler = h as (ev: ExecutorEvent) => void;
    else this.exitHandler = h as (reason: string) => void;
    return this;
  }

  start(): void {
    this.connect();
    this.started = true;
    const held = this.held;
    this.held = [];
    for (const ev of held) this.eventHandler?.(ev);
    if (this.heldExit !== undefined) this.exitHandler?.(this.heldExit);
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  async update(status: ExecutorStatusUpdate): Promise<void> {
    if (status.state === 'TASK_STARTING' && this.startedEarly.delete(status.task_id.value)) return;
    return this.inner.update(status);
  }

  /** TASK_FAILED for every task a held LAUNCH carried; resolves once the updates went out. */
  async failHeld(message: string): Promise<number> {
    const ids = this.held.flatMap(launchedTaskIds);
    this.held = [];
    await Promise.allSettled(ids.map((id) => this.inner.update({ task_id: { value: id }, state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message })));
    return ids.length;
  }
}

function launchedTaskIds(ev: ExecutorEvent): string[] {
  if (ev.type === 'LAUNCH') return [ev.launch.task.task_id.value];
  if (ev.type === 'LAUNCH_GROUP') return (ev.launch_group.task_group.tasks ?? []).map((t) => t.task_id.value);
  return [];
}
