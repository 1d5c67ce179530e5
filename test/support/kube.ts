// Helpers for integration tests against the run's real control plane (started by global-setup.ts).
//
// The control plane is SHARED by every test file of the run, and workers run in parallel: use your own
// namespace (createTestNamespace) and expect a brief API outage whenever some test restarts kube-apiserver
// (apiserverControl) — retry or waitFor rather than assume every call succeeds, or run the test inside
// withStableApiserver(fn); a test that restarts kube-apiserver does so inside withApiserverDisruption(fn).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Secret } from '@kubernetes/client-node';
import type { TestControlPlaneInfo } from './controlplane-daemon.js';
import * as apiserverLock from '../../src/kube/testing/apiserver-lock.js';

export type { TestControlPlaneInfo };

/** Where the run's control plane is; throws if the test runs outside the integration project's global setup. */
export function controlPlaneInfo(): TestControlPlaneInfo {
  const path = process.env.KUBE_MESOS_TEST_CONTROLPLANE;
  if (!path) {
    throw new Error('no test control plane: run integration tests through `npm test` (the integration project\'s global setup starts one)');
  }
  return JSON.parse(readFileSync(path, 'utf8')) as TestControlPlaneInfo;
}

/** An admin (system:masters) KubeConfig for the run's control plane. For setup; code under test should run as a ServiceAccount. */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(controlPlaneInfo().kubeconfigPath);
  return kc;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Finishes the timeout message: "timed out after 10 s waiting for <what>". */
  what?: string;
  /** What was seen, appended to the timeout message (counts, phases, last events). */
  describe?: () => string | Promise<string>;
}

/**
 * Polls `fn` until it returns a value other than undefined/null/false and returns that value. Errors thrown by
 * `fn` count as "not yet"; the last one is quoted if time runs out.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions = {}): Promise<Exclude<T, undefined | null | false>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v as Exclude<T, undefined | null | false>;
      lastValue = v;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const last = lastError !== undefined ? `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}` : `; last value: ${String(lastValue)}`;
      const seen = opts.describe ? `; seen: ${await Promise.resolve(opts.describe()).catch((e: unknown) => `(describe failed: ${String(e)})`)}` : '';
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${opts.what ?? 'a condition'}${last}${seen}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}

export interface TestNamespace {
  name: string;
  /** Deletes the namespace and any ClusterRoleBindings serviceAccountKubeConfig made for it. Idempotent. */
  delete(): Promise<void>;
}

const cleanups = new Map<string, (() => Promise<void>)[]>();

/** The HTTP status of a client-node error, if any. */
export function statusCode(err: unknown): number | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'number' ? c : undefined;
}

/**
 * A fresh namespace `<prefix>-<random>`, ready for pods: it waits until the `default` ServiceAccount has its token
 * Secret (kube-apiserver 1.20 rejects pods until then). Delete it in afterAll: `afterAll(() => ns.delete())`.
 */
export async function createTestNamespace(prefix: string): Promise<TestNamespace> {
  const base = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'test';
  const name = `${base}-${randomBytes(3).toString('hex')}`;
  const core = testKubeConfig().makeApiClient(CoreV1Api);
  await waitFor(() => core.createNamespace({ body: { metadata: { name, labels: { 'kube-mesos.io/test': 'true' } } } }).then(() => true), {
    timeoutMs: 60_000,
    what: `namespace ${name} to be created`,
  });
  await waitFor(async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace: name })).secrets?.length, {
    timeoutMs: 60_000,
    what: `the default ServiceAccount's token in namespace ${name} (is kube-controller-manager running?)`,
  });
  cleanups.set(name, []);
  let deleted = false;
  return {
    name,
    async delete() {
      if (deleted) return;
      deleted = true;
      for (const c of cleanups.get(name) ?? []) await c().catch(() => {});
      cleanups.delete(name);
      await core.deleteNamespace({ name }).catch((err: unknown) => {
        if (statusCode(err) !== 404) throw err;
      });
    },
  };
}

/**
 * Creates ServiceAccount `name` in `namespace`, binds it cluster-wide to ClusterRole `clusterRoleName`, waits for its
 * token Secret and returns a KubeConfig that authenticates as it (default namespace: `namespace`). Apply the role
 * first (e.g. `kubectl(['apply', '-f', 'manifests/rbac.yaml'])`). The binding is removed by the namespace's delete().
 */
