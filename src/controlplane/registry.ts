import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../telemetry/log.js';
import { ManagedProcess } from './child.js';
import { probe } from './health.js';
import { NODE_BINARIES } from './node-artifacts.js';
import { freePort } from './ports.js';

export interface RegistryOptions {
  /** The registry's filesystem storage root (`nodeArtifacts(cache).registryStorage`). */
  storageDir: string;
  /** `host:port` to listen on; loopback only. Port 0 or omitted: a free port on 127.0.0.1. */
  listen?: string;
  /** Debian's docker-registry by default. */
  binary?: string;
  /** Where the registry's own log goes; a file in a temporary dir by default. */
  logFile?: string;
  /** Give up waiting for `GET /v2/` after this long. */
  readyTimeoutMs?: number;
  log?: Logger;
  signal?: AbortSignal;
}

export interface Registry {
  /** e.g. `http://127.0.0.1:41234`: the containerd mirror endpoint for `registry.kube-mesos.local`. */
  url: string;
  /** `127.0.0.1:41234`, for skopeo/ctr references. */
  address: string;
  pid: number | undefined;
  /** Resolves with the registry's exit if it dies on its own. */
  failure: Promise<Error>;
  /** SIGTERM, SIGKILL after 5 s; removes its temporary config. Idempotent. */
  stop(): Promise<void>;
}

/** The registry's config: filesystem storage, no auth, loopback HTTP, deletes off, quiet log. Pure. */
export function registryConfig(storageDir: string, address: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(storageDir)}`,
    '  delete:',
    '    enabled: false',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${JSON.stringify(address)}`,
    '',
  ].join('\n');
}

/** Checks `host:port` is a loopback listen address; returns the address with a concrete port. */
async function resolveListen(listen: string | undefined): Promise<string> {
  const m = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):(\d+)$/.exec(listen ?? '127.0.0.1:0');
  if (!m) throw new Error(`registry listen address ${JSON.stringify(listen)}: expected a loopback host:port such as 127.0.0.1:5000`);
  const host = m[1] === 'localhost' ? '127.0.0.1' : m[1];
  const port = Number(m[2]) || (await freePort(host.replace(/^\[|\]$/g, '')));
  return `${host}:${port}`;
}

/**
 * Serves `storageDir` with docker-registry (distribution 2.8) on loopback without TLS or auth, and resolves once
 * `GET /v2/` answers 200. Pushes are accepted (the install pushes through it); serve the install's storage to pulls.
 */
export async function startRegistry(opts: RegistryOptions): Promise<Registry> {
  const address = await resolveListen(opts.listen);
  const confDir = await mkdtemp(join(tmpdir(), 'kube-mesos-registry-'));
  const configPath = join(confDir, 'config.yml');
  await mkdir(opts.storageDir, { recursive: true });
  await writeFile(configPath, registryConfig(opts.storageDir, address));
  const proc = new ManagedProcess(
    // Environment variables override the config file (REGISTRY_*): start from a clean slate.
    { name: 'docker-registry', cmd: opts.binary ?? NODE_BINARIES.registry, args: ['serve', configPath], logFile: opts.logFile ?? join(confDir, 'registry.log'), env: { PATH: process.env.PATH } },
    { log: opts.log, graceMs: 5000 },
  );
  let failed!: (e: Error) => void;
  const failure = new Promise<Error>((r) => (failed = r));
  proc.onUnexpectedExit = (info) => failed(new Error(`docker-registry exited (${info.signal ?? `code ${info.code}`}); log: ${proc.spec.logFile}`));
  proc.start();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await proc.stop();
      if (!opts.logFile) await rm(confDir, { recursive: true, force: true });
      else await rm(configPath, { force: true });
    })());

  const url = `http://${address}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
  let detail = 'no answer yet';
  let exited: Error | undefined;
  void failure.then((e) => (exited = e));
  while (!exited) {
    if (opts.signal?.aborted) {
      await stop();
      throw new Error('registry start aborted');
    }
    const r = await probe(`${url}/v2/`, { timeoutMs: 1000 });
    if (!('error' in r) && r.status === 200) return { url, address, pid: proc.pid, failure, stop };
    detail = 'error' in r ? r.error : `HTTP ${r.status}`;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry on ${address} not ready after ${opts.readyTimeoutMs ?? 15_000} ms (${detail}); log: ${proc.spec.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw exited;
}
