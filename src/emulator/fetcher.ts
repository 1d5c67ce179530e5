/**
 * The Mesos fetcher, as the agent runs it before it starts a container (apache/mesos docs/fetcher.md,
 * src/launcher/fetcher.cpp, src/slave/containerizer/fetcher.cpp): every `CommandInfo.URI` is downloaded into the
 * executor's sandbox before its command starts.
 *
 * - `http://`, `https://`, `file://` and absolute paths; anything else fails ("unsupported URI scheme").
 * - `cache: true`: an agent-wide cache keyed by (user, URI); the first fetch downloads into the cache, later ones copy
 *   from it (concurrent fetches of one URI share the one download). Least-recently-used entries not in use are evicted
 *   beyond `cacheBytes` (the agent's `--fetcher_cache_size`, 2 GB by default).
 * - `extract` (the proto's default is true): `.tar`, `.tar.gz`/`.tgz`, `.tar.bz2`/`.tbz2`, `.tar.xz`/`.txz`, `.zip` are
 *   extracted into the sandbox and kept; `.gz` alone is gunzipped; any other file is just stored.
 * - `executable: true`: mode 0755, and never extracted (fetcher.cpp skips extraction for executables).
 * - `output_file`: the name (relative to the sandbox) to store the download as; absolute or `..` paths are refused.
 * - The first failing URI fails the whole fetch; the result names the URI and the cause. The agent turns that into
 *   TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED, "Failed to launch container: Failed to fetch all URIs for container
 *   '<id>': …" (the real agent's message stops at the fetcher's exit status and leaves the cause in the sandbox's
 *   stderr; the emulator writes it to both).
 *
 * A download that stalls (no byte for `stallTimeoutMs`, the agent's `--fetcher_stall_timeout`, 60 s) fails.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { appendFile, chmod, copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { CommandInfo, CommandURI } from '../mesos/types.js';

export interface FetcherOptions {
  /** The agent-wide cache directory (the agent's `--fetcher_cache_dir`). */
  cacheDir: string;
  /** Cache size limit in bytes; 2 GiB by default. */
  cacheBytes?: number;
  /** No byte received for this long fails the download; 60 s by default. */
  stallTimeoutMs?: number;
  /** Extra CA certificates (PEM) trusted for https URIs, e.g. the scheduler's artifact server's CA. */
  ca?: string | Buffer;
  /** Redirects followed per download; 10 by default. */
  maxRedirects?: number;
}

export type FetchOutcome = { ok: true; files: FetchedFile[] } | { ok: false; uri: string; error: string };

export interface FetchedFile {
  uri: string;
  /** Absolute path of the file in the sandbox. */
  path: string;
  cacheHit: boolean;
  extracted: boolean;
}

interface CacheEntry {
  file: string;
  size: number;
  lastUsed: number;
  /** Fetches copying from this entry right now; an entry in use is never evicted. */
  users: number;
  ready: Promise<void>;
}

/** One agent's fetcher: its cache lives as long as the agent (the emulator), shared by all its containers. */
export class Fetcher {
  private readonly cache = new Map<string, CacheEntry>();
  private seq = 0;
  /** Use order for LRU eviction (a counter, not a clock). */
  private uses = 0;
  private readonly cacheBytes: number;
  private readonly stallMs: number;

  constructor(private readonly opts: FetcherOptions) {
    if (!opts.cacheDir) throw new Error('Fetcher: cacheDir is required');
    this.cacheBytes = opts.cacheBytes ?? 2 * 1024 ** 3;
    this.stallMs = opts.stallTimeoutMs ?? 60_000;
  }

  /**
   * Fetches `uris` into `sandbox` in order. The log goes to `<sandbox>/stderr` as the real fetcher's does (the
   * launcher appends the command's output after it). An aborted `signal` stops it with a failure.
   */
  async fetch(uris: readonly CommandURI[], sandbox: string, o: { user?: string; signal?: AbortSignal } = {}): Promise<FetchOutcome> {
    await mkdir(sandbox, { recursive: true });
    const log = (line: string) => appendFile(join(sandbox, 'stderr'), `${new Date().toISOString()} fetcher: ${line}\n`).catch(() => undefined);
    const files: FetchedFile[] = [];
    for (const uri of uris) {
      await log(`Fetching URI '${uri.value}'`);
      try {
        if (o.signal?.aborted) throw new Error('fetch aborted: the container is being destroyed');
        const f = await this.fetchOne(uri, sandbox, o.user ?? '', o.signal);
        files.push(f);
        await log(`Fetched '${uri.value}' to '${f.path}'${f.cacheHit ? ' (cache hit)' : ''}${f.extracted ? ' and extracted it' : ''}`);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        await log(`Failed to fetch '${uri.value}': ${error}`);
        return { ok: false, uri: uri.value, error };
      }
    }
    return { ok: true, files };
  }

