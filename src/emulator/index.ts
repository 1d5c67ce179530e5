import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../telemetry/log.js';
import { silentLogger } from '../telemetry/log.js';
import { renderAttributes } from './agent.js';
import { type ExecutorFactory, type ExecutorLauncher, InProcessLauncher, ProcessLauncher } from './executors.js';
import { cgroupsV1Available } from './cgroups.js';
import { Fetcher } from './fetcher.js';
import { EmulatorHttp } from './http.js';
import { Master } from './master.js';
import { parseResourceSpec } from './resources.js';

export { Master } from './master.js';
export type { SchedulerSink, MasterOptions, CallResult } from './master.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export { InProcessExecutorTransport, InProcessLauncher, ProcessLauncher, type ExecutorFactory, type ExecutorLauncher } from './executors.js';
export { parseResourceSpec } from './resources.js';
export { Fetcher, fetchUris, type FetchOutcome, type FetcherOptions } from './fetcher.js';
export { renderAttributes } from './agent.js';

export const DEFAULT_AGENT_RESOURCES = 'cpus:8;mem:16384;disk:100000;ports:[31000-32000]';

export interface EmulatorOptions {
  /** `host:port`; port 0 picks a free one. Default 127.0.0.1:5050. */
  listen?: string;
  agents?: number;
  /** Zones agents are spread over round-robin; none = agents without a fault domain. */
  zones?: string[];
  region?: string;
  /** Mesos `--resources` text per agent. */
  agentResources?: string;
  /** Agent hostnames are `<prefix><i>` (default `agent-`): distinct prefixes let several emulators share one Kubernetes. */
  hostnamePrefix?: string;
  /** Attribute template per agent, `{i}`, `{i%N}`, `{zone}`, `{region}` substituted: `rack:r{i%4}`. */
  agentAttributes?: string;
  allocationIntervalMs?: number;
  /** Role weights, as the master's --weights (a role without one weighs 1). */
  weights?: Record<string, number>;
  heartbeatIntervalMs?: number;
  offerTimeoutMs?: number;
  /** How long a former leader's address answers 307 after a leader failover (default 30 s). */
  failoverRedirectMs?: number;
  agentUnreachableTimeoutMs?: number;
  statusUpdateRetryMs?: number;
  executorRegistrationTimeoutMs?: number;
  executorMode?: 'process' | 'inprocess';
  /** Required for `inprocess` mode: runs one executor inside this process. */
  executorFactory?: ExecutorFactory;
  /**
   * `process` mode only. `cgroups` = Mesos' `--isolation=cgroups/cpu,cgroups/mem`: each executor runs in a cgroup v1
   * container (`<cgroupsRoot>/<container id>`, default root /kube-mesos-emulator) sized to its and its tasks' resources,
   * destroyed with everything in it when the executor ends. Needs root and cgroup v1. Default `none`.
   */
  isolation?: 'none' | 'cgroups';
  cgroupsRoot?: string;
  /** Environment executors inherit in `process` mode (a real agent passes its own). */
  baseEnv?: Record<string, string>;
  workDir?: string;
  /** The fetcher's options in `process` mode; each agent's cache is `<cacheDir>/<agent id>` (default `<workDir>/fetcher-cache`). */
  fetcher?: { cacheDir?: string; cacheBytes?: number; stallTimeoutMs?: number; ca?: string | Buffer };
  log?: Logger;
  random?: () => number;
}

export interface RunningEmulator {
  /** The agents' address, and the master's until a leader failover. */
  url: string;
  /** The current leading master. */
  readonly leaderUrl: string;
  master: Master;
  addAgents(req: { count?: number; zone?: string; region?: string; resources?: string; attributes?: string }): { ok: true; agents: { id: string; hostname: string; zone?: string }[] } | { ok: false; error: string };
  leaderFailover(redirectMs?: number): Promise<{ leader: string; previous: string }>;
  stop(): Promise<void>;
}

export class EmulatorConfigError extends Error {
  override name = 'EmulatorConfigError';
}

