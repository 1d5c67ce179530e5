// The emulator's allocator against Mesos' hierarchical DRF allocator: each test names the Mesos test
// (src/tests/hierarchical_allocator_tests.cpp) or the source/doc behaviour it mirrors. Injected clock throughout.
import { ManualClock } from './clock.js';
import { Master, type SchedulerSink } from './master.js';
import { simulatedSleepSeconds } from './master/executor-lifecycle.js';
import { allocatable, compareDrf, dominantShare, filterLifetimeMs, parseWeights, shuffle } from './master/drf.js';
import type { FrameworkInfo, Offer, SchedulerCall, SchedulerEvent, TaskInfo } from './proto-types.js';
import { parseResourceSpec, ResourceBag } from './resources.js';

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
  clear(): void {
    this.events.length = 0;
  }
}

function res(spec: string) {
  const r = parseResourceSpec(spec);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const AGENT = 'cpus:4;mem:8192;disk:1000;ports:[31000-31009]';

function setup(o: { agents?: number; resources?: string; weights?: Record<string, number>; seed?: number } = {}) {
  const clock = new ManualClock();
  let x = o.seed ?? 7;
  const random = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const master = new Master({ clock, clusterId: 'c1', allocationIntervalMs: 1000, random, weights: o.weights });
  for (let i = 0; i < (o.agents ?? 1); i++) master.addAgent({ hostname: `agent-${i}`, resources: res(o.resources ?? AGENT), attributes: [] });
  master.start();
  return { clock, master };
}

function subscribe(master: Master, name: string, roles: string[] = ['*']) {
  const sink = new Sink();
  const info: FrameworkInfo = { user: 'root', name, roles, capabilities: [{ type: 'MULTI_ROLE' }] };
  master.subscribe(sink, { type: 'SUBSCRIBE', subscribe: { framework_info: info } });
  const sub = sink.events.find((e) => e.type === 'SUBSCRIBED');
  const fid = sub?.type === 'SUBSCRIBED' ? sub.subscribed.framework_id.value : '';
  const call = (c: Omit<SchedulerCall, 'framework_id'>) => master.call({ ...c, framework_id: { value: fid } } as SchedulerCall, sink.streamId);
  const decline = (offers: Offer[], refuse_seconds?: number) =>
    call({ type: 'DECLINE', decline: { offer_ids: offers.map((x) => x.id), ...(refuse_seconds === undefined ? {} : { filters: { refuse_seconds } }) } } as never);
  const launch = (offer: Offer, id: string, resources: string, command = 'sleep 1000', refuse_seconds = 0) =>
    call({ type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task(id, offer, resources, command)] } }], filters: { refuse_seconds } } } as never);
  const acked = new Set<SchedulerEvent>();
  /** Acknowledges every update received so far (the agent sends the next one of a task only then). */
  const ack = () => {
    for (const e of sink.events) {
      if (e.type !== 'UPDATE' || acked.has(e) || !e.update.status.uuid) continue;
      acked.add(e);
      const st = e.update.status;
      call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: st.agent_id!, task_id: st.task_id, uuid: st.uuid! } } as never);
    }
  };
  return { sink, fid, call, decline, launch, ack };
}

const task = (id: string, offer: Offer, resources: string, command: string): TaskInfo => ({
  name: id,
  task_id: { value: id },
  agent_id: offer.agent_id,
  resources: res(resources),
  command: { value: command },
});

const scalar = (o: Offer, name: string) => (o.resources ?? []).filter((r) => r.name === name).reduce((a, r) => a + (r.scalar?.value ?? 0), 0);

