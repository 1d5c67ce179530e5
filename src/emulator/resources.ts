import type { Range, Resource } from './proto-types.js';
import { decorate, poolOf } from './reservations.js';

// The emulator's own compact resource arithmetic: one pool per role, scalars + ranges + sets, fast enough to run the
// allocator over thousands of agents every second. Scalars use Mesos' fixed point (3 decimals).

const round = (v: number) => Math.round(v * 1000) / 1000;

export class ResourceBag {
  readonly scalars = new Map<string, number>();
  readonly ranges = new Map<string, Range[]>();
  readonly sets = new Map<string, Set<string>>();
  /** toResources() results by role; dropped on every change (bags of idle agents are offered unchanged each cycle). */
  private rendered?: Map<string, Resource[]>;

  static from(resources: readonly Resource[] | undefined): ResourceBag {
    const b = new ResourceBag();
    for (const r of resources ?? []) b.addResource(r);
    return b;
  }

  clone(): ResourceBag {
    const b = new ResourceBag();
    for (const [k, v] of this.scalars) b.scalars.set(k, v);
    for (const [k, v] of this.ranges) b.ranges.set(k, v.map((r) => ({ ...r })));
    for (const [k, v] of this.sets) b.sets.set(k, new Set(v));
    return b;
  }

  addResource(r: Resource): void {
    this.rendered = undefined;
    if (r.type === 'SCALAR' && r.scalar) this.scalars.set(r.name, round((this.scalars.get(r.name) ?? 0) + r.scalar.value));
    else if (r.type === 'RANGES' && r.ranges) this.ranges.set(r.name, mergeRanges([...(this.ranges.get(r.name) ?? []), ...(r.ranges.range ?? [])]));
    else if (r.type === 'SET' && r.set) {
      const s = this.sets.get(r.name) ?? new Set<string>();
      for (const i of r.set.item ?? []) s.add(i);
      this.sets.set(r.name, s);
    }
  }

  add(o: ResourceBag): this {
    this.rendered = undefined;
    for (const [k, v] of o.scalars) this.scalars.set(k, round((this.scalars.get(k) ?? 0) + v));
    for (const [k, v] of o.ranges) this.ranges.set(k, mergeRanges([...(this.ranges.get(k) ?? []), ...v]));
    for (const [k, v] of o.sets) {
      const s = this.sets.get(k) ?? new Set<string>();
      for (const i of v) s.add(i);
      this.sets.set(k, s);
    }
    return this;
  }

  /** Removes `o` (callers check `contains` first); empty entries disappear. */
  subtract(o: ResourceBag): this {
    this.rendered = undefined;
    for (const [k, v] of o.scalars) {
      const left = round((this.scalars.get(k) ?? 0) - v);
      if (left > 0) this.scalars.set(k, left);
      else this.scalars.delete(k);
    }
    for (const [k, v] of o.ranges) {
      const left = subtractRanges(this.ranges.get(k) ?? [], v);
      if (left.length) this.ranges.set(k, left);
      else this.ranges.delete(k);
    }
    for (const [k, v] of o.sets) {
      const s = this.sets.get(k);
      if (!s) continue;
      for (const i of v) s.delete(i);
      if (!s.size) this.sets.delete(k);
    }
    return this;
  }

  contains(o: ResourceBag): boolean {
    for (const [k, v] of o.scalars) if (v > 0 && (this.scalars.get(k) ?? 0) + 1e-9 < v) return false;
    for (const [k, v] of o.ranges) if (subtractRanges(v, this.ranges.get(k) ?? []).length) return false;
    for (const [k, v] of o.sets) {
      const s = this.sets.get(k);
      for (const i of v) if (!s?.has(i)) return false;
    }
    return true;
  }

  isEmpty(): boolean {
    for (const v of this.scalars.values()) if (v > 0) return false;
    for (const v of this.ranges.values()) if (v.length) return false;
    for (const v of this.sets.values()) if (v.size) return false;
    return true;
  }

  scalar(name: string): number {
    return this.scalars.get(name) ?? 0;
  }

