// Seeded fuzz (issue 16): pod annotations are written by any pod author. Every parser must return a value (never
// throw), within 100 ms per input, and every rejection must name its annotation. Fixed seeds: a failure reproduces.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { withinHangBudget } from '../../test/support/fuzz.js';
import { compilePattern, parseConstraints, parsePlacement, parseRoles, parseSpread } from './annotations.js';

const timed = <T>(f: () => T): T => withinHangBudget(f);

// Regex fragments that make backtracking engines explode, plus Java-only syntax and plain text.
const REGEX_PARTS = ['(', ')', '.*', '.+', '*', '+', '?', '|', '(a|aa)', '(.*.*)', '\\1', '(?=x)', '(?<!y)', '[a-z]', '[^', '{2,5}', '{1000}', 'a', 'y', '\\d', '$', '^', '++', '(?i)', '\\'];
const regex = fc.array(fc.constantFrom(...REGEX_PARTS), { maxLength: 24 }).map((p) => p.join(''));
const fieldName = fc.oneof(fc.constantFrom('@hostname', '@zone', '@region', 'hostname', 'rack', '@rack', ''), fc.string({ maxLength: 12 }));
const operator = fc.oneof(fc.constantFrom('UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS', 'like', 'NEAR'), fc.string({ maxLength: 8 }));
const value = fc.oneof(regex, fc.integer({ min: -3, max: 1e6 }).map(String), fc.string({ maxLength: 20 }), fc.constant('x'.repeat(600)));
const constraint = fc.oneof(
  fc.tuple(fieldName, operator).map((t) => [...t] as unknown[]),
  fc.tuple(fieldName, operator, value).map((t) => [...t] as unknown[]),
  fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 4 }),
);
const constraintsText = fc.oneof(
  fc.array(constraint, { maxLength: 5 }).map((c) => JSON.stringify(c)),
  fc.string({ maxLength: 60 }),
  fc.json(),
);
const hostname = fc.oneof(fc.stringMatching(/^[a-z0-9.-]{1,253}$/), fc.constant('a'.repeat(253)), fc.constant(`${'x'.repeat(200)}y`));

function expectReason(r: { ok: true } | { ok: false; reason: string }, annotation: string): void {
  if (!r.ok) expect(r.reason.startsWith(`invalid annotation ${annotation}: `)).toBe(true);
}

describe('annotation parsers under fuzz', () => {
  it('kube-mesos.io/constraints: a value or a reason naming the annotation; patterns that compile match in linear time', () => {
    fc.assert(
      fc.property(constraintsText, hostname, (text, host) => {
        const r = timed(() => parseConstraints(text));
        expectReason(r, 'kube-mesos.io/constraints');
        if (r.ok) {
          for (const c of r.value) {
            if (c.operator !== 'LIKE' && c.operator !== 'UNLIKE') continue;
            const p = compilePattern(c.value!);
            expect(p.ok).toBe(true);
            if (p.ok) timed(() => p.pattern.matches(host));
          }
        }
      }),
      { seed: 16_001, numRuns: 2000 },
    );
  });

  it('kube-mesos.io/roles, /spread and /placement', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.array(fc.constantFrom('prod', '*', '', ' ', '/', '..', '-x', 'a/b', '\u0000'), { maxLength: 6 }).map((a) => a.join(','))), (text) => {
        expectReason(timed(() => parseRoles(text)), 'kube-mesos.io/roles');
        expectReason(timed(() => parseSpread(text)), 'kube-mesos.io/spread');
        expectReason(timed(() => parsePlacement(text)), 'kube-mesos.io/placement');
      }),
      { seed: 16_002, numRuns: 2000 },
    );
  });
});
