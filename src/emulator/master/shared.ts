/**
 * The emulated master's shared state and the parts that work on it. Each part (allocator, operations, status
 * updates, executor and agent lifecycle, frameworks) owns one concern and reaches the others through `MasterParts`;
 * `Master` (../master.ts) only builds and wires them.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../telemetry/log.js';
import type { Agent, Task } from '../agent.js';
import type { Clock, Timer } from '../clock.js';
import type { ExecutorLauncher } from '../executors.js';
import type { Maintenance } from '../maintenance.js';
import { ProtocolFaults } from '../faults.js';
import { type FrameworkInfo, type MasterInfo, type SchedulerEvent, type TaskState, TERMINAL_STATES } from '../proto-types.js';
import { ResourceBag } from '../resources.js';
import type { AgentLifecycle } from './agent-lifecycle.js';
import type { Allocator } from './allocator.js';
import type { ExecutorLifecycle } from './executor-lifecycle.js';
import type { Frameworks } from './frameworks.js';
import type { Operations } from './operations.js';
import type { StatusUpdates } from './status-updates.js';

/** One framework subscription stream (the HTTP layer encodes and writes; close() ends the response). */
export interface SchedulerSink {
  readonly streamId: string;
  send(ev: SchedulerEvent): void;
  close(): void;
}

export type CallResult = { status: 202 } | { status: 200; body?: unknown } | { status: 400 | 403 | 501; message: string };

export interface MasterOptions {
  clock?: Clock;
  log?: Logger;
  /** Prefix of framework and agent ids; stable across leader failovers. */
  clusterId?: string;
  allocationIntervalMs?: number;
  heartbeatIntervalMs?: number;
  /** Offers not used within this time are rescinded; undefined = never (Mesos' default). */
  offerTimeoutMs?: number;
  /** Time from losing an agent to marking it unreachable (Mesos: agent_ping_timeout × max_agent_ping_timeouts = 75 s). */
  agentUnreachableTimeoutMs?: number;
  /** First retry of an unacknowledged status update (Mesos: 10 s, doubling up to 10 min). */
  statusUpdateRetryMs?: number;
  executorRegistrationTimeoutMs?: number;
  launcher?: ExecutorLauncher;
  /** Base environment every executor inherits (a real agent passes its own); the CLI gives process.env. */
  baseEnv?: Record<string, string>;
  /** Sandbox root: <workDir>/slaves/<agent>/frameworks/<fw>/executors/<id>/runs/<container>. */
  workDir?: string;
  /** Create and remove persistent volume directories under each agent's work dir (process mode). */
  volumesOnDisk?: boolean;
  version?: string;
  /** Seeded randomness for agent order in allocation. */
  random?: () => number;
  /** Role weights (the master's --weights); a role without one weighs 1. */
  weights?: Record<string, number>;
  /**
   * The master's --min_allocatable_resources: an agent's leftovers are offered only if they hold at least one of these
   * quantity sets (default cpus:0.01|mem:32, Mesos' MIN_CPUS and MIN_MEM); an empty list offers any leftovers.
   */
  minAllocatable?: Record<string, number>[];
}

export const DEFAULTS = {
  allocationIntervalMs: 1000,
  heartbeatIntervalMs: 15_000,
  agentUnreachableTimeoutMs: 75_000,
  statusUpdateRetryMs: 10_000,
  executorRegistrationTimeoutMs: 60_000,
};

export type ResolvedOptions = Required<Pick<MasterOptions, keyof typeof DEFAULTS>> & MasterOptions;

/** A refusal (DECLINE or ACCEPT filter): the role's resources on one agent are not offered again until expiresAt. */
export interface Filter {
  role: string;
  bag: ResourceBag;
  expiresAt: number;
}

export interface OfferRecord {
  id: string;
  frameworkId: string;
  agentId: string;
  role: string;
  parts: Map<string, ResourceBag>;
  timer?: Timer;
  /** When the offer was sent (the clock's ms): its hold time ends when it is accepted, declined or rescinded. */
  sentAt: number;
}

/** What the allocator saw a framework do with its offers (emulator-only figures, GET /emulator/allocation). */
export interface OfferFigures {
  sent: number;
  accepted: number;
  declined: number;
  rescinded: number;
  /** ms from OFFERS to ACCEPT/DECLINE/rescind and which it was, one entry per offer, the latest MAX_HOLD_SAMPLES. */
  holds: { ms: number; outcome: HoldOutcome }[];
  /** DECLINEs (calls) by their effective refuse_seconds, as text ("5", "300", "0"). */
  declineRefuseSeconds: Record<string, number>;
  calls: { accept: number; decline: number; suppress: number; revive: number };
  /** Agents declined and not offered again since: when, and with what refuse_seconds (a REVIVE forgets them). */
  declinedAgents: Map<string, { at: number; refuseSeconds: number }>;
  /** Time from a DECLINE of an agent to its next offer to the framework, with the decline's refuse_seconds (latest MAX_HOLD_SAMPLES). */
  reoffers: { refuseSeconds: number; gapMs: number; grown: boolean }[];
}

export type HoldOutcome = 'accepted' | 'declined' | 'rescinded';

export const MAX_HOLD_SAMPLES = 100_000;

export function newOfferFigures(): OfferFigures {
  return { sent: 0, accepted: 0, declined: 0, rescinded: 0, holds: [], declineRefuseSeconds: {}, calls: { accept: 0, decline: 0, suppress: 0, revive: 0 }, declinedAgents: new Map(), reoffers: [] };
}

