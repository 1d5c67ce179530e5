import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp, type RawWatchEvent } from './http.js';

type Script = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(script: Script) {
  const server = http.createServer(script);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't0k3n' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const h = new KubeHttp(kc);
  return {
    h,
    close: async () => {
      h.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const line = (type: string, name: string) => JSON.stringify({ type, object: { metadata: { name } } }) + '\n';

describe('KubeHttp.watch', () => {
  it.each<[string, Script, string]>([
    [
      'a clean server close',
      (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(line('ADDED', 'a'));
        res.end(line('MODIFIED', 'a'));
      },
      'closed',
    ],
    [
      'a connection cut mid-stream (killed API server)',
      (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(line('ADDED', 'a'));
        res.write(line('MODIFIED', 'a'), () => setTimeout(() => req.socket.destroy(), 20));
      },
      'failed',
    ],
  ])('reports %s without throwing', async (_name, script, kind) => {
    const { h, close } = await serve(script);
    const seen: RawWatchEvent[] = [];
    const end = await h.watch('/api/v1/pods', { resourceVersion: '5' }, (e) => seen.push(e), { idleMs: 5000 });
    expect(end.kind).toBe(kind);
    expect(seen.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED']);
    await close();
  });

  it('passes the query with watch=true and the bearer token', async () => {
    let url = '';
    let auth = '';
    const { h, close } = await serve((req, res) => {
      url = req.url!;
      auth = req.headers.authorization ?? '';
      res.writeHead(200).end();
    });
    await h.watch('/api/v1/pods', { fieldSelector: 'spec.schedulerName=kube-mesos', resourceVersion: '7' }, () => {}, { idleMs: 5000 });
    expect(new URL(url, 'http://x').searchParams.toString()).toBe('fieldSelector=spec.schedulerName%3Dkube-mesos&resourceVersion=7&watch=true');
    expect(auth).toBe('Bearer t0k3n');
    await close();
  });

  it('reports an HTTP error with its status and body', async () => {
    const { h, close } = await serve((req, res) => res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired' })));
    const end = await h.watch('/api/v1/pods', {}, () => {}, { idleMs: 5000 });
    expect(end).toMatchObject({ kind: 'failed', status: 410, body: { reason: 'Expired' } });
    await close();
  });

  it('ends on abort and on idleness', async () => {
    const { h, close } = await serve((req, res) => {
      res.writeHead(200);
      res.write(line('ADDED', 'a'));
    });
    const ctrl = new AbortController();
    const p = h.watch('/api/v1/pods', {}, () => ctrl.abort(), { signal: ctrl.signal, idleMs: 5000 });
    expect(await p).toEqual({ kind: 'aborted' });
    const idle = await h.watch('/api/v1/pods', {}, () => {}, { idleMs: 100 });
    expect(idle).toMatchObject({ kind: 'failed', status: 0 });
    await close();
  });
});
