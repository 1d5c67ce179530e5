import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { archiveKind, destinationName, Fetcher, fetchUris } from './fetcher.js';

/** A local artifact server: serves files from `root`, counts requests per path; `/stall` sends headers then nothing. */
class ArtifactServer {
  readonly hits = new Map<string, number>();
  private readonly stalled: ServerResponse[] = [];
  private server!: Server;
  url = '';
  constructor(private readonly root: string) {}
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      if (path === '/stall') {
        res.writeHead(200, { 'Content-Length': '100' });
        res.write('x');
        this.stalled.push(res);
        return;
      }
      if (path === '/moved') {
        res.writeHead(302, { Location: '/hello.txt' });
        res.end();
        return;
      }
      const file = join(this.root, path);
      if (!path.startsWith('/') || path.includes('..') || !existsSync(file)) {
        res.writeHead(404);
        res.end('not found');
        return;
      }
      res.writeHead(200);
      res.end(readFileSync(file));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    for (const r of this.stalled) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('Fetcher (the Mesos fetcher in process mode)', () => {
  let dir: string;
  let artifacts: string;
  let srv: ArtifactServer;
  let n = 0;
  const sandbox = () => join(dir, `sandbox-${++n}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fetcher-'));
    artifacts = join(dir, 'artifacts');
    mkdirSync(join(artifacts, 'bundle', 'bin'), { recursive: true });
    writeFileSync(join(artifacts, 'hello.txt'), 'hello\n');
    writeFileSync(join(artifacts, 'bundle', 'bin', 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
    writeFileSync(join(artifacts, 'bundle', 'README'), 'readme\n');
    execFileSync('tar', ['-C', artifacts, '-czf', join(artifacts, 'bundle.tgz'), 'bundle']);
    execFileSync('tar', ['-C', artifacts, '-cf', join(artifacts, 'bundle.tar'), 'bundle']);
    execFileSync('zip', ['-q', '-r', join(artifacts, 'bundle.zip'), 'bundle'], { cwd: artifacts });
    writeFileSync(join(artifacts, 'broken.tgz'), 'this is not a gzip stream');
    srv = new ArtifactServer(artifacts);
    await srv.start();
  });
  afterAll(async () => {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads an http URI into the sandbox under the last segment of its path, not executable', async () => {
    const f = new Fetcher({ cacheDir: join(dir, 'cache-a') });
    const sb = sandbox();
    const r = await f.fetch([{ value: `${srv.url}/hello.txt` }], sb);
    expect(r).toEqual({ ok: true, files: [{ uri: `${srv.url}/hello.txt`, path: join(sb, 'hello.txt'), cacheHit: false, extracted: false }] });
    expect(readFileSync(join(sb, 'hello.txt'), 'utf8')).toBe('hello\n');
    expect(statSync(join(sb, 'hello.txt')).mode & 0o111).toBe(0);
    expect(readFileSync(join(sb, 'stderr'), 'utf8')).toContain(`Fetched '${srv.url}/hello.txt'`);
  });

  it('follows redirects', async () => {
    const sb = sandbox();
    const r = await new Fetcher({ cacheDir: join(dir, 'cache-r') }).fetch([{ value: `${srv.url}/moved`, output_file: 'greeting' }], sb);
    expect(r.ok).toBe(true);
    expect(readFileSync(join(sb, 'greeting'), 'utf8')).toBe('hello\n');
  });

  it.each([
    ['bundle.tgz', 'gzip-compressed tar'],
    ['bundle.tar', 'plain tar'],
    ['bundle.zip', 'zip'],
  ])('extracts %s (%s) into the sandbox and keeps the archive', async (name) => {
    const sb = sandbox();
    const r = await new Fetcher({ cacheDir: join(dir, 'cache-x') }).fetch([{ value: `${srv.url}/${name}`, extract: true }], sb);
    expect(r.ok && r.files[0].extracted).toBe(true);
    expect(readFileSync(join(sb, 'bundle', 'README'), 'utf8')).toBe('readme\n');
    expect(statSync(join(sb, 'bundle', 'bin', 'run.sh')).mode & 0o100).toBe(0o100);
    expect(existsSync(join(sb, name))).toBe(true);
  });

  it('extracts by default (the proto default of extract is true) and stores the archive alone with extract: false', async () => {
    const f = new Fetcher({ cacheDir: join(dir, 'cache-d') });
    const a = sandbox();
    expect((await f.fetch([{ value: `${srv.url}/bundle.tgz` }], a)).ok).toBe(true);
    expect(existsSync(join(a, 'bundle', 'README'))).toBe(true);
    const b = sandbox();
    expect((await f.fetch([{ value: `${srv.url}/bundle.tgz`, extract: false }], b)).ok).toBe(true);
    expect(existsSync(join(b, 'bundle.tgz'))).toBe(true);
    expect(existsSync(join(b, 'bundle'))).toBe(false);
  });

  it('sets the executable bit with executable: true and then does not extract even an archive name', async () => {
    const sb = sandbox();
    const r = await new Fetcher({ cacheDir: join(dir, 'cache-e') }).fetch([{ value: `${srv.url}/bundle.tgz`, executable: true, output_file: 'bin/tool' }], sb);
    expect(r.ok && r.files[0]).toMatchObject({ path: join(sb, 'bin', 'tool'), extracted: false });
    expect(statSync(join(sb, 'bin', 'tool')).mode & 0o777).toBe(0o755);
    expect(existsSync(join(sb, 'bin', 'bundle'))).toBe(false);
  });

  it('takes file:// URIs and absolute paths', async () => {
    const sb = sandbox();
    const f = new Fetcher({ cacheDir: join(dir, 'cache-f') });
    const r = await f.fetch([{ value: pathToFileURL(join(artifacts, 'hello.txt')).href, output_file: 'one' }, { value: join(artifacts, 'hello.txt'), output_file: 'two' }], sb);
    expect(r.ok).toBe(true);
    expect(readFileSync(join(sb, 'one'), 'utf8')).toBe('hello\n');
    expect(readFileSync(join(sb, 'two'), 'utf8')).toBe('hello\n');
  });

  it('cache: true downloads once per agent and copies from the cache afterwards; uncached URIs download every time', async () => {
    const f = new Fetcher({ cacheDir: join(dir, 'cache-c') });
    const before = srv.hits.get('/bundle.tar') ?? 0;
    const first = await f.fetch([{ value: `${srv.url}/bundle.tar`, cache: true }], sandbox());
    const second = await f.fetch([{ value: `${srv.url}/bundle.tar`, cache: true }], sandbox());
    expect(first.ok && first.files[0].cacheHit).toBe(false);
    expect(second.ok && second.files[0].cacheHit).toBe(true);
    expect((srv.hits.get('/bundle.tar') ?? 0) - before).toBe(1);
    expect(f.cacheEntries()).toEqual([{ key: `\0${srv.url}/bundle.tar`, size: statSync(join(artifacts, 'bundle.tar')).size }]);

    const hb = srv.hits.get('/hello.txt') ?? 0;
    await f.fetch([{ value: `${srv.url}/hello.txt` }], sandbox());
    await f.fetch([{ value: `${srv.url}/hello.txt` }], sandbox());
    expect((srv.hits.get('/hello.txt') ?? 0) - hb).toBe(2);
  });

  it('keys the cache by user as well as URI', async () => {
    const f = new Fetcher({ cacheDir: join(dir, 'cache-u') });
    const before = srv.hits.get('/bundle.zip') ?? 0;
    await f.fetch([{ value: `${srv.url}/bundle.zip`, cache: true }], sandbox(), { user: 'alice' });
    await f.fetch([{ value: `${srv.url}/bundle.zip`, cache: true }], sandbox(), { user: 'bob' });
    await f.fetch([{ value: `${srv.url}/bundle.zip`, cache: true }], sandbox(), { user: 'alice' });
    expect((srv.hits.get('/bundle.zip') ?? 0) - before).toBe(2);
  });

  it('concurrent fetches of one cached URI share one download', async () => {
    const f = new Fetcher({ cacheDir: join(dir, 'cache-p') });
    const before = srv.hits.get('/bundle.tgz') ?? 0;
    const rs = await Promise.all([1, 2, 3, 4].map(() => f.fetch([{ value: `${srv.url}/bundle.tgz`, cache: true }], sandbox())));
    expect(rs.every((r) => r.ok)).toBe(true);
    expect((srv.hits.get('/bundle.tgz') ?? 0) - before).toBe(1);
    expect(rs.filter((r) => r.ok && !r.files[0].cacheHit)).toHaveLength(1);
  });

  it('evicts the least recently used entries beyond the cache size', async () => {
    const tar = statSync(join(artifacts, 'bundle.tar')).size;
    const f = new Fetcher({ cacheDir: join(dir, 'cache-l'), cacheBytes: tar + 3 });
    await f.fetch([{ value: `${srv.url}/hello.txt`, cache: true }], sandbox());
    await f.fetch([{ value: `${srv.url}/bundle.tar`, cache: true }], sandbox());
    expect(f.cacheEntries().map((e) => e.key)).toEqual([`\0${srv.url}/bundle.tar`]);
  });

  it('a failed cached download leaves no entry, so the next launch tries again', async () => {
    const f = new Fetcher({ cacheDir: join(dir, 'cache-fail') });
    const r = await f.fetch([{ value: `${srv.url}/later.txt`, cache: true }], sandbox());
    expect(r).toEqual({ ok: false, uri: `${srv.url}/later.txt`, error: 'Error downloading resource, received HTTP return code 404' });
    expect(f.cacheEntries()).toEqual([]);
    writeFileSync(join(artifacts, 'later.txt'), 'now here\n');
    const sb = sandbox();
    expect((await f.fetch([{ value: `${srv.url}/later.txt`, cache: true }], sb)).ok).toBe(true);
    expect(readFileSync(join(sb, 'later.txt'), 'utf8')).toBe('now here\n');
  });

  it.each([
    [{ value: 'http://127.0.0.1:1/nothing' }, /ECONNREFUSED/],
    [{ value: 'ftp://example.com/x.tgz' }, /unsupported URI scheme 'ftp'/],
    [{ value: 'relative/path.tgz' }, /relative path needs the agent's --frameworks_home/],
    [{ value: '/nonexistent/kube-mesos/file' }, /local file '\/nonexistent\/kube-mesos\/file' does not exist/],
    [{ value: 'http://x/a', output_file: '../escape' }, /output_file '..\/escape' must be a path inside the sandbox/],
    [{ value: 'http://x/a', output_file: '/etc/passwd' }, /must be a path inside the sandbox/],
    [{ value: 'http://x/' }, /cannot tell a file name from URI/],
  ])('fails with a clear error for %j', async (uri, error) => {
    const r = await new Fetcher({ cacheDir: join(dir, 'cache-bad') }).fetch([uri], sandbox());
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(error);
  });

  it('fails on a broken archive, naming the tool and the file', async () => {
    const r = await new Fetcher({ cacheDir: join(dir, 'cache-broken') }).fetch([{ value: `${srv.url}/broken.tgz` }], sandbox());
    expect(!r.ok && r.error).toMatch(/^Failed to extract 'broken.tgz' with tar: /);
  });

  it('stops at the first failing URI: later URIs are not fetched', async () => {
    const sb = sandbox();
    const r = await new Fetcher({ cacheDir: join(dir, 'cache-first') }).fetch([{ value: `${srv.url}/missing` }, { value: `${srv.url}/hello.txt` }], sb);
    expect(r.ok).toBe(false);
    expect(existsSync(join(sb, 'hello.txt'))).toBe(false);
    expect(readFileSync(join(sb, 'stderr'), 'utf8')).toContain(`Failed to fetch '${srv.url}/missing': Error downloading resource, received HTTP return code 404`);
  });

  it('fails a download that stalls longer than the stall timeout', async () => {
    const r = await new Fetcher({ cacheDir: join(dir, 'cache-stall'), stallTimeoutMs: 200 }).fetch([{ value: `${srv.url}/stall` }], sandbox());
    expect(!r.ok && r.error).toMatch(/stalled: no data for 200 ms/);
  });

  it('an aborted signal fails the fetch (the container is being destroyed)', async () => {
    const ac = new AbortController();
    const p = new Fetcher({ cacheDir: join(dir, 'cache-abort') }).fetch([{ value: `${srv.url}/stall` }], sandbox(), { signal: ac.signal });
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if ((srv.hits.get('/stall') ?? 0) > 0) {
          clearInterval(t);
          r();
        }
      }, 5);
    });
    ac.abort();
    const r = await p;
    expect(r.ok).toBe(false);
  });

  it("fetchUris words a failure as the agent's launch failure, with the container id and the cause", async () => {
    const sb = join(sandbox(), 'runs', 'c0ffee');
    const msg = await fetchUris(new Fetcher({ cacheDir: join(dir, 'cache-hook') }), { directory: sb }, { value: 'true', uris: [{ value: `${srv.url}/nope.tgz` }] });
    expect(msg).toBe(`Failed to fetch all URIs for container 'c0ffee': Failed to fetch '${srv.url}/nope.tgz': Error downloading resource, received HTTP return code 404`);
    expect(await fetchUris(undefined, { directory: sb }, { value: 'true' })).toBeUndefined();
    expect(await fetchUris(undefined, { directory: sb }, { value: 'true', uris: [{ value: '/x' }] })).toMatch(/no fetcher configured/);
  });
});

describe('fetcher naming rules', () => {
  it.each([
    [{ value: 'http://h/a/b/kubelet' }, 'kubelet'],
    [{ value: 'https://h/dl/bundle.tar.gz?sig=1' }, 'bundle.tar.gz'],
    [{ value: 'http://h/a%20b.txt' }, 'a b.txt'],
    [{ value: '/opt/x/tool' }, 'tool'],
    [{ value: 'http://h/x', output_file: 'sub/dir/name' }, 'sub/dir/name'],
  ])('%j is stored as %s', (uri, name) => expect(destinationName(uri)).toBe(name));

  it.each([
    ['a.tar', 'tar'],
    ['a.tar.gz', 'tar'],
    ['a.TGZ', 'tar'],
    ['a.tar.bz2', 'tar'],
    ['a.txz', 'tar'],
    ['a.zip', 'zip'],
    ['a.gz', 'gz'],
    ['kubelet', undefined],
    ['a.tar.gz.sig', undefined],
  ])('%s is archive kind %s', (name, kind) => expect(archiveKind(name)).toBe(kind));
});
