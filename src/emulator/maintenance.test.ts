import { ManualClock } from './clock.js';
import { Master, type SchedulerSink } from './master.js';
import { parseSchedule, type MaintenanceSchedule } from './maintenance.js';
import type { Offer, SchedulerCall, SchedulerEvent } from './proto-types.js';
import type { InverseOffer } from '../mesos/types.js';
import { parseResourceSpec } from './resources.js';

class Sink implements SchedulerSink {
  readonly events: SchedulerEvent[] = [];
  readonly streamId = `s-${Math.random()}`;
  send(ev: SchedulerEvent): void {
    this.events.push(ev);
  }
  close(): void {}
  offers(): Offer[] {
    return this.events.flatMap((e) => (e.type === 'OFFERS' ? (e.offers.offers ?? []) : []));
  }
  inverseOffers(): InverseOffer[] {
    return this.events.flatMap((e) => (e.type === 'INVERSE_OFFERS' ? (e.inverse_offers.inverse_offers ?? []) : []));
  }
  rescinded(): string[] {
    return this.events.flatMap((e) => (e.type === 'RESCIND_INVERSE_OFFER' ? [e.rescind_inverse_offer.inverse_offer_id.value] : []));
  }
  clear(): void {
    this.events.length = 0;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
const RES = parseResourceSpec('cpus:4;mem:8192');
if (!RES.ok) throw new Error(RES.error);
const START = 1_700_000_000_000;

function setup(agents = 3, offerTimeoutMs?: number) {
  const clock = new ManualClock(START);
  const master = new Master({ clock, clusterId: 'c1', allocationIntervalMs: 1000, random: () => 0, offerTimeoutMs });
  for (let i = 0; i < agents; i++) master.addAgent({ hostname: `agent-${i}`, zone: 'a', resources: RES.ok ? RES.value : [], attributes: [] });
  master.start();
  return { clock, master };
}

function subscribe(master: Master, name = 'fw') {
  const sink = new Sink();
  master.subscribe(sink, { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'root', name, failover_timeout: 60 } } });
  const sub = sink.events.find((e) => e.type === 'SUBSCRIBED');
  const fid = sub?.type === 'SUBSCRIBED' ? sub.subscribed.framework_id.value : '';
  const call = (c: DistributiveOmit<SchedulerCall, 'framework_id'>) => master.call({ ...c, framework_id: { value: fid } } as SchedulerCall, sink.streamId);
  return { sink, fid, call };
}

/** agent-i in a window starting `inMs` from START, lasting an hour. */
function window(hosts: string[], inMs = 30_000): MaintenanceSchedule {
  return { windows: [{ machine_ids: hosts.map((hostname) => ({ hostname })), unavailability: { start: { nanoseconds: (START + inMs) * 1e6 }, duration: { nanoseconds: 3600e9 } } }] };
}

const hostnameOf = (x: string) => (/^agent-\d+$/.test(x) ? x : x === 'c1-S1' ? 'agent-1' : undefined);

