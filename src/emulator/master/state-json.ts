import type { Agent, Task } from '../agent.js';
import type { CommandInfo, ExecutorInfo, Resource } from '../proto-types.js';
import { poolRole } from '../reservations.js';
import { bagsByRole, ResourceBag } from '../resources.js';
import { dominantShare } from './drf.js';
import { domainOf, type MasterState, mergeInto } from './shared.js';

/**
 * A subset of the real master's /state JSON (master/readonly_handler.cpp, common/http.cpp): what a person debugging
 * looks at. Field names follow the real master's, `slave_id` included; emulator-only fields (`state`, `reachable`,
 * `host_up`, `kind`) are extras.
 */
export function stateJson(s: MasterState, offeredOn: (a: Agent) => ResourceBag): Record<string, unknown> {
  const taskJson = (t: Task) => {
    const res = new ResourceBag();
    for (const b of t.resources.values()) res.add(b);
    return {
      id: t.info.task_id.value,
      name: t.info.name,
      framework_id: t.frameworkId,
      executor_id: t.info.executor ? t.executorId : '',
      slave_id: t.agentId,
      agent_id: t.agentId,
      state: t.state,
      role: t.role,
      resources: res.toJSON(),
      statuses: t.lastStatus ? [{ state: t.lastStatus.state, timestamp: t.lastStatus.timestamp, reason: t.lastStatus.reason, message: t.lastStatus.message }] : [],
    };
  };
  const { hostname, ip, port } = s.address;
  const unreachable = [...s.agents.values()].filter((a) => a.state === 'unreachable');
  return {
    version: s.opts.version ?? '1.11.0',
    id: s.masterId,
    pid: `master@${ip}:${port}`,
    hostname,
    start_time: s.startTime / 1000,
    elected_time: s.electedTime / 1000,
    activated_slaves: [...s.agents.values()].filter((a) => a.state === 'active').length,
    deactivated_slaves: [...s.agents.values()].filter((a) => a.state === 'disconnected').length,
    unreachable_slaves: unreachable.length,
    leader: `master@${ip}:${port}`,
    leader_info: s.masterInfo(),
    slaves: [...s.agents.values()]
      .filter((a) => a.state !== 'gone')
      .map((a) => ({
        id: a.id,
        hostname: a.hostname,
        port: s.agentEndpoint.port,
        pid: `slave(1)@${s.agentAddress()}`,
        active: a.state === 'active',
        state: a.state,
        reachable: a.reachable,
        host_up: a.hostUp,
        registered_time: a.registeredAt / 1000,
        ...domainOf(a),
        resources: a.totalBag().toJSON(),
        used_resources: a.usedBag().toJSON(),
        ...reservationJson(a),
        offered_resources: offeredOn(a).toJSON(),
        attributes: Object.fromEntries(a.attributes.map((x) => [x.name, x.text?.value ?? x.scalar?.value ?? x.set?.item ?? x.ranges?.range])),
        executors: [...a.executors.values()].map((e) => ({
          id: e.executorId,
          framework_id: e.frameworkId,
          container: e.containerId,
          directory: e.directory,
          state: e.state,
          kind: e.kind,
          tasks: [...a.tasks.values()].filter((t) => t.frameworkId === e.frameworkId && t.executorId === e.executorId).map((t) => t.info.task_id.value),
        })),
      })),
    frameworks: [...s.frameworks.values()].map((f) => ({
      id: f.id,
      name: f.info.name,
      user: f.info.user,
      principal: f.info.principal,
      roles: f.roles,
      suppressed_roles: [...f.suppressed],
      capabilities: [...f.capabilities],
      failover_timeout: f.info.failover_timeout ?? 0,
      checkpoint: f.info.checkpoint ?? false,
      active: !!f.sink,
      connected: !!f.sink,
      registered_time: f.registeredTime / 1000,
      reregistered_time: f.reregisteredTime !== undefined ? f.reregisteredTime / 1000 : undefined,
      unregistered_time: f.unregisteredTime !== undefined ? f.unregisteredTime / 1000 : undefined,
      offers: [...f.offers].map((oid) => {
        const o = s.offers.get(oid)!;
        const b = new ResourceBag();
        for (const p of o.parts.values()) b.add(p);
        return { id: oid, slave_id: o.agentId, role: o.role, resources: b.toJSON() };
      }),
      tasks: [...f.tasks.values()].filter((t) => t.state !== 'TASK_UNREACHABLE').map(taskJson),
      unreachable_tasks: [...f.tasks.values()].filter((t) => t.state === 'TASK_UNREACHABLE').map(taskJson),
      completed_tasks: f.completed.slice(-100).map(taskJson),
      executors: frameworkExecutors(s, f.id),
    })),
    completed_frameworks: [...s.removedFrameworks.values()].map((f) => ({ id: f.id, name: f.info.name })),
    unregistered_frameworks: [],
  };
}

