import { describe, expect, it, beforeEach, afterEach } from '@jest/globals';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunOptions, RunResult, Runner } from './exec.js';
import { debSrcEntry, hasDebSrc, installControlPlane, InstallError, missingPackages, PACKAGES } from './install.js';
import { BUILT, RECIPE_VERSION } from './paths.js';

const DEB822 = `Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('hasDebSrc', () => {
  it.each([
    ['deb822 deb only', false, [{ name: 'debian.sources', text: DEB822 }]],
    ['deb822 with deb-src', true, [{ name: 'debian.sources', text: DEB822.replace('Types: deb', 'Types: deb deb-src') }]],
    ['deb822 deb-src disabled', false, [{ name: 'src.sources', text: 'Types: deb-src\nEnabled: no\n' }]],
    ['one-line deb only', false, [{ name: 'sources.list', text: 'deb http://deb.debian.org/debian bookworm main\n' }]],
    ['one-line deb-src', true, [{ name: 'sources.list', text: 'deb-src http://deb.debian.org/debian bookworm main\n' }]],
    ['commented deb-src', false, [{ name: 'sources.list', text: '# deb-src http://deb.debian.org/debian bookworm main\n' }]],
    ['nothing', false, []],
  ])('%s → %s', (_what, want, files) => {
    expect(hasDebSrc(files)).toBe(want);
  });
});

describe('debSrcEntry', () => {
  it('copies a deb822 file as deb-src', () => {
    const e = debSrcEntry([{ name: 'debian.sources', text: DEB822 }]);
    expect(e?.name).toBe('kube-mesos-deb-src.sources');
    expect(e?.text).toBe(DEB822.replace('Types: deb', 'Types: deb-src'));
  });
  it('turns one-line deb entries into deb-src lines', () => {
    const e = debSrcEntry([{ name: 'sources.list', text: 'deb http://a bookworm main\n# deb http://b x y\ndeb http://c bookworm-security main\n' }]);
    expect(e).toEqual({ name: 'kube-mesos-deb-src.list', text: 'deb-src http://a bookworm main\ndeb-src http://c bookworm-security main\n' });
  });
  it('is null when there is nothing to copy', () => {
    expect(debSrcEntry([{ name: 'sources.list', text: '# empty\n' }])).toBeNull();
  });
});

describe('missingPackages', () => {
  it('keeps only what dpkg reports as "install ok installed"', async () => {
    const out = 'golang-go install ok installed\nrsync deinstall ok config-files\netcd-server:amd64 install ok installed\n';
    const fake: Runner = async () => ({ code: 1, output: out + 'dpkg-query: no packages found matching make\n' });
    expect(await missingPackages(fake, ['golang-go', 'rsync', 'etcd-server', 'make'])).toEqual(['rsync', 'make']);
  });
});

/** A scripted apt/dpkg/make: records calls, answers from `script`. */
function fakeSystem(script: { installed: string[]; sourceVersion?: string; made?: string[]; aptInstall?: number[]; aptUpdate?: number; make?: number; version?: string; vendoredReflect2?: string[] }) {
  const calls: string[] = [];
  let aptInstallCalls = 0;
  const run: Runner = async (cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> => {
    calls.push([cmd.split('/').pop(), ...args].join(' '));
    if (opts.logFile) await writeFile(opts.logFile, `$ ${cmd} ${args.join(' ')}\n`, { flag: 'a' });
    if (cmd === 'dpkg-query') return { code: 0, output: script.installed.map((p) => `${p} install ok installed\n`).join('') };
    if (cmd === 'apt-get' && args[0] === 'update') return { code: script.aptUpdate ?? 0, output: script.aptUpdate ? 'E: Could not resolve deb.debian.org' : '' };
    if (cmd === 'apt-get' && args[0] === 'install') {
      const code = script.aptInstall?.[aptInstallCalls++] ?? 0;
      if (code === 0) script.installed.push(...args.slice(3));
      return { code, output: code ? 'E: Unable to locate package etcd-server' : '' };
    }
    if (cmd === 'apt-cache') return { code: 0, output: 'Package: kubernetes\nVersion: 1.20.5+really1.20.2-1.1\n' };
    if (cmd === 'apt-get' && args[0] === 'source') {
      const tree = join(opts.cwd!, 'kubernetes-1.20.2');
      await mkdir(join(tree, 'vendor/github.com/modern-go/reflect2'), { recursive: true });
      await writeFile(join(tree, 'vendor/github.com/modern-go/reflect2/OLD'), 'v1.0.1');
      await mkdir(join(tree, 'build/pause/linux'), { recursive: true });
      await writeFile(join(tree, 'build/pause/linux/pause.c'), 'int main() { return 0; }\n');
      await writeFile(join(opts.cwd!, `kubernetes_${script.sourceVersion ?? '1.20.2-1'}.dsc`), '');
      return { code: 0, output: '' };
    }
    if (cmd === 'make') {
      script.vendoredReflect2 = await readdir(join(opts.cwd!, 'vendor/github.com/modern-go/reflect2'));
      script.made = args[0].replace(/^WHAT=/, '').split(' ').map((w) => w.replace(/^cmd\//, ''));
      opts.onLine?.('+++ [1124 14:28:25] Building go targets for linux/amd64:');
      opts.onLine?.('    cmd/kube-apiserver');
      opts.onLine?.('compiling noise');
      if (script.make) return { code: script.make, output: 'go: some package failed' };
      const out = join(opts.cwd!, '_output/local/bin/linux/amd64');
      await mkdir(out, { recursive: true });
      for (const s of script.made) await writeFile(join(out, s), '#!/bin/sh\n');
      return { code: 0, output: '' };
    }
    if (args[0] === '--version') return { code: 0, output: `${script.version ?? 'Kubernetes v1.20.2'}\n` };
    return { code: 127, output: `unexpected command ${cmd}` };
  };
  return { run, calls, script };
}

describe('installControlPlane', () => {
  let dir: string;
  let opts: { cacheDir: string; aptDir: string; aptListsDir: string; reflect2Dir: string; isRoot: () => boolean };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'install-test-'));
    await mkdir(join(dir, 'apt/sources.list.d'), { recursive: true });
    await writeFile(join(dir, 'apt/sources.list.d/debian.sources'), DEB822);
    await mkdir(join(dir, 'lists'));
    await mkdir(join(dir, 'reflect2'));
    await writeFile(join(dir, 'reflect2/NEW'), 'v1.0.2');
    opts = { cacheDir: join(dir, 'cache'), aptDir: join(dir, 'apt'), aptListsDir: join(dir, 'lists'), reflect2Dir: join(dir, 'reflect2'), isRoot: () => true };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('builds into the cache, records versions, then is idempotent without root', async () => {
    const sys = fakeSystem({ installed: PACKAGES.filter((p) => p !== 'etcd-server') });
    const progress: string[] = [];
    const r = await installControlPlane({ ...opts, run: sys.run, progress: (l) => progress.push(l) });
    expect(r.cached).toBe(false);
    expect(r.stamp.versions).toEqual({ 'kube-apiserver': 'Kubernetes v1.20.2', 'kube-controller-manager': 'Kubernetes v1.20.2', 'kube-scheduler': 'Kubernetes v1.20.2', kubelet: 'Kubernetes v1.20.2' });
    expect(r.stamp.recipe).toBe(RECIPE_VERSION);
    expect(r.stamp.sourceVersion).toBe('1.20.2-1');
    expect(sys.calls).toContain('apt-get update -q'); // empty lists dir → update before install
    expect(sys.calls).toContain('apt-get install -y -q etcd-server');
    expect(sys.calls).toContain(`make WHAT=${BUILT.map((s) => `cmd/${s}`).join(' ')}`);
    expect(progress).toContain('  +++ [1124 14:28:25] Building go targets for linux/amd64:');
    expect(progress).toContain('  cmd/kube-apiserver');
    expect(progress).not.toContain('  compiling noise');
    expect((await readdir(join(opts.cacheDir, 'bin'))).sort()).toEqual([...BUILT].sort());
    expect(await readFile(join(opts.cacheDir, 'src/pause.c'), 'utf8')).toMatch(/int main/); // kept for the node images
    expect(sys.script.vendoredReflect2).toEqual(['NEW']); // Debian's reflect2 replaced the vendored one before make
    await expect(readdir(join(opts.cacheDir, 'build'))).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(opts.aptDir, 'sources.list.d/kube-mesos-deb-src.sources'), 'utf8')).toMatch(/^Types: deb-src$/m);

    const again = fakeSystem({ installed: [...PACKAGES] });
    const second = await installControlPlane({ ...opts, run: again.run, isRoot: () => false });
    expect(second.cached).toBe(true);
    expect(second.stamp).toEqual(r.stamp);
    expect(again.calls).toEqual([`dpkg-query -W -f=\${Package} \${Status}\\n ${PACKAGES.join(' ')}`]);
  });

  it('rebuilds when a binary has gone missing', async () => {
    await installControlPlane({ ...opts, run: fakeSystem({ installed: [...PACKAGES] }).run });
    await rm(join(opts.cacheDir, 'bin/kube-scheduler'));
    const sys = fakeSystem({ installed: [...PACKAGES], version: 'Kubernetes v1.20.3' });
    const r = await installControlPlane({ ...opts, run: sys.run });
    expect(r.cached).toBe(false);
    expect(r.stamp.versions['kube-scheduler']).toBe('Kubernetes v1.20.3');
  });

  it('builds only the kubelet into a cache of the same source built before the kubelet was, keeping its servers', async () => {
    await installControlPlane({ ...opts, run: fakeSystem({ installed: [...PACKAGES] }).run });
    const stampPath = join(opts.cacheDir, 'stamp.json');
    const old = JSON.parse(await readFile(stampPath, 'utf8')) as { versions: Record<string, string> };
    delete old.versions.kubelet;
    await writeFile(stampPath, JSON.stringify({ ...old, versions: { ...old.versions, 'kube-apiserver': 'Kubernetes v1.20.2 (old)' } }));
    await rm(join(opts.cacheDir, 'bin/kubelet'));

    const notRoot = await installControlPlane({ ...opts, run: fakeSystem({ installed: [...PACKAGES] }).run, isRoot: () => false }).catch((e: unknown) => e);
    expect((notRoot as Error).message).toMatch(/must run as root: it installs the kubelet into /);

    const sys = fakeSystem({ installed: [...PACKAGES], version: 'Kubernetes v1.20.2 (new)' });
    const r = await installControlPlane({ ...opts, run: sys.run });
    expect(sys.script.made).toEqual(['kubelet']);
    expect(sys.calls).toContain('make WHAT=cmd/kubelet');
    expect(r.stamp.recipe).toBe(RECIPE_VERSION);
    expect(r.stamp.versions['kube-apiserver']).toBe('Kubernetes v1.20.2 (old)');
    expect(r.stamp.versions.kubelet).toBe('Kubernetes v1.20.2 (new)');
  });

  it('rebuilds everything when the fetched source differs from the one the servers came from', async () => {
    await installControlPlane({ ...opts, run: fakeSystem({ installed: [...PACKAGES] }).run });
    await rm(join(opts.cacheDir, 'bin/kubelet'));
    await rm(join(opts.cacheDir, 'build'), { recursive: true, force: true });
    const sys = fakeSystem({ installed: [...PACKAGES], sourceVersion: '1.20.2-2' });
    const r = await installControlPlane({ ...opts, run: sys.run });
    expect(sys.script.made).toEqual([...BUILT]);
    expect(r.stamp.sourceVersion).toBe('1.20.2-2');
  });

  it('refuses clearly when not root and there is work to do', async () => {
    const sys = fakeSystem({ installed: PACKAGES.filter((p) => p !== 'rsync') });
    const err = await installControlPlane({ ...opts, run: sys.run, isRoot: () => false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstallError);
    expect((err as Error).message).toMatch(/must run as root.*Debian packages rsync and the servers and the kubelet into .*\/bin/);
    expect(sys.calls.some((c) => c.startsWith('apt-get'))).toBe(false);
  });

  it('reports apt failures with apt\'s own message and the log path', async () => {
    await writeFile(join(opts.aptListsDir, 'x_Packages'), '');
    const sys = fakeSystem({ installed: [], aptInstall: [100], aptUpdate: 100 });
    const err = (await installControlPlane({ ...opts, run: sys.run }).catch((e: unknown) => e)) as InstallError;
    expect(err).toBeInstanceOf(InstallError);
    expect(err.message).toMatch(/apt-get update failed \(apt-get exited with 100\):\nE: Could not resolve deb.debian.org/);
    expect(err.logFile).toBe(join(opts.cacheDir, 'build.log'));
    expect(err.message).toContain(`(full log: ${join(opts.cacheDir, 'build.log')})`);
    expect(sys.calls.filter((c) => c.startsWith('apt-get'))).toEqual([`apt-get install -y -q ${PACKAGES.join(' ')}`, 'apt-get update -q']);
  });

  it('retries apt-get install once after an update', async () => {
    await writeFile(join(opts.aptListsDir, 'x_Packages'), '');
    const sys = fakeSystem({ installed: PACKAGES.filter((p) => p !== 'make'), aptInstall: [100, 0] });
    const r = await installControlPlane({ ...opts, run: sys.run });
    expect(r.cached).toBe(false);
    expect(sys.calls.filter((c) => c.startsWith('apt-get i') || c.startsWith('apt-get u'))).toEqual(['apt-get install -y -q make', 'apt-get update -q', 'apt-get install -y -q make']);
  });

  it('names the build log when the build fails, and writes no stamp', async () => {
    const sys = fakeSystem({ installed: [...PACKAGES], make: 2 });
    const err = (await installControlPlane({ ...opts, run: sys.run }).catch((e: unknown) => e)) as InstallError;
    expect(err).toBeInstanceOf(InstallError);
    expect(err.message).toMatch(/make \(Kubernetes build\) failed \(make exited with 2\):\ngo: some package failed/);
    expect(err.logFile).toBe(join(opts.cacheDir, 'build.log'));
    expect(await readFile(join(opts.cacheDir, 'build.log'), 'utf8')).toMatch(/\$ make WHAT=/);
    await expect(readFile(join(opts.cacheDir, 'stamp.json'))).rejects.toThrow();
  });

  it('keeps the build tree when asked to', async () => {
    await installControlPlane({ ...opts, keepBuildTree: true, run: fakeSystem({ installed: [...PACKAGES] }).run });
    expect((await readdir(join(opts.cacheDir, 'build'))).sort()).toEqual(['gopath', 'src']);
  });

  it('does not fetch the source or replace reflect2 twice after a failed build', async () => {
    await installControlPlane({ ...opts, run: fakeSystem({ installed: [...PACKAGES], make: 2 }).run }).catch(() => {});
    const sys = fakeSystem({ installed: [...PACKAGES] });
    const progress: string[] = [];
    await installControlPlane({ ...opts, run: sys.run, progress: (l) => progress.push(l) });
    expect(sys.calls.some((c) => c.startsWith('apt-get source'))).toBe(false);
    // nor touch vendor/ again (that would make make rerun the code generators)
    expect(progress.some((l) => l.startsWith('replacing vendored'))).toBe(false);
    expect(sys.script.vendoredReflect2).toEqual(['NEW']);
  });
});