describe('parseSchedule (maintenance::validation::schedule)', () => {
  it.each<[string, unknown, string | RegExp]>([
    ['not an object', [], 'schedule must be a JSON object'],
    ['windows not a list', { windows: {} }, '"windows" must be a list'],
    ['a window without machines', { windows: [{ machine_ids: [], unavailability: { start: { nanoseconds: 1 } } }] }, 'List of machines in the maintenance window is empty'],
    ['a machine with neither hostname nor ip', { windows: [{ machine_ids: [{}], unavailability: { start: { nanoseconds: 1 } } }] }, "Both 'hostname' and 'ip' for a machine are empty"],
    ['a bad ip', { windows: [{ machine_ids: [{ ip: '300.1.1.1' }], unavailability: { start: { nanoseconds: 1 } } }] }, "Failed to parse IP '300.1.1.1'"],
    [
      'a machine twice (case-insensitive hostname)',
      { windows: [{ machine_ids: [{ hostname: 'A' }], unavailability: { start: { nanoseconds: 1 } } }, { machine_ids: [{ hostname: 'a' }], unavailability: { start: { nanoseconds: 2 } } }] },
      /appears more than once/,
    ],
    ['no start', { windows: [{ machine_ids: [{ hostname: 'a' }], unavailability: {} }] }, /'unavailability.start.nanoseconds' is required/],
    ['a negative duration', { windows: [{ machine_ids: [{ hostname: 'a' }], unavailability: { start: { nanoseconds: 1 }, duration: { nanoseconds: -1 } } }] }, "Unavailability's duration is negative"],
    ['an unknown agent in the shorthand', { agents: ['nope'] }, 'agent "nope" not found'],
    ['a bad shorthand duration', { agents: ['agent-0'], durationSeconds: -5 }, '"durationSeconds" must be a number ≥ 0'],
  ])('refuses %s', (_name, body, error) => {
    const r = parseSchedule(body, { nowMs: START, hostnameOf });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });

  it('reads Mesos JSON (nanoseconds as numbers or int64 strings; hostnames lower-cased) and the shorthand', () => {
    const mesos = parseSchedule({ windows: [{ machine_ids: [{ hostname: 'Agent-0', ip: '10.0.0.1' }], unavailability: { start: { nanoseconds: '1700000030000000000' }, duration: { nanoseconds: 6e11 } } }] }, { nowMs: START, hostnameOf });
    expect(mesos).toEqual({ ok: true, value: { windows: [{ machine_ids: [{ hostname: 'agent-0', ip: '10.0.0.1' }], unavailability: { start: { nanoseconds: 1700000030000000000 }, duration: { nanoseconds: 6e11 } } }] } });
    const short = parseSchedule({ agents: ['agent-0', 'c1-S1'], startInSeconds: 30, durationSeconds: 600 }, { nowMs: START, hostnameOf });
    expect(short).toEqual({
      ok: true,
      value: { windows: [{ machine_ids: [{ hostname: 'agent-0' }, { hostname: 'agent-1' }], unavailability: { start: { nanoseconds: (START + 30_000) * 1e6 }, duration: { nanoseconds: 600e9 } } }] },
    });
    expect(parseSchedule({ agents: [] }, { nowMs: START, hostnameOf })).toEqual({ ok: true, value: { windows: [] } });
  });
});