describe('emulator allocator = Mesos hierarchical DRF (injected clock)', () => {
  it('SameShareFairness: two frameworks with equal shares alternate on one agent (ties go to the fewer allocations, sorter.hpp compareDRF)', () => {
    const { clock, master } = setup();
    const f1 = subscribe(master, 'f1');
    const f2 = subscribe(master, 'f2');
    const counts = new Map<string, number>([[f1.fid, 0], [f2.fid, 0]]);
    clock.advance(0);
    for (let i = 0; i < 10; i++) {
      const mine = [f1, f2].filter((f) => f.sink.offers().length > 0);
      expect(mine).toHaveLength(1);
      const [o] = mine[0].sink.offers();
      expect(scalar(o, 'cpus')).toBe(4);
      counts.set(mine[0].fid, counts.get(mine[0].fid)! + 1);
      mine[0].sink.clear();
      mine[0].decline([o], 0); // no filter: recovered, offered again at the next batch
      clock.advance(1000);
    }
    expect([...counts.values()]).toEqual([5, 5]);
  });

  it('two levels: agents go to the role with the lowest share first, then to the framework with the lowest share in that role (hierarchical.cpp, docs/roles.md)', () => {
    const { clock, master } = setup({ agents: 6 });
    const a = subscribe(master, 'a', ['r1']);
    const b = subscribe(master, 'b', ['r2']);
    const c = subscribe(master, 'c', ['r2']);
    clock.advance(0);
    // Roles alternate (r1, r2, r1, r2, …); r2's three agents are split between b and c. A flat framework sort gives 2/2/2.
    expect([a, b, c].map((f) => f.sink.offers().length)).toEqual([3, 2, 1]);
    for (const f of [a, b, c]) for (const o of f.sink.offers()) expect(o.allocation_info?.role).toBe(f === a ? 'r1' : 'r2');
  });

  it('weights divide a role\'s share: a role of weight 2 is offered twice the resources of a role of weight 1 (docs/weights.md, DRFSorter::calculateShare)', () => {
    const { clock, master } = setup({ agents: 6, weights: { r1: 2 } });
    const a = subscribe(master, 'a', ['r1']);
    const b = subscribe(master, 'b', ['r2']);
    clock.advance(0);
    expect([a.sink.offers().length, b.sink.offers().length]).toEqual([4, 2]);
  });

  it('every scalar counts toward the dominant share (disk too), and a new agent is allocated on its own at once (addSlave → generateOffers(slaveId))', () => {
    const { clock, master } = setup({ agents: 2 });
    const a = subscribe(master, 'a');
    const b = subscribe(master, 'b');
    clock.advance(0);
    const [oa] = a.sink.offers();
    const [ob] = b.sink.offers();
    // a holds 900 of the 2000 disk (share 0.45) with little cpu/mem; b holds 1 of 8 cpus (share 0.125).
    a.launch(oa, 'disk-heavy', 'cpus:0.1;mem:32;disk:900');
    b.launch(ob, 'cpu-task', 'cpus:1;mem:1024');
    a.sink.clear();
    b.sink.clear();
    master.addAgent({ hostname: 'agent-new', resources: res(AGENT), attributes: [] });
    clock.advance(0);
    // Counting only cpus and mem, a's share (0.0083) would be the lower one and a would get the new agent.
    expect(b.sink.offers().map((o) => o.hostname)).toEqual(['agent-new']);
    // The leftovers of the two older agents were recovered but not allocated by the agent's event.
    expect(a.sink.offers()).toHaveLength(0);
    clock.advance(1000);
    expect(a.sink.offers().length + b.sink.offers().length).toBe(3);
  });

  it('SmallOfferFilterTimeout: a filter shorter than the allocation interval still applies at the next batch allocation (MESOS-4302)', () => {
    const { clock, master } = setup({ agents: 1 });
    const f1 = subscribe(master, 'f1');
    const f2 = subscribe(master, 'f2');
    clock.advance(0);
    // f1 is offered the agent first (ties: fewer allocations, then id); it declines with a 0.2 s filter.
    expect(f1.sink.offers()).toHaveLength(1);
    f1.decline(f1.sink.offers(), 0.2);
    f1.sink.clear();
    clock.advance(1000);
    // f1's share is now 0 again and so is f2's, but f1's filter holds through this batch: f2 gets the agent.
    expect(f1.sink.offers()).toHaveLength(0);
    expect(f2.sink.offers()).toHaveLength(1);
    f2.decline(f2.sink.offers(), 0);
    f2.sink.clear();
    clock.advance(1000);
    // The filter is gone after that batch; f1 has fewer allocations than f2 and gets it again.
    expect(f1.sink.offers()).toHaveLength(1);
    expect(f2.sink.offers()).toHaveLength(0);
  });

  it('resources a finished task frees are offered at the next batch allocation, not at once (recoverResources does not allocate, MESOS-3078)', () => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, 'f');
    clock.advance(0);
    const [o] = f.sink.offers();
    f.launch(o, 'short', 'cpus:4;mem:8192', 'sleep 1.5');
    clock.advance(0);
    f.ack(); // STARTING
    clock.advance(0);
    f.ack(); // RUNNING
    f.sink.clear();
    clock.advance(1000); // batch at +1 s: the task holds the agent's cpus and mem; disk and ports alone are not allocatable
    expect(f.sink.offers()).toHaveLength(0);
    clock.advance(600); // +1.6 s: the simulated `sleep 1.5` finished
    const finished = f.sink.events.flatMap((e) => (e.type === 'UPDATE' ? [e.update.status.state] : []));
    expect(finished).toContain('TASK_FINISHED');
    expect(f.sink.offers()).toHaveLength(0);
    clock.advance(400); // +2 s: the next batch
    const [again] = f.sink.offers();
    expect(scalar(again, 'cpus')).toBe(4);
  });

  it('Allocatable: leftovers below both cpus:0.01 and mem:32 are not offered (--min_allocatable_resources default)', () => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, 'f');
    clock.advance(0);
    const [o] = f.sink.offers();
    f.launch(o, 'almost-all', 'cpus:3.995;mem:8170'); // leaves cpus 0.005, mem 22, disk and ports
    f.sink.clear();
    clock.advance(3000);
    expect(f.sink.offers()).toHaveLength(0);
    f.call({ type: 'KILL', kill: { task_id: { value: 'almost-all' }, agent_id: o.agent_id } } as never);
    clock.advance(1000);
    expect(f.sink.offers().map((x) => scalar(x, 'cpus'))).toEqual([4]);
  });

  it('a filter holds only while the agent offers no more than was refused (RefusedOfferFilter::filter): freed resources bring it back early, counted as grown', () => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, 'f');
    clock.advance(0);
    const [o] = f.sink.offers();
    f.launch(o, 'half', 'cpus:2;mem:4096', 'sleep 2.5', 0);
    f.sink.clear();
    clock.advance(1000); // the batch offers the other half
    const [rest] = f.sink.offers();
    expect(scalar(rest, 'cpus')).toBe(2);
    f.decline([rest], 300);
    f.sink.clear();
    clock.advance(1000);
    expect(f.sink.offers()).toHaveLength(0); // the refused half alone stays away
    clock.advance(1000); // +3 s: the task ended at +2.5 s; the agent has more than was refused
    for (let i = 0; i < 3 && f.sink.offers().length === 0; i++) {
      f.ack();
      clock.advance(1000);
    }
    expect(f.sink.offers().map((x) => scalar(x, 'cpus'))).toEqual([4]);
    const fig = master.allocationJson().frameworks.find((x) => x.id === f.fid)!;
    expect(fig.reoffers).toHaveLength(1);
    expect(fig.reoffers[0]).toMatchObject({ refuse_seconds: 300, grown: true });
    expect(fig.reoffers[0].gap_ms).toBeLessThan(300_000);
  });

  it('counts what each framework did with its offers: hold times, declines by refuse_seconds and when the agent came back, SUPPRESS and REVIVE calls, use per agent', () => {
    const { clock, master } = setup({ agents: 2 });
    const f = subscribe(master, 'f');
    clock.advance(0);
    const [o1, o2] = f.sink.offers();
    clock.advance(300);
    f.decline([o1]); // default 5 s
    clock.advance(200);
    f.launch(o2, 't', 'cpus:1;mem:128', 'sleep 1000', 30);
    f.sink.clear();
    clock.advance(5500); // the declined agent's 5 s filter ends at +5.3 s; the batch at +6 s offers it again
    expect(f.sink.offers().map((o) => o.agent_id.value)).toEqual([o1.agent_id.value]);
    f.call({ type: 'SUPPRESS' } as never);
    f.call({ type: 'REVIVE' } as never);
    const fig = master.allocationJson({ byAgent: true }).frameworks.find((x) => x.id === f.fid)!;
    expect(fig.offers).toEqual({ sent: 3, accepted: 1, declined: 1, rescinded: 0 });
    expect(fig.offer_hold_ms).toEqual([300, 500]);
    expect(fig.offer_hold_ms_by_outcome).toEqual({ accepted: [500], declined: [300], rescinded: [] });
    expect(fig.reoffers).toEqual([{ refuse_seconds: 5, gap_ms: 5700, grown: false }]);
    expect(fig.used_by_agent).toEqual({ [o2.agent_id.value]: { cpus: 1, mem: 128 } });
    expect(fig.declines_by_refuse_seconds).toEqual({ '5': 1 });
    expect(fig.calls).toEqual({ accept: 1, decline: 1, suppress: 1, revive: 1 });
    expect(fig.allocated.cpus).toBe(1 + 4); // the task, and the offer of the other agent
    expect(fig.dominant_share).toBeCloseTo(5 / 8);
  });
});

