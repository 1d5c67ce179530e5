import { resolve } from 'node:path';
import { parseSetFlags } from '../config/config.js';
import { startSandbox } from '../sandbox/sandbox.js';
import { createLogger } from '../telemetry/log.js';
import { intFlag, stringFlag, UsageError, type Command } from './command.js';
import { cacheDirFrom } from './control-plane.js';
import { selfExecutorCommand } from './scheduler-config.js';

export const command: Command = {
  name: 'sandbox',
  summary: 'Run everything on one machine: a real Kubernetes control plane, an emulated Mesos cluster, real kubelets on containerd (or hollow ones) and the kube-mesos scheduler.',
  flags: {
    dir: { type: 'string', value: '<dir>', description: 'Where the sandbox keeps its data, logs, kubeconfig and sandbox.json', default: '.sandbox' },
    agents: { type: 'string', value: '<n>', description: 'Number of Mesos agents', default: '9' },
    kubelets: { type: 'string', value: '<real|hollow>', description: 'real: kubelets on containerd run real containers (root, cgroup v1); hollow: stand-ins, for scale', default: 'real' },
    zones: { type: 'string', value: '<a,b,c>', description: 'Zones the agents are spread over (round-robin)', default: 'a,b,c' },
    region: { type: 'string', value: '<name>', description: 'Region of every agent', default: 'r1' },
    'agent-resources': { type: 'string', value: '<spec>', description: 'Resources of each agent', default: 'cpus:8;mem:16384;disk:100000;ports:[31000-32000]' },
    'agent-attributes': { type: 'string', value: '<spec>', description: 'Attributes of each agent ({i} = agent index)', default: 'rack:r{i%4}' },
    listen: { type: 'string', value: '<host:port>', description: 'Scheduler ops server and dashboard', default: '127.0.0.1:10251' },
    'cache-dir': { type: 'string', value: '<dir>', description: 'Where the control plane is built ($KUBE_MESOS_CACHE, else ~/.cache/kube-mesos)' },
    set: { type: 'string', multiple: true, value: '<key=value>', description: 'Scheduler configuration, e.g. --set pool.idleTimeout=30s (repeatable)' },
    'log-level': { type: 'string', value: '<level>', description: 'Log level (logs go to <dir>/sandbox.log… and stderr at warn)', default: 'warn' },
  },
  async run(args, io) {
    const agents = intFlag(args, 'agents', 1)!;
    const zones = (stringFlag(args, 'zones') ?? '').split(',').map((z) => z.trim()).filter(Boolean);
    if (zones.length === 0) throw new UsageError('--zones needs at least one zone');
    const set = parseSetFlags((args.values.set as string[] | undefined) ?? []);
    if (!set.ok) throw new UsageError(set.errors.join('\n'));
    const kubelets = stringFlag(args, 'kubelets');
    if (kubelets !== 'real' && kubelets !== 'hollow') throw new UsageError(`--kubelets must be real or hollow, got "${kubelets}"`);
    const dir = resolve(stringFlag(args, 'dir')!);
    const log = createLogger({ level: stringFlag(args, 'log-level'), destination: io.stderr, name: 'sandbox' });
    const t0 = Date.now();
    const sb = await startSandbox({
      dir,
      cacheDir: cacheDirFrom(stringFlag(args, 'cache-dir'), io.env),
      agents,
      zones,
      region: stringFlag(args, 'region')!,
      agentResources: stringFlag(args, 'agent-resources')!,
      agentAttributes: stringFlag(args, 'agent-attributes'),
      kubelets,
      executorCommand: selfExecutorCommand(),
      baseEnv: Object.fromEntries(Object.entries(io.env).filter((e): e is [string, string] => e[1] !== undefined && /^(PATH|HOME|USER|LANG|TZ|TMPDIR|NODE_OPTIONS)$/.test(e[0]))),
      listen: stringFlag(args, 'listen')!,
      set: set.flags,
      log,
      progress: (l) => io.stderr.write(`${l}\n`),
      signal: io.signal,
    });
    io.stdout.write(
      [
        '',
        `kube-mesos sandbox is ready (${((Date.now() - t0) / 1000).toFixed(1)} s).`,
        `  kubeconfig: ${sb.kubeconfigPath}`,
        `  dashboard:  ${sb.schedulerUrl}/`,
        `  mesos:      ${sb.mesosUrl}/state`,
        `  details:    ${dir}/sandbox.json`,
        '',
        'Try:',
        `  export KUBECONFIG=${sb.kubeconfigPath}`,
        '  kubectl apply -f examples/spread-deployment.yaml',
        '  kubectl get pods -o wide',
        '',
        'Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
    await new Promise<void>((r) => (io.signal.aborted ? r() : io.signal.addEventListener('abort', () => r(), { once: true })));
    io.stderr.write('stopping the sandbox…\n');
    await sb.stop();
    return 0;
  },
};
