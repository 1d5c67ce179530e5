// The installed node side: the registry storage `kube-mesos control-plane install` filled serves every node image the
// way containerd pulls it (manifest by tag, config and layer blobs by digest), and skopeo sees the same digests.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { cacheDirFrom } from '../../src/cli/control-plane.js';
import { NODE_BINARIES, NODE_IMAGE_NAMES, NODE_IMAGES, nodeArtifacts, readNodeInstalled, WEB_IMAGE_PORT, type NodeImage, type NodeStamp } from '../../src/controlplane/node-artifacts.js';
import { fetchManifest } from '../../src/controlplane/node-install.js';
import { startRegistry, type Registry } from '../../src/controlplane/registry.js';

const cacheDir = cacheDirFrom(undefined, process.env);
let stamp: NodeStamp;
let registry: Registry;

beforeAll(async () => {
  const installed = await readNodeInstalled(cacheDir);
  if (!installed) throw new Error(`the node side is not installed in ${cacheDir}: run \`kube-mesos control-plane install\` (npm test's pretest does)`);
  stamp = installed;
  registry = await startRegistry({ storageDir: nodeArtifacts(cacheDir).registryStorage });
});
afterAll(async () => {
  await registry?.stop();
});

const entrypoints: Record<NodeImage, string[]> = {
  pause: ['/pause'],
  busybox: ['/bin/sh'],
  web: ['/bin/httpd', '-f', '-v', '-p', String(WEB_IMAGE_PORT), '-h', '/www'],
};

describe('the installed registry storage', () => {
  it.each(NODE_IMAGE_NAMES)('serves %s: manifest by tag with the stamped digest, config and every layer by digest', async (name) => {
    const { repository, tag } = NODE_IMAGES[name];
    const served = await fetchManifest(registry.url, repository, tag);
    if ('error' in served) throw new Error(served.error);
    expect(served.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(served.digest).toBe(stamp.images[name].digest);
    const manifest = JSON.parse(served.manifest) as { config: { digest: string }; layers: { digest: string; size: number }[] };
    expect(manifest.layers.length).toBe(name === 'web' ? 2 : 1);

    const blob = async (digest: string) => {
      const res = await fetch(`${registry.url}/v2/${repository}/blobs/${digest}`);
      expect(res.status).toBe(200);
      const body = Buffer.from(await res.arrayBuffer());
      expect(`sha256:${createHash('sha256').update(body).digest('hex')}`).toBe(digest);
      return body;
    };
    const config = JSON.parse((await blob(manifest.config.digest)).toString('utf8')) as { os: string; config: { Entrypoint: string[] } };
    expect(config.os).toBe('linux');
    expect(config.config.Entrypoint).toEqual(entrypoints[name]);
    for (const l of manifest.layers) expect((await blob(l.digest)).length).toBe(l.size);
  });

  it('shares the busybox layer between the busybox and web images', async () => {
    const layers = async (n: NodeImage) => {
      const m = await fetchManifest(registry.url, NODE_IMAGES[n].repository, NODE_IMAGES[n].tag);
      if ('error' in m) throw new Error(m.error);
      return (JSON.parse(m.manifest) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
    };
    expect((await layers('web'))[0]).toBe((await layers('busybox'))[0]);
  });

  it('answers 404 MANIFEST_UNKNOWN for a tag it does not hold', async () => {
    const r = await fetchManifest(registry.url, 'pause', 'no-such-tag');
    expect(r).toEqual({ error: expect.stringMatching(/HTTP 404 .*MANIFEST_UNKNOWN/) });
  });

  it('gives skopeo the same digest as the stamp', async () => {
    const { stdout } = await promisify(execFile)(NODE_BINARIES.skopeo, ['--insecure-policy', 'inspect', '--tls-verify=false', `docker://${registry.address}/web:${NODE_IMAGES.web.tag}`]);
    expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(stamp.images.web.digest);
  });

  it('stops: nothing listens on its address afterwards', async () => {
    const other = await startRegistry({ storageDir: nodeArtifacts(cacheDir).registryStorage });
    expect((await fetch(`${other.url}/v2/`)).status).toBe(200);
    await other.stop();
    await expect(fetch(`${other.url}/v2/`)).rejects.toThrow();
  });
});