describe('Master maintenance (injected clock)', () => {
  it('offers for scheduled agents carry the unavailability; others do not', () => {
    const { clock, master } = setup(2);
    master.updateMaintenanceSchedule(window(['agent-1']));
    const f = subscribe(master);
    clock.advance(0);
    const byHost = new Map(f.sink.offers().map((o) => [o.hostname, o]));
    expect(byHost.get('agent-0')?.unavailability).toBeUndefined();
    expect(byHost.get('agent-1')?.unavailability).toEqual({ start: { nanoseconds: (START + 30_000) * 1e6 }, duration: { nanoseconds: 3600e9 } });
  });

  it('sends one inverse offer per framework holding resources on a scheduled agent, and no second while it is outstanding', () => {
    const { clock, master } = setup(3);
    const f = subscribe(master, 'holder');
    clock.advance(0); // f holds offers for all three agents
    const idle = subscribe(master, 'idle'); // nothing offered to or used by this one
    master.updateMaintenanceSchedule(window(['agent-0', 'agent-2']));
    clock.advance(1000);
    const ios = f.sink.inverseOffers();
    expect(ios.map((io) => io.agent_id?.value).sort()).toEqual(['c1-S0', 'c1-S2']);
    for (const io of ios) {
      expect(io.framework_id.value).toBe(f.fid);
      expect(io.unavailability).toEqual({ start: { nanoseconds: (START + 30_000) * 1e6 }, duration: { nanoseconds: 3600e9 } });
      expect(io.resources).toEqual([]);
      expect(io.id.value).toMatch(/-O\d+$/);
    }
    expect(idle.sink.inverseOffers()).toEqual([]);
    clock.advance(5000);
    expect(f.sink.inverseOffers()).toHaveLength(2);
    expect((master.maintenance.toJSON().agents as { outstanding_inverse_offers: unknown[] }[]).map((a) => a.outstanding_inverse_offers.length)).toEqual([1, 1]);
  });

  it('records ACCEPT and DECLINE per machine; the answer\'s filter delays the next inverse offer (default 5 s)', () => {
    const { clock, master } = setup(2);
    const f = subscribe(master);
    clock.advance(0);
    master.updateMaintenanceSchedule(window(['agent-0', 'agent-1']));
    clock.advance(1000);
    const [a0, a1] = [...f.sink.inverseOffers()].sort((x, y) => x.agent_id!.value.localeCompare(y.agent_id!.value));
    expect(f.call({ type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: [a0.id], filters: { refuse_seconds: 30 } } })).toEqual({ status: 202 });
    expect(f.call({ type: 'DECLINE_INVERSE_OFFERS', decline_inverse_offers: { inverse_offer_ids: [a1.id] } })).toEqual({ status: 202 });
    const status = master.maintenance.status();
    expect(status.draining_machines.map((m) => [m.id.hostname, m.statuses.map((s) => [s.framework_id.value, s.status])])).toEqual([
      ['agent-0', [[f.fid, 'ACCEPT']]],
      ['agent-1', [[f.fid, 'DECLINE']]],
    ]);
    const json = master.maintenance.toJSON() as { agents: { hostname: string; accepted_by: string[]; declined_by: string[] }[]; responses: { status: string; refuse_seconds: number }[] };
    expect(json.agents.map((a) => [a.hostname, a.accepted_by, a.declined_by])).toEqual([
      ['agent-0', [f.fid], []],
      ['agent-1', [], [f.fid]],
    ]);
    expect(json.responses.map((r) => [r.status, r.refuse_seconds])).toEqual([
      ['ACCEPT', 30],
      ['DECLINE', 5],
    ]);
    f.sink.clear();
    clock.advance(5000); // the decline's 5 s filter ran out: agent-1 again; agent-0 still filtered
    expect(f.sink.inverseOffers().map((io) => io.agent_id?.value)).toEqual(['c1-S1']);
    clock.advance(25_000);
    expect(f.sink.inverseOffers().map((io) => io.agent_id?.value)).toEqual(['c1-S1', 'c1-S0']);
  });

  it('ignores answers naming inverse offers that are not outstanding for the framework', () => {
    const { clock, master } = setup(1);
    const f = subscribe(master, 'f');
    const g = subscribe(master, 'g');
    clock.advance(0);
    master.updateMaintenanceSchedule(window(['agent-0']));
    clock.advance(1000);
    const [io] = [...f.sink.inverseOffers(), ...g.sink.inverseOffers()];
    const other = io.framework_id.value === f.fid ? g : f;
    expect(other.call({ type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: [io.id, { value: 'nope' }] } })).toEqual({ status: 202 });
    expect(master.maintenance.status().draining_machines[0].statuses).toEqual([]);
  });

  it('rescinds outstanding inverse offers when the window changes or is removed, and clears the answers', () => {
    const { clock, master } = setup(2);
    const f = subscribe(master);
    clock.advance(0);
    master.updateMaintenanceSchedule(window(['agent-0', 'agent-1']));
    clock.advance(1000);
    const ios = f.sink.inverseOffers();
    const a1 = ios.find((io) => io.agent_id?.value === 'c1-S1')!;
    f.call({ type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: [a1.id] } });
    // agent-0 moves to a later window: its inverse offer is rescinded and a new one carries the new window
    master.updateMaintenanceSchedule({ windows: [...window(['agent-1']).windows, ...window(['agent-0'], 60_000).windows] });
    const a0 = ios.find((io) => io.agent_id?.value === 'c1-S0')!;
    expect(f.sink.rescinded()).toEqual([a0.id.value]);
    f.sink.clear();
    clock.advance(1000);
    const again = f.sink.inverseOffers().find((io) => io.agent_id?.value === 'c1-S0');
    expect(again?.unavailability.start.nanoseconds).toBe((START + 60_000) * 1e6);
    expect(master.maintenance.status().draining_machines.find((m) => m.id.hostname === 'agent-1')?.statuses.map((s) => s.status)).toEqual(['ACCEPT']);
    // the schedule is removed: everything outstanding is rescinded, offers lose their unavailability
    f.sink.clear();
    master.updateMaintenanceSchedule({ windows: [] });
    expect(f.sink.rescinded()).toEqual([again!.id.value]); // agent-1's was answered (and is filtered for 5 s)
    expect(master.maintenance.status()).toEqual({ draining_machines: [], down_machines: [] });
    clock.advance(10_000);
    expect(f.sink.inverseOffers()).toEqual([]);
  });

  it('rescinds inverse offers of a failed agent and after the offer timeout; a disconnected framework\'s are dropped', () => {
    const { clock, master } = setup(2, 20_000);
    const f = subscribe(master);
    clock.advance(0);
    master.updateMaintenanceSchedule(window(['agent-0', 'agent-1']));
    clock.advance(1000);
    const ios = f.sink.inverseOffers();
    const on0 = ios.find((io) => io.agent_id?.value === 'c1-S0')!;
    master.failAgent('c1-S0');
    expect(f.sink.rescinded()).toEqual([on0.id.value]);
    f.sink.clear();
    clock.advance(20_000);
    // agent-1's inverse offer timed out and was rescinded (offers too); the next cycle may send a fresh one
    expect(f.sink.rescinded()).toHaveLength(1);
    master.disconnected(f.sink);
    expect((master.maintenance.toJSON().agents as { outstanding_inverse_offers: unknown[] }[]).every((a) => a.outstanding_inverse_offers.length === 0)).toBe(true);
  });
});