export interface Framework {
  id: string;
  info: FrameworkInfo;
  roles: string[];
  capabilities: Set<string>;
  sink?: SchedulerSink;
  suppressed: Set<string>;
  filters: Map<string, Filter[]>;
  offers: Set<string>;
  /** Scalars offered or in use (Mesos' "allocated"), over all roles. */
  allocated: ResourceBag;
  /** The same per role: the DRF sorters' allocation of this framework in each role. */
  allocatedByRole: Map<string, ResourceBag>;
  /** Offers made to the framework per role: the DRF sorter's tie-breaker (`allocation.count`). */
  allocationCount: Map<string, number>;
  figures: OfferFigures;
  tasks: Map<string, Task>;
  completed: Task[];
  failoverTimer?: Timer;
  heartbeatTimer?: Timer;
  registeredTime: number;
  reregisteredTime?: number;
  unregisteredTime?: number;
}

/** The parts of the master; each is given this record (filled once all exist) to reach the others. */
export interface MasterParts {
  allocator: Allocator;
  operations: Operations;
  updates: StatusUpdates;
  executors: ExecutorLifecycle;
  agents: AgentLifecycle;
  frameworks: Frameworks;
  maintenance: Maintenance;
}

/** What every part reads and changes: the registries, the clock, the options and the master's identity. */
export class MasterState {
  masterId = randomUUID();
  readonly agents = new Map<string, Agent>();
  readonly frameworks = new Map<string, Framework>();
  readonly removedFrameworks = new Map<string, Framework>();
  readonly offers = new Map<string, OfferRecord>();
  /** The latest RESERVE/UNRESERVE/CREATE/DESTROY operations and why any was dropped (newest last, at most 100). */
  readonly operationLog: { frameworkId: string; agentId: string; type: string; error?: string }[] = [];
  readonly stats = { offersSent: 0, allocationCycles: 0, lastCycleMs: 0, totalCycleMs: 0, updatesForwarded: 0, tasksLaunched: 0 };
  /** Injected protocol faults (/emulator/faults). */
  readonly faults = new ProtocolFaults();
  address = { hostname: 'localhost', ip: '127.0.0.1', port: 5050 };
  /** The address agents (and so executors) are reached at; stays put across leader failovers. */
  agentEndpoint = { ip: '127.0.0.1', port: 5051 };
  readonly startTime: number;
  electedTime: number;
  private nextOffer = 0;

  constructor(
    readonly opts: ResolvedOptions,
    readonly clock: Clock,
    readonly log: Logger,
    readonly random: () => number,
    readonly clusterId: string,
  ) {
    this.startTime = this.electedTime = clock.now();
  }

  /** Offer and inverse offer ids share one sequence, as in the real master. */
  newOfferId(): string {
    return `${this.masterId}-O${this.nextOffer++}`;
  }

  agentAddress(): string {
    return `${this.agentEndpoint.ip}:${this.agentEndpoint.port}`;
  }

  masterInfo(): MasterInfo {
    const { hostname, ip, port } = this.address;
    return {
      id: this.masterId,
      ip: ipToInt(ip),
      port,
      pid: `master@${ip}:${port}`,
      hostname,
      version: this.opts.version ?? '1.11.0',
      address: { hostname, ip, port },
    };
  }
}

/** An emulated agent's work dir: `<workDir>/slaves/<agent id>`; its volumes are under `volumes/roles/<role>/<id>`. */
export function agentWorkDirOf(s: MasterState, a: Agent): string {
  return join(s.opts.workDir ?? join(tmpdir(), 'kube-mesos-emulator'), 'slaves', a.id);
}

export const hex = (u?: Uint8Array) => (u ? Buffer.from(u).toString('hex') : '');
export const isTerminal = (s: TaskState) => TERMINAL_STATES.has(s);
export const id = (value: string) => ({ value });

export function domainOf(a: Agent) {
  return a.zone ? { domain: { fault_domain: { region: { name: a.region ?? 'default' }, zone: { name: a.zone } } } } : {};
}

function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((n) => !(n >= 0 && n <= 255))) return 0;
  // Mesos stores MasterInfo.ip in network byte order read as a little-endian uint32.
  return ((p[3] << 24) >>> 0) + (p[2] << 16) + (p[1] << 8) + p[0];
}

/** Charges (sign 1) or credits (-1) the framework's allocation in `role` with the scalars of `b`. */
export function charge(fw: Framework, role: string, b: ResourceBag, sign: 1 | -1): void {
  addScalars(fw.allocated, b, sign);
  let r = fw.allocatedByRole.get(role);
  if (!r) fw.allocatedByRole.set(role, (r = new ResourceBag()));
  addScalars(r, b, sign);
  if (r.scalars.size === 0) fw.allocatedByRole.delete(role);
}

/** Adds (sign 1) or removes (-1) the scalars of `b` to `into`, without allocating. */
export function addScalars(into: ResourceBag, b: ResourceBag, sign: 1 | -1): void {
  for (const [k, v] of b.scalars) {
    const next = Math.round(((into.scalars.get(k) ?? 0) + sign * v) * 1000) / 1000;
    if (next > 0) into.scalars.set(k, next);
    else into.scalars.delete(k);
  }
}

export function mergeInto(into: Map<string, ResourceBag>, from: Map<string, ResourceBag>): void {
  for (const [k, b] of from) {
    const cur = into.get(k);
    if (cur) cur.add(b);
    else into.set(k, b.clone());
  }
}
