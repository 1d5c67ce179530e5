import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { isHealthy } from './health.js';
import { freePort, freePorts } from './ports.js';

describe('isHealthy', () => {
  let srv: Server;
  let base: string;
  const seenAuth: (string | undefined)[] = [];
  beforeAll(async () => {
    srv = createServer((req, res) => {
      seenAuth.push(req.headers.authorization);
      const routes: Record<string, [number, string]> = {
        '/readyz': [200, 'ok'],
        '/notready': [500, '[-]etcd failed: reason withheld\nreadyz check failed'],
        '/etcd-ok': [200, '{"health":"true"}'],
        '/etcd-bad': [200, '{"health":"false"}'],
      };
      const [status, body] = routes[req.url ?? ''] ?? [404, 'no'];
      res.writeHead(status).end(body);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const a = srv.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => srv.close(() => r())));

  it.each([
    ['/readyz', true],
    ['/notready', false],
    ['/etcd-ok', true],
    ['/etcd-bad', false],
    ['/missing', false],
  ])('%s → %s', async (path, ok) => {
    expect((await isHealthy(`${base}${path}`)).ok).toBe(ok);
  });

  it('sends the bearer token and quotes the failing body', async () => {
    const r = await isHealthy(`${base}/notready`, { token: 'abc' });
    expect(r.detail).toMatch(/^HTTP 500: .*readyz check failed/);
    expect(seenAuth.at(-1)).toBe('Bearer abc');
  });

  it('is not healthy (and does not throw) when nothing listens', async () => {
    const port = await freePort();
    const r = await isHealthy(`http://127.0.0.1:${port}/healthz`);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/ECONNREFUSED/);
  });
});

describe('freePorts', () => {
  it('returns distinct ports that can be bound', async () => {
    const ports = await freePorts(4);
    expect(new Set(ports).size).toBe(4);
    for (const p of ports) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(p, '127.0.0.1', resolve);
      });
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});
