/**
 * A small declarative schema for configuration: each leaf is a Field that knows its default, its documentation, what values
 * are allowed, and how to read a value from YAML (typed) or from the environment / a flag (text). The config type is inferred.
 */
import { formatDuration, parseDuration } from './duration.js';
import { cpuCores, formatCores, formatMegabytes, memMegabytes } from './quantity.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string; at?: string };

export interface Field<T> {
  readonly kind: 'field';
  /** Short type name for the docs: `duration`, `integer`, `list of strings`, … */
  readonly type: string;
  readonly default: T;
  readonly doc: string;
  /** Allowed values when bounded (`10s to 24h`), for the docs. */
  readonly range?: string;
  /** Secrets are shown as `[redacted]` wherever config is printed. */
  readonly secret: boolean;
  /** Reads a value. `text` is true for environment variables and flags, where everything arrives as a string. */
  parse(raw: unknown, text: boolean): Parsed<T>;
  /** The value as a user would write it (docs, `--print-config`). */
  format(value: T): string;
}

export interface Section {
  readonly [key: string]: Field<unknown> | Section;
}

export type Infer<S> = S extends Field<infer T> ? T : S extends Section ? { readonly [K in keyof S]: Infer<S[K]> } : never;

export function isField(x: Field<unknown> | Section): x is Field<unknown> {
  return (x as Field<unknown>).kind === 'field';
}

interface Common<T> {
  doc: string;
  default: T;
  secret?: boolean;
}

function describe(raw: unknown): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object') return 'a mapping';
  if (typeof raw === 'string') return JSON.stringify(raw);
  return String(raw);
}

function field<T>(type: string, opts: Common<T>, parse: Field<T>['parse'], format: (v: T) => string, range?: string): Field<T> {
  const f: Field<T> = { kind: 'field', type, default: opts.default, doc: opts.doc, secret: opts.secret ?? false, parse, format, ...(range && range !== 'any' ? { range } : {}) };
  const check = f.parse(f.format(f.default), true);
  if (!check.ok) throw new TypeError(`schema: default ${f.format(f.default)} does not parse: ${check.error}`);
  return f;
}

export function str(opts: Common<string> & { pattern?: RegExp; allowed?: string; allowEmpty?: boolean }): Field<string> {
  return field(
    'string',
    opts,
    (raw) => {
      if (typeof raw !== 'string') return { ok: false, error: `expected a string, got ${describe(raw)}` };
      if (raw === '' && (opts.allowEmpty ?? true)) return { ok: true, value: raw };
      if (opts.pattern && !opts.pattern.test(raw)) return { ok: false, error: `${describe(raw)} is not allowed (expected ${opts.allowed})` };
      return { ok: true, value: raw };
    },
    (v) => v,
  );
}

export function bool(opts: Common<boolean>): Field<boolean> {
  return field(
    'boolean',
    opts,
    (raw, text) => {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (text && typeof raw === 'string' && /^(true|false)$/i.test(raw.trim())) return { ok: true, value: raw.trim().toLowerCase() === 'true' };
      return { ok: false, error: `expected true or false, got ${describe(raw)}` };
    },
    String,
  );
}

function numeric(type: 'integer' | 'number', opts: Common<number> & { min?: number; max?: number; zero?: string }): Field<number> {
  const range = rangeText(opts.min, opts.max, String);
  return field(
    type,
    opts,
    (raw, text) => {
      let n: number | undefined;
      if (typeof raw === 'number') n = raw;
      else if (text && typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) n = Number(raw);
      if (n === undefined || !Number.isFinite(n)) return { ok: false, error: `expected ${type === 'integer' ? 'a whole number' : 'a number'}, got ${describe(raw)}` };
      if (type === 'integer' && !Number.isInteger(n)) return { ok: false, error: `expected a whole number, got ${n}` };
      if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) return { ok: false, error: `${n} is out of range (allowed: ${range})` };
      return { ok: true, value: n };
    },
    String,
    range,
  );
}

export const int = (opts: Common<number> & { min?: number; max?: number }): Field<number> => numeric('integer', opts);
export const num = (opts: Common<number> & { min?: number; max?: number }): Field<number> => numeric('number', opts);

function rangeText<T>(min: T | undefined, max: T | undefined, fmt: (v: T) => string): string {
  if (min !== undefined && max !== undefined) return `${fmt(min)} to ${fmt(max)}`;
  if (min !== undefined) return `at least ${fmt(min)}`;
  if (max !== undefined) return `at most ${fmt(max)}`;
  return 'any';
}

/**
 * A duration written as Go/Kubernetes write it (`15s`, `5m`, `1h30m`); the value is in milliseconds (or seconds with `unit: 's'`).
 * `max` is required: an unbounded duration overflows a timer (Node fires anything past 2^31-1 ms after 1 ms).
 */
