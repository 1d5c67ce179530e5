import { describe, expect, it } from '@jest/globals';
import {
  add,
  byRole,
  coalesceRanges,
  contains,
  flatten,
  formatResources,
  isEmpty,
  isReserved,
  isUnreserved,
  normalize,
  ranges,
  rangesSize,
  reservationRole,
  roundScalar,
  scalar,
  setItems,
  subtract,
  subtractRanges,
} from './resources.js';
import { allocatePorts, takeResources } from './carve.js';
import type { Range, Resource } from './types.js';

// Small builders, Mesos-style: cpus(2), cpus(2, 'prod'), ports([[31000, 31010]], 'prod').
interface Opts {
  role?: string;
  dynamic?: boolean;
  refined?: boolean;
  alloc?: string;
}
function ident(o: Opts = {}): Partial<Resource> {
  const out: Partial<Resource> = {};
  if (o.role && o.role !== '*') {
    if (o.refined) out.reservations = [{ type: o.dynamic ? 'DYNAMIC' : 'STATIC', role: o.role }];
    else {
      out.role = o.role;
      if (o.dynamic) out.reservation = { principal: 'ops' };
    }
  }
  if (o.alloc) out.allocation_info = { role: o.alloc };
  return out;
}
const sc = (name: string, value: number, o: Opts | string = {}): Resource => ({
  name,
  type: 'SCALAR',
  scalar: { value },
  ...ident(typeof o === 'string' ? { role: o } : o),
});
const cpus = (v: number, o: Opts | string = {}): Resource => sc('cpus', v, o);
const mem = (v: number, o: Opts | string = {}): Resource => sc('mem', v, o);
const disk = (v: number, o: Opts | string = {}): Resource => sc('disk', v, o);
const ports = (rs: [number, number][], o: Opts | string = {}): Resource => ({
  name: 'ports',
  type: 'RANGES',
  ranges: { range: rs.map(([begin, end]) => ({ begin, end })) },
  ...ident(typeof o === 'string' ? { role: o } : o),
});
const set = (name: string, items: string[], o: Opts | string = {}): Resource => ({
  name,
  type: 'SET',
  set: { item: items },
  ...ident(typeof o === 'string' ? { role: o } : o),
});
const r = (pairs: [number, number][]): Range[] => pairs.map(([begin, end]) => ({ begin, end }));

describe('scalars use Mesos fixed point (3 decimals)', () => {
  it.each([
    [0.1 + 0.2, 0.3],
    [1.0005, 1.001],
    [1.0004, 1],
    [2.12345, 2.123],
    [0, 0],
    [-1.0005, -1.001],
  ])('roundScalar(%d) = %d', (v, want) => {
    expect(roundScalar(v)).toBe(want);
  });

  it('adds 0.1 ten times to exactly 1', () => {
    let rs: Resource[] = [];
    for (let i = 0; i < 10; i++) rs = add(rs, cpus(0.1));
    expect(rs).toEqual([cpus(1)]);
  });

  it('subtracts to exact zero and drops the entry', () => {
    expect(subtract([cpus(0.3)], [cpus(0.1), cpus(0.2)])).toEqual([]);
  });
});

describe('ranges', () => {
  it.each([
    [[[1, 2], [3, 5]], [[1, 5]]],
    [[[10, 20], [1, 5], [4, 8]], [[1, 8], [10, 20]]],
    [[[5, 5], [5, 5]], [[5, 5]]],
    [[[3, 1]], []],
  ] as [number, number][][][])('coalesce %j = %j', (input, want) => {
    expect(coalesceRanges(r(input))).toEqual(r(want));
  });

  it.each([
    [[[1, 10]], [[3, 4]], [[1, 2], [5, 10]]],
    [[[1, 10]], [[1, 10]], []],
    [[[1, 10]], [[0, 100]], []],
    [[[1, 10], [20, 30]], [[5, 25]], [[1, 4], [26, 30]]],
    [[[1, 10]], [[11, 12]], [[1, 10]]],
  ] as [number, number][][][])('%j minus %j = %j', (a, b, want) => {
    expect(subtractRanges(r(a), r(b))).toEqual(r(want));
  });

  it('counts', () => {
    expect(rangesSize(r([[31000, 32000], [1, 1]]))).toBe(1002);
  });
});

