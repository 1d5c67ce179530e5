import { DomainCounter, type CounterKind, type EligibleMask } from './domain-counter.js';
import type { DomainIndex } from './working-agent.js';

/** Agents 0..4 in zones a, a, b, c, none. */
const zones = (): DomainIndex => ({ ids: Int32Array.from([0, 0, 1, 2, -1]), names: ['a', 'b', 'c'], bits: null });
const counter = (kind: CounterKind, eligible: EligibleMask | null = null, index = zones()): DomainCounter => {
  const c = new DomainCounter('k', kind, index, () => true, eligible);
  c.finish();
  return c;
};
const view = (c: DomainCounter) => {
  const { total, missing, presentCount, min, domains } = c.inspect();
  return { total, missing, presentCount, min, domains };
};

describe('DomainCounter', () => {
  it('spread: a removal lowers the minimum, an addition raises it once no domain is left at it', () => {
    const c = counter('spread');
    for (const a of [0, 2, 3]) c.add(a);
    expect(c.min).toBe(1);
    c.remove(2);
    expect(view(c)).toEqual({ total: 2, missing: 0, presentCount: 3, min: 0, domains: { a: [1, 1], b: [0, 1], c: [1, 1] } });
    c.add(1);
    c.add(2);
    expect(c.min).toBe(1);
  });

  it('groups: a domain exists while a pod is in it; pods without the field count as missing', () => {
    const c = counter('groups');
    c.add(0);
    c.add(3);
    c.add(3);
    c.add(4);
    expect(view(c)).toEqual({ total: 4, missing: 1, presentCount: 2, min: 1, domains: { a: [1, 1], c: [2, 1] } });
    c.remove(0);
    expect(view(c)).toEqual({ total: 3, missing: 1, presentCount: 1, min: 2, domains: { c: [2, 1] } });
    c.remove(4);
    expect(c.missing).toBe(0);
  });

  it('spread: an agent moving domain or eligibility takes its pods and its domain along', () => {
    const e: EligibleMask = { m: Uint8Array.from([1, 1, 1, 1, 1]) };
    const idx = zones();
    const c = counter('spread', e, idx);
    c.add(2);
    c.add(2);
    // agent 2 (the only one in b) relabelled into c: b is no longer a domain
    const from = c.placeOf(2);
    idx.ids[2] = 2;
    c.move(from, c.placeOf(2), 2);
    expect(view(c)).toEqual({ total: 2, missing: 0, presentCount: 2, min: 0, domains: { a: [0, 1], c: [2, 1] } });
    // agent 3 tainted out: its pods never counted, c stays (agent 2 is there)
    const was = c.placeOf(3);
    e.m[3] = 0;
    c.move(was, c.placeOf(3), 0);
    expect(view(c)).toEqual({ total: 2, missing: 0, presentCount: 2, min: 0, domains: { a: [0, 1], c: [2, 1] } });
    // a new zone learnt by the index: the counter makes room when an agent joins it
    idx.names.push('d');
    idx.ids[4] = 3;
    c.agentIn(4);
    expect(view(c).domains.d).toEqual([0, 1]);
  });

  it('plain: counts only', () => {
    const c = counter('plain');
    c.add(0);
    c.add(4);
    c.remove(0);
    expect(view(c)).toEqual({ total: 1, missing: 1, presentCount: 0, min: 0, domains: {} });
  });
});