export function duration(opts: { doc: string; default: string; min?: string; max: string; unit?: 'ms' | 's' }): Field<number> {
  const scale = opts.unit === 's' ? 1000 : 1;
  const minMs = opts.min === undefined ? undefined : msOf(opts.min);
  const maxMs = msOf(opts.max);
  const range = rangeText(minMs, maxMs, formatDuration);
  return field(
    'duration',
    { doc: opts.doc, default: msOf(opts.default) / scale },
    (raw) => {
      if (typeof raw !== 'string') return { ok: false, error: `expected a duration such as 15s, 5m or 1h30m, got ${describe(raw)}` };
      const r = parseDuration(raw);
      if (!r.ok) return { ok: false, error: r.error };
      if ((minMs !== undefined && r.ms < minMs) || r.ms > maxMs) return { ok: false, error: `${raw} is out of range (allowed: ${range})` };
      return { ok: true, value: r.ms / scale };
    },
    (v) => formatDuration(v * scale),
    range,
  );
}

function msOf(s: string): number {
  const r = parseDuration(s);
  if (!r.ok) throw new TypeError(`schema: ${r.error}`);
  return r.ms;
}

/** A Kubernetes quantity: CPU in cores (`250m` → 0.25) or memory in Mesos megabytes (`128Mi` → 128). */
export function quantity(opts: { doc: string; default: string; of: 'cpu' | 'memory'; min?: string; max?: string }): Field<number> {
  const conv = opts.of === 'cpu' ? cpuCores : memMegabytes;
  const fmt = opts.of === 'cpu' ? formatCores : formatMegabytes;
  const val = (s: string): number => {
    const r = conv(s);
    if (!r.ok) throw new TypeError(`schema: ${r.error}`);
    return r.value;
  };
  const min = opts.min === undefined ? undefined : val(opts.min);
  const max = opts.max === undefined ? undefined : val(opts.max);
  const range = rangeText(min, max, fmt);
  return field(
    opts.of === 'cpu' ? 'cpu quantity' : 'memory quantity',
    { doc: opts.doc, default: val(opts.default) },
    (raw) => {
      if (typeof raw !== 'string' && typeof raw !== 'number') return { ok: false, error: `expected a Kubernetes quantity, got ${describe(raw)}` };
      const r = conv(raw);
      if (!r.ok) return { ok: false, error: r.error };
      if ((min !== undefined && r.value < min) || (max !== undefined && r.value > max)) {
        const hint = opts.of === 'memory' && /^\d+$/.test(String(raw).trim()) ? '; a plain number is bytes, write e.g. 128Mi' : '';
        return { ok: false, error: `${describe(raw)} is out of range (allowed: ${range})${hint}` };
      }
      return { ok: true, value: r.value };
    },
    fmt,
    range,
  );
}

export function oneOf<const V extends string>(values: readonly V[], opts: Common<V>): Field<V> {
  return field(
    values.join(' | '),
    opts,
    (raw, text) => {
      const s = typeof raw === 'string' ? (text ? raw.trim() : raw) : undefined;
      if (s !== undefined && (values as readonly string[]).includes(s)) return { ok: true, value: s as V };
      return { ok: false, error: `${describe(raw)} is not allowed (expected one of ${values.join(', ')})` };
    },
    (v) => v,
  );
}

/**
 * A list of strings: a YAML list, or a comma-separated string (the only form env and flags have). `item` checks each entry, `whole` the list;
 * errors from `item` point at the entry (`mesos.masters[1]`).
 */
export function strList(
  opts: Common<readonly string[]> & {
    item?: (s: string) => string | undefined;
    whole?: (list: readonly string[]) => string | undefined;
    minItems?: number;
    /** How a string becomes a list; default: split on commas. */
    split?: (s: string) => string[];
  },
): Field<readonly string[]> {
  return field(
    'list of strings',
    opts,
    (raw) => {
      let list: unknown[];
      if (Array.isArray(raw)) list = raw;
      else if (typeof raw === 'string') list = raw.trim() === '' ? [] : (opts.split ?? ((s: string) => s.split(',')))(raw).map((s) => s.trim());
      else return { ok: false, error: `expected a list of strings, got ${describe(raw)}` };
      for (const [i, v] of list.entries()) {
        if (typeof v !== 'string') return { ok: false, at: `[${i}]`, error: `expected a string, got ${describe(v)}` };
        const e = opts.item?.(v);
        if (e) return { ok: false, at: `[${i}]`, error: e };
      }
      if (opts.minItems !== undefined && list.length < opts.minItems) return { ok: false, error: `needs at least ${opts.minItems} entr${opts.minItems === 1 ? 'y' : 'ies'}` };
      const e = opts.whole?.(list as string[]);
      if (e) return { ok: false, error: e };
      return { ok: true, value: Object.freeze([...(list as string[])]) };
    },
    (v) => v.join(','),
  );
}
