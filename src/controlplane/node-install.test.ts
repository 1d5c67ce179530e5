import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Runner } from './exec.js';
import { InstallError } from './install.js';
import { imageRef, NODE_IMAGE_NAMES, NODE_RECIPE_VERSION, registryTagLink, type NodeBinaries, type NodeStamp } from './node-artifacts.js';
import { installNode, NODE_PACKAGES } from './node-install.js';
import { RECIPE_VERSION, SERVERS } from './paths.js';

describe('installNode', () => {
  let dir: string;
  let cacheDir: string;
  let binaries: NodeBinaries;
  const calls: string[] = [];
  const dpkg = (installed: string[]): Runner => async (cmd, args) => {
    calls.push([cmd, ...args].join(' '));
    if (cmd === 'dpkg-query') return { code: 0, output: installed.map((p) => `${p} install ok installed\n`).join('') };
    return { code: 127, output: `unexpected ${cmd}` };
  };
  const exe = async (p: string) => {
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, '#!/bin/sh\necho Kubernetes v1.20.2\n');
    await chmod(p, 0o755);
  };
  const stamp: NodeStamp = {
    recipe: NODE_RECIPE_VERSION,
    kubelet: 'Kubernetes v1.20.2',
    packages: {},
    images: Object.fromEntries(NODE_IMAGE_NAMES.map((n) => [n, { ref: imageRef(n), digest: `sha256:${'1'.repeat(64)}`, bytes: 1 }])) as NodeStamp['images'],
    builtAt: '',
    seconds: 1,
  };
  const installEverything = async () => {
    for (const n of NODE_IMAGE_NAMES) {
      const link = registryTagLink(join(cacheDir, 'node/registry'), n);
      await mkdir(dirname(link), { recursive: true });
      await writeFile(link, stamp.images[n].digest);
    }
    await writeFile(join(cacheDir, 'node/stamp.json'), JSON.stringify(stamp));
  };
  beforeEach(async () => {
    calls.length = 0;
    dir = await mkdtemp(join(tmpdir(), 'node-install-test-'));
    cacheDir = join(dir, 'cache');
    const sys = (n: string) => join(dir, 'sys', n);
    binaries = { containerd: sys('containerd'), ctr: sys('ctr'), runc: sys('runc'), cniBinDir: sys('cni'), registry: sys('docker-registry'), skopeo: sys('skopeo') };
    for (const p of [binaries.containerd, binaries.ctr, binaries.runc, binaries.registry, join(binaries.cniBinDir, 'bridge'), join(cacheDir, 'bin/kubelet')]) await exe(p);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('returns the stamp without root and with one dpkg-query when everything is there', async () => {
    await installEverything();
    const progress: string[] = [];
    const r = await installNode({ cacheDir, binaries, run: dpkg(NODE_PACKAGES), isRoot: () => false, progress: (l) => progress.push(l) });
    expect(r).toMatchObject({ cached: true, stamp });
    expect(calls).toEqual([`dpkg-query -W -f=\${Package} \${Status}\\n ${NODE_PACKAGES.join(' ')}`]);
    expect(progress).toEqual([expect.stringMatching(/^node side already installed in .*\/node \(kubelet Kubernetes v1.20.2, images registry.kube-mesos.local\/pause:3.4, /)]);
  });

  it('refuses without root, naming the missing packages and the images', async () => {
    const err = await installNode({ cacheDir, binaries, run: dpkg(NODE_PACKAGES.filter((p) => p !== 'skopeo')), isRoot: () => false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstallError);
    expect((err as Error).message).toMatch(/must run as root: it installs Debian packages skopeo and the node images into .*\/cache\/node$/);
  });

  it('asks for the control-plane install first when the kubelet has not been built', async () => {
    await rm(join(cacheDir, 'bin/kubelet'));
    await writeFile(join(cacheDir, 'stamp.json'), JSON.stringify({ recipe: RECIPE_VERSION, versions: {} }));
    const err = await installNode({ cacheDir, binaries, run: dpkg(NODE_PACKAGES), isRoot: () => true }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no kubelet in .*\/cache\/bin: the control-plane install builds it/);
  });

  it('redoes the images when a tag is missing from the registry storage, and says why it cannot without pause.c', async () => {
    await installEverything();
    await rm(registryTagLink(join(cacheDir, 'node/registry'), 'web'));
    for (const s of SERVERS) await exe(join(cacheDir, 'bin', s));
    await writeFile(join(cacheDir, 'stamp.json'), JSON.stringify({ recipe: RECIPE_VERSION, versions: { kubelet: 'Kubernetes v1.20.2' } }));
    const err = await installNode({ cacheDir, binaries, run: dpkg(NODE_PACKAGES), isRoot: () => true }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/build\/pause\/linux\/pause.c is not in .*\/cache\/src\/pause.c: run `kube-mesos control-plane install --force`/);
  });
});
