/**
 * Finding the Kubernetes credentials, in the order kubectl and client-go look: an explicit path (flag or config), then
 * `$KUBECONFIG`, then `~/.kube/config`, then the in-cluster service account. A failure is a value naming every place
 * looked at and what to do, never a half-loaded KubeConfig that fails later (`TypeError: Invalid URL`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { load as loadYaml } from 'js-yaml';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigInput {
  /** `--kubeconfig` / `kube.kubeconfig`; empty = look further. */
  path?: string;
  /** The environment variables that matter here: KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where the service account is mounted (tests point it elsewhere). */
  serviceAccountDir?: string;
}

export type KubeConfigResult =
  | {
      ok: true;
      kc: KubeConfig;
      /** Where it came from, for logs and messages: `kubeconfig /path` or `in-cluster service account`. */
      source: string;
      /** The user's `token-file`, to be re-read when it rotates (client-node reads it once). */
      tokenFile?: string;
      server: string;
    }
  | { ok: false; error: string };

export function loadKubeConfig(input: KubeConfigInput): KubeConfigResult {
  const env = input.env;
  const saDir = input.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (input.path) return fromFile(input.path, '--kubeconfig');
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (fromEnv.length > 0) return fromFile(fromEnv[0], 'KUBECONFIG');
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  if (home && existsSync(home)) return fromFile(home, '~/.kube/config');
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const token = join(saDir, 'token');
  if (host && port && existsSync(token)) {
    const kc = new KubeConfig();
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    kc.loadFromClusterAndUser({ name: 'in-cluster', server, caFile: join(saDir, 'ca.crt'), skipTLSVerify: false }, { name: 'service-account' });
    return { ok: true, kc, source: 'in-cluster service account', tokenFile: token, server };
  }
  const looked = [
    '--kubeconfig (kube.kubeconfig) is not set',
    '$KUBECONFIG is not set',
    `${home ?? '~/.kube/config (HOME is not set)'}${home ? ' does not exist' : ''}`,
    !host || !port ? 'no in-cluster service account (KUBERNETES_SERVICE_HOST/PORT are not set)' : `no in-cluster service account (${token} does not exist)`,
  ];
  return {
    ok: false,
    error: `no Kubernetes credentials found: ${looked.join('; ')}. Fix: pass --kubeconfig <file>, set KUBECONFIG, or run in a pod with a service account.`,
  };
}

function fromFile(path: string, via: string): KubeConfigResult {
  const where = `kubeconfig ${path} (from ${via})`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    return { ok: false, error: `${where}: cannot read it: ${why}. Fix: point --kubeconfig or KUBECONFIG at a readable kubeconfig file.` };
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
    kc.makePathsAbsolute(path.replace(/[^/]*$/, '') || '.');
  } catch (err) {
    return { ok: false, error: `${where}: not a valid kubeconfig: ${oneLine((err as Error).message)}. Fix: check it with \`kubectl --kubeconfig ${path} config view\`.` };
  }
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (!context || !kc.getContextObject(context)) return { ok: false, error: `${where}: has no current-context. Fix: \`kubectl --kubeconfig ${path} config use-context <name>\`.` };
  if (!cluster) return { ok: false, error: `${where}: context "${context}" names no cluster that the file defines. Fix: add the cluster or choose another context.` };
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    return { ok: false, error: `${where}: cluster "${cluster.name}" has no valid server URL (${JSON.stringify(cluster.server ?? '')}). Fix: set clusters[].cluster.server to https://host:port.` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, error: `${where}: cluster "${cluster.name}" server ${cluster.server} is not an http(s) URL.` };
  return { ok: true, kc, source: `kubeconfig ${path}`, tokenFile: tokenFileOf(text, kc.getCurrentUser()?.name, path), server: cluster.server };
}

/** The current user's `token-file` as the file names it (absolute against the kubeconfig's folder). */
function tokenFileOf(text: string, user: string | undefined, path: string): string | undefined {
  try {
    const doc = loadYaml(text) as { users?: { name?: string; user?: { 'token-file'?: unknown } }[] } | undefined;
    const file = doc?.users?.find((u) => u.name === user)?.user?.['token-file'];
    if (typeof file !== 'string' || file === '') return undefined;
    return file.startsWith('/') ? file : join(path.replace(/[^/]*$/, '') || '.', file);
  } catch {
    return undefined;
  }
}

function oneLine(s: string): string {
  return s.split('\n')[0];
}
