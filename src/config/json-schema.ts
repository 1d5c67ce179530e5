/**
 * JSON Schema (draft-07, what `helm lint`/`helm install` validate values against) generated from the config schema the
 * scheduler validates with, so the chart's values.schema.json cannot drift from it: types, enums and numeric ranges come
 * from each Field (ranges read from the Field's own range check), descriptions from its doc. What JSON Schema cannot say
 * (a DNS label, a Mesos role, cross-key rules) is still checked by the scheduler at start.
 */
import { CONFIG_SCHEMA } from './config.js';
import { isField, type Field, type Section } from './schema.js';

export type JsonSchema = { [k: string]: unknown };

/** Go/Kubernetes durations, as parseDuration reads them (`0`, `300ms`, `1h30m`, `1.5h`). */
export const DURATION_PATTERN = '^(0|\\+?((\\d+(\\.\\d+)?|\\.\\d+)(ns|us|µs|ms|s|m|h))+)$';
/** Kubernetes quantities, as parseQuantity reads them (`250m`, `0.5`, `128Mi`, `1e3`). */
export const QUANTITY_PATTERN = '^[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$';

/** The bounds a numeric Field enforces, read from its own out-of-range message ("allowed: 1 to 100", "at least 0"). */
function numericRange(f: Field<unknown>): { minimum?: number; maximum?: number } {
  for (const probe of [-1e300, 1e300]) {
    const r = f.parse(probe, false);
    if (r.ok) continue;
    const m = /\(allowed: (.*)\)$/.exec(r.error);
    if (!m) continue;
    const both = /^(-?[\d.e+]+) to (-?[\d.e+]+)$/.exec(m[1]);
    if (both) return { minimum: Number(both[1]), maximum: Number(both[2]) };
    const least = /^at least (-?[\d.e+]+)$/.exec(m[1]);
    if (least) return { minimum: Number(least[1]) };
    const most = /^at most (-?[\d.e+]+)$/.exec(m[1]);
    if (most) return { maximum: Number(most[1]) };
  }
  return {};
}

/** The default as a user writes it in YAML (`5m`, `128Mi`, a list). */
function yamlDefault(f: Field<unknown>): unknown {
  const d = f.default;
  if (Array.isArray(d) || typeof d === 'boolean') return d;
  if (typeof d === 'number' && (f.type === 'integer' || f.type === 'number')) return d;
  return f.format(d);
}

/** One Field as JSON Schema; a type the generator does not know is an error (update it with the schema). */
export function fieldJsonSchema(f: Field<unknown>, path = ''): JsonSchema {
  const common = { description: f.doc, default: yamlDefault(f) };
  if (f.type === 'string') return { type: 'string', ...common };
  if (f.type === 'boolean') return { type: 'boolean', ...common };
  if (f.type === 'integer' || f.type === 'number') return { type: f.type, ...numericRange(f), ...common };
  if (f.type === 'duration') return { type: 'string', pattern: DURATION_PATTERN, ...common };
  if (f.type === 'cpu quantity' || f.type === 'memory quantity') return { type: ['string', 'number'], pattern: QUANTITY_PATTERN, ...common };
  if (f.type === 'list of strings') return { type: ['array', 'string'], items: { type: 'string' }, ...common };
  if (f.type.includes(' | ')) return { type: 'string', enum: f.type.split(' | '), ...common };
  throw new TypeError(`json-schema: ${path || 'a field'} has type "${f.type}" the generator does not know`);
}

/** A config section (or the whole config) as a closed object: every key optional, unknown keys rejected, as loadConfig does. */
export function sectionJsonSchema(section: Section, path = '', description?: string): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [k, v] of Object.entries(section)) {
    const p = path ? `${path}.${k}` : k;
    properties[k] = isField(v) ? fieldJsonSchema(v, p) : sectionJsonSchema(v, p);
  }
  return { type: 'object', ...(description ? { description } : {}), properties, additionalProperties: false };
}

/** The whole scheduler configuration file (what `extraConfig` may hold). */
export function configJsonSchema(): JsonSchema {
  return sectionJsonSchema(CONFIG_SCHEMA);
}

/** The config Field at a dotted path (`mesos.failoverTimeout`). */
export function configField(path: string): Field<unknown> {
  let s: Section | Field<unknown> = CONFIG_SCHEMA;
  for (const k of path.split('.')) {
    if (isField(s) || !Object.hasOwn(s, k)) throw new TypeError(`json-schema: no config key ${path}`);
    s = s[k];
  }
  if (!isField(s)) throw new TypeError(`json-schema: ${path} is a section`);
  return s;
}
