import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from '../agent.js';
import type { OfferOperation, Resource } from '../proto-types.js';
import { describe, diskPool, poolOf, poolRole, poppedPool, stackOf, volumeOf } from '../reservations.js';
import { ResourceBag } from '../resources.js';
import type { Framework } from './shared.js';

/**
 * RESERVE, UNRESERVE, CREATE and DESTROY inside an ACCEPT, validated as master/validation.cpp does (operation::validate
 * and resource::validate) and then applied to the offered resources left (`remaining`) and to the agent's total, so a
 * later LAUNCH of the same ACCEPT uses the converted resources and the next offer carries them.
 */
export interface ReservationContext {
  fw: Framework;
  agent: Agent;
  /** The role the offers were allocated to. */
  role: string;
  remaining: Map<string, ResourceBag>;
  /** Root of the agent's work dir when volumes live on disk (process mode); undefined = bookkeeping only. */
  agentWorkDir?: string;
}

/** One pool-to-pool conversion of some resources. */
interface Move {
  from: string;
  to: string;
  bag: ResourceBag;
}

const INVALID_ID = /[\\/\x00-\x1f\x7f]/;

/** Applies the operation; an error message (the operation is then dropped, as the real master does) or undefined. */
export function applyReservationOp(ctx: ReservationContext, op: OfferOperation): string | undefined {
  const planned = plan(ctx, op);
  if (typeof planned === 'string') return planned;
  const need = new Map<string, ResourceBag>();
  for (const m of planned.moves) (need.get(m.from) ?? need.set(m.from, new ResourceBag()).get(m.from)!).add(m.bag);
  for (const [pool, b] of need)
    if (!(ctx.remaining.get(pool) ?? new ResourceBag()).contains(b)) {
      const have = new ResourceBag();
      for (const x of ctx.remaining.values()) have.add(x);
      return `Invalid ${op.type} Operation: ${JSON.stringify(have.toJSON())} does not contain ${JSON.stringify(b.toJSON())}`;
    }
  for (const m of planned.moves) {
    convert(ctx.remaining, m);
    convert(ctx.agent.total, m);
  }
  if (ctx.agentWorkDir)
    for (const v of planned.volumes) {
      const path = volumePath(ctx.agentWorkDir, v.role, v.id);
      if (op.type === 'CREATE') mkdirSync(path, { recursive: true });
      else rmSync(path, { recursive: true, force: true });
    }
  return undefined;
}

/** `<agent work dir>/volumes/roles/<role>/<persistence id>`, as the Mesos agent lays volumes out ('/' of nested roles → ' '). */
export function volumePath(agentWorkDir: string, role: string, persistenceId: string): string {
  return join(agentWorkDir, 'volumes', 'roles', role.replaceAll('/', ' '), persistenceId);
}

function convert(pools: Map<string, ResourceBag>, m: Move): void {
  pools.get(m.from)?.subtract(m.bag);
  if (m.from !== '*' && pools.get(m.from)?.isEmpty()) pools.delete(m.from);
  const to = pools.get(m.to);
  if (to) to.add(m.bag);
  else pools.set(m.to, m.bag.clone());
}

type Plan = { moves: Move[]; volumes: { role: string; id: string }[] } | string;

function plan(ctx: ReservationContext, op: OfferOperation): Plan {
  switch (op.type) {
    case 'RESERVE':
      return planReserve(ctx, op.reserve?.resources ?? []);
    case 'UNRESERVE':
      return planUnreserve(op.unreserve?.resources ?? []);
    case 'CREATE':
      return planCreate(ctx, op.create?.volumes ?? []);
    case 'DESTROY':
      return planDestroy(ctx, op.destroy?.volumes ?? []);
    default:
      return `Unsupported operation ${op.type ?? 'UNKNOWN'}`;
  }
}

