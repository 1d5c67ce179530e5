/**
 * etcd + kube-apiserver for the end-to-end bench, WITHOUT kube-controller-manager: nothing taints or evicts the bench's
 * kubelet-less Nodes, and no controller burns CPU while schedulers are measured. Same apiserver flags as
 * src/controlplane/controlplane.ts, except the ServiceAccount admission plugin (no token controller runs to feed it).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki } from '../../src/controlplane/certs.js';
import { ManagedProcess } from '../../src/controlplane/child.js';
import { isHealthy } from '../../src/controlplane/health.js';
import { renderKubeconfig } from '../../src/controlplane/kubeconfig.js';
import { cacheLayout, readInstalled } from '../../src/controlplane/paths.js';
import { freePorts } from '../../src/controlplane/ports.js';

export interface BenchControlPlane {
  dir: string;
  kubeconfigPath: string;
  server: string;
  apiserverPid: number | undefined;
  etcdPid: number | undefined;
  stop(): Promise<void>;
}

/** `profiling`: serve /debug/pprof (off by default, as in production charts). */
export async function startBenchControlPlane(o: { cacheDir: string; readyTimeoutMs?: number; profiling?: boolean }): Promise<BenchControlPlane> {
  if (!(await readInstalled(o.cacheDir))) throw new Error(`the control plane is not installed in ${o.cacheDir}: run \`kube-mesos control-plane install\``);
  const bin = cacheLayout(o.cacheDir).binary;
  const dir = await mkdtemp(join(tmpdir(), 'kube-mesos-bench-cp-'));
  const logsDir = join(dir, 'logs');
  await mkdir(logsDir, { recursive: true });
  const pki = await ensurePki(join(dir, 'pki'));
  const caPem = await readFile(pki.caCert, 'utf8');
  const [etcdClient, etcdPeer, apiPort] = await freePorts(3);
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const server = `https://127.0.0.1:${apiPort}`;
  const etcd = new ManagedProcess({
    name: 'etcd',
    cmd: '/usr/bin/etcd',
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
  });
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
        '--service-cluster-ip-range=10.0.0.0/24',
        '--endpoint-reconciler-type=none',
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        `--cert-dir=${join(dir, 'pki', 'apiserver-generated')}`,
        `--profiling=${o.profiling === true}`,
      ],
    },
    { graceMs: 5000 },
  );
  const stop = async () => {
    await apiserver.stop();
    await etcd.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const wait = async (p: ManagedProcess, url: string, probe: { ca?: string; token?: string }) => {
    const deadline = Date.now() + (o.readyTimeoutMs ?? 120_000);
    for (;;) {
      if (!p.running) throw new Error(`${p.spec.name} exited before becoming healthy (log: ${p.spec.logFile})`);
      if ((await isHealthy(url, probe)).ok) return;
      if (Date.now() > deadline) throw new Error(`${p.spec.name} not healthy in time (log: ${p.spec.logFile})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  try {
    etcd.start();
    await wait(etcd, `${etcdUrl}/health`, {});
    apiserver.start();
    await wait(apiserver, `${server}/readyz`, { ca: caPem, token: pki.adminToken });
  } catch (err) {
    await stop();
    throw err;
  }
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, renderKubeconfig({ server, caPem, token: pki.adminToken }), { mode: 0o600 });
  return { dir, kubeconfigPath, server, apiserverPid: apiserver.pid, etcdPid: etcd.pid, stop };
}
