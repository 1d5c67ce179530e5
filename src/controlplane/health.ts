import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ProbeOptions {
  /** PEM CA for https; without it the server's certificate is not verified (self-signed component certs). */
  ca?: string;
  token?: string;
  timeoutMs?: number;
}

/** GET `url`; the status code and body, or the connection error's message. Never throws. */
export function probe(url: string, opts: ProbeOptions = {}): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: 'GET',
        timeout: opts.timeoutMs ?? 3000,
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        ...(u.protocol === 'https:' ? (opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false }) : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body = (body + c).slice(0, 4096)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (err) => resolve({ error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${opts.timeoutMs ?? 3000} ms`)));
    req.on('error', (err) => resolve({ error: err.message }));
    req.end();
  });
}

/** Healthy when the endpoint answers 200 (kube's /readyz and /healthz answer "ok", etcd's /health `{"health":"true"}`). */
export async function isHealthy(url: string, opts: ProbeOptions = {}): Promise<{ ok: boolean; detail: string }> {
  const r = await probe(url, opts);
  if ('error' in r) return { ok: false, detail: r.error };
  const ok = r.status === 200 && !/"health":\s*"false"/.test(r.body);
  return { ok, detail: `HTTP ${r.status}: ${r.body.trim().split('\n').slice(-5).join(' | ')}` };
}