describe('add / subtract / contains', () => {
  it.each<[string, Resource[], Resource[], Resource[]]>([
    ['same role merges', [cpus(1)], [cpus(2)], [cpus(3)]],
    ['different roles stay apart', [cpus(1)], [cpus(2, 'prod')], [cpus(1), cpus(2, 'prod')]],
    ['static vs dynamic reservation stay apart', [cpus(1, 'prod')], [cpus(1, { role: 'prod', dynamic: true })], [cpus(1, 'prod'), cpus(1, { role: 'prod', dynamic: true })]],
    ['allocation role is part of identity', [cpus(1, { alloc: 'a' })], [cpus(1, { alloc: 'b' })], [cpus(1, { alloc: 'a' }), cpus(1, { alloc: 'b' })]],
    ['pre-refinement and refinement formats of the same reservation merge', [cpus(1, { role: 'prod' })], [cpus(2, { role: 'prod', refined: true })], [cpus(3, 'prod')]],
    ['ranges merge', [ports([[1, 5]])], [ports([[6, 10], [20, 20]])], [ports([[1, 10], [20, 20]])]],
    ['sets union', [set('gpus_ids', ['a', 'b'])], [set('gpus_ids', ['b', 'c'])], [set('gpus_ids', ['a', 'b', 'c'])]],
    ['empty resources vanish', [cpus(0)], [mem(0)], []],
  ])('add: %s', (_name, a, b, want) => {
    expect(add(a, b)).toEqual(want);
  });

  it.each<[string, Resource[], Resource[], Resource[]]>([
    ['scalar', [cpus(4), mem(1024)], [cpus(1.5)], [cpus(2.5), mem(1024)]],
    ['more than there is leaves nothing', [cpus(1)], [cpus(5)], []],
    ['other role is untouched', [cpus(4, 'prod')], [cpus(1)], [cpus(4, 'prod')]],
    ['ranges split', [ports([[31000, 31010]])], [ports([[31005, 31005]])], [ports([[31000, 31004], [31006, 31010]])]],
    ['sets', [set('s', ['a', 'b', 'c'])], [set('s', ['b', 'x'])], [set('s', ['a', 'c'])]],
  ])('subtract: %s', (_name, a, b, want) => {
    expect(subtract(a, b)).toEqual(want);
  });

  it.each<[string, Resource[], Resource[], boolean]>([
    ['enough', [cpus(4), mem(1024)], [cpus(2), mem(1024)], true],
    ['not enough', [cpus(4)], [cpus(4.001)], false],
    ['wrong role', [cpus(4, 'prod')], [cpus(1)], false],
    ['split across entries of same identity', [cpus(1), cpus(1)], [cpus(2)], true],
    ['ranges inside', [ports([[31000, 32000]])], [ports([[31000, 31000], [31500, 31600]])], true],
    ['ranges outside', [ports([[31000, 32000]])], [ports([[30999, 31000]])], false],
    ['set subset', [set('s', ['a', 'b'])], [set('s', ['a'])], true],
    ['set not subset', [set('s', ['a', 'b'])], [set('s', ['c'])], false],
    ['empty wanted', [], [], true],
    ['twice the same amount', [cpus(1)], [cpus(1), cpus(1)], false],
  ])('contains: %s', (_name, a, b, want) => {
    expect(contains(a, b)).toBe(want);
  });

  it('does not modify its inputs', () => {
    const a = [cpus(1), ports([[1, 10]])];
    const b = [cpus(0.5), ports([[5, 5]])];
    const before = JSON.stringify([a, b]);
    add(a, b);
    subtract(a, b);
    contains(a, b);
    expect(JSON.stringify([a, b])).toBe(before);
  });

  it('persistent volumes never merge and subtract only when equal', () => {
    const vol = (id: string): Resource => ({ ...disk(100, 'prod'), disk: { persistence: { id } } });
    expect(add([vol('a')], [vol('a')])).toHaveLength(2);
    expect(subtract([vol('a'), vol('b')], [vol('a')])).toEqual([vol('b')]);
    expect(subtract([vol('a')], [{ ...vol('a'), scalar: { value: 50 } }])).toEqual([vol('a')]);
  });

  it('isEmpty', () => {
    expect(isEmpty([])).toBe(true);
    expect(isEmpty([cpus(0), ports([])])).toBe(true);
    expect(isEmpty([cpus(0.001)])).toBe(false);
  });
});

