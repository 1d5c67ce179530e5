// Kubernetes client manners against the run's real kube-apiserver:
// - a recorded run of the sandbox (scheduler in this process, executors and hollow kubelets as processes) through a
//   recording proxy: every request carries `User-Agent: kube-mesos-scheduler/<version> (<os>/<arch>)` or
//   `kube-mesos-executor/…`, every create, update and
//   patch `fieldManager=kube-mesos`, and the bound pod's managedFields name kube-mesos;
// - the scheduler's /metrics has the process metrics, kube_mesos_build_info and its Kubernetes request counts;
// - a client certificate rotated on disk is picked up without a restart (the API server names the new user).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp } from '../../src/kube/http.js';
import { BUILD_INFO } from '../../src/telemetry/build.js';
import { controlPlaneInfo, kubectl, waitFor } from '../support/kube.js';
import { startTestSandbox, type TestSandbox } from '../support/sandbox.js';

interface Recorded {
  method: string;
  path: string;
  userAgent: string;
  fieldManager: string | null;
}

/** A plain-http reverse proxy to the API server that records every request (watches stream through). */
async function recordingProxy(): Promise<{ url: string; seen: Recorded[]; close: () => Promise<void> }> {
  const cp = controlPlaneInfo();
  const target = new URL(cp.server);
  const ca = readFileSync(cp.caFile);
  const agent = new https.Agent({ keepAlive: true, ca });
  const seen: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    seen.push({ method: req.method ?? '', path: u.pathname, userAgent: req.headers['user-agent'] ?? '', fieldManager: u.searchParams.get('fieldManager') });
    const up = https.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      agent.destroy();
    },
  };
}

describe('a recorded sandbox run', () => {
  let dir: string;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let t: TestSandbox | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-mesos-manners-'));
    proxy = await recordingProxy();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'recorded', cluster: { server: proxy.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'admin', user: { token: controlPlaneInfo().token } }],
        contexts: [{ name: 'recorded', context: { cluster: 'recorded', user: 'admin' } }],
        'current-context': 'recorded',
      }),
    );
    // The recording proxy ends TLS, so a node's client certificate cannot reach the API server through it: executors
    // use the recorded token credential (the pool.executorKubeconfig opt-out) and their requests are recorded too.
    t = await startTestSandbox('manners', { agents: 2, zones: ['a'], kubeconfig, set: [['pool.executorKubeconfig', kubeconfig]] });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds and runs a pod; every request said who it was and every write named its field manager', async () => {
    const ns = t!.ns.name;
    // the test's own writes go straight to the API server, so everything the proxy saw came from kube-mesos
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'manners', namespace: ns }, spec: { schedulerName: t!.schedulerName, containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } };
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    const running = await waitFor(
      async () => {
        const r = await kubectl(['-n', ns, 'get', 'pod', 'manners', '-o', 'json', '--show-managed-fields'], { allowFailure: true });
        if (r.code !== 0) return undefined;
        const p = JSON.parse(r.stdout) as { spec: { nodeName?: string }; status: { phase?: string }; metadata: { managedFields?: { manager: string; operation: string }[] } };
        return p.spec.nodeName && p.status.phase === 'Running' ? p : undefined;
      },
      { timeoutMs: 60_000, what: 'pod manners bound and Running' },
    );

    const managers = [...new Set((running.metadata.managedFields ?? []).map((f) => f.manager))];
    expect(managers).toContain('kube-mesos');
    expect(managers.filter((m) => m !== 'kube-mesos' && !m.startsWith('kubectl'))).toEqual([]);

    // Each process says which it is, as client-go's binaries do: the scheduler's lists, watches and Binding, the
    // executor's hollow kubelet's Node, Lease and pod status.
    const scheduler = `kube-mesos-scheduler/${BUILD_INFO.version} (${BUILD_INFO.platform})`;
    const executor = `kube-mesos-executor/${BUILD_INFO.version} (${BUILD_INFO.platform})`;
    expect([proxy.seen.length > 5, proxy.seen.map((r) => `${r.method} ${r.path}`)]).toEqual([true, expect.any(Array)]);
    expect([...new Set(proxy.seen.map((r) => r.userAgent))].sort()).toEqual([executor, scheduler]);
    const writes = proxy.seen.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method));
    // the run wrote: the binding, the pod's status, the kubelet's Node and Lease, events, the framework's state
    expect(writes.filter((r) => r.path.endsWith(`/namespaces/${ns}/pods/manners/binding`)).map((r) => r.userAgent)).toEqual([scheduler]);
    expect(new Set(writes.filter((r) => r.path.endsWith(`/namespaces/${ns}/pods/manners/status`)).map((r) => r.userAgent))).toContain(executor);
    expect(writes.some((r) => r.path === '/api/v1/nodes')).toBe(true);
    expect(writes.filter((r) => r.fieldManager !== 'kube-mesos')).toEqual([]);

    // the scheduler's /metrics: standard process metrics unprefixed, the build, and its own Kubernetes requests
    const metrics = await (await fetch(`${t!.sb.schedulerUrl}/metrics`)).text();
    expect(metrics).toMatch(/^process_cpu_seconds_total \d/m);
    expect(metrics).toContain(`kube_mesos_build_info{version="${BUILD_INFO.version}",node_version="${process.version}",platform="${BUILD_INFO.platform}"} 1`);
    expect(metrics).toMatch(/^kube_mesos_rest_client_requests_total\{verb="list",resource="pods",code="200"\} [1-9]/m);
    expect(metrics).toMatch(/^kube_mesos_rest_client_requests_total\{verb="watch",resource="pods",code="200"\} [1-9]/m);
  }, 120_000);
});

describe('client certificate rotation against kube-apiserver', () => {
  it('a certificate and key replaced on disk are used from the next refresh on, without a restart', async () => {
    const cp = controlPlaneInfo();
    const dir = mkdtempSync(join(tmpdir(), 'kube-mesos-rotate-'));
    try {
      const caKey = join(dirname(cp.caFile), 'ca.key');
      const mint = (cn: string) => {
        const key = join(dir, `${cn}.key`);
        const csr = join(dir, `${cn}.csr`);
        const crt = join(dir, `${cn}.crt`);
        execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`], { stdio: 'ignore' });
        execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', cp.caFile, '-CAkey', caKey, '-CAcreateserial', '-CAserial', join(dir, 'ca.srl'), '-out', crt, '-days', '1'], { stdio: 'ignore' });
        return { crt: readFileSync(crt), key: readFileSync(key) };
      };
      const certFile = join(dir, 'client.crt');
      const keyFile = join(dir, 'client.key');
      const first = mint('rotation-first');
      writeFileSync(certFile, first.crt);
      writeFileSync(keyFile, first.key);
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: cp.server, caFile: cp.caFile }],
        users: [{ name: 'u', certFile, keyFile }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      let now = 0;
      const h = new KubeHttp(kc, { authRefreshMs: 60_000, now: () => now });
      // neither user may list secrets: the 403 names who the API server thinks we are
      const who = async () => ((await h.request('GET', '/api/v1/namespaces/default/secrets')).body as { message?: string }).message ?? '';
      try {
        expect(await who()).toContain('User "rotation-first" cannot list resource "secrets"');
        const second = mint('rotation-second');
        writeFileSync(certFile, second.crt);
        writeFileSync(keyFile, second.key);
        expect(await who()).toContain('User "rotation-first"'); // until the refresh interval has passed
        now += 60_000;
        expect(await who()).toContain('User "rotation-second" cannot list resource "secrets"');
        expect(h.tlsReloads).toBe(1);
      } finally {
        h.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
