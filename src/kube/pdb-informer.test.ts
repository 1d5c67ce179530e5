import { describe, expect, it } from '@jest/globals';
import type { HttpResponse } from './http.js';
import { discoverPolicyVersion, pdbView } from './pdb-informer.js';

const fakeHttp = (answers: Record<string, HttpResponse>) => ({
  request: async (_m: string, path: string): Promise<HttpResponse> => answers[path] ?? { status: 404, body: {} },
});
const serves = { status: 200, body: { resources: [{ name: 'poddisruptionbudgets' }, { name: 'poddisruptionbudgets/status' }] } };

describe('discoverPolicyVersion', () => {
  it.each([
    ['both served (1.21–1.24)', { '/apis/policy/v1': serves, '/apis/policy/v1beta1': serves }, 'policy/v1', undefined],
    ['v1beta1 only (1.20)', { '/apis/policy/v1beta1': serves }, 'policy/v1beta1', undefined],
    ['v1 only (1.25+)', { '/apis/policy/v1': serves }, 'policy/v1', undefined],
    ['v1 group without PDBs (1.20 has no policy/v1 at all; an aggregated stub would)', { '/apis/policy/v1': { status: 200, body: { resources: [] } }, '/apis/policy/v1beta1': serves }, 'policy/v1beta1', undefined],
    ['v1 answers 503, v1beta1 served', { '/apis/policy/v1': { status: 503, body: {} }, '/apis/policy/v1beta1': serves }, 'policy/v1beta1', 'GET /apis/policy/v1: HTTP 503'],
    ['no answer at all', { '/apis/policy/v1': { status: 0, body: undefined, error: new Error('ECONNREFUSED') }, '/apis/policy/v1beta1': { status: 0, body: undefined, error: new Error('ECONNREFUSED') } }, 'policy/v1', 'GET /apis/policy/v1: ECONNREFUSED; GET /apis/policy/v1beta1: ECONNREFUSED'],
  ])('%s → %s', async (_name, answers, version, error) => {
    expect(await discoverPolicyVersion(fakeHttp(answers as Record<string, HttpResponse>))).toEqual({ version, ...(error ? { error } : {}) });
  });
});

describe('pdbView', () => {
  it('keeps namespace, selector, disruptionsAllowed and the names being disrupted', () => {
    expect(
      pdbView({ metadata: { namespace: 'n', name: 'p' }, spec: { selector: { matchLabels: { app: 'a' } } }, status: { disruptionsAllowed: 2, disruptedPods: { 'a-1': '2026-12-07T00:00:00Z' } } }),
    ).toEqual({ namespace: 'n', selector: { matchLabels: { app: 'a' } }, disruptionsAllowed: 2, disruptedPods: ['a-1'] });
  });
  it('a PDB the disruption controller has not processed allows no disruption', () => {
    expect(pdbView({ metadata: { namespace: 'n' }, spec: { selector: { matchLabels: { app: 'a' } } } })?.disruptionsAllowed).toBe(0);
  });
  it('a PDB without a selector selects nothing and is left out', () => {
    expect(pdbView({ metadata: { namespace: 'n' }, spec: {} })).toBeUndefined();
    expect(pdbView({ metadata: { namespace: 'n' }, spec: { selector: null } })).toBeUndefined();
  });
});
