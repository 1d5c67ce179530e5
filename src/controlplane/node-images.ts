// Builds the node images offline as docker-archive tars: pause from Kubernetes' own pause.c (static), busybox from
// Debian's busybox-static .deb (downloaded and extracted, never installed), and web = busybox + a page served by
// busybox httpd. Layers are GNU tar with fixed owners and mtimes, so digests are reproducible.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, link, mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tail, type Runner } from './exec.js';
import { archiveManifest, archivePaths, imageConfig, type ImageSpec } from './image-archive.js';
import { imageRef, WEB_IMAGE_PORT, type NodeImage } from './node-artifacts.js';

export interface BuildImagesOptions {
  exec: Runner;
  /** Scratch space (rootfs trees, staged archives); emptied first. */
  workDir: string;
  /** Where `<name>.tar` go. */
  outDir: string;
  /** Kubernetes' build/pause/linux/pause.c. */
  pauseSource: string;
  /** A busybox-static .deb to use instead of `apt-get download busybox-static`. */
  busyboxDeb?: string;
  env?: NodeJS.ProcessEnv;
  logFile?: string;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

export interface BuiltImages {
  archives: Record<NodeImage, string>;
  /** Debian version of the busybox-static the busybox and web images hold. */
  busyboxVersion: string;
}

export class ImageBuildError extends Error {
  override name = 'ImageBuildError';
}

/** The page the web image serves at `/`. */
export const WEB_INDEX = 'hello from kube-mesos: busybox httpd in a real container\n';
/** `/cgi-bin/hostname`: which pod answered (its hostname is the pod name). */
export const WEB_HOSTNAME_CGI = '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nhostname\n';

export async function buildNodeImages(o: BuildImagesOptions): Promise<BuiltImages> {
  const progress = o.progress ?? (() => {});
  const must = async (what: string, cmd: string, args: string[], cwd?: string) => {
    const r = await o.exec(cmd, args, { cwd, env: o.env, logFile: o.logFile, signal: o.signal });
    if (r.code !== 0) throw new ImageBuildError(`${what} failed (${cmd} exited with ${r.code}):\n${tail(r.output)}`);
    return r.output;
  };
  await rm(o.workDir, { recursive: true, force: true });
  await mkdir(o.workDir, { recursive: true });
  await mkdir(o.outDir, { recursive: true });
  const layer = async (name: string, root: string) => {
    const tar = join(o.workDir, `${name}.layer.tar`);
    await must(`tar of the ${name} layer`, 'tar', ['-C', root, '--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--format=gnu', '-cf', tar, '.']);
    return { tar, diffId: `sha256:${await sha256File(tar)}` };
  };
  const archive = async (name: NodeImage, layers: { tar: string; diffId: string }[], spec: Omit<ImageSpec, 'diffIds'>) => {
    const diffIds = layers.map((l) => l.diffId);
    const config = imageConfig({ ...spec, diffIds });
    const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const paths = archivePaths(configDigest, diffIds);
    const stage = join(o.workDir, `${name}.archive`);
    await mkdir(stage, { recursive: true });
    await writeFile(join(stage, paths.config), config);
    await writeFile(join(stage, 'manifest.json'), archiveManifest(imageRef(name), configDigest, diffIds));
    for (const [i, l] of layers.entries()) {
      await mkdir(join(stage, paths.layers[i], '..'), { recursive: true });
      await link(l.tar, join(stage, paths.layers[i]));
    }
    const out = join(o.outDir, `${name}.tar`);
    const tmp = `${out}.tmp`;
    // Entries named without "./", as `docker save` writes them.
    const entries = ['manifest.json', paths.config, ...new Set(paths.layers.map((l) => l.split('/')[0]))];
    await must(`tar of the ${name} archive`, 'tar', ['-C', stage, '--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '-cf', tmp, ...entries]);
    await rename(tmp, out);
    return out;
  };

  // pause: as build/pause/Makefile does, but with the system gcc and a static glibc (libc6-dev's libc.a).
  progress('building the pause image (static pause.c)');
  const pauseRoot = join(o.workDir, 'pause-root');
  await mkdir(pauseRoot, { recursive: true });
  await must('gcc -static pause.c', 'gcc', ['-Os', '-Wall', '-Werror', '-static', '-DVERSION=v3.4-kube-mesos', '-o', join(pauseRoot, 'pause'), o.pauseSource]);
  await must('strip pause', 'strip', [join(pauseRoot, 'pause')]);
  const pause = await archive('pause', [await layer('pause', pauseRoot)], {
    entrypoint: ['/pause'],
    history: ['kube-mesos: Kubernetes build/pause/linux/pause.c (v1.20.2 tree), gcc -static'],
    labels: { 'io.kube-mesos.source': 'kubernetes build/pause/linux/pause.c' },
  });

  progress('building the busybox image (Debian busybox-static, extracted)');
  let deb = o.busyboxDeb;
  if (!deb) {
    const dl = join(o.workDir, 'deb');
    await mkdir(dl, { recursive: true });
    await must('apt-get download busybox-static', 'apt-get', ['download', '-q', 'busybox-static'], dl);
    const found = (await readdir(dl)).find((f) => /^busybox-static_.*\.deb$/.test(f));
    if (!found) throw new ImageBuildError(`apt-get download busybox-static left no .deb in ${dl}`);
    deb = join(dl, found);
  }
  const busyboxVersion = (await must('dpkg-deb -f', 'dpkg-deb', ['-f', deb, 'Version'])).trim();
  const extracted = join(o.workDir, 'busybox-deb');
  await must('dpkg-deb -x busybox-static', 'dpkg-deb', ['-x', deb, extracted]);
  const bbRoot = join(o.workDir, 'busybox-root');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'var/run']) await mkdir(join(bbRoot, d), { recursive: true });
  await chmod(join(bbRoot, 'tmp'), 0o1777);
  await copyFile(join(extracted, 'bin/busybox'), join(bbRoot, 'bin/busybox'));
  await chmod(join(bbRoot, 'bin/busybox'), 0o755);
  const applets = (await must('busybox --list', join(bbRoot, 'bin/busybox'), ['--list'])).split('\n').map((a) => a.trim()).filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
  if (!applets.includes('sh') || !applets.includes('httpd')) throw new ImageBuildError(`busybox ${busyboxVersion} lacks sh or httpd (applets: ${applets.length})`);
  for (const a of applets) await symlink('busybox', join(bbRoot, 'bin', a));
  await writeFile(join(bbRoot, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(join(bbRoot, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  const bbLayer = await layer('busybox', bbRoot);
  const bbHistory = `kube-mesos: Debian busybox-static ${busyboxVersion}, applets as symlinks`;
  const labels = { 'io.kube-mesos.busybox-static': busyboxVersion };
  const busybox = await archive('busybox', [bbLayer], { entrypoint: ['/bin/sh'], history: [bbHistory], labels });

  progress(`building the web image (busybox httpd on :${WEB_IMAGE_PORT})`);
  const webRoot = join(o.workDir, 'web-root');
  await mkdir(join(webRoot, 'www/cgi-bin'), { recursive: true });
  await writeFile(join(webRoot, 'www/index.html'), WEB_INDEX);
  await writeFile(join(webRoot, 'www/cgi-bin/hostname'), WEB_HOSTNAME_CGI);
  await chmod(join(webRoot, 'www/cgi-bin/hostname'), 0o755);
  const web = await archive('web', [bbLayer, await layer('web', webRoot)], {
    entrypoint: ['/bin/httpd', '-f', '-v', '-p', String(WEB_IMAGE_PORT), '-h', '/www'],
    exposedPorts: [WEB_IMAGE_PORT],
    history: [bbHistory, 'kube-mesos: /www (index.html, cgi-bin/hostname)'],
    labels,
  });
  await rm(o.workDir, { recursive: true, force: true });
  return { archives: { pause, busybox, web }, busyboxVersion };
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
