/**
 * The scheduler's artifact server: serves the executor bundle and the kubelet binary from the scheduler's own files so
 * Mesos agents fetch them (CommandInfo.uris) instead of having them installed.
 *
 * URLs are content-addressed, `/artifacts/<sha256 first 16 hex>/<name>`: the Mesos fetcher caches by URI, so a new
 * build must get a new URI or agents keep running the old one from their cache. A request for any other digest is a
 * 404 (the file changed since, and the agent would get bytes that do not match what it asked for). Files are hashed
 * once at start; a file replaced while the server runs is re-hashed when its size or mtime changes.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

import { pipeline } from 'node:stream/promises';
import type { Logger } from '../telemetry/log.js';

export interface ArtifactSpec {
  /** The name agents store it as (the URL's last segment). */
  name: string;
  /** Path on the scheduler's disk. */
  path: string;
}

export interface ArtifactServerOptions {
  artifacts: readonly ArtifactSpec[];
  /** `host:port` to listen on (port 0 = any). */
  listen: { host: string; port: number };
  /** Base URL agents use (e.g. `http://kube-mesos.kube-system.svc:10252`); default: the listen address. */
  advertiseUrl?: string;
  /** PEM certificate and key: serve https. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  log: Logger;
}

export interface Artifact {
  name: string;
  path: string;
  sha256: string;
  bytes: number;
  /** The content-addressed URL agents fetch. */
  url: string;
}

export interface RunningArtifactServer {
  /** Each artifact with its URL, by name. */
  artifacts: ReadonlyMap<string, Artifact>;
  baseUrl: string;
  /** Bytes and requests served, for metrics and tests. */
  stats(): { requests: number; bytes: number; notFound: number };
  stop(): Promise<void>;
}

interface Entry extends Artifact {
  digest: string;
  mtimeMs: number;
}

async function hashFile(path: string): Promise<{ sha256: string; st: Stats }> {
  const st = await stat(path);
  if (!st.isFile()) throw new Error(`artifact ${path} is not a regular file`);
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return { sha256: h.digest('hex'), st };
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Starts the server; rejects with a clear error when an artifact is missing or the address is taken. */
export async function startArtifactServer(o: ArtifactServerOptions): Promise<RunningArtifactServer> {
  const entries = new Map<string, Entry>();
  for (const a of o.artifacts) {
    if (!SAFE_NAME.test(a.name)) throw new Error(`artifact name "${a.name}" must be a plain file name`);
    if (entries.has(a.name)) throw new Error(`artifact name "${a.name}" is given twice`);
    let h: { sha256: string; st: Stats };
    try {
      h = await hashFile(a.path);
    } catch (err) {
      throw new Error(`artifact ${a.name}: cannot read ${a.path}: ${(err as Error).message}`);
    }
    entries.set(a.name, { name: a.name, path: a.path, sha256: h.sha256, digest: h.sha256.slice(0, 16), bytes: h.st.size, mtimeMs: h.st.mtimeMs, url: '' });
  }
  const counters = { requests: 0, bytes: 0, notFound: 0 };
  const log = o.log.child({ component: 'artifact-server' });

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    counters.requests++;
    const fail = (code: number, msg: string) => {
      if (code === 404) counters.notFound++;
      res.writeHead(code, { 'Content-Type': 'text/plain' });
      res.end(`${msg}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'only GET and HEAD');
    const m = /^\/artifacts\/([0-9a-f]{16})\/([^/?#]+)$/.exec((req.url ?? '').split('?')[0]);
    if (!m) return fail(404, 'not an artifact URL: /artifacts/<digest>/<name>');
    const e = entries.get(m[2]);
    if (!e) return fail(404, `no artifact named ${m[2]}`);
    void (async () => {
      // Replaced on disk since it was hashed: hash again, so the digest in the URL always matches the bytes served.
      const st = await stat(e.path).catch(() => undefined);
      if (!st) return fail(404, `artifact ${e.name} is gone from the scheduler's disk`);
      if (st.size !== e.bytes || st.mtimeMs !== e.mtimeMs) {
        const h = await hashFile(e.path);
        Object.assign(e, { sha256: h.sha256, digest: h.sha256.slice(0, 16), bytes: h.st.size, mtimeMs: h.st.mtimeMs, url: `${base}/artifacts/${h.sha256.slice(0, 16)}/${e.name}` });
        log.warn({ artifact: e.name, url: e.url }, 'artifact changed on disk; new executors get the new URL');
      }
      if (m[1] !== e.digest) return fail(404, `artifact ${e.name} is now ${e.digest}, not ${m[1]}`);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(e.bytes), ETag: `"${e.sha256}"`, 'Cache-Control': 'public, max-age=31536000, immutable' });
      if (req.method === 'HEAD') return res.end();
      log.info({ artifact: e.name, from: req.socket.remoteAddress }, 'artifact fetched');
      await pipeline(createReadStream(e.path), res);
      counters.bytes += e.bytes;
    })().catch((err: unknown) => {
      log.warn({ artifact: e.name, err }, 'artifact download failed');
      if (!res.headersSent) fail(500, 'cannot read the artifact');
      else res.destroy();
    });
  };

  const server = o.tls ? https.createServer({ cert: o.tls.cert, key: o.tls.key }, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`artifact server cannot listen on ${o.listen.host}:${o.listen.port}: ${err.message}`)));
    server.listen(o.listen.port, o.listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const base = (o.advertiseUrl ?? `${o.tls ? 'https' : 'http'}://${host}:${addr.port}`).replace(/\/+$/, '');
  for (const e of entries.values()) e.url = `${base}/artifacts/${e.digest}/${e.name}`;
  log.info({ url: base, artifacts: [...entries.values()].map((e) => ({ name: e.name, bytes: e.bytes, url: e.url })) }, 'artifact server listening');
  return {
    artifacts: entries,
    baseUrl: base,
    stats: () => ({ ...counters }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a PEM file for the server's TLS, with the path in the error. */
export async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`${what} ${path}: ${(err as Error).message}`);
  }
}