describe('DRF arithmetic (master/drf.ts)', () => {
  const bag = (spec: string) => ResourceBag.from(res(spec));
  const total = new Map([['cpus', 10], ['mem', 1000], ['disk', 100]]);

  it.each([
    ['cpus:1;mem:100', 1, 0.1],
    ['cpus:1;mem:100;disk:50', 1, 0.5],
    ['cpus:4', 2, 0.2],
    ['gpus:1', 1, 0], // a resource the cluster has none of does not count
  ])('dominantShare(%s, weight %d) = %d', (spec, w, want) => {
    expect(dominantShare(bag(spec), total, w)).toBeCloseTo(want);
  });

  it('compareDrf orders by share, then allocation count, then name', () => {
    const keys = [
      { share: 0.2, count: 0, name: 'a' },
      { share: 0.1, count: 5, name: 'z' },
      { share: 0.1, count: 2, name: 'y' },
      { share: 0.1, count: 2, name: 'x' },
    ];
    expect([...keys].sort(compareDrf).map((k) => k.name)).toEqual(['x', 'y', 'z', 'a']);
  });

  it('shuffle permutes every element exactly once, deterministically for a seed', () => {
    let s = 1;
    const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    const xs = shuffle([...Array(50).keys()], r);
    expect([...xs].sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
    expect(xs).not.toEqual([...Array(50).keys()]);
  });

  it.each([
    ['cpus:0.01', true],
    ['mem:32', true],
    ['cpus:0.005;mem:31;disk:1000', false],
    ['ports:[1-2]', false],
  ])('allocatable(%s) with the default minimums = %s', (spec, want) => {
    expect(allocatable(bag(spec), [{ cpus: 0.01 }, { mem: 32 }])).toBe(want);
  });

  it('filter lifetime: refuse_seconds but at least one allocation interval; 0 = no filter', () => {
    expect(filterLifetimeMs(5, 1000)).toBe(5000);
    expect(filterLifetimeMs(0.2, 1000)).toBe(1000);
    expect(filterLifetimeMs(0, 1000)).toBe(0);
  });

  it.each([
    ['sleep 3', 3],
    [' sleep 0.5 ', 0.5],
    ['sleep 1000', 1000],
    ['sleep 3 && echo', undefined],
    ['sleep 100000', undefined],
    ['echo hi', undefined],
  ])('a simulated command %j finishes after %s s', (value, want) => {
    expect(simulatedSleepSeconds({ value })).toBe(want);
  });

  it('parseWeights reads the master\'s --weights (role=weight,…) and names a bad pair', () => {
    expect(parseWeights('prod=2, batch=0.5')).toEqual({ ok: true, value: { prod: 2, batch: 0.5 } });
    expect(parseWeights('')).toEqual({ ok: true, value: {} });
    expect(parseWeights('prod=0')).toEqual({ ok: false, error: '"prod=0" is not role=weight with a weight > 0' });
    expect(parseWeights('prod')).toMatchObject({ ok: false });
  });
});
