import { randomBytes } from 'node:crypto';
import { silentLogger } from '../telemetry/log.js';
import type { Agent, AgentSpec, ExecutorSink } from './agent.js';
import { systemClock } from './clock.js';
import type { CallOutcome, ExecutorEndpoint } from './executors.js';
import type { ExecutorCall, MasterInfo, SchedulerCall } from './proto-types.js';
import { Maintenance } from './maintenance.js';
import { AgentLifecycle } from './master/agent-lifecycle.js';
import { Allocator } from './master/allocator.js';
import { ExecutorLifecycle } from './master/executor-lifecycle.js';
import { Frameworks } from './master/frameworks.js';
import { Operations } from './master/operations.js';
import { type CallResult, DEFAULTS, type Framework, type MasterOptions, type MasterParts, MasterState, type SchedulerSink } from './master/shared.js';
import { allocationJson, stateJson } from './master/state-json.js';
import { StatusUpdates } from './master/status-updates.js';

export type { CallResult, MasterOptions, SchedulerSink } from './master/shared.js';
export { validateFrameworkInfo } from './master/frameworks.js';

/**
 * The emulated Mesos master with its agents. It only builds the parts in ./master/ and routes the HTTP layer's and
 * the fault API's requests to them: the allocator (DRF, filters, offers), operations (ACCEPT), the agents' status
 * update managers, the executor and agent lifecycles, framework subscriptions and the /state JSON.
 */
export class Master implements ExecutorEndpoint {
  private readonly s: MasterState;
  private readonly p: MasterParts;
  /** Maintenance schedule, inverse offers and the frameworks' answers. */
  readonly maintenance: Maintenance;

