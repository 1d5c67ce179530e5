import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../telemetry/log.js';
import { silentLogger } from '../telemetry/log.js';
import { ensurePki } from './certs.js';
import { ManagedProcess, type ExitInfo } from './child.js';
import { isHealthy } from './health.js';
import { renderKubeconfig } from './kubeconfig.js';
import { cacheLayout, readInstalled } from './paths.js';
import { freePorts } from './ports.js';

export interface ControlPlaneOptions {
  /** Data dir: pki/, etcd/, logs/, kubeconfig. Created if needed; a temp dir when omitted (then always ephemeral). */
  dir?: string;
  /** Where `install` put the servers. */
  cacheDir: string;
  /** Remove `dir` on stop(). */
  ephemeral?: boolean;
  log?: Logger;
  /** Aborting stops the control plane (or abandons a start in progress, stopping what was started). */
  signal?: AbortSignal;
  /** Human-readable progress lines. */
  progress?: (line: string) => void;
  etcdPath?: string;
  /** Per component; kube-apiserver takes 5–20 s on a busy 2-core machine. */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace per component (default 10 s). */
  graceMs?: number;
  /** kube-apiserver's own grace (default 5 s): open watches can hold its graceful shutdown for a minute. */
  apiserverGraceMs?: number;
}

export interface ApiServerControl {
  /** Stop with SIGTERM (graceful), keeping etcd and the port. */
  stop(): Promise<void>;
  /** Start again on the same port with the same certs; resolves when /readyz is ok. */
  start(): Promise<void>;
  /** SIGKILL, as in a crash. */
  kill(): Promise<void>;
  readonly running: boolean;
  readonly pid: number | undefined;
}

export interface ControlPlane {
  dir: string;
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Admin bearer token (system:masters). */
  token: string;
  caFile: string;
  etcdUrl: string;
  logsDir: string;
  apiserver: ApiServerControl;
  /** Resolves with a description when a component exits without being asked to. */
  failure: Promise<Error>;
  /** Stops kube-controller-manager, kube-apiserver, etcd (in that order); removes `dir` if ephemeral. Idempotent. */
  stop(): Promise<void>;
}

/** A component that did not become healthy; names it and its log. */
export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';
  constructor(
    readonly component: string,
    readonly logFile: string,
    detail: string,
  ) {
    super(`${component} failed to start: ${detail}\n(log: ${logFile})`);
  }
}

