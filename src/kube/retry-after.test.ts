// Issue 16 item 7: Retry-After on 429/5xx is honoured by the Kubernetes transport (it used to be parsed and ignored).
import http from 'node:http';
import { sleep } from '../time/backoff.js';
import { KubeHttp, parseRetryAfter, retryAfterWaitMs } from './http.js';
import { localKubeConfig } from './testing/local-kubeconfig.js';

describe('retryAfterWaitMs', () => {
  it.each([
    [429, 2, 0, 2000],
    [503, 1, 9, 1000],
    [500, 0, 0, 0],
    [503, 1, 10, undefined], // budget spent
    [503, undefined, 0, undefined], // no header: the caller's backoff decides
    [409, 1, 0, undefined],
    [429, 3600, 0, 60_000], // capped
  ])('status %d, Retry-After %p, attempt %d → %p', (status, ra, attempt, want) => {
    expect(retryAfterWaitMs(status, ra, attempt, 10)).toBe(want);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP-dates, ignores garbage', () => {
    expect(parseRetryAfter('7', 0)).toBe(7);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 0)).toBe(10);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});

describe('KubeHttp and Retry-After', () => {
  it('waits what a 429 asks and retries, returning the success', async () => {
    let calls = 0;
    const server = http.createServer((_req, res) => {
      calls++;
      if (calls <= 2) {
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '3' });
        res.end(JSON.stringify({ kind: 'Status', reason: 'TooManyRequests' }));
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Pod' }));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kc = localKubeConfig(server);
    const waits: number[] = [];
    const h = new KubeHttp(kc, { sleep: async (ms) => void waits.push(ms) });
    try {
      const r = await h.request('DELETE', '/api/v1/namespaces/ns/pods/p');
      expect([r.status, r.error?.message]).toEqual([200, undefined]);
      expect(waits).toEqual([3000, 3000]);
      expect(calls).toBe(3);
    } finally {
      h.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('retrySignal: an abort during the wait sends no retry; an attempt on the wire is not cut, its answer returned', async () => {
    const ac = new AbortController();
    let calls = 0;
    const server = http.createServer((_req, res) => {
      calls++;
      if (calls === 2) ac.abort(); // the second attempt is on the wire when the abort comes
      setTimeout(() => {
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '2' });
        res.end(JSON.stringify({ kind: 'Status', reason: 'TooManyRequests' }));
      }, calls === 2 ? 20 : 0);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kc = localKubeConfig(server);
    const waits: [number, boolean][] = [];
    const h = new KubeHttp(kc, {
      sleep: (ms, signal) => {
        waits.push([ms, signal?.aborted ?? false]);
        return sleep(0, signal);
      },
    });
    try {
      const r = await h.request('POST', '/api/v1/namespaces/ns/pods/p/binding', { body: {}, retrySignal: ac.signal });
      expect([r.status, r.error?.message]).toEqual([429, undefined]); // the second answer, not 'request aborted'
      expect(calls).toBe(2);
      expect(waits).toEqual([[2000, false]]); // no wait after the abort

      const ac2 = new AbortController();
      const waits2: boolean[] = [];
      const h2 = new KubeHttp(kc, {
        sleep: (ms, signal) => {
          ac2.abort(); // aborted during the first Retry-After wait
          waits2.push(signal?.aborted ?? false);
          return sleep(ms, signal);
        },
      });
      calls = 10;
      const r2 = await h2.request('POST', '/api/v1/namespaces/ns/pods/p/binding', { body: {}, retrySignal: ac2.signal });
      h2.close();
      expect(r2.status).toBe(429);
      expect(calls).toBe(11); // no retry
      expect(waits2).toEqual([true]); // the wait was given the signal: it ended at once
    } finally {
      h.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