/** resource::validate: values, names, DiskInfo only on disk, no revocable reservations. */
function validateResources(rs: Resource[]): string | undefined {
  if (!rs.length) return 'Invalid resources: no resources given';
  for (const r of rs) {
    if (!r.name) return "Invalid resources: 'name' must be set";
    const v = r.type === 'SCALAR' ? r.scalar : r.type === 'RANGES' ? r.ranges : r.type === 'SET' ? r.set : undefined;
    if (!v) return `Invalid resources: ${r.type ?? 'unknown'} resource ${r.name} has no value`;
    if (r.type === 'SCALAR' && !(r.scalar!.value > 0 && Number.isFinite(r.scalar!.value))) return `Invalid resources: ${describe(r)} must be a positive scalar`;
    if (r.disk && r.name !== 'disk') return `Invalid resources: DiskInfo should not be set for ${r.name} resource`;
    const stack = stackOf(r);
    for (let i = 0; i < stack.length; i++) {
      const x = stack[i];
      if (!x.role || x.role === '*') return `Invalid resources: invalid reservation role '${x.role ?? ''}' of ${describe(r)}`;
      if (i > 0 && !x.role.startsWith(`${stack[i - 1].role}/`))
        return `Invalid resources: reservation role '${x.role}' of ${describe(r)} must be a sub-role of the role it refines ('${stack[i - 1].role}')`;
      if (x.type === 'STATIC' && i > 0) return `Invalid resources: a static reservation of ${describe(r)} cannot refine another reservation`;
    }
    if (r.revocable && stack.some((x) => x.type === 'DYNAMIC')) return `Invalid ReservationInfo: Dynamically reserved resource ${describe(r)} cannot be created from revocable resources`;
    if (r.disk?.persistence) {
      if (r.revocable) return 'Invalid DiskInfo: Persistent volumes cannot be created from revocable resources';
      if (!stack.length) return 'Invalid DiskInfo: Persistent volumes cannot be created from unreserved resources';
      if (!r.disk.volume) return "Invalid DiskInfo: Expecting 'volume' to be set for persistent volume";
      if (r.disk.volume.host_path !== undefined) return "Invalid DiskInfo: Expecting 'host_path' to be unset for persistent volume";
      if (!r.disk.persistence.id) return 'Invalid DiskInfo: Persistence ID must not be empty';
      if (INVALID_ID.test(r.disk.persistence.id)) return `Invalid DiskInfo: Persistence ID '${r.disk.persistence.id}' contains invalid characters`;
    } else if (r.disk?.volume) return 'Invalid DiskInfo: Non-persistent volume not supported';
    else if (r.disk && !r.disk.source) return 'Invalid DiskInfo: DiskInfo is set but empty';
  }
  return undefined;
}

function single(r: Resource): ResourceBag {
  return ResourceBag.from([r]);
}

function planReserve(ctx: ReservationContext, rs: Resource[]): Plan {
  const err = validateResources(rs);
  if (err) return `Invalid RESERVE Operation: ${err}`;
  const principal = ctx.fw.info.principal;
  const moves: Move[] = [];
  for (const r of rs) {
    const stack = stackOf(r);
    const top = stack[stack.length - 1];
    if (top?.type !== 'DYNAMIC') return `Invalid RESERVE Operation: Resource ${describe(r)} is not dynamically reserved`;
    if (stack.length > 1 && !ctx.fw.capabilities.has('RESERVATION_REFINEMENT'))
      return `Invalid RESERVE Operation: Resource ${describe(r)} with reservation refinement requires the RESERVATION_REFINEMENT capability`;
    if (!ctx.fw.roles.includes(top.role!)) return `Invalid RESERVE Operation: A reserve operation was attempted for role '${top.role}', which is not one of the framework's roles`;
    if (top.role !== ctx.role) return `Invalid RESERVE Operation: A reserve operation was attempted for role '${top.role}' on resources allocated to role '${ctx.role}'`;
    if (principal !== undefined) {
      if (top.principal === undefined)
        return `Invalid RESERVE Operation: A reserve operation was attempted by principal '${principal}', but there is a reserved resource in the request with no principal set in 'ReservationInfo'`;
      if (top.principal !== principal)
        return `Invalid RESERVE Operation: A reserve operation was attempted by principal '${principal}', but there is a reserved resource in the request with principal '${top.principal}' set in 'ReservationInfo'`;
    }
    if (r.disk?.persistence) return `Invalid RESERVE Operation: A persistent volume ${describe(r)} must already be reserved`;
    moves.push({ from: poppedPool(r), to: poolOf(r), bag: single(r) });
  }
  return { moves, volumes: [] };
}

