/**
 * What `kube-mesos control-plane install` puts on a machine for the node side (the runtime side reads it here):
 * the kubelet built from the same Kubernetes source as the servers, Debian's containerd / runc / CNI plugins, Debian's
 * docker-registry, and a registry storage directory holding the offline-built images.
 *
 * Images are named under the fixed host {@link REGISTRY_HOST} whatever port the registry gets, so pod specs,
 * examples and docs stay stable. Serve the storage dir with `startRegistry()` (registry.ts) and map that host to the
 * registry's loopback URL with a registry mirror in each containerd's CRI plugin config
 * ({@link containerdRegistryMirror} renders it):
 *
 *     [plugins."io.containerd.grpc.v1.cri".registry.mirrors."registry.kube-mesos.local"]
 *       endpoint = ["http://127.0.0.1:PORT"]
 *
 * An `http://` endpoint is all containerd 1.6 needs to pull without TLS through the CRI path (the kubelet's pulls);
 * `ctr` does not read the CRI config: `ctr -n k8s.io images pull --plain-http 127.0.0.1:PORT/pause:3.4` pulls the
 * same manifest by the registry's own address. The pause image doubles as containerd's `sandbox_image`.
 */
import { access, constants, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheLayout } from './paths.js';

/** The registry host every image name uses; the runtime maps it to the loopback registry (see the module comment). */
export const REGISTRY_HOST = 'registry.kube-mesos.local';

/** The images the install builds: repository and tag inside the registry. */
export const NODE_IMAGES = {
  /** Kubernetes' own build/pause/linux/pause.c of the 1.20.2 tree (pause 3.4), static. */
  pause: { repository: 'pause', tag: '3.4' },
  /** Debian's busybox-static 1.35 with its applets as symlinks, /bin/sh as the entrypoint. */
  busybox: { repository: 'busybox', tag: '1.35' },
  /**
   * busybox httpd on port 8080 serving /www: `/` is a page naming the image, `/cgi-bin/hostname` answers the pod's
   * hostname (which replica answered). The busybox layer plus one small layer.
   */
  web: { repository: 'web', tag: '1.0' },
} as const;
export type NodeImage = keyof typeof NODE_IMAGES;
export const NODE_IMAGE_NAMES = Object.keys(NODE_IMAGES) as NodeImage[];
/** The port the web image's httpd listens on. */
export const WEB_IMAGE_PORT = 8080;

/** `registry.kube-mesos.local/<repository>:<tag>` for one of {@link NODE_IMAGES}. */
export function imageRef(name: NodeImage): string {
  const { repository, tag } = NODE_IMAGES[name];
  return `${REGISTRY_HOST}/${repository}:${tag}`;
}

/** Debian's binaries the node side runs (packages in node-install.ts' NODE_PACKAGES). */
export const NODE_BINARIES = {
  containerd: '/usr/bin/containerd',
  ctr: '/usr/bin/ctr',
  runc: '/usr/sbin/runc',
  /** containernetworking-plugins: bridge, host-local, portmap, loopback, … */
  cniBinDir: '/usr/lib/cni',
  registry: '/usr/bin/docker-registry',
  skopeo: '/usr/bin/skopeo',
} as const;
export type NodeBinaries = { readonly [K in keyof typeof NODE_BINARIES]: string };

/** Bump when the node recipe (packages, images, their contents) changes so an old node install is redone. */
export const NODE_RECIPE_VERSION = 1;

export interface NodeArtifacts {
  /** `<cache>/bin/kubelet`, Kubernetes v1.20.2 (CRI v1alpha2, which containerd 1.6 serves). */
  kubelet: string;
  containerd: string;
  ctr: string;
  runc: string;
  cniBinDir: string;
  /** Debian's docker-registry (distribution 2.8); `startRegistry()` runs it. */
  registryBinary: string;
  /** The registry's filesystem storage root holding every image below. Serve it read-mostly; do not delete from it. */
  registryStorage: string;
  /** The images as docker-archive tars (`ctr images import` works on them too), by name. */
  imageArchives: Record<NodeImage, string>;
  /** Full image references, e.g. `registry.kube-mesos.local/pause:3.4`. */
  images: Record<NodeImage, string>;
}