/** Parses `host:port` (IPv6 in brackets). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  if (!m) throw new EmulatorConfigError(`listen address "${listen}" must be host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new EmulatorConfigError(`port ${port} is out of range`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** Starts a master and its agents on one port. Throws EmulatorConfigError on bad options. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const log = opts.log ?? silentLogger();
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:5050');
  const zones = (opts.zones ?? []).filter(Boolean);
  const resources = opts.agentResources ?? DEFAULT_AGENT_RESOURCES;
  const parsed = parseResourceSpec(resources);
  if (!parsed.ok) throw new EmulatorConfigError(`agent resources: ${parsed.error}`);
  if (opts.agentAttributes) {
    const probe = renderAttributes(opts.agentAttributes, { i: 0 });
    if (!probe.ok) throw new EmulatorConfigError(`agent attributes: ${probe.error}`);
  }
  const mode = opts.executorMode ?? 'process';
  if (mode === 'inprocess' && !opts.executorFactory) throw new EmulatorConfigError('inprocess executor mode needs an executorFactory');
  const fetchers = new Map<string, Fetcher>();
  const cacheRoot = opts.fetcher?.cacheDir ?? join(opts.workDir ?? join(tmpdir(), 'kube-mesos-emulator'), 'fetcher-cache');
  const fetcherFor = (agentId: string) => {
    let f = fetchers.get(agentId);
    if (!f) fetchers.set(agentId, (f = new Fetcher({ ...opts.fetcher, cacheDir: join(cacheRoot, agentId) })));
    return f;
  };
  if (opts.isolation === 'cgroups') {
    if (mode !== 'process') throw new EmulatorConfigError('cgroups isolation needs the process executor mode');
    const avail = cgroupsV1Available();
    if (!avail.ok) throw new EmulatorConfigError(`cgroups isolation: ${avail.reason}`);
  }
  const cgroups = opts.isolation === 'cgroups' ? { root: opts.cgroupsRoot ?? '/kube-mesos-emulator' } : undefined;
  const launcher: ExecutorLauncher =
    mode === 'inprocess'
      ? new InProcessLauncher(opts.executorFactory!, () => master)
      : new ProcessLauncher({ cgroups, fetcherFor, warn: (msg, detail) => log.warn({ component: 'emulator', ...detail }, msg) });
  const master: Master = new Master({
    log: log.child({ component: 'emulator' }),
    allocationIntervalMs: opts.allocationIntervalMs,
    weights: opts.weights,
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    offerTimeoutMs: opts.offerTimeoutMs,
    agentUnreachableTimeoutMs: opts.agentUnreachableTimeoutMs,
    statusUpdateRetryMs: opts.statusUpdateRetryMs,
    executorRegistrationTimeoutMs: opts.executorRegistrationTimeoutMs,
    launcher,
    baseEnv: opts.baseEnv,
    workDir: opts.workDir,
    volumesOnDisk: mode === 'process',
    random: opts.random,
  });
  const http = new EmulatorHttp(master, { log: log.child({ component: 'emulator-http' }) });
  let index = 0;
  const addAgents: RunningEmulator['addAgents'] = (req) => {
    const count = req.count ?? 1;
    const res = parseResourceSpec(req.resources ?? resources);
    if (!res.ok) return { ok: false, error: `resources: ${res.error}` };
    const out: { id: string; hostname: string; zone?: string }[] = [];
    const specs = [];
    for (let n = 0; n < count; n++) {
      const i = index + n;
      const zone = req.zone ?? (zones.length ? zones[i % zones.length] : undefined);
      const region = req.region ?? opts.region ?? (zone ? 'default' : undefined);
      const attrs = renderAttributes(req.attributes ?? opts.agentAttributes ?? '', { i, zone, region });
      if (!attrs.ok) return { ok: false, error: `attributes: ${attrs.error}` };
      specs.push({ hostname: `${opts.hostnamePrefix ?? 'agent-'}${i}`, zone, region, resources: res.value, attributes: attrs.value });
    }
    index += count;
    for (const s of specs) {
      const a = master.addAgent(s);
      out.push({ id: a.id, hostname: a.hostname, zone: a.zone });
    }
    return { ok: true, agents: out };
  };
  const failoverRedirectMs = opts.failoverRedirectMs ?? 30_000;
  const leaderFailover = (redirectMs?: number) => http.failover(redirectMs ?? failoverRedirectMs);
  http.setControl({ addAgents, leaderFailover });
  await http.listen(host, port);
  const initial = addAgents({ count: opts.agents ?? 3 });
  if (!initial.ok) {
    await http.close();
    throw new EmulatorConfigError(initial.error);
  }
  master.start();
  log.info({ url: http.baseUrl, agents: master.agentCount, zones, mode }, 'mesos emulator listening');
  return {
    url: http.baseUrl,
    get leaderUrl() {
      return http.leaderUrl;
    },
    master,
    addAgents,
    leaderFailover,
    async stop() {
      master.stop();
      await http.close();
      await launcher.close?.();
    },
  };
}
// ---- maintenance ----
export { Maintenance, parseSchedule, type MaintenanceSchedule, type MaintenanceWindow, type InverseOfferResponse } from './maintenance.js';