const SERVICE_CIDR = '10.0.0.0/24';

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? silentLogger();
  const progress = opts.progress ?? (() => {});
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const ephemeral = opts.ephemeral ?? opts.dir === undefined;
  const installed = await readInstalled(opts.cacheDir);
  if (!installed) throw new Error(`the control plane is not installed in ${opts.cacheDir}: run \`kube-mesos control-plane install\` first`);
  const bin = cacheLayout(opts.cacheDir).binary;

  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'kube-mesos-cp-')));
  const logsDir = join(dir, 'logs');
  await mkdir(logsDir, { recursive: true });
  const pki = await ensurePki(join(dir, 'pki'));
  const caPem = await readFile(pki.caCert, 'utf8');
  const [etcdClient, etcdPeer, apiPort, cmPort] = await freePorts(4);
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigPath = join(dir, 'kubeconfig');
  const cmKubeconfig = join(dir, 'controller-manager.kubeconfig');
  await writeFile(cmKubeconfig, renderKubeconfig({ server, caPem, token: pki.controllerManagerToken, user: 'system:kube-controller-manager' }), { mode: 0o600 });

  const opt = { log, graceMs: opts.graceMs };
  const etcd = new ManagedProcess(
    {
      name: 'etcd',
      cmd: opts.etcdPath ?? '/usr/bin/etcd',
      logFile: join(logsDir, 'etcd.log'),
      args: [
        '--name=default',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
        '--logger=zap',
        '--log-outputs=stderr',
      ],
    },
    opt,
  );
  const apiserver = new ManagedProcess(
    {
      name: 'kube-apiserver',
      cmd: bin('kube-apiserver'),
      logFile: join(logsDir, 'kube-apiserver.log'),
      args: [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        '--insecure-port=0',
        `--tls-cert-file=${pki.serverCert}`,
        `--tls-private-key-file=${pki.serverKey}`,
        `--client-ca-file=${pki.caCert}`,
        `--token-auth-file=${pki.tokensFile}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.saPub}`,
        `--service-account-signing-key-file=${pki.saKey}`,
        '--authorization-mode=Node,RBAC',
        // Kubelets (system:node:<name>) may change only their own Node and the pods bound to it (docs/executor.md).
        '--enable-admission-plugins=NodeRestriction',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        // Loopback is not a valid endpoint for the `kubernetes` Service, and nothing in-cluster needs it.
        '--endpoint-reconciler-type=none',
        '--allow-privileged=true',
        // Real kubelets register their node IP and a Hostname address nothing resolves: logs, exec and port-forward
        // must reach them by InternalIP.
        '--kubelet-preferred-address-types=InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP',
        // Kubelets authenticate the API server by this certificate (x509 against the cluster CA) and ask it, by
        // webhook, whether the caller may use their API (docs/executor.md: the kubelet's own API).
        `--kubelet-client-certificate=${pki.kubeletClientCert}`,
        `--kubelet-client-key=${pki.kubeletClientKey}`,
        // ... and kube-apiserver checks the kubelets' serving certificates (signed by the cluster CA through the
        // kubelet-serving CSRs kube-mesos approves).
        `--kubelet-certificate-authority=${pki.caCert}`,
        `--cert-dir=${join(dir, 'pki', 'apiserver-generated')}`,
        '--profiling=false',
      ],
    },
    { ...opt, graceMs: opts.apiserverGraceMs ?? Math.min(opts.graceMs ?? 5000, 5000) },
  );
  const controllerManager = new ManagedProcess(
    {
      name: 'kube-controller-manager',
      cmd: bin('kube-controller-manager'),
      logFile: join(logsDir, 'kube-controller-manager.log'),
      args: [
        `--kubeconfig=${cmKubeconfig}`,
        `--authentication-kubeconfig=${cmKubeconfig}`,
        `--authorization-kubeconfig=${cmKubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${cmPort}`,
        '--port=0',
        `--cert-dir=${join(dir, 'pki', 'controller-manager-generated')}`,
        `--service-account-private-key-file=${pki.saKey}`,
        `--root-ca-file=${pki.caCert}`,
        `--cluster-signing-cert-file=${pki.caCert}`,
        `--cluster-signing-key-file=${pki.caKey}`,
        '--use-service-account-credentials=true',
        '--controllers=*',
        '--leader-elect=false',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--profiling=false',
      ],
    },
    opt,
  );

  const all = [controllerManager, apiserver, etcd];
  let failed: (e: Error) => void = () => {};
  const failure = new Promise<Error>((resolve) => (failed = resolve));
  const watch = (p: ManagedProcess) => {
    p.onUnexpectedExit = (info: ExitInfo) => {
      const e = new Error(`${p.spec.name} exited unexpectedly (${info.signal ?? `code ${info.code}`}); log: ${p.spec.logFile}`);
      log.error({ component: p.spec.name, ...info }, 'component exited unexpectedly');
      failed(e);
    };
  };

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      for (const p of all) p.onUnexpectedExit = undefined;
      for (const p of all) await p.stop();
      if (ephemeral) await rm(dir, { recursive: true, force: true });
      log.info({ dir, ephemeral }, 'control plane stopped');
    })());

  const waitHealthy = async (p: ManagedProcess, url: string, probeOpts: { ca?: string; token?: string }) => {
    const deadline = Date.now() + readyTimeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (opts.signal?.aborted) throw new Error(`aborted while waiting for ${p.spec.name}`);
      if (!p.running) {
        const info = await p.exited();
        throw new ControlPlaneError(p.spec.name, p.spec.logFile, `exited (${info.signal ?? `code ${info.code}`}) before becoming healthy${await logTail(p.spec.logFile)}`);
      }
      const h = await isHealthy(url, probeOpts);
      if (h.ok) return;
      last = h.detail;
      if (Date.now() > deadline) throw new ControlPlaneError(p.spec.name, p.spec.logFile, `not healthy after ${readyTimeoutMs / 1000} s (${url}: ${last})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const apiReady = () => waitHealthy(apiserver, `${server}/readyz`, { ca: caPem, token: pki.adminToken });

  const onAbort = () => void stop().catch((err: unknown) => log.error({ err }, 'stopping the control plane'));
  try {
    const t0 = Date.now();
    progress(`starting etcd on ${etcdUrl}`);
    etcd.start();
    await waitHealthy(etcd, `${etcdUrl}/health`, {});
    progress(`starting kube-apiserver on ${server}`);
    apiserver.start();
    await apiReady();
    progress(`starting kube-controller-manager`);
    controllerManager.start();
    await waitHealthy(controllerManager, `https://127.0.0.1:${cmPort}/healthz`, {});
    for (const p of all) watch(p);
    await writeFile(kubeconfigPath, renderKubeconfig({ server, caPem, token: pki.adminToken }), { mode: 0o600 });
    await writeFile(
      join(dir, 'controlplane.json'),
      JSON.stringify({ server, kubeconfigPath, caFile: pki.caCert, etcdUrl, pids: Object.fromEntries(all.map((p) => [p.spec.name, p.pid])) }, null, 2) + '\n',
    );
    log.info({ server, kubeconfigPath, ms: Date.now() - t0 }, 'control plane ready');
  } catch (err) {
    await stop();
    throw err;
  }
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const apiControl: ApiServerControl = {
    stop: () => apiserver.stop(),
    kill: () => apiserver.kill(),
    async start() {
      if (stopped) throw new Error('the control plane is stopped');
      if (apiserver.running) return;
      apiserver.start();
      watch(apiserver);
      await apiReady();
    },
    get running() {
      return apiserver.running;
    },
    get pid() {
      return apiserver.pid;
    },
  };

  return { dir, kubeconfigPath, server, token: pki.adminToken, caFile: pki.caCert, etcdUrl, logsDir, apiserver: apiControl, failure, stop };
}

async function logTail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const lines = text.trim().split('\n').slice(-8);
  return lines.length && lines[0] ? `; last log lines:\n${lines.join('\n')}` : '';
}
