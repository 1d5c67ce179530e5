import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { containerdRegistryMirror, imageRef, NODE_IMAGE_NAMES, NODE_RECIPE_VERSION, nodeArtifacts, readNodeInstalled, registryTagLink, type NodeBinaries, type NodeStamp } from './node-artifacts.js';
import { RECIPE_VERSION } from './paths.js';
import { registryConfig } from './registry.js';

describe('image references', () => {
  it('names every image under registry.kube-mesos.local', () => {
    expect(nodeArtifacts('/c').images).toEqual({
      pause: 'registry.kube-mesos.local/pause:3.4',
      busybox: 'registry.kube-mesos.local/busybox:1.35',
      web: 'registry.kube-mesos.local/web:1.0',
    });
    expect(imageRef('pause')).toBe('registry.kube-mesos.local/pause:3.4');
  });

  it('puts the kubelet next to the servers and the registry storage under node/', () => {
    const a = nodeArtifacts('/c');
    expect(a).toMatchObject({ kubelet: '/c/bin/kubelet', registryStorage: '/c/node/registry', cniBinDir: '/usr/lib/cni', runc: '/usr/sbin/runc', registryBinary: '/usr/bin/docker-registry' });
    expect(a.imageArchives.web).toBe('/c/node/images/web.tar');
  });
});

describe('containerdRegistryMirror', () => {
  it('maps registry.kube-mesos.local to the registry URL in the CRI plugin (containerd config v2)', () => {
    expect(containerdRegistryMirror('http://127.0.0.1:41234')).toBe(
      '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."registry.kube-mesos.local"]\n  endpoint = ["http://127.0.0.1:41234"]\n',
    );
  });
  it('keeps only scheme and host of the URL', () => {
    expect(containerdRegistryMirror('http://127.0.0.1:5000/v2/')).toContain('endpoint = ["http://127.0.0.1:5000"]');
  });
  it('rejects a URL that is not http(s)', () => {
    expect(() => containerdRegistryMirror('unix:///run/registry.sock')).toThrow(/expected http:\/\/ or https:\/\//);
  });
});

describe('registryConfig', () => {
  it('serves the storage dir on the address with deletes and upload purging off', () => {
    const c = registryConfig('/c/node/registry', '127.0.0.1:5000');
    expect(c).toContain('    rootdirectory: "/c/node/registry"\n');
    expect(c).toContain('  addr: "127.0.0.1:5000"\n');
    expect(c).toMatch(/delete:\n {4}enabled: false/);
    expect(c).toMatch(/uploadpurging:\n {6}enabled: false/);
  });
});

describe('readNodeInstalled', () => {
  let dir: string;
  let binaries: NodeBinaries;
  const stamp: NodeStamp = {
    recipe: NODE_RECIPE_VERSION,
    kubelet: 'Kubernetes v1.20.2',
    packages: { containerd: '1.6.20~ds1-1+b1' },
    images: Object.fromEntries(NODE_IMAGE_NAMES.map((n) => [n, { ref: imageRef(n), digest: `sha256:${'0'.repeat(64)}`, bytes: 1 }])) as NodeStamp['images'],
    builtAt: '',
    seconds: 1,
  };
  const exe = async (p: string) => {
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, '#!/bin/sh\n');
    await chmod(p, 0o755);
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'node-artifacts-test-'));
    const sys = (n: string) => join(dir, 'sys', n);
    binaries = { containerd: sys('containerd'), ctr: sys('ctr'), runc: sys('runc'), cniBinDir: sys('cni'), registry: sys('docker-registry'), skopeo: sys('skopeo') };
    for (const p of [binaries.containerd, binaries.ctr, binaries.runc, binaries.registry, join(binaries.cniBinDir, 'bridge'), join(dir, 'cache/bin/kubelet')]) await exe(p);
    await writeFile(join(dir, 'cache/stamp.json'), JSON.stringify({ recipe: RECIPE_VERSION }));
    for (const n of NODE_IMAGE_NAMES) {
      const link = registryTagLink(join(dir, 'cache/node/registry'), n);
      await mkdir(dirname(link), { recursive: true });
      await writeFile(link, `sha256:${'0'.repeat(64)}`);
    }
    await writeFile(join(dir, 'cache/node/stamp.json'), JSON.stringify(stamp));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('returns the stamp when everything is there', async () => {
    expect(await readNodeInstalled(join(dir, 'cache'), binaries)).toEqual(stamp);
  });

  it.each([
    ['the stamp', () => join(dir, 'cache/node/stamp.json')],
    ['the kubelet', () => join(dir, 'cache/bin/kubelet')],
    ['containerd', () => binaries.containerd],
    ['the CNI bridge plugin', () => join(binaries.cniBinDir, 'bridge')],
    ['the web image tag in the registry storage', () => registryTagLink(join(dir, 'cache/node/registry'), 'web')],
  ])('is null without %s', async (_what, path) => {
    await rm(path());
    expect(await readNodeInstalled(join(dir, 'cache'), binaries)).toBeNull();
  });

  it('is null for a stamp of another recipe', async () => {
    await writeFile(join(dir, 'cache/node/stamp.json'), JSON.stringify({ ...stamp, recipe: NODE_RECIPE_VERSION + 1 }));
    expect(await readNodeInstalled(join(dir, 'cache'), binaries)).toBeNull();
  });
});
