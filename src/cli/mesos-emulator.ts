import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { durationMs } from '../config/duration.js';
import { createLogger } from '../telemetry/log.js';
import { type Command, intFlag, type ParsedArgs, stringFlag, UsageError } from './command.js';

const DEFAULT_EXECUTOR_MODULE = '../executor/inprocess.js';

function duration(args: ParsedArgs, name: string): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  try {
    return durationMs(v, `--${name}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Loads an ExecutorFactory from a module: its `executorFactory`, default export, or `createExecutorFactory()`. */
async function loadFactory(spec: string | undefined): Promise<unknown> {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const path = spec ?? DEFAULT_EXECUTOR_MODULE;
  const abs = isAbsolute(path) ? path : spec ? resolve(process.cwd(), path) : resolve(here, path);
  const candidates = [abs, abs.replace(/\.js$/, '.ts')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new UsageError(`--executor-module: ${path} not found${spec ? '' : ' (the default in-process executor is not built; pass --executor-module)'}`);
  const mod = (await import(pathToFileURL(found).href)) as Record<string, unknown>;
  if (typeof mod.executorFactory === 'function') return mod.executorFactory;
  if (typeof mod.default === 'function') return mod.default;
  if (typeof mod.createExecutorFactory === 'function') return (mod.createExecutorFactory as () => unknown)();
  throw new UsageError(`--executor-module: ${found} exports no executorFactory, default function or createExecutorFactory`);
}

export const command: Command = {
  name: 'mesos-emulator',
  summary: 'Run a protocol-faithful Mesos master + agents on one port, with fault injection',
  details: [
    'Endpoints: POST /api/v1/scheduler, POST /api/v1/executor, GET /state (/master/state),',
    '  POST /emulator/agents/{id}/fail|recover|partition|gone, POST /emulator/zones/{zone}/fail|recover,',
    '  POST /emulator/agents {"count":1,"zone":"a","resources":"cpus:32;mem:65536"}, POST /emulator/leader/failover {"redirectMs":30000}.',
    'Durations are written as Go writes them: 500ms, 15s, 5m, 1h30m.',
  ].join('\n'),
  flags: {
    listen: { type: 'string', value: '<host:port>', description: 'Address of the master and the agents (port 0 picks one)', default: '127.0.0.1:5050' },
    agents: { type: 'string', value: '<n>', description: 'Number of agents to start', default: '3' },
    zones: { type: 'string', value: '<a,b,c>', description: 'Fault-domain zones; agents are spread over them round-robin (empty: no domain)', default: 'a,b,c' },
    region: { type: 'string', value: '<name>', description: 'Fault-domain region of every agent', default: 'r1' },
    'agent-resources': { type: 'string', value: '<spec>', description: "Each agent's resources, Mesos --resources syntax", default: 'cpus:8;mem:16384;disk:100000;ports:[31000-32000]' },
    'agent-attributes': { type: 'string', value: '<template>', description: 'Agent attributes; {i}, {i%N}, {zone}, {region} are substituted, e.g. rack:r{i%4}' },
    'allocation-interval': { type: 'string', value: '<duration>', description: 'How often offers are made', default: '1s' },
    weights: { type: 'string', value: '<role=w,…>', description: "Role weights for the allocator's DRF, as the Mesos master's --weights (default 1 each)" },
    'heartbeat-interval': { type: 'string', value: '<duration>', description: 'HEARTBEAT interval on subscription streams', default: '15s' },
    'offer-timeout': { type: 'string', value: '<duration>', description: 'Rescind offers not used within this time (default: never, as Mesos)' },
    'failover-redirect-duration': { type: 'string', value: '<duration>', description: 'After a leader failover, how long the old address answers 307', default: '30s' },
    'agent-unreachable-timeout': { type: 'string', value: '<duration>', description: 'Time from losing an agent to marking it unreachable (Mesos: 5 × 15s)', default: '75s' },
    'status-update-retry': { type: 'string', value: '<duration>', description: 'First retry of an unacknowledged status update (doubles up to 10m)', default: '10s' },
    'executor-registration-timeout': { type: 'string', value: '<duration>', description: 'An executor that does not subscribe in time is killed', default: '1m' },
    'executor-mode': { type: 'string', value: '<process|inprocess>', description: 'Run executors as processes, or inside the emulator', default: 'process' },
    isolation: { type: 'string', value: '<none|cgroups>', description: 'process mode: cgroups = each executor in a cgroup v1 container sized to its resources (root)', default: 'none' },
    'executor-module': { type: 'string', value: '<path>', description: `Module with the in-process ExecutorFactory (default: ${DEFAULT_EXECUTOR_MODULE} beside the CLI)` },
    'work-dir': { type: 'string', value: '<dir>', description: 'Root of executor sandboxes (default: a directory under the system temp dir)' },
    'log-level': { type: 'string', value: '<level>', description: 'Log level (trace, debug, info, warn, error)', default: 'info' },
  },
  async run(args, io) {
    const mode = stringFlag(args, 'executor-mode');
    if (mode !== 'process' && mode !== 'inprocess') throw new UsageError(`--executor-mode must be process or inprocess, got "${mode}"`);
    const agents = intFlag(args, 'agents', 0) ?? 3;
    const zones = (stringFlag(args, 'zones') ?? '')
      .split(',')
      .map((z) => z.trim())
      .filter(Boolean);
    const allocation = duration(args, 'allocation-interval');
    if (allocation === 0) throw new UsageError('--allocation-interval must be > 0');
    const heartbeat = duration(args, 'heartbeat-interval');
    if (heartbeat === 0) throw new UsageError('--heartbeat-interval must be > 0');
    const { parseWeights } = await import('../emulator/master/drf.js');
    const parsedWeights = parseWeights(stringFlag(args, 'weights') ?? '');
    if (!parsedWeights.ok) throw new UsageError(`--weights: ${parsedWeights.error}`);
    const weights = Object.keys(parsedWeights.value).length ? parsedWeights.value : undefined;
    const { startEmulator, EmulatorConfigError, parseListen } = await import('../emulator/index.js');
    const listen = stringFlag(args, 'listen') ?? '127.0.0.1:5050';
    try {
      parseListen(listen);
    } catch (err) {
      throw new UsageError(`--listen: ${(err as Error).message}`);
    }
    const isolation = stringFlag(args, 'isolation');
    if (isolation !== 'none' && isolation !== 'cgroups') throw new UsageError(`--isolation must be none or cgroups, got "${isolation}"`);
    if (args.values['executor-module'] !== undefined && mode !== 'inprocess') throw new UsageError('--executor-module only applies to --executor-mode inprocess');
    const factory = mode === 'inprocess' ? await loadFactory(stringFlag(args, 'executor-module')) : undefined;
    const log = createLogger({ level: stringFlag(args, 'log-level'), destination: io.stderr, name: 'kube-mesos-emulator' });
    let emulator;
    try {
      emulator = await startEmulator({
        listen,
        agents,
        zones,
        region: stringFlag(args, 'region'),
        agentResources: stringFlag(args, 'agent-resources'),
        agentAttributes: stringFlag(args, 'agent-attributes'),
        allocationIntervalMs: allocation,
        weights,
        heartbeatIntervalMs: heartbeat,
        offerTimeoutMs: duration(args, 'offer-timeout'),
        failoverRedirectMs: duration(args, 'failover-redirect-duration'),
        agentUnreachableTimeoutMs: duration(args, 'agent-unreachable-timeout'),
        statusUpdateRetryMs: duration(args, 'status-update-retry'),
        executorRegistrationTimeoutMs: duration(args, 'executor-registration-timeout'),
        executorMode: mode,
        isolation,
        executorFactory: factory as never,
        baseEnv: Object.fromEntries(Object.entries(io.env).filter((e): e is [string, string] => typeof e[1] === 'string')),
        workDir: stringFlag(args, 'work-dir'),
        log,
      });
    } catch (err) {
      if (err instanceof EmulatorConfigError) throw new UsageError(err.message);
      throw err;
    }
    io.stdout.write(`mesos-emulator: master ${emulator.url} (${agents} agents${zones.length ? ` in zones ${zones.join(',')}` : ''}, executors ${mode})\n`);
    await new Promise<void>((resolveStop) => {
      if (io.signal.aborted) return resolveStop();
      io.signal.addEventListener('abort', () => resolveStop(), { once: true });
    });
    await emulator.stop();
    const f = factory as { close?: () => Promise<void> } | undefined;
    await f?.close?.();
    return 0;
  },
};
