import { RE2JS } from 're2js';
import type { ConstraintOperator, MarathonConstraint, Scoring } from './types.js';
import { ANNOTATION_CONSTRAINTS, ANNOTATION_PLACEMENT, ANNOTATION_ROLES, ANNOTATION_SPREAD } from '../names.js';


export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const bad = (annotation: string, why: string): { ok: false; reason: string } => ({
  ok: false,
  reason: `invalid annotation ${annotation}: ${why}`,
});

// Mesos role names: no '.', '..', no leading '-', no '/' at either end, no whitespace or control characters.
function roleProblem(role: string): string | undefined {
  if (role === '*') return undefined;
  if (role === '.' || role === '..') return `role "${role}" is not allowed`;
  if (role.startsWith('-')) return `role "${role}" must not start with '-'`;
  if (role.startsWith('/') || role.endsWith('/')) return `role "${role}" must not start or end with '/'`;
  if (/[\s\x00-\x1f\x7f]/.test(role)) return `role "${role}" contains whitespace or control characters`;
  if (role.split('/').some((p) => p === '' || p === '.' || p === '..' || p === '*')) return `role "${role}" has an invalid path segment`;
  return undefined;
}

/** `"prod,*"` → ['prod', '*'] (order = preference). */
export function parseRoles(text: string): Parsed<string[]> {
  const roles = text.split(',').map((r) => r.trim());
  if (roles.length === 0 || roles.some((r) => r === '')) return bad(ANNOTATION_ROLES, `expected a comma-separated list of Mesos roles, got "${text}"`);
  for (const r of roles) {
    const p = roleProblem(r);
    if (p) return bad(ANNOTATION_ROLES, p);
  }
  if (new Set(roles).size !== roles.length) return bad(ANNOTATION_ROLES, `duplicate role in "${text}"`);
  return { ok: true, value: roles };
}

const OPERATORS: readonly ConstraintOperator[] = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS'];

/** Marathon's field names: '@hostname', '@zone', '@region', plain 'hostname' (Marathon < 1.5) or an attribute. */
export function normaliseField(field: string): string {
  return field === 'hostname' ? '@hostname' : field;
}

/** Longest LIKE/UNLIKE pattern accepted; Marathon's are a few dozen characters, agent values at most 253 (a hostname). */
export const MAX_PATTERN_LENGTH = 512;

/** A compiled LIKE/UNLIKE pattern: `matches` is true when the pattern matches the whole value (Java's String.matches). */
export interface ConstraintPattern {
  matches(value: string): boolean;
}

export type CompiledPattern = { ok: true; pattern: ConstraintPattern } | { ok: false; why: string };

