import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlaneError, startControlPlane } from './controlplane.js';
import { RECIPE_VERSION, SERVERS } from './paths.js';

/** Processes whose command line mentions `needle` (to prove nothing was left running). */
async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const cmd = await readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) pids.push(Number(d));
  }
  return pids;
}

// Real etcd, scripted stand-ins for the Kubernetes servers: exercises start-up failure handling in seconds.
describe('startControlPlane failures', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cp-test-'));
    await mkdir(join(dir, 'cache/bin'), { recursive: true });
    const versions = Object.fromEntries(SERVERS.map((s) => [s, 'Kubernetes v0.0.0-test']));
    await writeFile(join(dir, 'cache/stamp.json'), JSON.stringify({ recipe: RECIPE_VERSION, sourceVersion: 'test', versions, builtAt: '', buildSeconds: 0 }));
    for (const s of SERVERS) await fake(s, 'exec sleep 300');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const fake = async (server: string, body: string) => {
    const f = join(dir, 'cache/bin', server);
    await writeFile(f, `#!/bin/sh\n${body}\n`);
    await chmod(f, 0o755);
  };

  it('names the component and its log when it exits during start-up, and stops the rest', async () => {
    await fake('kube-apiserver', 'echo "E1124 boom: cannot listen" >&2; exit 1');
    const err = (await startControlPlane({ dir: join(dir, 'data'), cacheDir: join(dir, 'cache') }).catch((e: unknown) => e)) as ControlPlaneError;
    expect(err).toBeInstanceOf(ControlPlaneError);
    expect(err.component).toBe('kube-apiserver');
    expect(err.logFile).toBe(join(dir, 'data/logs/kube-apiserver.log'));
    expect(err.message).toMatch(/^kube-apiserver failed to start: exited \(code 1\) before becoming healthy; last log lines:\n[^]*E1124 boom: cannot listen/);
    expect(err.message).toContain(`(log: ${join(dir, 'data/logs/kube-apiserver.log')})`);
    expect(await processesMentioning(join(dir, 'data'))).toEqual([]); // etcd was stopped
    expect(await readFile(join(dir, 'data/logs/etcd.log'), 'utf8')).toMatch(/starting: \/usr\/bin\/etcd/);
  }, 30_000);

  it('gives up on a component that never becomes healthy', async () => {
    const err = (await startControlPlane({ dir: join(dir, 'data'), cacheDir: join(dir, 'cache'), readyTimeoutMs: 1500, graceMs: 500 }).catch(
      (e: unknown) => e,
    )) as ControlPlaneError;
    expect(err).toBeInstanceOf(ControlPlaneError);
    expect(err.component).toBe('kube-apiserver');
    expect(err.message).toMatch(/not healthy after 1.5 s \(https:\/\/127\.0\.0\.1:\d+\/readyz: .*ECONNREFUSED/);
    expect(await processesMentioning(join(dir, 'data'))).toEqual([]);
  }, 30_000);

  it('refuses to start without an install', async () => {
    await rm(join(dir, 'cache/bin/kube-controller-manager'));
    await expect(startControlPlane({ dir: join(dir, 'data'), cacheDir: join(dir, 'cache') })).rejects.toThrow(/not installed .*control-plane install/);
  });

  it('removes an ephemeral data dir when start-up fails', async () => {
    await fake('kube-controller-manager', 'exit 2');
    await fake('kube-apiserver', 'exit 1');
    await expect(startControlPlane({ dir: join(dir, 'data'), cacheDir: join(dir, 'cache'), ephemeral: true })).rejects.toBeInstanceOf(ControlPlaneError);
    await expect(readdir(join(dir, 'data'))).rejects.toThrow(/ENOENT/);
  }, 30_000);
});
