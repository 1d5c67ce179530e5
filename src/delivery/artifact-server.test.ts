import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../telemetry/log.js';
import { startArtifactServer, type RunningArtifactServer } from './artifact-server.js';

function get(url: string, method = 'GET'): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}
const sha = (b: string) => createHash('sha256').update(b).digest('hex');

describe('artifact server', () => {
  let dir: string;
  let srv: RunningArtifactServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'artifacts-'));
    writeFileSync(join(dir, 'bundle.tgz'), 'bundle-v1');
    writeFileSync(join(dir, 'kubelet'), 'kubelet-bin');
    srv = await startArtifactServer({
      artifacts: [
        { name: 'kube-mesos-executor.tgz', path: join(dir, 'bundle.tgz') },
        { name: 'kubelet', path: join(dir, 'kubelet') },
      ],
      listen: { host: '127.0.0.1', port: 0 },
      log: silentLogger(),
    });
  });
  afterAll(async () => {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves each file at a content-addressed URL with its length and sha256 ETag', async () => {
    const a = srv.artifacts.get('kube-mesos-executor.tgz')!;
    expect(a.url).toBe(`${srv.baseUrl}/artifacts/${sha('bundle-v1').slice(0, 16)}/kube-mesos-executor.tgz`);
    const r = await get(a.url);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('bundle-v1');
    expect(r.headers['content-length']).toBe('9');
    expect(r.headers.etag).toBe(`"${sha('bundle-v1')}"`);
    const h = await get(srv.artifacts.get('kubelet')!.url, 'HEAD');
    expect([h.status, h.body.length]).toEqual([200, 0]);
  });

  it('answers 404 for other digests, unknown names and other paths, 405 for other methods', async () => {
    expect((await get(`${srv.baseUrl}/artifacts/0000000000000000/kubelet`)).status).toBe(404);
    expect((await get(`${srv.baseUrl}/artifacts/${sha('kubelet-bin').slice(0, 16)}/other`)).status).toBe(404);
    expect((await get(`${srv.baseUrl}/etc/passwd`)).status).toBe(404);
    expect((await get(`${srv.baseUrl}/artifacts/${sha('kubelet-bin').slice(0, 16)}/../kubelet`)).status).toBe(404);
    expect((await get(srv.artifacts.get('kubelet')!.url, 'POST')).status).toBe(405);
  });

  it('a file replaced on disk gets a new URL; the old URL is a 404, never the new bytes', async () => {
    const old = srv.artifacts.get('kube-mesos-executor.tgz')!.url;
    writeFileSync(join(dir, 'bundle.tgz'), 'bundle-v2!');
    utimesSync(join(dir, 'bundle.tgz'), new Date(), new Date(Date.now() + 5000));
    expect((await get(old)).status).toBe(404);
    const now = srv.artifacts.get('kube-mesos-executor.tgz')!.url;
    expect(now).toBe(`${srv.baseUrl}/artifacts/${sha('bundle-v2!').slice(0, 16)}/kube-mesos-executor.tgz`);
    expect((await get(now)).body.toString()).toBe('bundle-v2!');
  });

  it('refuses to start without its files, naming the artifact and the path', async () => {
    await expect(startArtifactServer({ artifacts: [{ name: 'kubelet', path: join(dir, 'missing') }], listen: { host: '127.0.0.1', port: 0 }, log: silentLogger() })).rejects.toThrow(
      /artifact kubelet: cannot read .*missing/,
    );
    await expect(startArtifactServer({ artifacts: [{ name: '../x', path: join(dir, 'kubelet') }], listen: { host: '127.0.0.1', port: 0 }, log: silentLogger() })).rejects.toThrow(/plain file name/);
  });
});