// Java regex features a linear-time (RE2) engine cannot have; named so the pod author learns what to change.
function unsupportedFeature(pattern: string): string | undefined {
  if (/\\[1-9]|\\k<|\(\?P=/.test(pattern)) return 'backreferences are not supported';
  if (/\(\?<?[=!]/.test(pattern)) return 'lookaround is not supported';
  if (/\(\?>|[*+?}][+]/.test(pattern)) return 'atomic groups and possessive quantifiers are not supported';
  return undefined;
}

/**
 * Compiles a pod author's LIKE/UNLIKE pattern for RE2JS, which matches in time linear in the value (no backtracking),
 * so no pattern can stall the scheduler. RE2 syntax is Java's without backreferences, lookaround and possessives.
 */
export function compilePattern(pattern: string): CompiledPattern {
  if (pattern.length > MAX_PATTERN_LENGTH) return { ok: false, why: `pattern is ${pattern.length} characters long (at most ${MAX_PATTERN_LENGTH})` };
  try {
    const re = RE2JS.compile(pattern);
    return { ok: true, pattern: { matches: (value) => re.matches(value) } };
  } catch (e) {
    const feature = unsupportedFeature(pattern);
    const detail = e instanceof Error ? e.message : String(e);
    return { ok: false, why: `${JSON.stringify(pattern)} is not a valid regular expression (${feature ? `${feature}; ` : ''}RE2 syntax: ${detail})` };
  }
}

/** Parses Marathon-style constraints: `[["@zone","GROUP_BY","3"],["rack","MAX_PER","2"]]`. */
export function parseConstraints(text: string): Parsed<MarathonConstraint[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return bad(ANNOTATION_CONSTRAINTS, `not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(raw)) return bad(ANNOTATION_CONSTRAINTS, 'expected a JSON array of [field, operator, value?] arrays');
  const out: MarathonConstraint[] = [];
  for (const [i, c] of raw.entries()) {
    const where = `constraint ${i + 1} ${JSON.stringify(c)}`;
    if (!Array.isArray(c) || c.length < 2 || c.length > 3 || c.some((x) => typeof x !== 'string')) {
      return bad(ANNOTATION_CONSTRAINTS, `${where}: expected [field, operator] or [field, operator, value] of strings`);
    }
    const [fieldRaw, opRaw, value] = c as string[];
    const field = normaliseField(fieldRaw.trim());
    if (field === '' || (field.startsWith('@') && !['@hostname', '@zone', '@region'].includes(field))) {
      return bad(ANNOTATION_CONSTRAINTS, `${where}: unknown field "${fieldRaw}" (use @hostname, @zone, @region or an attribute name)`);
    }
    const op = opRaw.toUpperCase() as ConstraintOperator;
    if (!OPERATORS.includes(op)) return bad(ANNOTATION_CONSTRAINTS, `${where}: unknown operator "${opRaw}" (one of ${OPERATORS.join(', ')})`);
    switch (op) {
      case 'GROUP_BY':
        if (value !== undefined && value !== '' && !/^\d+$/.test(value)) return bad(ANNOTATION_CONSTRAINTS, `${where}: GROUP_BY takes a number of groups, got "${value}"`);
        break;
      case 'MAX_PER':
        if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1) return bad(ANNOTATION_CONSTRAINTS, `${where}: MAX_PER needs a positive integer`);
        break;
      case 'LIKE':
      case 'UNLIKE':
        if (value === undefined || value === '') return bad(ANNOTATION_CONSTRAINTS, `${where}: ${op} needs a regular expression`);
        {
          const compiled = compilePattern(value);
          if (!compiled.ok) return bad(ANNOTATION_CONSTRAINTS, `${where}: ${compiled.why}`);
        }
        break;
      case 'IS':
        if (value === undefined || value === '') return bad(ANNOTATION_CONSTRAINTS, `${where}: IS needs a value`);
        break;
      default:
        break;
    }
    out.push(value === undefined || value === '' ? { field, operator: op } : { field, operator: op, value });
  }
  return { ok: true, value: out };
}

/** `zone`, `hostname`, `region` or an attribute name → the Marathon field it spreads over. */
export function parseSpread(text: string): Parsed<{ field: string }> {
  const t = text.trim();
  if (t === '' || /[\s"[\]]/.test(t)) return bad(ANNOTATION_SPREAD, `expected zone, hostname, region or an attribute name, got "${text}"`);
  if (t === 'zone' || t === '@zone') return { ok: true, value: { field: '@zone' } };
  if (t === 'hostname' || t === '@hostname') return { ok: true, value: { field: '@hostname' } };
  if (t === 'region' || t === '@region') return { ok: true, value: { field: '@region' } };
  if (t.startsWith('@')) return bad(ANNOTATION_SPREAD, `unknown field "${t}"`);
  return { ok: true, value: { field: t } };
}

export function parsePlacement(text: string): Parsed<Scoring> {
  const t = text.trim();
  if (t === 'spread' || t === 'binpack') return { ok: true, value: t };
  return bad(ANNOTATION_PLACEMENT, `expected "spread" or "binpack", got "${text}"`);
}