  /** Cache entries (for tests and the emulator's state): key `user\0uri`. */
  cacheEntries(): { key: string; size: number }[] {
    return [...this.cache].map(([key, e]) => ({ key, size: e.size }));
  }

  private async fetchOne(uri: CommandURI, sandbox: string, user: string, signal?: AbortSignal): Promise<FetchedFile> {
    if (!uri.value) throw new Error('URI has no value');
    const name = destinationName(uri);
    const dest = join(sandbox, name);
    await mkdir(dirname(dest), { recursive: true });
    let cacheHit = false;
    if (uri.cache === true) {
      cacheHit = await this.fromCache(uri.value, user, dest, signal);
    } else {
      await download(uri.value, dest, { ca: this.opts.ca, stallMs: this.stallMs, signal, maxRedirects: this.opts.maxRedirects ?? 10 });
    }
    let extracted = false;
    if (uri.executable === true) await chmod(dest, 0o755);
    else if (uri.extract !== false) extracted = await extract(dest, dirname(dest));
    return { uri: uri.value, path: dest, cacheHit, extracted };
  }

  /** Copies the URI's cache entry to `dest`, downloading it first if no entry exists; true on a cache hit. */
  private async fromCache(value: string, user: string, dest: string, signal?: AbortSignal): Promise<boolean> {
    const k = `${user}\0${value}`;
    let e = this.cache.get(k);
    const hit = e !== undefined;
    if (!e) {
      const file = join(this.opts.cacheDir, `c${++this.seq}`);
      const entry: CacheEntry = { file, size: 0, lastUsed: 0, users: 0, ready: Promise.resolve() };
      entry.ready = (async () => {
        await mkdir(this.opts.cacheDir, { recursive: true });
        const tmp = `${file}.part`;
        try {
          await download(value, tmp, { ca: this.opts.ca, stallMs: this.stallMs, signal, maxRedirects: this.opts.maxRedirects ?? 10 });
          await rename(tmp, file);
        } catch (err) {
          await rm(tmp, { force: true });
          throw err;
        }
        entry.size = (await stat(file)).size;
      })();
      this.cache.set(k, entry);
      e = entry;
    }
    e.users++;
    try {
      try {
        await e.ready;
      } catch (err) {
        // A failed download leaves no entry behind: the next launch tries again (fetcher.cpp removes failed entries).
        if (this.cache.get(k) === e) this.cache.delete(k);
        throw err;
      }
      e.lastUsed = ++this.uses;
      await copyFile(e.file, dest);
    } finally {
      e.users--;
    }
    await this.evict();
    return hit;
  }

  private async evict(): Promise<void> {
    let total = [...this.cache.values()].reduce((s, e) => s + e.size, 0);
    const lru = [...this.cache].filter(([, e]) => e.users === 0 && e.size > 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [k, e] of lru) {
      if (total <= this.cacheBytes) break;
      this.cache.delete(k);
      total -= e.size;
      await rm(e.file, { force: true });
    }
  }
}

/** The file name a URI is stored under in the sandbox: `output_file`, else the last segment of the URI's path. */
export function destinationName(uri: CommandURI): string {
  if (uri.output_file !== undefined && uri.output_file !== '') {
    const n = normalize(uri.output_file);
    if (isAbsolute(n) || n === '..' || n.startsWith('../')) throw new Error(`output_file '${uri.output_file}' must be a path inside the sandbox`);
    return n;
  }
  const v = uri.value;
  let path = v;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    try {
      path = new URL(v).pathname;
    } catch {
      throw new Error(`invalid URI '${v}'`);
    }
  }
  const name = basename(decodeURIComponentSafe(path));
  if (!name || name === '/' || name === '.' || name === '..') throw new Error(`cannot tell a file name from URI '${v}'; set output_file`);
  return name;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Downloads (or copies, for local paths) `value` to `dest`. */