/**
 * The agent's reservations and volumes as the real master's slave JSON has them: `reserved_resources` (role → totals),
 * `reserved_resources_full` (role → Resource, refinement format: stack and disk info), `unreserved_resources(_full)`,
 * `used_resources_full`.
 */
function reservationJson(a: Agent): Record<string, unknown> {
  const reservedFull: Record<string, Resource[]> = {};
  const reserved: Record<string, ResourceBag> = {};
  let unreserved: Resource[] = [];
  for (const [pool, b] of a.total) {
    if (b.isEmpty()) continue;
    if (pool === '*') {
      unreserved = b.toResources('*', undefined, true);
      continue;
    }
    const role = poolRole(pool);
    (reservedFull[role] ??= []).push(...b.toResources(pool, undefined, true));
    (reserved[role] ??= new ResourceBag()).add(b);
  }
  const used = new Map<string, ResourceBag>();
  for (const t of a.tasks.values()) if (t.holdsResources) mergeInto(used, t.resources);
  for (const e of a.executors.values()) if (e.state !== 'terminated') mergeInto(used, e.resources);
  return {
    reserved_resources: Object.fromEntries(Object.entries(reserved).map(([r, b]) => [r, b.toJSON()])),
    reserved_resources_full: reservedFull,
    unreserved_resources: a.total.get('*')?.toJSON() ?? {},
    unreserved_resources_full: unreserved,
    used_resources_full: [...used].flatMap(([pool, b]) => b.toResources(pool, undefined, true)),
  };
}

/**
 * `frameworks[].executors`: the framework's executors the master knows, one per agent, as FullFrameworkWriter writes
 * them (json(ExecutorInfo) + `slave_id`). Command executors are the agent's own and not listed, as in Mesos.
 */
function frameworkExecutors(s: MasterState, frameworkId: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const a of s.agents.values()) {
    if (a.state === 'gone') continue;
    for (const e of a.executors.values()) {
      if (e.frameworkId !== frameworkId || e.kind !== 'custom' || e.state === 'terminated') continue;
      out.push({ ...executorJson(e.info, frameworkId), slave_id: a.id, agent_id: a.id });
    }
  }
  return out;
}

/** common/http.cpp json(ExecutorInfo). */
function executorJson(info: ExecutorInfo, frameworkId: string): Record<string, unknown> {
  const resources = new ResourceBag();
  for (const b of bagsByRole(info.resources).values()) resources.add(b);
  const first = info.resources?.[0];
  return {
    executor_id: info.executor_id.value,
    name: info.name ?? '',
    framework_id: info.framework_id?.value ?? frameworkId,
    command: commandJson(info.command ?? {}),
    resources: { cpus: 0, gpus: 0, mem: 0, disk: 0, ...resources.toJSON() },
    ...(first ? { role: first.allocation_info?.role ?? first.role ?? '*' } : {}),
    ...(info.labels ? { labels: info.labels.labels ?? [] } : {}),
    ...(info.type ? { type: info.type } : {}),
  };
}

/** common/http.cpp json(CommandInfo): shell and value when set, argv, environment, uris. */
function commandJson(c: CommandInfo): Record<string, unknown> {
  return {
    ...(c.shell !== undefined ? { shell: c.shell } : {}),
    ...(c.value !== undefined ? { value: c.value } : {}),
    argv: c.arguments ?? [],
    ...(c.environment ? { environment: c.environment } : {}),
    uris: (c.uris ?? []).map((u) => ({ value: u.value, executable: u.executable ?? false })),
  };
}

