import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../telemetry/log.js';
import { silentLogger } from '../telemetry/log.js';
import { run as defaultRun, tail, type Runner } from './exec.js';
import { manifestBytes } from './image-archive.js';
import { aptInstall, installControlPlane, InstallError, missingPackages, type InstallOptions, type InstallResult } from './install.js';
import { buildNodeImages, ImageBuildError } from './node-images.js';
import { NODE_BINARIES, NODE_IMAGE_NAMES, NODE_IMAGES, NODE_RECIPE_VERSION, nodeArtifacts, nodeLayout, readNodeInstalled, type NodeBinaries, type NodeImage, type NodeImageRecord, type NodeStamp } from './node-artifacts.js';
import { cacheLayout, readKubeletInstalled } from './paths.js';
import { startRegistry } from './registry.js';

/**
 * Debian packages of the node side: the runtime (containerd 1.6, runc 1.1, CNI plugins), the registry and skopeo to
 * fill it, and gcc + libc6-dev for the static pause binary. busybox-static is downloaded into the image, not installed.
 */
export const NODE_PACKAGES = ['containerd', 'runc', 'containernetworking-plugins', 'docker-registry', 'skopeo', 'gcc', 'libc6-dev'];

export interface NodeInstallOptions {
  cacheDir: string;
  progress?: (line: string) => void;
  log?: Logger;
  signal?: AbortSignal;
  /** Rebuild the images and refill the registry even when the stamp says all is there. */
  force?: boolean;
  /** Injected for tests. */
  run?: Runner;
  isRoot?: () => boolean;
  aptListsDir?: string;
  /** Replaces `apt-get download busybox-static` (tests, offline mirrors). */
  busyboxDeb?: string;
  /** docker-registry binary; Debian's by default. */
  registryBinary?: string;
  /** Where the Debian binaries are looked for (tests). */
  binaries?: NodeBinaries;
}

export interface NodeInstallResult {
  stamp: NodeStamp;
  cached: boolean;
  seconds: number;
}

/**
 * Installs the node side into `<cacheDir>/node`: Debian's containerd, runc, CNI plugins, docker-registry and skopeo,
 * then the offline images (pause, busybox, web) pushed into a registry storage directory. The kubelet is built by
 * installControlPlane (same make as the servers), which must have run first. Idempotent: when the stamp, the
 * binaries, the packages and every image tag are there it returns in well under a second without root.
 */
