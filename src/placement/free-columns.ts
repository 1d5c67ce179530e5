// What the search's examination of an agent reads from its working copy — the free resources of its one role, its pod
// count and limit, whether it has a kubelet — as typed-array columns, so that a pod spec's first look at every agent
// (50 000 of them, once per spec) is a few array reads instead of a walk over agent, slots and slot objects. Agents
// with offers for several roles keep being read from their objects (FreeColumns.role says which).
import type { WAgent } from './working-agent.js';

/** role[i]: the agent's working copy has offers for several roles: read the agent object. */
export const SEVERAL_ROLES = -1;
/** role[i]: no offers at all (no role can hold a pod). */
export const NO_ROLE = -2;

export class FreeColumns {
  /** The number (roleId) of the agent's one offered role, or SEVERAL_ROLES / NO_ROLE. */
  role = new Int32Array(0);
  /** That role's free cpus, mem, disk (the slot's own values: equal, bit for bit). */
  cpus = new Float64Array(0);
  mem = new Float64Array(0);
  disk = new Float64Array(0);
  pods = new Int32Array(0);
  maxPods = new Int32Array(0);
  /** 1 when the working copy has a kubelet (running, or launched by the current plan). */
  kubelet = new Uint8Array(0);
  /** Agents the arrays have room for (at least the table's; more after growth, so arrivals do not copy them each time). */
  private room = 0;
  private readonly roleIds = new Map<string, number>();
  readonly roleNames: string[] = [];

  /** Room for n agents, nothing kept (entries filled by write()). */
  reset(n: number): void {
    this.room = n;
    this.role = new Int32Array(n);
    this.cpus = new Float64Array(n);
    this.mem = new Float64Array(n);
    this.disk = new Float64Array(n);
    this.pods = new Int32Array(n);
    this.maxPods = new Int32Array(n);
    this.kubelet = new Uint8Array(n);
  }

  /**
   * Room for agents up to to-1 (entries of the known ones kept). Doubles: agents arrive a batch at a time, and copying
   * seven arrays of all agents per batch cost the arrivals at 50 000 agents ~25% more CPU.
   */
  grow(to: number): void {
    if (to <= this.room) return;
    const room = Math.max(to, this.room * 2);
    this.role = sized(this.role, room);
    this.cpus = sized(this.cpus, room);
    this.mem = sized(this.mem, room);
    this.disk = sized(this.disk, room);
    this.pods = sized(this.pods, room);
    this.maxPods = sized(this.maxPods, room);
    this.kubelet = sized(this.kubelet, room);
    this.room = room;
  }

  /** Agent a's entries from its working copy: after every change to it (AgentTable.touch, sync). */
  write(a: WAgent): void {
    const i = a.idx;
    const slots = a.slots;
    if (slots.length === 1) {
      const s = slots[0];
      let r = this.roleIds.get(s.role);
      if (r === undefined) {
        r = this.roleNames.length;
        this.roleNames.push(s.role);
        this.roleIds.set(s.role, r);
      }
      this.role[i] = r;
      this.cpus[i] = s.cpus;
      this.mem[i] = s.mem;
      this.disk[i] = s.disk;
    } else {
      this.role[i] = slots.length === 0 ? NO_ROLE : SEVERAL_ROLES;
      this.cpus[i] = 0;
      this.mem[i] = 0;
      this.disk[i] = 0;
    }
    this.pods[i] = a.podCount;
    this.maxPods[i] = a.maxPods;
    this.kubelet[i] = a.hasKubelet ? 1 : 0;
  }

  /** Per role number, 1 where the role is one of `roles` (a one-role agent's slot is chosen iff its role is listed). */
  roleMask(roles: readonly string[]): Uint8Array {
    const m = new Uint8Array(this.roleNames.length);
    for (const r of roles) {
      const id = this.roleIds.get(r);
      if (id !== undefined) m[id] = 1;
    }
    return m;
  }

  /** Agent i's entries as plain data (roles by name), for inspect(). */
  row(i: number): unknown[] {
    const r = this.role[i];
    const role = r === SEVERAL_ROLES ? 'several' : r === NO_ROLE ? 'none' : this.roleNames[r];
    return [role, this.cpus[i], this.mem[i], this.disk[i], this.pods[i], this.maxPods[i], this.kubelet[i]];
  }
}

/** What the columns of a fresh build would hold for agent a (the invariant tests compare row() with it). */
export function freeRowOf(a: { slots: readonly { role: string; cpus: number; mem: number; disk: number }[]; podCount: number; maxPods: number; hasKubelet: boolean }): unknown[] {
  const one = a.slots.length === 1 ? a.slots[0] : undefined;
  const role = one ? one.role : a.slots.length === 0 ? 'none' : 'several';
  return [role, one?.cpus ?? 0, one?.mem ?? 0, one?.disk ?? 0, a.podCount, a.maxPods, a.hasKubelet ? 1 : 0];
}

/** A copy of `a` with `n` entries (the new ones 0). */
function sized<T extends Int32Array | Uint8Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