/** One framework's view in GET /emulator/allocation. */
export interface FrameworkAllocationJson {
  id: string;
  name: string;
  roles: string[];
  suppressed_roles: string[];
  active: boolean;
  /** Scalars offered or in use (Mesos' allocated), offered, and used by tasks and executors. */
  allocated: Record<string, number>;
  offered: Record<string, number>;
  used: Record<string, number>;
  /** max over the cluster's scalars of allocated/total (weights not applied). */
  dominant_share: number;
  offers: { sent: number; accepted: number; declined: number; rescinded: number };
  /** ms from OFFERS to ACCEPT, DECLINE or rescind, oldest first (the latest 100 000). */
  offer_hold_ms: number[];
  declines_by_refuse_seconds: Record<string, number>;
  calls: { accept: number; decline: number; suppress: number; revive: number };
  /** Per DECLINE of an agent: its refuse_seconds and the ms until the agent was next offered to the framework. */
  /** The same split by what ended the hold. */
  offer_hold_ms_by_outcome: Record<'accepted' | 'declined' | 'rescinded', number[]>;
  /** `grown`: the agent came back while the decline's filter ran, because it had more to offer than was refused. */
  reoffers: { refuse_seconds: number; gap_ms: number; grown: boolean }[];
  /** With `byAgent`: scalars its tasks and executors use, per agent id. */
  used_by_agent?: Record<string, Record<string, number>>;
}

/**
 * GET /emulator/allocation (emulator-only): what the allocator sees — the cluster's scalar totals, each role's weighted
 * share and each framework's allocation, dominant share and what it did with its offers. The figures a sharing
 * benchmark samples (`lists: false` leaves the per-offer lists empty, for frequent sampling); the real master spreads them over /roles, /state and /metrics/snapshot.
 */
export function allocationJson(s: MasterState, total: Map<string, number>, o: { byAgent?: boolean; lists?: boolean } = {}): { time: number; total: Record<string, number>; roles: { role: string; weight: number; share: number }[]; frameworks: FrameworkAllocationJson[] } {
  const roleAlloc = new Map<string, ResourceBag>();
  const frameworks = [...s.frameworks.values()].map((f) => {
    for (const [r, b] of f.allocatedByRole) roleAlloc.set(r, (roleAlloc.get(r) ?? new ResourceBag()).add(b));
    const offered = new ResourceBag();
    for (const oid of f.offers) for (const b of s.offers.get(oid)?.parts.values() ?? []) offered.add(b);
    const used = new ResourceBag();
    for (const [k, v] of f.allocated.scalars) used.scalars.set(k, v);
    for (const [k, v] of offered.scalars) {
      const left = Math.round(((used.scalars.get(k) ?? 0) - v) * 1000) / 1000;
      if (left > 0) used.scalars.set(k, left);
      else used.scalars.delete(k);
    }
    const fig = f.figures;
    return {
      id: f.id,
      name: f.info.name,
      roles: f.roles,
      suppressed_roles: [...f.suppressed],
      active: f.sink !== undefined,
      allocated: Object.fromEntries(f.allocated.scalars),
      offered: Object.fromEntries(offered.scalars),
      used: Object.fromEntries(used.scalars),
      dominant_share: dominantShare(f.allocated, total),
      offers: { sent: fig.sent, accepted: fig.accepted, declined: fig.declined, rescinded: fig.rescinded },
      offer_hold_ms: o.lists === false ? [] : fig.holds.map((h) => h.ms),
      offer_hold_ms_by_outcome: {
        accepted: o.lists === false ? [] : fig.holds.filter((h) => h.outcome === 'accepted').map((h) => h.ms),
        declined: o.lists === false ? [] : fig.holds.filter((h) => h.outcome === 'declined').map((h) => h.ms),
        rescinded: o.lists === false ? [] : fig.holds.filter((h) => h.outcome === 'rescinded').map((h) => h.ms),
      },
      declines_by_refuse_seconds: { ...fig.declineRefuseSeconds },
      calls: { ...fig.calls },
      reoffers: (o.lists === false ? [] : fig.reoffers).map((r) => ({ refuse_seconds: r.refuseSeconds, gap_ms: r.gapMs, grown: r.grown })),
      ...(o.byAgent ? { used_by_agent: usedByAgent(s, f.id) } : {}),
    };
  });
  const roles = [...roleAlloc].map(([role, b]) => {
    const weight = s.opts.weights?.[role] ?? 1;
    return { role, weight, share: dominantShare(b, total, weight) };
  });
  return { time: s.clock.now(), total: Object.fromEntries(total), roles, frameworks };
}

function usedByAgent(s: MasterState, frameworkId: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const a of s.agents.values()) {
    const b = new ResourceBag();
    for (const t of a.tasks.values()) if (t.frameworkId === frameworkId && t.holdsResources) for (const r of t.resources.values()) b.add(r);
    for (const e of a.executors.values()) if (e.frameworkId === frameworkId && e.state !== 'terminated') for (const r of e.resources.values()) b.add(r);
    if (b.scalars.size) out[a.id] = Object.fromEntries(b.scalars);
  }
  return out;
}