export const nodeLayout = (cacheDir: string) => {
  const node = join(cacheDir, 'node');
  return {
    dir: node,
    stamp: join(node, 'stamp.json'),
    images: join(node, 'images'),
    registryStorage: join(node, 'registry'),
    work: join(node, 'work'),
    log: join(node, 'install.log'),
    archive: (name: NodeImage) => join(node, 'images', `${name}.tar`),
  };
};

/** Where everything is (whether or not it is installed yet: see {@link readNodeInstalled}). */
export function nodeArtifacts(cacheDir: string, binaries: NodeBinaries = NODE_BINARIES): NodeArtifacts {
  const layout = nodeLayout(cacheDir);
  const byName = <T>(f: (n: NodeImage) => T) => Object.fromEntries(NODE_IMAGE_NAMES.map((n) => [n, f(n)])) as Record<NodeImage, T>;
  return {
    kubelet: cacheLayout(cacheDir).kubelet,
    containerd: binaries.containerd,
    ctr: binaries.ctr,
    runc: binaries.runc,
    cniBinDir: binaries.cniBinDir,
    registryBinary: binaries.registry,
    registryStorage: layout.registryStorage,
    imageArchives: byName(layout.archive),
    images: byName(imageRef),
  };
}

export interface NodeImageRecord {
  ref: string;
  /** The manifest digest the registry serves. */
  digest: string;
  /** Compressed size of config + layers as pushed. */
  bytes: number;
}

export interface NodeStamp {
  recipe: number;
  /** `kubelet --version`, e.g. "Kubernetes v1.20.2". */
  kubelet: string;
  /** Debian package versions of the node packages. */
  packages: Record<string, string>;
  images: Record<NodeImage, NodeImageRecord>;
  builtAt: string;
  seconds: number;
}

/** The registry storage's tag link for an image: present once a push of that tag completed. */
export function registryTagLink(storageDir: string, name: NodeImage): string {
  const { repository, tag } = NODE_IMAGES[name];
  return join(storageDir, 'docker/registry/v2/repositories', repository, '_manifests/tags', tag, 'current/link');
}

/**
 * The node stamp when the node side is completely installed — recipe current, kubelet and Debian binaries
 * executable, every image tagged in the registry storage — else null. Cheap (a few stats), no root needed.
 */
export async function readNodeInstalled(cacheDir: string, binaries: NodeBinaries = NODE_BINARIES): Promise<NodeStamp | null> {
  let stamp: NodeStamp;
  try {
    stamp = JSON.parse(await readFile(nodeLayout(cacheDir).stamp, 'utf8')) as NodeStamp;
  } catch {
    return null;
  }
  if (stamp.recipe !== NODE_RECIPE_VERSION) return null;
  const a = nodeArtifacts(cacheDir, binaries);
  try {
    await Promise.all([a.kubelet, a.containerd, a.ctr, a.runc, a.registryBinary, join(a.cniBinDir, 'bridge')].map((p) => access(p, constants.X_OK)));
    await Promise.all(NODE_IMAGE_NAMES.map((n) => access(registryTagLink(a.registryStorage, n))));
  } catch {
    return null;
  }
  return stamp;
}

/**
 * The containerd (config version 2) CRI registry section that sends pulls of `registry.kube-mesos.local/...` to the
 * loopback registry at `registryUrl` (e.g. `http://127.0.0.1:41234`), over plain HTTP. Append it to a config.toml.
 */
export function containerdRegistryMirror(registryUrl: string): string {
  const u = new URL(registryUrl);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`registry URL ${registryUrl}: expected http:// or https://`);
  const endpoint = `${u.protocol}//${u.host}`;
  return [
    `[plugins."io.containerd.grpc.v1.cri".registry.mirrors."${REGISTRY_HOST}"]`,
    `  endpoint = [${JSON.stringify(endpoint)}]`,
    '',
  ].join('\n');
}
