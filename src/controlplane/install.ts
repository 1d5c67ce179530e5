import { cp, mkdir, readdir, readFile, rename, rm, symlink, writeFile, copyFile, chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../telemetry/log.js';
import { silentLogger } from '../telemetry/log.js';
import { run as defaultRun, tail, type Runner } from './exec.js';
import { BUILT, cacheLayout, readInstalled, readKubeletInstalled, RECIPE_VERSION, type Built, type Stamp } from './paths.js';

/** Debian packages the control plane needs at build time and at run time (etcd, openssl, setpriv). */
export const PACKAGES = [
  'golang-go',
  'rsync',
  'make',
  'dpkg-dev',
  'xz-utils',
  'etcd-server',
  'openssl',
  'util-linux',
  'golang-github-modern-go-reflect2-dev',
  // Not for the build: the protocol tests cross-check against mesos-go's definitions.
  'golang-github-mesos-mesos-go-dev',
];

/** Debian's reflect2 1.0.2; the vendored 1.0.1 crashes kube-apiserver under Go ≥ 1.18 (`fatal error: fault`). */
export const REFLECT2_SRC = '/usr/share/gocode/src/github.com/modern-go/reflect2';

export interface InstallOptions {
  cacheDir: string;
  /** Human-readable progress lines (the CLI prints them to stderr). */
  progress?: (line: string) => void;
  log?: Logger;
  signal?: AbortSignal;
  /** Rebuild even when the cache looks complete. */
  force?: boolean;
  /** Injected for tests. */
  run?: Runner;
  isRoot?: () => boolean;
  /** `/etc/apt` by default; where the deb-src entry is looked for and written. */
  aptDir?: string;
  /** Seconds between "still building" lines. */
  heartbeatSeconds?: number;
  /** `/var/lib/apt/lists` by default; empty means `apt-get update` must run before installing. */
  aptListsDir?: string;
  /** Keep `<cacheDir>/build` (source, Go cache) after a successful build; it is removed by default. */
  keepBuildTree?: boolean;
  /** Replacement for the vendored reflect2; REFLECT2_SRC by default. */
  reflect2Dir?: string;
}

export interface InstallResult {
  stamp: Stamp;
  /** True when nothing had to be done. */
  cached: boolean;
  seconds: number;
  binDir: string;
}

/** Install failed; `logFile` names the log to read when there is one. */
export class InstallError extends Error {
  override name = 'InstallError';
  constructor(
    message: string,
    readonly logFile?: string,
  ) {
    super(logFile ? `${message}\n(full log: ${logFile})` : message);
  }
}

/**
 * Installs the Debian packages and builds kube-apiserver, kube-controller-manager, kube-scheduler and the kubelet into
 * `<cacheDir>/bin`, in one make. Idempotent: when the stamp, the binaries and the packages are all there it returns in
 * well under a second without needing root; when only the kubelet is missing (a cache from before it was built), only
 * the kubelet is built.
 */
export async function installControlPlane(opts: InstallOptions): Promise<InstallResult> {
  const started = Date.now();
  const exec = opts.run ?? defaultRun;
  const progress = opts.progress ?? (() => {});
  const log = opts.log ?? silentLogger();
  const isRoot = opts.isRoot ?? (() => process.getuid?.() === 0);
  const aptDir = opts.aptDir ?? '/etc/apt';
  const aptLists = opts.aptListsDir ?? '/var/lib/apt/lists';
  const layout = cacheLayout(opts.cacheDir);
  const seconds = () => (Date.now() - started) / 1000;

  const missing = await missingPackages(exec, PACKAGES);
  const installed = opts.force ? null : await readInstalled(opts.cacheDir);
  const kubelet = installed ? await readKubeletInstalled(opts.cacheDir) : null;
  const complete = installed && kubelet;
  if (complete && missing.length === 0) {
    progress(`control plane and kubelet already installed in ${layout.bin} (${installed.versions['kube-apiserver']})`);
    return { stamp: installed, cached: true, seconds: seconds(), binDir: layout.bin };
  }
  if (!isRoot()) {
    const toBuild = installed ? 'the kubelet' : 'the servers and the kubelet';
    const what = [missing.length ? `Debian packages ${missing.join(', ')}` : '', complete ? '' : `${toBuild} into ${layout.bin}`].filter(Boolean);
    throw new InstallError(`kube-mesos control-plane install must run as root: it installs ${what.join(' and ')} (apt-get, then a Kubernetes build)`);
  }

  await mkdir(opts.cacheDir, { recursive: true });
  await writeFile(layout.buildLog, `kube-mesos control-plane install, ${new Date().toISOString()}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const must = async (what: string, cmd: string, args: string[], cwd?: string, onLine?: (l: string) => void, extraEnv?: NodeJS.ProcessEnv) => {
    log.debug({ cmd, args, cwd }, what);
    const r = await exec(cmd, args, { cwd, env: extraEnv ?? env, logFile: layout.buildLog, onLine, signal: opts.signal });
    if (r.code !== 0) throw new InstallError(`${what} failed (${cmd} exited with ${r.code}):\n${tail(r.output)}`, layout.buildLog);
    return r.output;
  };

  if (missing.length > 0) await aptInstall(missing, { exec, env, logFile: layout.buildLog, aptListsDir: aptLists, progress, signal: opts.signal });
  if (complete) {
    progress(`servers and kubelet already built in ${layout.bin}`);
    return { stamp: installed, cached: false, seconds: seconds(), binDir: layout.bin };
  }

  // The source package: needs a deb-src entry, as Debian's own build does.
  if (await ensureDebSrc(aptDir)) progress(`added a deb-src entry under ${aptDir}/sources.list.d`);
  const showsrc = await exec('apt-cache', ['showsrc', 'kubernetes'], { env, signal: opts.signal });
  if (showsrc.code !== 0 || !/^Package: kubernetes$/m.test(showsrc.output)) {
    progress('apt-get update (for the source index)');
    await must('apt-get update', 'apt-get', ['update', '-q']);
  }
  const srcRoot = join(layout.build, 'src');
  const fetchedMarker = join(srcRoot, '.kube-mesos-fetched');
  if (!(await exists(fetchedMarker))) {
    progress('fetching the kubernetes source package (apt-get source kubernetes)');
    await rm(srcRoot, { recursive: true, force: true });
    await mkdir(srcRoot, { recursive: true });
    await must('apt-get source kubernetes', 'apt-get', ['source', '-q', 'kubernetes'], srcRoot);
    await writeFile(fetchedMarker, new Date().toISOString());
  }
  const entries = await readdir(srcRoot, { withFileTypes: true });
  const tree = entries.find((e) => e.isDirectory() && e.name.startsWith('kubernetes-'));
  const dsc = entries.find((e) => e.isFile() && /^kubernetes_.*\.dsc$/.test(e.name));
  if (!tree || !dsc) throw new InstallError(`apt-get source kubernetes left no kubernetes-*/ tree or .dsc in ${srcRoot}`, layout.buildLog);
  const sourceVersion = dsc.name.replace(/^kubernetes_/, '').replace(/\.dsc$/, '');
  const treeDir = join(srcRoot, tree.name);

  const reflect2 = opts.reflect2Dir ?? REFLECT2_SRC;
  // Once per tree: touching vendor/ again makes the next make rerun the code generators (minutes).
  const replacedMarker = join(treeDir, '.kube-mesos-reflect2-replaced');
  if (!(await exists(replacedMarker))) {
    progress(`replacing vendored github.com/modern-go/reflect2 with ${reflect2}`);
    if (!(await exists(reflect2))) throw new InstallError(`${reflect2} is missing: is golang-github-modern-go-reflect2-dev installed?`);
    const vendored = join(treeDir, 'vendor/github.com/modern-go/reflect2');
    await rm(vendored, { recursive: true, force: true });
    await cp(reflect2, vendored, { recursive: true, dereference: true });
    await writeFile(replacedMarker, `${reflect2}\n`);
  }

  // A GOPATH whose src/k8s.io/kubernetes is the tree, as debian/rules sets up (GO111MODULE=off build).
  const gopath = join(layout.build, 'gopath');
  const link = join(gopath, 'src/k8s.io/kubernetes');
  await mkdir(join(gopath, 'src/k8s.io'), { recursive: true });
  await rm(link, { force: true, recursive: false }).catch(() => {});
  await symlink(treeDir, link);

  // Servers built from another source version than this tree are rebuilt with the kubelet, so all four match.
  const keep = installed && installed.sourceVersion === sourceVersion ? installed : null;
  const targets: Built[] = keep ? ['kubelet'] : [...BUILT];
  const what = targets.map((s) => `cmd/${s}`).join(' ');
  const how = keep ? 'about a minute with a kept build tree, minutes without' : 'several minutes on 2 cores';
  progress(`building ${targets.join(', ')} (make WHAT="${what}"; ${how}; log: ${layout.buildLog})`);
  const buildEnv = {
    ...env,
    GOPATH: gopath,
    GO111MODULE: 'off',
    GOFLAGS: '-mod=vendor',
    GOCACHE: join(layout.build, 'gocache'),
  };
  const buildStarted = Date.now();
  const heartbeat = setInterval(
    () => progress(`  still building (${Math.round((Date.now() - buildStarted) / 1000)} s)`),
    (opts.heartbeatSeconds ?? 30) * 1000,
  );
  heartbeat.unref();
  try {
    await must('make (Kubernetes build)', 'make', [`WHAT=${what}`], link, (line) => {
      if (/^\+\+\+ /.test(line) || /^ {4}\S/.test(line)) progress(`  ${line.trim()}`);
    }, buildEnv);
  } finally {
    clearInterval(heartbeat);
  }
  const buildSeconds = Math.round((Date.now() - buildStarted) / 1000);

  const outDir = await findOutputDir(treeDir, targets[0]);
  if (!outDir) throw new InstallError(`the build finished but left no ${targets[0]} under ${treeDir}/_output/local/bin`, layout.buildLog);
  await mkdir(layout.bin, { recursive: true });
  const versions = { ...keep?.versions } as Stamp['versions'];
  for (const s of targets) {
    const tmp = `${layout.binary(s)}.tmp`;
    await copyFile(join(outDir, s), tmp);
    await chmod(tmp, 0o755);
    await rename(tmp, layout.binary(s));
    const v = await exec(layout.binary(s), ['--version'], { signal: opts.signal });
    if (v.code !== 0) throw new InstallError(`${s} --version failed:\n${tail(v.output)}`, layout.buildLog);
    versions[s] = v.output.trim();
  }
  // The node images' pause comes from this tree too; keep its one source file beyond the tree's removal.
  const pauseC = join(treeDir, 'build/pause/linux/pause.c');
  if (await exists(pauseC)) {
    await mkdir(join(layout.pauseSource, '..'), { recursive: true });
    await copyFile(pauseC, layout.pauseSource);
  }
  const stamp: Stamp = { recipe: RECIPE_VERSION, sourceVersion, versions, builtAt: new Date().toISOString(), buildSeconds };
  await writeFile(layout.stamp, JSON.stringify(stamp, null, 2) + '\n');
  if (!opts.keepBuildTree) {
    // ~2.3 GB of source, objects and Go cache; only the binaries and the stamp are needed from here on.
    await rm(layout.build, { recursive: true, force: true });
    progress(`removed the build tree ${layout.build}`);
  }
  progress(`installed ${targets.join(', ')} (${versions[targets[0]]}, source ${sourceVersion}) into ${layout.bin}`);
  return { stamp, cached: false, seconds: seconds(), binDir: layout.bin };
}

/**
 * `apt-get install -y -q <pkgs>` (after an `apt-get update` when there are no package lists), retried once after an
 * update; throws InstallError with apt's own last lines.
 */
export async function aptInstall(
  pkgs: string[],
  o: { exec: Runner; env: NodeJS.ProcessEnv; logFile: string; aptListsDir: string; progress: (l: string) => void; signal?: AbortSignal; noRecommends?: boolean },
): Promise<void> {
  const must = async (what: string, args: string[]) => {
    const r = await o.exec('apt-get', args, { env: o.env, logFile: o.logFile, signal: o.signal });
    if (r.code !== 0) throw new InstallError(`${what} failed (apt-get exited with ${r.code}):\n${tail(r.output)}`, o.logFile);
  };
  o.progress(`installing Debian packages: ${pkgs.join(' ')}`);
  if (!(await aptListsPresent(o.aptListsDir))) {
    o.progress('apt-get update');
    await must('apt-get update', ['update', '-q']);
  }
  const args = ['install', '-y', '-q', ...(o.noRecommends ? ['--no-install-recommends'] : []), ...pkgs];
  const first = await o.exec('apt-get', args, { env: o.env, logFile: o.logFile, signal: o.signal });
  if (first.code !== 0) {
    o.progress('apt-get install failed; running apt-get update and retrying');
    await must('apt-get update', ['update', '-q']);
    await must('apt-get install', args);
  }
}

/** Which of `pkgs` dpkg does not report as installed. */
export async function missingPackages(exec: Runner, pkgs: string[]): Promise<string[]> {
  const r = await exec('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', ...pkgs]);
  const ok = new Set(
    r.output
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 4 && f.slice(1).join(' ') === 'install ok installed')
      .map((f) => f[0].replace(/:.*$/, '')),
  );
  return pkgs.filter((p) => !ok.has(p));
}

/** Does any apt source list (one-line or deb822 format) already carry a deb-src entry? */
export function hasDebSrc(files: { name: string; text: string }[]): boolean {
  return files.some(({ name, text }) =>
    name.endsWith('.sources')
      ? /^Types:.*\bdeb-src\b/m.test(text) && !/^Enabled:\s*no/im.test(text)
      : /^\s*deb-src\s/m.test(text),
  );
}

/** A deb-src twin of the system's deb entries, or null if there are none to copy. */
export function debSrcEntry(files: { name: string; text: string }[]): { name: string; text: string } | null {
  const deb822 = files.find((f) => f.name.endsWith('.sources') && /^Types:.*\bdeb\b/m.test(f.text));
  if (deb822) return { name: 'kube-mesos-deb-src.sources', text: deb822.text.replace(/^Types:.*$/gm, 'Types: deb-src') };
  const lines = files
    .filter((f) => f.name.endsWith('.list'))
    .flatMap((f) => f.text.split('\n'))
    .filter((l) => /^\s*deb\s/.test(l))
    .map((l) => l.replace(/^\s*deb\s/, 'deb-src '));
  return lines.length ? { name: 'kube-mesos-deb-src.list', text: lines.join('\n') + '\n' } : null;
}

/** Adds a deb-src entry when none exists; true if it wrote one. */
async function ensureDebSrc(aptDir: string): Promise<boolean> {
  const files: { name: string; text: string }[] = [];
  const add = async (path: string, name: string) => {
    try {
      files.push({ name, text: await readFile(path, 'utf8') });
    } catch {
      // absent: nothing to read
    }
  };
  await add(join(aptDir, 'sources.list'), 'sources.list');
  const partsDir = join(aptDir, 'sources.list.d');
  const parts = await readdir(partsDir).catch(() => [] as string[]);
  for (const p of parts) if (p.endsWith('.list') || p.endsWith('.sources')) await add(join(partsDir, p), p);
  if (hasDebSrc(files)) return false;
  const entry = debSrcEntry(files);
  if (!entry) throw new InstallError(`no apt "deb" entry found under ${aptDir} to derive a deb-src entry from`);
  await mkdir(partsDir, { recursive: true });
  await writeFile(join(partsDir, entry.name), entry.text);
  return true;
}

async function aptListsPresent(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.some((n) => n.endsWith('_Packages') || n.endsWith('_Packages.lz4'));
}

async function findOutputDir(treeDir: string, binary: Built): Promise<string | null> {
  const base = join(treeDir, '_output/local/bin');
  for (const os of await readdir(base).catch(() => [] as string[])) {
    for (const arch of await readdir(join(base, os)).catch(() => [] as string[])) {
      const dir = join(base, os, arch);
      if (await exists(join(dir, binary))) return dir;
    }
  }
  return null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