function planUnreserve(rs: Resource[]): Plan {
  const err = validateResources(rs);
  if (err) return `Invalid UNRESERVE Operation: ${err}`;
  // As Mesos without an "unreserve" ACL: any principal may unreserve (validation.cpp says why).
  const moves: Move[] = [];
  for (const r of rs) {
    const stack = stackOf(r);
    if (stack[stack.length - 1]?.type !== 'DYNAMIC') return `Invalid UNRESERVE Operation: Resource ${describe(r)} is not dynamically reserved`;
    if (r.disk?.persistence)
      return `Invalid UNRESERVE Operation: A dynamically reserved persistent volume ${describe(r)} cannot be unreserved directly. Please destroy the persistent volume first then unreserve the resource`;
    moves.push({ from: poolOf(r), to: poppedPool(r), bag: single(r) });
  }
  return { moves, volumes: [] };
}

/** validatePersistentVolume: disk info with persistence and a read-write volume. */
function persistentVolumeError(rs: Resource[]): string | undefined {
  for (const v of rs) {
    if (!v.disk) return `Resource ${describe(v)} does not have DiskInfo`;
    if (!v.disk.persistence) return "'persistence' is not set in DiskInfo";
    if (!v.disk.volume) return "Expecting 'volume' to be set for persistent volume";
    if (v.disk.volume.mode === 'RO') return 'Read-only persistent volume not supported';
  }
  return undefined;
}

function planCreate(ctx: ReservationContext, rs: Resource[]): Plan {
  const err = validateResources(rs);
  if (err) return `Invalid CREATE Operation: ${err}`;
  const notVolume = persistentVolumeError(rs);
  if (notVolume) return `Invalid CREATE Operation: Not a persistent volume: ${notVolume}`;
  // Persistence ids are unique per role on the agent: among its volumes and within this operation.
  const ids = new Set<string>();
  for (const pool of ctx.agent.total.keys()) {
    const v = volumeOf(pool);
    if (v && !ctx.agent.total.get(pool)!.isEmpty()) ids.add(`${v.role}\u0000${v.id}`);
  }
  const principal = ctx.fw.info.principal;
  const moves: Move[] = [];
  const volumes: { role: string; id: string }[] = [];
  for (const r of rs) {
    const pool = poolOf(r);
    const role = poolRole(pool);
    const pid = r.disk!.persistence!;
    const k = `${role}\u0000${pid.id}`;
    if (ids.has(k)) return `Invalid CREATE Operation: Persistence ID '${pid.id}' is not unique`;
    ids.add(k);
    if (r.shared && !ctx.fw.capabilities.has('SHARED_RESOURCES'))
      return `Invalid CREATE Operation: Create volume operation for '${describe(r)}' has been attempted by framework '${ctx.fw.id}' with no SHARED_RESOURCES capability`;
    if (principal !== undefined) {
      if (pid.principal === undefined)
        return `Invalid CREATE Operation: Create volume operation has been attempted by principal '${principal}', but there is a volume in the operation with no principal set in 'DiskInfo.Persistence'`;
      if (pid.principal !== principal)
        return `Invalid CREATE Operation: Create volume operation has been attempted by principal '${principal}', but there is a volume in the operation with principal '${pid.principal}' set in 'DiskInfo.Persistence'`;
    }
    moves.push({ from: diskPool(r), to: pool, bag: single(r) });
    volumes.push({ role, id: pid.id });
  }
  return { moves, volumes };
}

function planDestroy(ctx: ReservationContext, rs: Resource[]): Plan {
  const err = validateResources(rs);
  if (err) return `Invalid DESTROY Operation: ${err}`;
  const notVolume = persistentVolumeError(rs);
  if (notVolume) return `Invalid DESTROY Operation: Not a persistent volume: ${notVolume}`;
  const moves: Move[] = [];
  const volumes: { role: string; id: string }[] = [];
  for (const r of rs) {
    const pool = poolOf(r);
    if (!(ctx.agent.total.get(pool) ?? new ResourceBag()).contains(single(r))) return 'Invalid DESTROY Operation: Persistent volumes not found';
    if (!(ctx.remaining.get(pool) ?? new ResourceBag()).contains(single(r))) return 'Invalid DESTROY Operation: Persistent volumes in use';
    moves.push({ from: pool, to: diskPool(r), bag: single(r) });
    volumes.push({ role: poolRole(pool), id: r.disk!.persistence!.id });
  }
  return { moves, volumes };
}
