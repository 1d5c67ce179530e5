/**
 * Start-up checks a user's mistake fails: the API server and the Mesos masters must answer at all (any HTTP status will
 * do: this is about the address, not permissions). Each failure is one line naming the cause and the fix.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeHttp } from '../kube/http.js';

export type Preflight = { ok: true } | { ok: false; error: string };

export interface PreflightOptions {
  attempts?: number;
  delayMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** GET /version until it answers; 401/403 are reported as rejected credentials, the rest as unreachable. */
export async function checkApiServer(kube: KubeHttp, source: string, o: PreflightOptions = {}): Promise<Preflight> {
  const attempts = o.attempts ?? 5;
  let last = '';
  for (let i = 0; i < attempts && !o.signal?.aborted; i++) {
    if (i > 0) await sleep(o.delayMs ?? 1000, o.signal);
    const res = await kube.request('GET', '/version', { timeoutMs: o.timeoutMs ?? 5000, signal: o.signal });
    if (res.status === 401) return { ok: false, error: `the Kubernetes API server at ${kube.server.origin} rejected the credentials of ${source} (401 Unauthorized). Fix: renew the token or client certificate in that kubeconfig.` };
    if (res.status > 0 && res.status < 500) return { ok: true };
    last = res.status === 0 ? (res.error?.message ?? 'no answer') : `HTTP ${res.status}`;
  }
  return {
    ok: false,
    error: `cannot reach the Kubernetes API server at ${kube.server.origin} (from ${source}): ${last}. Fix: check that the API server is running and that the kubeconfig's server URL is right.`,
  };
}

/**
 * Asks each http(s) master for /version until one answers. A zk:// URL is not checked here: the ZooKeeper detector
 * reports its own connection state.
 */
export async function checkMesosMasters(masters: readonly string[], o: PreflightOptions & { ca?: string } = {}): Promise<Preflight> {
  const urls = masters.filter((m) => /^https?:\/\//.test(m));
  if (urls.length === 0) return { ok: true };
  const attempts = o.attempts ?? 5;
  const errors = new Map<string, string>();
  for (let i = 0; i < attempts && !o.signal?.aborted; i++) {
    if (i > 0) await sleep(o.delayMs ?? 1000, o.signal);
    for (const m of urls) {
      const e = await probe(new URL('/version', m), o.timeoutMs ?? 5000, o.ca);
      if (e === undefined) return { ok: true };
      errors.set(m, e);
    }
  }
  const list = [...errors].map(([m, e]) => `${m} (${e})`).join(', ');
  return { ok: false, error: `cannot reach any Mesos master: ${list}. Fix: check mesos.masters (--master) and that a master is running and reachable from here.` };
}

function probe(url: URL, timeoutMs: number, ca: string | undefined): Promise<string | undefined> {
  return new Promise((resolve) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.get(url, { timeout: timeoutMs, ...(url.protocol === 'https:' && ca ? { ca } : {}) }, (res) => {
      res.resume();
      resolve(undefined);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOTFOUND' ? `host ${url.hostname} not found` : err.message));
  });
}
