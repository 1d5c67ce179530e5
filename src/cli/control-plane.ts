import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InstallError } from '../controlplane/install.js';
import { installAll } from '../controlplane/node-install.js';
import { nodeArtifacts } from '../controlplane/node-artifacts.js';
import { startControlPlane } from '../controlplane/controlplane.js';
import { createLogger } from '../telemetry/log.js';
import { stringFlag, UsageError, type Command, type CommandIO } from './command.js';

/** `--cache-dir`, else $KUBE_MESOS_CACHE, else $XDG_CACHE_HOME/kube-mesos, else ~/.cache/kube-mesos. */
export function cacheDirFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return resolve(flag);
  if (env.KUBE_MESOS_CACHE) return resolve(env.KUBE_MESOS_CACHE);
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'kube-mesos');
}

export const command: Command = {
  name: 'control-plane',
  summary: 'Install (build into a cache) the control plane and the node side, or start a real etcd + kube-apiserver + kube-controller-manager on loopback',
  positionals: ['install', 'start'],
  // Every flag sets `short` and `multiple`: parseCommandArgs passes both through and Node's parseArgs rejects undefined.
  flags: {
    'cache-dir': { type: 'string', short: 'c', multiple: false, value: '<dir>', description: 'Where the built servers live ($KUBE_MESOS_CACHE, else ~/.cache/kube-mesos)' },
    dir: { type: 'string', short: 'd', multiple: false, value: '<dir>', description: 'start: data dir (pki, etcd data, logs, kubeconfig); kept unless --ephemeral' },
    ephemeral: { type: 'boolean', short: 'e', multiple: false, description: 'start: delete the data dir on exit (a temp dir when --dir is not given)' },
    force: { type: 'boolean', short: 'f', multiple: false, description: 'install: rebuild the binaries and the node images even if the cache looks complete' },
    brief: { type: 'boolean', short: 'b', multiple: false, description: 'install: one summary line, and no progress lines when everything is already installed' },
    'keep-build-tree': { type: 'boolean', short: 'k', multiple: false, description: 'install: keep <cache>/build (source and Go cache, ~2.3 GB) after building' },
    'log-level': { type: 'string', short: 'l', multiple: false, value: '<level>', description: 'Log level of the supervisor itself', default: 'info' },
  },
  details: [
    'install  apt-get installs the Debian packages (etcd-server, golang-go, containerd, runc, CNI plugins,',
    '         docker-registry, skopeo, …), fetches the `kubernetes` source package and builds kube-apiserver,',
    '         kube-controller-manager, kube-scheduler and the kubelet in one make, then builds the node images',
    '         (pause, busybox, web) offline and pushes them into <cache>/node/registry. ~15 minutes once on 2 cores;',
    '         under a second when everything is there. Needs root unless everything is already there.',
    'start    runs the control plane until SIGINT/SIGTERM and prints "kubeconfig: <path>" once it is ready.',
    '         Component logs go to <dir>/logs/.',
  ].join('\n'),
  async run(args, io) {
    const sub = args.positionals[0];
    const cacheDir = cacheDirFrom(stringFlag(args, 'cache-dir'), io.env);
    const log = createLogger({ level: stringFlag(args, 'log-level') ?? 'info', destination: io.stderr, name: 'control-plane' });
    if (sub === 'install') return install(cacheDir, { force: args.values.force === true, keepBuildTree: args.values['keep-build-tree'] === true }, args.values.brief === true, io);
    const dirFlag = stringFlag(args, 'dir');
    const ephemeral = args.values.ephemeral === true;
    if (!dirFlag && !ephemeral) throw new UsageError('start needs --dir <dir> (or --ephemeral for a temporary one)');
    try {
      const t0 = Date.now();
      const cp = await startControlPlane({
        dir: dirFlag ? resolve(dirFlag) : undefined,
        cacheDir,
        ephemeral,
        log,
        signal: io.signal,
        progress: (l) => io.stderr.write(`${l}\n`),
      });
      io.stdout.write(`control plane ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${cp.server} (logs: ${cp.logsDir})\n`);
      io.stdout.write(`kubeconfig: ${cp.kubeconfigPath}\n`);
      const reason = await Promise.race([
        new Promise<string>((r) => (io.signal.aborted ? r('signal') : io.signal.addEventListener('abort', () => r('signal'), { once: true }))),
        cp.failure.then((e) => e.message),
      ]);
      io.stderr.write(reason === 'signal' ? 'stopping the control plane\n' : `${reason}; stopping the control plane\n`);
      await cp.stop();
      return reason === 'signal' ? 0 : 1;
    } catch (err) {
      // Startup failures are for the operator (which component, which log), not a stack trace.
      io.stderr.write(`kube-mesos control-plane: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
  },
};

async function install(cacheDir: string, flags: { force: boolean; keepBuildTree: boolean }, brief: boolean, io: CommandIO): Promise<number> {
  try {
    // --brief: progress lines only once there is work to do (the first "already installed" lines are held back).
    const held: string[] = [];
    let working = !brief;
    const progress = (l: string) => {
      if (!working && /already installed/.test(l)) return void held.push(l);
      if (!working) io.stderr.write(held.splice(0).map((h) => `${h}\n`).join(''));
      working = true;
      io.stderr.write(`${l}\n`);
    };
    const { controlPlane: r, node } = await installAll({ cacheDir, ...flags, signal: io.signal, progress });
    const v = r.stamp.versions;
    const a = nodeArtifacts(cacheDir);
    const seconds = (r.seconds + node.seconds).toFixed(1);
    if (brief) {
      const images = Object.values(node.stamp.images).map((i) => i.ref.replace(/^.*\//, ''));
      io.stdout.write(`${r.cached && node.cached ? 'already installed' : 'installed'} in ${seconds} s: ${v['kube-apiserver']} servers and kubelet in ${r.binDir}, images ${images.join(' ')} in ${a.registryStorage}\n`);
      return 0;
    }
    io.stdout.write(
      `${r.cached && node.cached ? 'already installed' : 'installed'} in ${seconds} s: ${r.binDir}\n` +
        Object.entries(v)
          .map(([s, ver]) => `  ${s}: ${ver}\n`)
          .join('') +
        `  source package: kubernetes ${r.stamp.sourceVersion}\n` +
        `  node packages: ${Object.entries(node.stamp.packages)
          .map(([p, ver]) => `${p} ${ver}`)
          .join(', ')}\n` +
        `  registry storage: ${a.registryStorage}\n` +
        Object.values(node.stamp.images)
          .map((i) => `  image ${i.ref} (${i.digest}, ${(i.bytes / 1024).toFixed(0)} KiB)\n`)
          .join(''),
    );
    return 0;
  } catch (err) {
    if (err instanceof InstallError) {
      io.stderr.write(`kube-mesos control-plane install: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