  /**
   * As Mesos Resource messages of `pool` (see reservations.ts). `refined` is the RESERVATION_REFINEMENT format
   * (reservations stack only, no `role`); otherwise the pre-refinement format most frameworks get: `role` ('*' =
   * unreserved) and `reservation` for a dynamic one, plus the stack.
   */
  toResources(pool = '*', allocationRole?: string, refined = false): Resource[] {
    const cacheKey = `${pool}\u0000${allocationRole ?? ''}\u0000${refined ? 1 : 0}`;
    const cached = this.rendered?.get(cacheKey);
    if (cached) return cached;
    const out: Resource[] = [];
    const dec = (r: Resource): Resource => {
      decorate(r, pool, refined);
      if (allocationRole !== undefined) r.allocation_info = { role: allocationRole };
      return r;
    };
    for (const [name, v] of this.scalars) if (v > 0) out.push(dec({ name, type: 'SCALAR', scalar: { value: v } }));
    for (const [name, v] of this.ranges) if (v.length) out.push(dec({ name, type: 'RANGES', ranges: { range: v.map((r) => ({ ...r })) } }));
    for (const [name, v] of this.sets) if (v.size) out.push(dec({ name, type: 'SET', set: { item: [...v].sort() } }));
    (this.rendered ??= new Map()).set(cacheKey, out);
    return out;
  }

  toJSON(): Record<string, number | string> {
    const o: Record<string, number | string> = {};
    for (const [k, v] of this.scalars) o[k] = v;
    for (const [k, v] of this.ranges) o[k] = `[${v.map((r) => `${r.begin}-${r.end}`).join(', ')}]`;
    for (const [k, v] of this.sets) o[k] = `{${[...v].join(', ')}}`;
    return o;
  }
}

export function mergeRanges(rs: Range[]): Range[] {
  const sorted = rs.filter((r) => r.end >= r.begin).sort((a, b) => a.begin - b.begin);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.begin <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ begin: r.begin, end: r.end });
  }
  return out;
}

export function subtractRanges(from: Range[], minus: Range[]): Range[] {
  let cur = mergeRanges(from);
  for (const m of minus) {
    const next: Range[] = [];
    for (const r of cur) {
      if (m.end < r.begin || m.begin > r.end) next.push(r);
      else {
        if (r.begin < m.begin) next.push({ begin: r.begin, end: m.begin - 1 });
        if (r.end > m.end) next.push({ begin: m.end + 1, end: r.end });
      }
    }
    cur = next;
  }
  return cur;
}

/** Resources split by pool: the reservation (role '*' = unreserved, a bare role = static) and disk info; see reservations.ts. */
export function bagsByRole(resources: readonly Resource[] | undefined): Map<string, ResourceBag> {
  const out = new Map<string, ResourceBag>();
  for (const r of resources ?? []) {
    const pool = poolOf(r);
    let b = out.get(pool);
    if (!b) out.set(pool, (b = new ResourceBag()));
    b.addResource(r);
  }
  return out;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Parses Mesos' agent `--resources` text: `cpus:8;mem:16384;disk:100000;ports:[31000-32000];gpus(prod):2;zones:{a,b}`.
 * A role in parentheses makes a static reservation.
 */
export function parseResourceSpec(spec: string): ParseResult<Resource[]> {
  const out: Resource[] = [];
  for (const raw of spec.split(';')) {
    const part = raw.trim();
    if (!part) continue;
    const m = /^([A-Za-z_][\w.-]*)(?:\(([^)]+)\))?:(.+)$/.exec(part);
    if (!m) return { ok: false, error: `resource "${part}" is not name:value or name(role):value` };
    const [, name, role, value] = m;
    const base = role && role !== '*' ? { role, reservations: [{ type: 'STATIC' as const, role }] } : {};
    const v = value.trim();
    if (v.startsWith('[')) {
      if (!v.endsWith(']')) return { ok: false, error: `ranges of "${name}" must be written [a-b,c-d]` };
      const ranges: Range[] = [];
      for (const r of v.slice(1, -1).split(',')) {
        const rm = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(r);
        if (!rm || Number(rm[1]) > Number(rm[2])) return { ok: false, error: `range "${r.trim()}" of "${name}" must be begin-end` };
        ranges.push({ begin: Number(rm[1]), end: Number(rm[2]) });
      }
      out.push({ name, type: 'RANGES', ranges: { range: mergeRanges(ranges) }, ...base });
    } else if (v.startsWith('{')) {
      if (!v.endsWith('}')) return { ok: false, error: `set of "${name}" must be written {a,b}` };
      out.push({ name, type: 'SET', set: { item: v.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean) }, ...base });
    } else {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) return { ok: false, error: `"${name}" must be a non-negative number, got "${v}"` };
      out.push({ name, type: 'SCALAR', scalar: { value: round(n) }, ...base });
    }
  }
  if (!out.length) return { ok: false, error: 'no resources given' };
  return { ok: true, value: out };
}