describe('roles and reservations', () => {
  it.each<[string, Resource, string, boolean]>([
    ['no role', cpus(1), '*', true],
    ['role *', { ...cpus(1), role: '*' }, '*', true],
    ['static role', cpus(1, 'prod'), 'prod', false],
    ['dynamic (pre-refinement)', cpus(1, { role: 'prod', dynamic: true }), 'prod', false],
    ['refined stack: the last one counts', { ...cpus(1), reservations: [{ type: 'STATIC', role: 'eng' }, { type: 'DYNAMIC', role: 'eng/web' }] }, 'eng/web', false],
  ])('%s', (_name, res, role, unreserved) => {
    expect(reservationRole(res)).toBe(role);
    expect(isUnreserved(res)).toBe(unreserved);
    expect(isReserved(res, role)).toBe(!unreserved);
  });

  it('byRole groups by allocation role first, then reservation role', () => {
    const g = byRole([cpus(1), cpus(2, 'prod'), mem(10, { alloc: 'dev' }), mem(5, { role: 'dev', alloc: 'dev' }), cpus(1)]);
    expect([...g.keys()].sort()).toEqual(['*', 'dev', 'prod']);
    expect(g.get('*')).toEqual([cpus(2)]);
    expect(g.get('dev')).toEqual([mem(10, { alloc: 'dev' }), mem(5, { role: 'dev', alloc: 'dev' })]);
  });

  it('flatten strips roles and allocation and merges', () => {
    expect(flatten([cpus(1), cpus(2, 'prod'), cpus(1, { alloc: 'x' }), ports([[1, 2]], 'prod'), ports([[3, 4]])])).toEqual([cpus(4), ports([[1, 4]])]);
  });

  it('scalar/ranges/setItems sum across roles', () => {
    const rs = [cpus(1), cpus(2.5, 'prod'), ports([[1, 2]]), ports([[3, 3]], 'prod'), set('s', ['a']), set('s', ['b'], 'x')];
    expect(scalar(rs, 'cpus')).toBe(3.5);
    expect(scalar(rs, 'mem')).toBe(0);
    expect(ranges(rs, 'ports')).toEqual(r([[1, 3]]));
    expect(setItems(rs, 's')).toEqual(['a', 'b']);
  });

  it('normalize merges and keeps the first format', () => {
    expect(normalize([cpus(1, 'prod'), mem(1), cpus(1, { role: 'prod', refined: true })])).toEqual([cpus(2, 'prod'), mem(1)]);
  });

  it('formats like Mesos', () => {
    expect(formatResources([cpus(2, 'prod'), ports([[31000, 31005]]), mem(1, { alloc: 'a' })])).toBe('cpus(prod):2; ports(*):[31000-31005]; mem(*, allocated: a):1');
  });
});

describe('allocatePorts', () => {
  const offer = [cpus(4), ports([[31000, 31002]], { role: 'prod', dynamic: true }), ports([[32000, 32010]])];

  it.each<[string, number | number[], number[], Resource[]]>([
    ['N lowest free, keeping the source reservation', 2, [31000, 31001], [ports([[31000, 31001]], { role: 'prod', dynamic: true })]],
    ['spans several resources', 5, [31000, 31001, 31002, 32000, 32001], [ports([[31000, 31002]], { role: 'prod', dynamic: true }), ports([[32000, 32001]])]],
    ['zero', 0, [], []],
    ['specific ports', [32005, 31001], [31001, 32005], [ports([[32005, 32005]]), ports([[31001, 31001]], { role: 'prod', dynamic: true })]],
  ])('%s', (_name, want, gotPorts, gotResources) => {
    const res = allocatePorts(offer, want);
    expect(res).toEqual({ ok: true, ports: gotPorts, resources: gotResources });
  });

  it.each<[string, number | number[], RegExp]>([
    ['too many', 100, /wanted 100, 14 free/],
    ['a port not offered', [8080, 31000], /8080 not free/],
    ['duplicates', [31000, 31000], /duplicate/],
    ['negative count', -1, /invalid port count/],
  ])('does not fit: %s', (_name, want, reason) => {
    const res = allocatePorts(offer, want);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.reason).toMatch(reason);
  });

  it('the picked ports can be subtracted from the offer', () => {
    const res = allocatePorts(offer, [31001]);
    if (!res.ok) throw new Error(res.reason);
    expect(ranges(subtract(offer, res.resources), 'ports')).toEqual(r([[31000, 31000], [31002, 31002], [32000, 32010]]));
  });
});

