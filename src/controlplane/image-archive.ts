// The JSON of a docker-archive (`docker save` format, what `skopeo copy docker-archive:` and `ctr images import`
// read): one image config (the OCI/Docker image config, v1) and one manifest.json listing config and layer tars.
// Pure builders; node-images.ts writes the files. Everything is fixed (epoch timestamps, sorted keys where the
// format allows) so the same rootfs gives the same digests on every machine.

export interface ImageSpec {
  /** sha256 of each uncompressed layer tar, base layer first, as `sha256:<hex>`. */
  diffIds: string[];
  entrypoint: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  /** Ports the image listens on, e.g. [8080] (documentation for `docker inspect`; Kubernetes ignores it). */
  exposedPorts?: number[];
  labels?: Record<string, string>;
  /** One line per layer for `history`, e.g. "kube-mesos: busybox-static 1:1.35.0-4". */
  history: string[];
}

const EPOCH = '1970-01-01T00:00:00Z';
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The image config JSON (Docker image spec v1.2 / OCI image config) for linux/amd64. */
export function imageConfig(spec: ImageSpec): string {
  if (spec.diffIds.length === 0) throw new Error('an image needs at least one layer');
  const bad = spec.diffIds.find((d) => !DIGEST.test(d));
  if (bad) throw new Error(`layer diff id ${JSON.stringify(bad)}: expected sha256:<64 hex digits>`);
  if (spec.history.length !== spec.diffIds.length) throw new Error(`${spec.diffIds.length} layers but ${spec.history.length} history entries`);
  if (spec.entrypoint.length === 0) throw new Error('an image needs an entrypoint');
  const config: Record<string, unknown> = {
    Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    Entrypoint: spec.entrypoint,
    Cmd: spec.cmd ?? null,
    WorkingDir: spec.workingDir ?? '/',
  };
  if (spec.exposedPorts?.length) config.ExposedPorts = Object.fromEntries([...spec.exposedPorts].sort((a, b) => a - b).map((p) => [`${p}/tcp`, {}]));
  if (spec.labels && Object.keys(spec.labels).length) config.Labels = Object.fromEntries(Object.entries(spec.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: EPOCH,
    config,
    rootfs: { type: 'layers', diff_ids: spec.diffIds },
    history: spec.history.map((h) => ({ created: EPOCH, created_by: h })),
  });
}

/** Where a docker-archive keeps its files: the config as `<hex>.json`, each layer as `<hex>/layer.tar`. */
export function archivePaths(configDigest: string, diffIds: string[]): { config: string; layers: string[] } {
  const hex = (d: string) => {
    if (!DIGEST.test(d)) throw new Error(`digest ${JSON.stringify(d)}: expected sha256:<64 hex digits>`);
    return d.slice('sha256:'.length);
  };
  return { config: `${hex(configDigest)}.json`, layers: diffIds.map((d) => `${hex(d)}/layer.tar`) };
}

/** The archive's manifest.json: one image, tagged `ref`. */
export function archiveManifest(ref: string, configDigest: string, diffIds: string[]): string {
  if (!/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+:[\w][\w.-]{0,127}$/.test(ref)) throw new Error(`image reference ${JSON.stringify(ref)}: expected host/repository:tag`);
  const paths = archivePaths(configDigest, diffIds);
  return JSON.stringify([{ Config: paths.config, RepoTags: [ref], Layers: paths.layers }]);
}

/** Sizes of what a registry holds for one image, from its (Docker v2 schema 2 or OCI) manifest. */
export function manifestBytes(manifestJson: string): number {
  let m: { config?: { size?: unknown }; layers?: { size?: unknown }[] };
  try {
    m = JSON.parse(manifestJson) as typeof m;
  } catch {
    throw new Error('image manifest is not JSON');
  }
  const sizes = [m.config?.size, ...(m.layers ?? []).map((l) => l.size)];
  if (!m.config || !m.layers || sizes.some((s) => typeof s !== 'number')) throw new Error('image manifest lacks config/layers sizes');
  return (sizes as number[]).reduce((a, b) => a + b, 0);
}