export async function serviceAccountKubeConfig(namespace: string, name: string, clusterRoleName: string): Promise<KubeConfig> {
  const admin = testKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const ignoreExists = (err: unknown) => {
    if (statusCode(err) !== 409) throw err;
  };
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch(ignoreExists);
  const bindingName = `kube-mesos-test:${namespace}:${name}:${clusterRoleName}`;
  await rbac
    .createClusterRoleBinding({
      body: {
        metadata: { name: bindingName, labels: { 'kube-mesos.io/test': 'true' } },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRoleName },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    })
    .catch(ignoreExists);
  cleanups.get(namespace)?.push(async () => {
    await rbac.deleteClusterRoleBinding({ name: bindingName });
  });
  const secret = await waitFor(
    async () => {
      const sa = await core.readNamespacedServiceAccount({ name, namespace });
      for (const ref of sa.secrets ?? []) {
        const s: V1Secret = await core.readNamespacedSecret({ name: ref.name!, namespace });
        if (s.type === 'kubernetes.io/service-account-token' && s.data?.token) return s;
      }
      return undefined;
    },
    { timeoutMs: 60_000, what: `the token Secret of ServiceAccount ${namespace}/${name}` },
  );
  const info = controlPlaneInfo();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'kube-mesos-test', server: info.server, caData: Buffer.from(readFileSync(info.caFile)).toString('base64') }],
    users: [{ name: `system:serviceaccount:${namespace}:${name}`, token: Buffer.from(secret.data!.token, 'base64').toString('utf8') }],
    contexts: [{ name: 'sa', cluster: 'kube-mesos-test', user: `system:serviceaccount:${namespace}:${name}`, namespace }],
    currentContext: 'sa',
  });
  return kc;
}

export interface KubectlOptions {
  /** A kubeconfig path or a KubeConfig; the admin kubeconfig by default. */
  kubeconfig?: string | KubeConfig;
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  timeoutMs?: number;
  /** Resolve with a non-zero exit instead of rejecting. */
  allowFailure?: boolean;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

let kubeconfigScratch: string | undefined;

/** kubectl's words for an API server stopped or still starting (restarted by some test): refused, or accepting before it can finish a TLS handshake. */
const UNREACHABLE = /connection to the server .* was refused|connect: connection refused|TLS handshake timeout/;

/**
 * Runs the real /usr/bin/kubectl against the run's control plane; rejects (with stderr) on a non-zero exit by
 * default. While kube-apiserver is unreachable (another test restarting it) it retries for up to `timeoutMs`.
 */
export async function kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const r = await kubectlOnce(args, { ...opts, allowFailure: true });
    if (r.code === 0 || !UNREACHABLE.test(r.stderr) || Date.now() > deadline) {
      if (r.code === 0 || opts.allowFailure) return r;
      throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.code}):\n${r.stderr.trim() || r.stdout.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function kubectlOnce(args: string[], opts: KubectlOptions): Promise<KubectlResult> {
  let path: string;
  if (opts.kubeconfig === undefined) path = controlPlaneInfo().kubeconfigPath;
  else if (typeof opts.kubeconfig === 'string') path = opts.kubeconfig;
  else {
    kubeconfigScratch ??= mkdtempSync(join(tmpdir(), 'kube-mesos-kubectl-'));
    path = join(kubeconfigScratch, `${randomBytes(6).toString('hex')}.kubeconfig`);
    writeFileSync(path, opts.kubeconfig.exportConfig(), { mode: 0o600 });
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/kubectl', [`--kubeconfig=${path}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const r = { code: code ?? 128, stdout, stderr };
      if (r.code === 0 || opts.allowFailure) resolve(r);
      else reject(new Error(`kubectl ${args.join(' ')} failed (${sig ? `killed by ${sig}` : `exit ${code}`}):\n${stderr.trim() || stdout.trim()}`));
    });
    child.stdin.on('error', () => {}); // kubectl may exit before reading stdin
    child.stdin.end(opts.input ?? '');
  });
}

export interface ApiserverStatus {
  running: boolean;
  pid?: number;
}

/**
 * Stops/starts/kills the run's kube-apiserver (etcd keeps running; it comes back on the same port with the same
 * certs). Every other test file sees the outage too. start() resolves once /readyz is ok.
 */
export function apiserverControl(): {
  stop(): Promise<ApiserverStatus>;
  start(): Promise<ApiserverStatus>;
  kill(): Promise<ApiserverStatus>;
  status(): Promise<ApiserverStatus>;
} {
  const { controlUrl } = controlPlaneInfo();
  const call = async (method: 'GET' | 'POST', path: string): Promise<ApiserverStatus> => {
    const res = await fetch(`${controlUrl}${path}`, { method });
    const body = (await res.json()) as ApiserverStatus & { error?: string };
    if (!res.ok) throw new Error(`${method} ${path} on the test control plane failed: ${body.error ?? res.status}`);
    return body;
  };
  return {
    stop: () => call('POST', '/apiserver/stop'),
    start: () => call('POST', '/apiserver/start'),
    kill: () => call('POST', '/apiserver/kill'),
    status: () => call('GET', '/apiserver'),
  };
}

/** The run's lock dir for kube-apiserver disruptions (src/kube/testing/apiserver-lock.ts). */
export function apiserverLockDir(): string {
  return join(controlPlaneInfo().dir, 'test-locks');
}

/** Runs `fn` while no test of the run stops or kills kube-apiserver (readers share; a disruption waits). */
export function withStableApiserver<T>(fn: () => Promise<T>, timeoutMs?: number): Promise<T> {
  return apiserverLock.withStableApiserver(apiserverLockDir(), fn, timeoutMs);
}

/** Runs `fn`, which may stop/start/kill kube-apiserver, once no test holds withStableApiserver; one at a time. */
export function withApiserverDisruption<T>(fn: () => Promise<T>, timeoutMs?: number): Promise<T> {
  return apiserverLock.withApiserverDisruption(apiserverLockDir(), fn, timeoutMs);
}
