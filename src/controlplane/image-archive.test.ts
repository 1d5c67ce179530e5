import { describe, expect, it } from '@jest/globals';
import { archiveManifest, archivePaths, imageConfig, manifestBytes } from './image-archive.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const C = `sha256:${'c'.repeat(64)}`;

describe('imageConfig', () => {
  it('builds a linux/amd64 config with epoch times, the layers in order and one history entry per layer', () => {
    const c = JSON.parse(
      imageConfig({ diffIds: [A, B], entrypoint: ['/bin/httpd', '-f'], exposedPorts: [8080, 80], labels: { z: '1', a: '2' }, history: ['base', 'www'] }),
    ) as Record<string, unknown>;
    expect(c).toEqual({
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Entrypoint: ['/bin/httpd', '-f'],
        Cmd: null,
        WorkingDir: '/',
        ExposedPorts: { '80/tcp': {}, '8080/tcp': {} },
        Labels: { a: '2', z: '1' },
      },
      rootfs: { type: 'layers', diff_ids: [A, B] },
      history: [
        { created: '1970-01-01T00:00:00Z', created_by: 'base' },
        { created: '1970-01-01T00:00:00Z', created_by: 'www' },
      ],
    });
  });

  it('is byte-for-byte the same for the same input, whatever the order of labels and ports', () => {
    const one = imageConfig({ diffIds: [A], entrypoint: ['/pause'], labels: { x: '1', y: '2' }, exposedPorts: [2, 1], history: ['h'] });
    const two = imageConfig({ diffIds: [A], entrypoint: ['/pause'], labels: { y: '2', x: '1' }, exposedPorts: [1, 2], history: ['h'] });
    expect(one).toBe(two);
  });

  it('leaves out ExposedPorts and Labels when there are none', () => {
    const c = JSON.parse(imageConfig({ diffIds: [A], entrypoint: ['/pause'], history: ['h'] })) as { config: Record<string, unknown> };
    expect(Object.keys(c.config).sort()).toEqual(['Cmd', 'Entrypoint', 'Env', 'WorkingDir']);
  });

  it.each([
    ['no layers', { diffIds: [], entrypoint: ['/x'], history: [] }, /at least one layer/],
    ['a bad digest', { diffIds: ['sha256:xyz'], entrypoint: ['/x'], history: ['h'] }, /layer diff id "sha256:xyz"/],
    ['history not matching layers', { diffIds: [A, B], entrypoint: ['/x'], history: ['h'] }, /2 layers but 1 history/],
    ['no entrypoint', { diffIds: [A], entrypoint: [], history: ['h'] }, /needs an entrypoint/],
  ])('rejects %s', (_what, spec, msg) => {
    expect(() => imageConfig(spec)).toThrow(msg);
  });
});

describe('archiveManifest', () => {
  it('names the config by its digest and each layer as <diff id>/layer.tar, tagged with the reference', () => {
    expect(JSON.parse(archiveManifest('registry.kube-mesos.local/web:1.0', C, [A, B]))).toEqual([
      { Config: `${'c'.repeat(64)}.json`, RepoTags: ['registry.kube-mesos.local/web:1.0'], Layers: [`${'a'.repeat(64)}/layer.tar`, `${'b'.repeat(64)}/layer.tar`] },
    ]);
  });

  it.each(['web:1.0', 'registry.kube-mesos.local/web', 'Registry/web:1.0', 'registry.kube-mesos.local/web:-bad'])('rejects the reference %s', (ref) => {
    expect(() => archiveManifest(ref, C, [A])).toThrow(/expected host\/repository:tag/);
  });

  it('rejects a config digest that is not sha256', () => {
    expect(() => archivePaths('md5:abc', [A])).toThrow(/digest "md5:abc"/);
  });
});

describe('manifestBytes', () => {
  it('adds the config and layer sizes of a schema-2 manifest', () => {
    const m = { schemaVersion: 2, config: { size: 769, digest: C }, layers: [{ size: 1000, digest: A }, { size: 234, digest: B }] };
    expect(manifestBytes(JSON.stringify(m))).toBe(2003);
  });
  it.each([
    ['not JSON', '<html>', /not JSON/],
    ['a manifest list', JSON.stringify({ manifests: [] }), /lacks config\/layers sizes/],
    ['a layer without size', JSON.stringify({ config: { size: 1 }, layers: [{}] }), /lacks config\/layers sizes/],
  ])('rejects %s', (_what, body, msg) => {
    expect(() => manifestBytes(body)).toThrow(msg);
  });
});
