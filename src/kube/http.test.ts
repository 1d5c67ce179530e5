import http from 'node:http';
import type { V1Pod } from '@kubernetes/client-node';
import { KubeHttp, type RawWatchEvent } from './http.js';
import { httpListWatch } from './informer.js';
import { localKubeConfig } from './testing/local-kubeconfig.js';

type Script = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(script: Script) {
  const server = http.createServer(script);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = localKubeConfig(server, 't0k3n');
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

  it('reassembles events split across chunks (a multi-byte character too) and a last line without a newline', async () => {
    const text = line('ADDED', 'zoë') + line('MODIFIED', 'b') + JSON.stringify({ type: 'DELETED', object: { metadata: { name: 'c' } } });
    const bytes = Buffer.from(text, 'utf8');
    const cut = bytes.indexOf(Buffer.from('ë', 'utf8')) + 1; // inside the two bytes of ë
    const { h, close } = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(bytes.subarray(0, cut), () => setTimeout(() => res.write(bytes.subarray(cut, cut + 7), () => setTimeout(() => res.end(bytes.subarray(cut + 7)), 10)), 10));
    });
    const seen: RawWatchEvent[] = [];
    const end = await h.watch('/api/v1/pods', {}, (e) => seen.push(e), { idleMs: 5000 });
    expect(end.kind).toBe('closed');
    expect(seen.map((e) => [e.type, (e.object as { metadata: { name: string } }).metadata.name])).toEqual([
      ['ADDED', 'zoë'],
      ['MODIFIED', 'b'],
      ['DELETED', 'c'],
    ]);
    await close();
  });

  it('ends a watch with a malformed event as failed, after the good ones', async () => {
    const { h, close } = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(line('ADDED', 'a') + '{not json\n' + line('ADDED', 'b'));
    });
    const seen: RawWatchEvent[] = [];
    const end = await h.watch('/api/v1/pods', {}, (e) => seen.push(e), { idleMs: 5000 });
    expect(end).toMatchObject({ kind: 'failed', error: { message: 'malformed watch event' } });
    expect(seen.map((e) => e.type)).toEqual(['ADDED']);
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

describe('httpListWatch', () => {
  it('lists page by page with continue tokens and decodes objects as client-node models', async () => {
    const queries: string[] = [];
    const { h, close } = await serve((req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams;
      queries.push(q.toString());
      const page = q.get('continue') === 'p2' ? 2 : 1;
      const item = (name: string) => ({ metadata: { name, namespace: 'ns', resourceVersion: '9', creationTimestamp: '2026-01-01T00:00:00Z' } });
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify(page === 1 ? { items: [item('a'), item('b')], metadata: { continue: 'p2', resourceVersion: '10' } } : { items: [item('c')], metadata: { resourceVersion: '10' } }),
      );
    });
    const src = httpListWatch<V1Pod>(h, { path: '/api/v1/pods', fieldSelector: 'spec.schedulerName=kube-mesos', limit: 2 });
    const r = await src.list(new AbortController().signal);
    expect(r.ok && r.items.map((p) => p.metadata?.name)).toEqual(['a', 'b', 'c']);
    expect(r.ok && r.resourceVersion).toBe('10');
    // kept as the API server's JSON: timestamps stay RFC 3339 strings
    expect(r.ok && r.items[0].metadata?.creationTimestamp).toBe('2026-01-01T00:00:00Z');
    expect(queries).toEqual(['fieldSelector=spec.schedulerName%3Dkube-mesos&limit=2', 'fieldSelector=spec.schedulerName%3Dkube-mesos&limit=2&continue=p2']);
    await close();
  });

  it('turns watch ERROR and BOOKMARK events into typed events', async () => {
    const { h, close } = await serve((req, res) => {
      res.writeHead(200);
      res.write(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '42' } } }) + '\n');
      res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } }) + '\n');
    });
    const src = httpListWatch<V1Pod>(h, { path: '/api/v1/pods' });
    const evs: unknown[] = [];
    await src.watch('7', (e) => evs.push(e), new AbortController().signal);
    expect(evs).toEqual([
      { type: 'BOOKMARK', resourceVersion: '42' },
      { type: 'ERROR', code: 410, reason: 'Expired', message: 'too old' },
    ]);
    await close();
  });
});

describe('KubeHttp.request discardBody', () => {
  it('drops a 2xx body unparsed but still parses an error answer (its message is needed)', async () => {
    const { h, close } = await serve((req, res) => {
      const code = req.url!.includes('bad') ? 409 : 201;
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(code === 201 ? { kind: 'Pod', metadata: { name: 'p' } } : { kind: 'Status', message: 'already exists' }));
    });
    try {
      const good = await h.request('POST', '/api/v1/namespaces/n/pods', { body: {}, discardBody: true });
      expect(good).toMatchObject({ status: 201, body: undefined });
      const bad = await h.request('POST', '/api/v1/namespaces/n/bad', { body: {}, discardBody: true });
      expect(bad).toMatchObject({ status: 409, body: { kind: 'Status', message: 'already exists' } });
      const kept = await h.request('POST', '/api/v1/namespaces/n/pods', { body: {} });
      expect(kept.body).toEqual({ kind: 'Pod', metadata: { name: 'p' } });
    } finally {
      await close();
    }
  });
});
