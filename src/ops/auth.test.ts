import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRegistry } from '../telemetry/metrics.js';
import { createOpsApp } from './app.js';
import { delegatedAuth, selfSignedCertificate, type AccessReviewer, type ServingCertificate, type UserInfo } from './auth.js';
import { startOpsServer, type OpsServer } from './server.js';

// Issue 16 item 9: the ops server answered /metrics, /debug/state and the dashboard to anyone.

const TOKENS: Record<string, UserInfo> = { reader: { username: 'alice', groups: ['ops'] }, nobody: { username: 'mallory' } };

/** A reviewer with a fixed answer table that counts the questions it was asked. */
function fakeReviewer() {
  const calls = { authn: 0, authz: 0 };
  let down = false;
  const reviewer: AccessReviewer = {
    authenticate: async (token) => {
      calls.authn++;
      if (down) throw new Error('connect ECONNREFUSED');
      const user = TOKENS[token];
      return user ? { ok: true, user } : { ok: false, reason: 'invalid bearer token' };
    },
    authorize: async (user, path, verb) => {
      calls.authz++;
      return { allowed: user.username === 'alice' && verb === 'get' && ['/metrics', '/debug/state', '/api/dashboard'].includes(path) };
    },
  };
  return { reviewer, calls, setDown: (d: boolean) => (down = d) };
}

interface Answer {
  status: number;
  body: string;
  authenticate?: string;
}

function get(url: string, path: string, ca: string, token?: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, ca, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, authenticate: res.headers['www-authenticate'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

let cert: ServingCertificate;
let server: OpsServer;
let now = 0;
const fake = fakeReviewer();

beforeAll(async () => {
  cert = await selfSignedCertificate(['localhost', '127.0.0.1']);
  const app = createOpsApp({
    health: () => true,
    readiness: () => ({ ready: true, checks: {} }),
    registry: createRegistry(),
    debugState: () => ({ frameworkId: 'fw-1' }),
    auth: delegatedAuth({ reviewer: fake.reviewer, cacheTtlMs: 10_000, now: () => now }),
  });
  server = await startOpsServer(app, '127.0.0.1:0', cert);
}, 30_000);
afterAll(async () => {
  await server?.close();
});

describe('ops server with delegated authentication and authorization', () => {
  it('serves HTTPS with the self-signed certificate for loopback', () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(cert.selfSigned).toBe(true);
  });

  it('/healthz and /readyz stay open without a token', async () => {
    expect((await get(server.url, '/healthz', cert.cert)).status).toBe(200);
    expect((await get(server.url, '/readyz', cert.cert)).status).toBe(200);
  });

  it.each(['/metrics', '/debug/state', '/', '/api/dashboard'])('%s without a token is 401 with a Bearer challenge', async (path) => {
    const r = await get(server.url, path, cert.cert);
    expect(r.status).toBe(401);
    expect(r.authenticate).toBe('Bearer realm="kube-mesos"');
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('an unknown token is 401, a user without the permission 403 naming user, verb and path', async () => {
    expect((await get(server.url, '/metrics', cert.cert, 'forged')).status).toBe(401);
    const r = await get(server.url, '/debug/state', cert.cert, 'nobody');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).message).toBe('forbidden: User "mallory" cannot get path "/debug/state"');
    expect((await get(server.url, '/debug/state', cert.cert, 'reader', 'POST')).status).toBe(403);
  });

  it('a permitted user gets the answer', async () => {
    const r = await get(server.url, '/debug/state', cert.cert, 'reader');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ frameworkId: 'fw-1' });
    expect((await get(server.url, '/metrics', cert.cert, 'reader')).status).toBe(200);
  });

  it('answers are cached for the TTL, then asked again; an API server that cannot answer gives 500, not cached', async () => {
    now = 1_000_000;
    const before = { ...fake.calls };
    await get(server.url, '/metrics', cert.cert, 'reader');
    await get(server.url, '/metrics', cert.cert, 'reader');
    expect(fake.calls).toEqual({ authn: before.authn + 1, authz: before.authz + 1 });
    now += 10_000;
    fake.setDown(true);
    expect((await get(server.url, '/metrics', cert.cert, 'reader')).status).toBe(500);
    fake.setDown(false);
    expect((await get(server.url, '/metrics', cert.cert, 'reader')).status).toBe(200);
    expect(fake.calls.authn).toBe(before.authn + 3);
  });
});