export async function installNode(opts: NodeInstallOptions): Promise<NodeInstallResult> {
  const started = Date.now();
  const exec = opts.run ?? defaultRun;
  const progress = opts.progress ?? (() => {});
  const log = opts.log ?? silentLogger();
  const isRoot = opts.isRoot ?? (() => process.getuid?.() === 0);
  const layout = nodeLayout(opts.cacheDir);
  const seconds = () => (Date.now() - started) / 1000;

  const missing = await missingPackages(exec, NODE_PACKAGES);
  const installed = opts.force ? null : await readNodeInstalled(opts.cacheDir, opts.binaries);
  if (installed && missing.length === 0) {
    progress(`node side already installed in ${layout.dir} (kubelet ${installed.kubelet}, images ${NODE_IMAGE_NAMES.map((n) => installed.images[n].ref).join(', ')})`);
    return { stamp: installed, cached: true, seconds: seconds() };
  }
  if (!isRoot()) {
    const what = [missing.length ? `Debian packages ${missing.join(', ')}` : '', installed ? '' : `the node images into ${layout.dir}`].filter(Boolean);
    throw new InstallError(`kube-mesos control-plane install must run as root: it installs ${what.join(' and ')}`);
  }
  const kubelet = await readKubeletInstalled(opts.cacheDir);
  if (!kubelet) throw new InstallError(`no kubelet in ${cacheLayout(opts.cacheDir).bin}: the control-plane install builds it (run \`kube-mesos control-plane install\`)`);

  await mkdir(layout.dir, { recursive: true });
  await writeFile(layout.log, `kube-mesos node install, ${new Date().toISOString()}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (missing.length > 0) {
    await aptInstall(missing, { exec, env, logFile: layout.log, aptListsDir: opts.aptListsDir ?? '/var/lib/apt/lists', progress, signal: opts.signal, noRecommends: true });
  }
  if (installed) {
    progress(`node images already in ${layout.registryStorage}`);
    return { stamp: installed, cached: false, seconds: seconds() };
  }

  const pauseSource = await firstExisting([
    cacheLayout(opts.cacheDir).pauseSource,
    join(cacheLayout(opts.cacheDir).build, 'gopath/src/k8s.io/kubernetes/build/pause/linux/pause.c'),
  ]);
  if (!pauseSource) {
    throw new InstallError(`Kubernetes' build/pause/linux/pause.c is not in ${cacheLayout(opts.cacheDir).pauseSource}: run \`kube-mesos control-plane install --force\` to fetch the source again`);
  }
  const imagesStarted = Date.now();
  let built;
  try {
    built = await buildNodeImages({
      exec,
      workDir: layout.work,
      outDir: layout.images,
      pauseSource,
      busyboxDeb: opts.busyboxDeb,
      env,
      logFile: layout.log,
      signal: opts.signal,
      progress,
    });
  } catch (err) {
    if (err instanceof ImageBuildError) throw new InstallError(err.message, layout.log);
    throw err;
  }

  // Fill a fresh storage dir and swap it in, so a tag never points at a half-pushed image and no stale blobs pile up.
  const fresh = `${layout.registryStorage}.new`;
  await rm(fresh, { recursive: true, force: true });
  progress(`pushing ${NODE_IMAGE_NAMES.join(', ')} into ${layout.registryStorage} (docker-registry on loopback, skopeo copy)`);
  const registry = await startRegistry({ storageDir: fresh, binary: opts.registryBinary, logFile: join(layout.dir, 'registry.log'), log, signal: opts.signal }).catch((err: unknown) => {
    throw new InstallError(`could not start docker-registry: ${err instanceof Error ? err.message : String(err)}`, layout.log);
  });
  const images = {} as Record<NodeImage, NodeImageRecord>;
  try {
    for (const name of NODE_IMAGE_NAMES) {
      const { repository, tag } = NODE_IMAGES[name];
      const dest = `docker://${registry.address}/${repository}:${tag}`;
      const copy = await exec(NODE_BINARIES.skopeo, ['--insecure-policy', 'copy', '-q', '--dest-tls-verify=false', `docker-archive:${built.archives[name]}`, dest], { env, logFile: layout.log, signal: opts.signal });
      if (copy.code !== 0) throw new InstallError(`skopeo copy ${name} → ${dest} failed (exit ${copy.code}):\n${tail(copy.output)}`, layout.log);
      const served = await fetchManifest(registry.url, repository, tag);
      if ('error' in served) throw new InstallError(`the registry does not serve ${repository}:${tag} after the push: ${served.error}`, layout.log);
      images[name] = { ref: nodeArtifacts(opts.cacheDir).images[name], digest: served.digest, bytes: manifestBytes(served.manifest) };
      progress(`  ${images[name].ref}  ${images[name].digest.slice(0, 19)}…  ${(images[name].bytes / 1024).toFixed(0)} KiB`);
    }
  } finally {
    await registry.stop();
  }
  await rm(layout.registryStorage, { recursive: true, force: true });
  await rename(fresh, layout.registryStorage);

  const versions = await exec('dpkg-query', ['-W', '-f=${Package} ${Version}\\n', ...NODE_PACKAGES]);
  const packages = Object.fromEntries(
    versions.output
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length === 2)
      .map(([p, v]) => [p.replace(/:.*$/, ''), v]),
  );
  const stamp: NodeStamp = {
    recipe: NODE_RECIPE_VERSION,
    kubelet,
    packages: { ...packages, 'busybox-static': built.busyboxVersion },
    images,
    builtAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - imagesStarted) / 100) / 10,
  };
  await writeFile(layout.stamp, JSON.stringify(stamp, null, 2) + '\n');
  progress(`installed the node side into ${layout.dir} (images in ${stamp.seconds} s)`);
  return { stamp, cached: false, seconds: seconds() };
}

/** Media types a pull asks for; skopeo pushes a docker-archive as Docker v2 schema 2. */
export const MANIFEST_ACCEPT = ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json'].join(', ');

/** GET /v2/<repository>/manifests/<tag> as a puller does: the manifest and its digest (checked against the body). */
export async function fetchManifest(registryUrl: string, repository: string, tag: string): Promise<{ manifest: string; digest: string; mediaType: string } | { error: string }> {
  const url = `${registryUrl}/v2/${repository}/manifests/${tag}`;
  try {
    const res = await fetch(url, { headers: { accept: MANIFEST_ACCEPT }, signal: AbortSignal.timeout(10_000) });
    const manifest = await res.text();
    if (res.status !== 200) return { error: `GET ${url}: HTTP ${res.status} ${manifest.slice(0, 200)}` };
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    const header = res.headers.get('docker-content-digest');
    if (header && header !== digest) return { error: `GET ${url}: Docker-Content-Digest ${header} but the body hashes to ${digest}` };
    return { manifest, digest, mediaType: res.headers.get('content-type') ?? '' };
  } catch (err) {
    return { error: `GET ${url}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * What `kube-mesos control-plane install` does: the control plane and the kubelet (one make), then the node side.
 * Cached like each part: a complete install costs a few stats and two dpkg-query calls.
 */
export async function installAll(opts: InstallOptions & Pick<NodeInstallOptions, 'busyboxDeb' | 'registryBinary'>): Promise<{ controlPlane: InstallResult; node: NodeInstallResult }> {
  const controlPlane = await installControlPlane(opts);
  const node = await installNode({ ...opts, force: opts.force });
  return { controlPlane, node };
}

async function firstExisting(paths: string[]): Promise<string | null> {
  for (const p of paths) {
    try {
      await stat(p);
      return p;
    } catch {
      // next
    }
  }
  return null;
}
