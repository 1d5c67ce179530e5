import { ProtocolFaults } from './faults.js';

describe('ProtocolFaults', () => {
  it('an armed ACCEPT fault applies to `count` calls, then disarms; lost requests keep their offer ids', () => {
    const f = new ProtocolFaults();
    expect(f.takeAccept(['o1'])).toBeUndefined();
    expect(f.set({ accept: { mode: 'lose-request', count: 2, delayMs: 5 } })).toMatchObject({ ok: true });
    expect(f.takeAccept(['o1', 'o2'])).toEqual({ mode: 'lose-request', remaining: 1, delayMs: 5 });
    expect(f.takeAccept(['o3'])).toMatchObject({ mode: 'lose-request', remaining: 0 });
    expect(f.takeAccept(['o4'])).toBeUndefined();
    expect(f.view()).toEqual({ accept: null, duplicateUpdates: false, acceptsLost: 2, updatesDuplicated: 0, lostRequestOffers: ['o1', 'o2', 'o3'] });
  });

  it('a lost response records no offers (the master applied the call); null disarms; keys left out stay', () => {
    const f = new ProtocolFaults();
    f.set({ accept: { mode: 'lose-response' }, duplicateUpdates: true });
    expect(f.takeAccept(['o1'])).toEqual({ mode: 'lose-response', remaining: 0, delayMs: 0 });
    f.set({ accept: { mode: 'lose-response', count: 3 } });
    expect(f.view().duplicateUpdates).toBe(true);
    f.set({ accept: null });
    expect(f.view()).toMatchObject({ accept: null, duplicateUpdates: true, lostRequestOffers: [] });
  });

  it.each([
    [{ nope: 1 }, 'unknown field "nope"'],
    [{ accept: 'x' }, '"accept" must be an object or null'],
    [{ accept: {} }, '"accept.mode"'],
    [{ accept: { mode: 'lose-request', count: 0 } }, '"accept.count"'],
    [{ accept: { mode: 'lose-request', count: 1.5 } }, '"accept.count"'],
    [{ accept: { mode: 'lose-request', delayMs: -1 } }, '"accept.delayMs"'],
    [{ accept: { mode: 'lose-request', delayMs: 1e9 } }, '"accept.delayMs"'],
    [{ duplicateUpdates: 'yes' }, '"duplicateUpdates"'],
  ])('rejects %j naming the field', (body, field) => {
    const f = new ProtocolFaults();
    const r = f.set(body as Record<string, unknown>);
    expect(r.ok ? '' : r.error).toContain(field);
    expect(f.view()).toMatchObject({ accept: null, duplicateUpdates: false });
  });
});