  constructor(opts: MasterOptions = {}) {
    for (const [k, v] of Object.entries(opts)) {
      if (k.endsWith('Ms') && v !== undefined && (typeof v !== 'number' || !(v >= 0))) throw new TypeError(`MasterOptions.${k} must be a number ≥ 0, got ${String(v)}`);
    }
    if (opts.allocationIntervalMs === 0) throw new TypeError('MasterOptions.allocationIntervalMs must be > 0');
    const clock = opts.clock ?? systemClock;
    const s = new MasterState(
      { ...DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) },
      clock,
      opts.log ?? silentLogger(),
      opts.random ?? Math.random,
      opts.clusterId ?? defaultClusterId(clock.now()),
    );
    this.s = s;
    // Each part reaches the others through this record, complete before any of them runs.
    const p = {} as MasterParts;
    p.allocator = new Allocator(s, p);
    p.operations = new Operations(s, p);
    p.updates = new StatusUpdates(s, p);
    p.executors = new ExecutorLifecycle(s, p);
    p.agents = new AgentLifecycle(s, p);
    p.frameworks = new Frameworks(s, p);
    p.maintenance = this.maintenance = new Maintenance({
      clock: s.clock,
      log: s.log,
      agents: () => [...s.agents.values()].filter((a) => a.state !== 'gone').map((a) => ({ id: a.id, hostname: a.hostname, ip: s.agentEndpoint.ip, active: a.state === 'active' })),
      frameworksOn: (agentId) => p.allocator.frameworksOnAgent(agentId),
      send: (fid, ev) => s.frameworks.get(fid)?.sink?.send(ev),
      newOfferId: () => s.newOfferId(),
      agentUrl: (agentId) => ({ scheme: 'http', address: { hostname: s.agents.get(agentId)?.hostname ?? '', ip: s.agentEndpoint.ip, port: s.agentEndpoint.port }, path: '/slave(1)' }),
      offerTimeoutMs: s.opts.offerTimeoutMs,
    });
    this.p = p;
  }

  get clusterId(): string {
    return this.s.clusterId;
  }
  get masterId(): string {
    return this.s.masterId;
  }
  get agents(): ReadonlyMap<string, Agent> {
    return this.s.agents;
  }
  get frameworks(): ReadonlyMap<string, Framework> {
    return this.s.frameworks;
  }
  get stats(): MasterState['stats'] {
    return this.s.stats;
  }
  /** Injected protocol faults: lost ACCEPT requests or responses, duplicated status updates. */
  get faults(): MasterState['faults'] {
    return this.s.faults;
  }
  /** The latest RESERVE/UNRESERVE/CREATE/DESTROY operations, each with the reason it was dropped if it was. */
  get operationLog(): MasterState['operationLog'] {
    return this.s.operationLog;
  }
  /** The address agents (and so executors) are reached at; stays put across leader failovers. */
  get agentEndpoint(): { ip: string; port: number } {
    return this.s.agentEndpoint;
  }
  set agentEndpoint(e: { ip: string; port: number }) {
    this.s.agentEndpoint = e;
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------------

  /** Starts the allocation loop. */
  start(): void {
    this.p.allocator.start();
  }

  /** Stops timers, closes streams and kills executors. */
  stop(): void {
    this.p.allocator.stop();
    this.p.frameworks.stop();
    this.p.agents.stop();
    this.maintenance.stop();
  }

  /** Where this master is reachable; goes into MasterInfo and offers' agent URL. */
  setAddress(hostname: string, ip: string, port: number): void {
    this.s.address = { hostname, ip, port };
  }

  masterInfo(): MasterInfo {
    return this.s.masterInfo();
  }

  /** POST /maintenance/schedule: replaces the schedule; inverse offers follow on the next allocation. */
  updateMaintenanceSchedule(schedule: Parameters<Maintenance['update']>[0]): void {
    this.maintenance.update(schedule);
    this.p.allocator.scheduleAllocation();
  }

  /** One allocation cycle (the periodic batch runs it too); returns the number of offers made. */
  allocate(): number {
    return this.p.allocator.allocate();
  }

  // ---- scheduler API ---------------------------------------------------------------------------------------------

  /** SUBSCRIBE: answers on the sink (SUBSCRIBED + HEARTBEAT, or one ERROR and close). */
  subscribe(sink: SchedulerSink, call: SchedulerCall): void {
    this.p.frameworks.subscribe(sink, call);
  }

  /** The HTTP layer reports a subscription stream that ended (client went away). */
  disconnected(sink: SchedulerSink): void {
    this.p.frameworks.disconnected(sink);
  }

  /** Checks a non-SUBSCRIBE call the way master/http.cpp does, then dispatches it. */
  call(call: SchedulerCall, streamId: string | undefined): CallResult {
    return this.p.frameworks.call(call, streamId);
  }

  // ---- executor API (the agents' /api/v1/executor) ---------------------------------------------------------------

  executorSubscribe(token: string | undefined, call: ExecutorCall, sink: ExecutorSink): CallOutcome {
    return this.p.executors.executorSubscribe(token, call, sink);
  }

  executorCall(token: string | undefined, call: ExecutorCall): CallOutcome {
    return this.p.executors.executorCall(token, call);
  }

  executorStreamClosed(sink: ExecutorSink): void {
    this.p.executors.executorStreamClosed(sink);
  }

  // ---- agents and fault injection --------------------------------------------------------------------------------

  addAgent(spec: AgentSpec): Agent {
    return this.p.agents.addAgent(spec);
  }

  get agentCount(): number {
    return this.s.agents.size;
  }

  agentsInZone(zone: string): Agent[] {
    return this.p.agents.agentsInZone(zone);
  }

  /** The agent's host dies: executors die with it; after the timeout the master marks it unreachable. */
  failAgent(agentId: string): boolean {
    return this.p.agents.failAgent(agentId);
  }

  /** The agent process restarts: checkpointing frameworks' executors reconnect, the others are shut down. */
  restartAgent(agentId: string): boolean {
    return this.p.agents.restartAgent(agentId);
  }

  /** The agent is cut off from the master but keeps running its tasks. */
  partitionAgent(agentId: string): boolean {
    return this.p.agents.partitionAgent(agentId);
  }

  /** Brings a failed or partitioned agent back; it re-registers with the master. */
  recoverAgent(agentId: string): boolean {
    return this.p.agents.recoverAgent(agentId);
  }

  /** The operator asserts the agent is gone for good (markAgentGone). */
  markAgentGone(agentId: string): boolean {
    return this.p.agents.markAgentGone(agentId);
  }

  /** A disconnected framework's failover timeout elapses now: Mesos removes it and kills its tasks. */
  expireFramework(frameworkId: string): 'expired' | 'not-found' | 'subscribed' {
    return this.p.frameworks.expireFailover(frameworkId);
  }

  /** A leader election: streams drop, offers and filters are forgotten; agents and tasks carry over. */
  failoverLeader(): void {
    this.p.frameworks.failoverLeader();
  }

  // ---- /state ----------------------------------------------------------------------------------------------------

  state(): Record<string, unknown> {
    return stateJson(this.s, (a) => this.p.allocator.offeredOn(a));
  }

  /** GET /emulator/allocation: cluster totals, role shares, each framework's allocation and offer figures. */
  allocationJson(o: { byAgent?: boolean; lists?: boolean } = {}): ReturnType<typeof allocationJson> {
    return allocationJson(this.s, this.p.allocator.clusterTotal(), o);
  }
}

function defaultClusterId(now: number): string {
  const d = new Date(now);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}-${randomBytes(3).toString('hex')}`;
}