describe('takeResources', () => {
  it('takes from the preferred role first, then the next', () => {
    const avail = [cpus(1, 'prod'), cpus(4), mem(512, 'prod'), mem(4096), ports([[31000, 31010]])];
    const res = takeResources(avail, { cpus: 1.5, mem: 1024, ports: 1 }, ['prod', '*']);
    expect(res).toEqual({
      ok: true,
      resources: [cpus(1, 'prod'), cpus(0.5), mem(512, 'prod'), mem(512), ports([[31000, 31000]])],
      remaining: [cpus(3.5), mem(3584), ports([[31001, 31010]])],
      ports: [31000],
      allocationRole: undefined,
    });
  });

  it('ignores resources of roles the task may not use', () => {
    const res = takeResources([cpus(8, 'other'), cpus(1)], { cpus: 2 }, ['*']);
    expect(res).toEqual({ ok: false, insufficient: ['cpus'] });
  });

  it('ignores revocable and persistent disk resources', () => {
    const res = takeResources([{ ...cpus(8), revocable: {} }, { ...disk(100), disk: { persistence: { id: 'v' } } }], { cpus: 1, disk: 10 }, ['*']);
    expect(res).toEqual({ ok: false, insufficient: ['cpus', 'disk'] });
  });

  it('combines several offers of one allocation role, never two roles', () => {
    const avail = [cpus(1, { alloc: 'dev' }), cpus(1, { alloc: 'prod' }), cpus(1, { alloc: 'prod' }), mem(100, { alloc: 'dev' }), mem(100, { alloc: 'prod' })];
    const res = takeResources(avail, { cpus: 2, mem: 50 }, ['prod', '*']);
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(res.allocationRole).toBe('prod');
      expect(res.resources).toEqual([cpus(2, { alloc: 'prod' }), mem(50, { alloc: 'prod' })]);
    }
    // Three cpus exist in total, but no single allocation role has them.
    expect(takeResources(avail, { cpus: 3 }, ['prod', 'dev', '*'])).toEqual({ ok: false, insufficient: ['cpus'] });
  });

  it('prefers offers allocated to the earlier role', () => {
    const avail = [cpus(4, { alloc: 'dev' }), cpus(4, { alloc: 'prod' })];
    const res = takeResources(avail, { cpus: 1 }, ['prod', '*']);
    expect(res.ok && res.allocationRole).toBe('prod');
  });

  it('specific host ports and other scalars', () => {
    const avail = [cpus(2), sc('gpus', 1), ports([[8000, 9000]])];
    const res = takeResources(avail, { cpus: 1, scalars: { gpus: 1 }, ports: [8080, 8443] }, ['*']);
    expect(res.ok && res.ports).toEqual([8080, 8443]);
    expect(res.ok && res.resources).toEqual([cpus(1), sc('gpus', 1), ports([[8080, 8080], [8443, 8443]])]);
    expect(takeResources(avail, { ports: [7000] }, ['*'])).toEqual({ ok: false, insufficient: ['ports'] });
  });

  it('reports every resource that does not fit', () => {
    expect(takeResources([cpus(1), mem(10)], { cpus: 2, mem: 20, disk: 1 }, ['*'])).toEqual({ ok: false, insufficient: ['cpus', 'mem', 'disk'] });
    expect(takeResources([], { cpus: 1, ports: 1 }, ['*'])).toEqual({ ok: false, insufficient: ['cpus', 'ports'] });
  });

  it('nothing wanted always fits', () => {
    expect(takeResources([cpus(1)], {}, ['*'])).toEqual({ ok: true, resources: [], remaining: [cpus(1)], ports: [] });
  });

  it('a sequence of takes packs tasks until the offer is used up', () => {
    let avail: Resource[] = [cpus(2), mem(1000), ports([[31000, 31001]])];
    let placed = 0;
    for (;;) {
      const res = takeResources(avail, { cpus: 0.6, mem: 100, ports: 1 }, ['*']);
      if (!res.ok) break;
      avail = res.remaining;
      placed++;
    }
    expect(placed).toBe(2); // ports run out before cpus
    expect(scalar(avail, 'cpus')).toBe(0.8);
  });
});