async function download(value: string, dest: string, o: { ca?: string | Buffer; stallMs: number; signal?: AbortSignal; maxRedirects: number }): Promise<void> {
  if (value.startsWith('/')) return copyLocal(value, dest);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    let p: string;
    try {
      p = fileURLToPath(value);
    } catch (err) {
      throw new Error(`invalid file URI: ${(err as Error).message}`);
    }
    return copyLocal(p, dest);
  }
  if (scheme === 'http' || scheme === 'https') return httpGet(value, dest, o, 0);
  throw new Error(scheme ? `unsupported URI scheme '${scheme}' (the fetcher takes http, https, file and absolute paths)` : 'a relative path needs the agent\'s --frameworks_home, which the emulator does not have');
}

async function copyLocal(path: string, dest: string): Promise<void> {
  try {
    await copyFile(path, dest);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === 'ENOENT' ? `local file '${path}' does not exist` : `cannot copy '${path}': ${e.message}`);
  }
}

function httpGet(url: string, dest: string, o: { ca?: string | Buffer; stallMs: number; signal?: AbortSignal; maxRedirects: number }, redirects: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`invalid URI '${url}'`));
      return;
    }
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.get(u, { ...(u.protocol === 'https:' && o.ca ? { ca: o.ca } : {}), signal: o.signal, timeout: o.stallMs }, (res) => {
      const code = res.statusCode ?? 0;
      if (code >= 300 && code < 400 && res.headers.location) {
        res.resume();
        if (redirects >= o.maxRedirects) {
          reject(new Error(`more than ${o.maxRedirects} redirects`));
          return;
        }
        httpGet(new URL(res.headers.location, u).toString(), dest, o, redirects + 1).then(resolve, reject);
        return;
      }
      if (code !== 200) {
        res.resume();
        reject(new Error(`Error downloading resource, received HTTP return code ${code}`));
        return;
      }
      // The socket timeout is a stall timeout: it fires only when no byte arrives for stallMs.
      pipeline(res, createWriteStream(dest)).then(resolve, (err: Error) => reject(new Error(`download interrupted: ${err.message}`)));
    });
    req.on('timeout', () => req.destroy(new Error(`download stalled: no data for ${o.stallMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code ? `${err.code}: ${err.message}` : err.message)));
  });
}

type ArchiveKind = 'tar' | 'zip' | 'gz';

/** Which archive a file name denotes, as fetcher.cpp's extract() decides by suffix. */
export function archiveKind(name: string): ArchiveKind | undefined {
  const n = name.toLowerCase();
  if (/\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz)$/.test(n)) return 'tar';
  if (n.endsWith('.zip')) return 'zip';
  if (n.endsWith('.gz')) return 'gz';
  return undefined;
}

/** Extracts an archive into `dir` with the system's tar/unzip/gzip as the real fetcher does; false for other files. */
async function extract(file: string, dir: string): Promise<boolean> {
  const kind = archiveKind(file);
  if (!kind) return false;
  const [cmd, args]: [string, string[]] =
    kind === 'tar' ? ['tar', ['-C', dir, '-xf', file]] : kind === 'zip' ? ['unzip', ['-o', '-q', '-d', dir, file]] : ['gzip', ['-d', '-f', file]];
  await new Promise<void>((resolve, reject) => {
    execFile(cmd, args, { timeout: 10 * 60_000 }, (err, _out, stderr) => {
      if (err) reject(new Error(`Failed to extract '${basename(file)}' with ${cmd}: ${(stderr || err.message).trim()}`));
      else resolve();
    });
  });
  return true;
}

/**
 * The launcher's hook: fetches the command's URIs into the container's sandbox. Returns the agent's launch-failure
 * message when a URI fails, undefined when all are in place (or there is nothing to fetch).
 */
export async function fetchUris(fetcher: Fetcher | undefined, spec: { directory: string }, cmd: CommandInfo, signal?: AbortSignal): Promise<string | undefined> {
  const uris = cmd.uris ?? [];
  if (uris.length === 0) return undefined;
  const containerId = basename(spec.directory);
  if (!fetcher) return `Failed to fetch all URIs for container '${containerId}': this agent has no fetcher configured`;
  const r = await fetcher.fetch(uris, spec.directory, { ...(cmd.user ? { user: cmd.user } : {}), ...(signal ? { signal } : {}) });
  return r.ok ? undefined : `Failed to fetch all URIs for container '${containerId}': Failed to fetch '${r.uri}': ${r.error}`;
}
