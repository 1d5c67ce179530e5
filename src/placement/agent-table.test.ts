import { AgentTable } from './agent-table.js';
import { plan } from './plan.js';
import { agentLabels } from './state.js';
import { makeAgent, makePod, resetSeq, testConfig } from './testing/builders.js';
import type { AgentView, Plan, PodSpecView } from './types.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ZONES = ['a', 'b', 'c'];

function agents(n: number): AgentView[] {
  const out: AgentView[] = [];
  for (let i = 0; i < n; i++) {
    const b = makeAgent(`agent-${i}`).zone(ZONES[i % 3]).attr('rack', `r${i % 4}`).offer('*', { cpus: 2 + (i % 3), mem: 4096, disk: 1000 }, [[31000, 31010]]);
    if (i % 7 === 0) b.offer('prod', { cpus: 1, mem: 1024, disk: 100 });
    out.push(b.build());
  }
  return out;
}

/** A batch mixing every input the table caches for: zone spread, anti-affinity, Marathon constraints, selectors, ports, tolerations. */
function batch(rnd: () => number, cycle: number, n: number): PodSpecView[] {
  const out: PodSpecView[] = [];
  for (let i = 0; i < n; i++) {
    const app = `app-${cycle % 3}-${i % 4}`;
    const p = makePod(`c${cycle}-p${i}`).labels({ app }).owner(`owner-${app}`).requests({ cpus: [0.1, 0.25, 0.5][Math.floor(rnd() * 3)], mem: 128 });
    switch (i % 8) {
      case 0:
        p.spreadConstraint({ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { app } } });
        break;
      case 1:
        p.antiAffinity({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app } } });
        break;
      case 2:
        p.constraint('@zone', 'GROUP_BY', '3');
        break;
      case 3:
        p.nodeSelector({ 'topology.kubernetes.io/zone': ZONES[cycle % 3] });
        break;
      case 4:
        p.hostPort(31000 + (i % 5));
        break;
      case 5:
        p.toleration({ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }).scoring('binpack');
        break;
      case 6:
        p.roles('prod', '*');
        break;
      default:
        p.spreadConstraint({ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app } } });
    }
    out.push(p.build());
  }
  return out;
}

/** Agents with every input the search cache reads: roles, capacities, PreferNoSchedule taints, preferAvoidPods, Node-advertised resources. */
function richAgents(n: number): AgentView[] {
  const out: AgentView[] = [];
  for (let i = 0; i < n; i++) {
    const b = makeAgent(`agent-${i}`).zone(ZONES[i % 3]).offer('*', { cpus: 1 + (i % 4), mem: 2048 + 512 * (i % 3), disk: 1000 }, [[31000, 31004]]);
    if (i % 5 === 0) b.offer('prod', { cpus: 1, mem: 1024, disk: 100 });
    if (i % 6 === 1) b.taint({ key: 'soft', value: 'x', effect: 'PreferNoSchedule' });
    if (i % 7 === 2) b.avoid('ReplicaSet', 'rs-1');
    if (i % 4 === 3) b.nodeExtended('example.com/widget', 2);
    if (i % 9 === 4) b.capacity(8, 8192);
    out.push(b.build());
  }
  return out;
}

/** Replicas: few specs, many pods each (the cache's case), with the inputs it keys on varied between specs. */
function replicaBatch(rnd: () => number, cycle: number, n: number): PodSpecView[] {
  const out: PodSpecView[] = [];
  for (let i = 0; i < n; i++) {
    const kind = (i + cycle) % 6;
    const app = `rs-${kind}`;
    const p = makePod(`c${cycle}-r${i}`).labels({ app }).owner(kind === 1 ? 'rs-1' : `owner-${app}`, 'ReplicaSet').requests({ cpus: [0.1, 0.25][Math.floor(rnd() * 2)], mem: 128 });
    switch (kind) {
      case 0:
        p.spreadConstraint({ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { app } } });
        break;
      case 1:
        break; // the controller some Nodes prefer to avoid
      case 2:
        p.extended('example.com/widget', 1);
        break;
      case 3:
        p.scoring('binpack').toleration({ key: 'soft', operator: 'Exists', effect: 'PreferNoSchedule' });
        break;
      case 4:
        p.roles('prod', '*').hostPort(31000 + (i % 3));
        break;
      default:
        p.affinity({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['b'] }] } }] } });
    }
    out.push(p.build());
  }
  return out;
}

/** The next snapshot: placed pods' resources taken, the pods on their agents; every changed agent a new object. */
function next(views: AgentView[], pods: PodSpecView[], r: Plan, rnd: () => number, cycle: number): AgentView[] {
  const out = [...views];
  // Every third plan is not carried out (its ACCEPTs failed): the agents it drew on keep their views.
  if (cycle % 3 === 2) r = { ...r, placements: [] };
  const byKey = new Map(pods.map((p) => [p.key, p]));
  const index = new Map(views.map((v, i) => [v.id, i]));
  for (const pl of r.placements) {
    const i = index.get(pl.agentId)!;
    const v = out[i];
    const pod = byKey.get(pl.podKey)!;
    const offered = v.offered.map((o) =>
      o.role === pl.role ? { role: o.role, res: { cpus: o.res.cpus - pl.res.cpus, mem: o.res.mem - pl.res.mem, disk: o.res.disk }, ports: o.ports } : o,
    );
    const placed = { uid: pod.uid, namespace: pod.namespace, name: pod.name, labels: pod.labels, ownerUid: pod.ownerUid, hostPorts: pl.hostPorts, affinity: pod.affinity };
    out[i] = { ...v, offered, pods: [...v.pods, placed], kubelet: { podCount: v.pods.length + 1, maxPods: 110 } };
  }
  // Changes from outside: a taint, a cordon, a zone relabel, pods gone and offers back.
  const j = Math.floor(rnd() * out.length);
  const v = out[j];
  switch (cycle % 4) {
    case 0:
      out[j] = { ...v, taints: v.taints.length ? [] : [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] };
      break;
    case 1:
      out[j] = { ...v, unschedulable: !v.unschedulable };
      break;
    case 2: {
      const zone = ZONES[(ZONES.indexOf(v.zone!) + 1) % 3];
      out[j] = { ...v, zone, labels: agentLabels({ ...v, zone }) };
      break;
    }
    default:
      out[j] = { ...v, pods: v.pods.slice(1), offered: v.offered.map((o) => ({ ...o, res: { ...o.res, cpus: o.res.cpus + 0.5 } })) };
  }
  return out;
}

describe('AgentTable: the working copy kept across plans', () => {
  beforeEach(() => resetSeq());

  it('gives the same plan as a fresh working copy, cycle after cycle, through placements, plans not carried out, taints, cordons, relabels and removals', () => {
    const rnd = mulberry32(7);
    const cfg = testConfig();
    let views = agents(30);
    const table = new AgentTable();
    let placed = 0;
    for (let cycle = 0; cycle < 12; cycle++) {
      if (cycle === 8) views = views.slice(1); // an agent goes away: everything is renumbered
      const pods = batch(rnd, cycle, 24);
      const fresh = plan(views, pods, cfg, new AgentTable({ searchCache: false }));
      const kept = plan(views, pods, cfg, table);
      expect(kept).toEqual(fresh);
      placed += fresh.placements.length;
      views = next(views, pods, fresh, rnd, cycle);
    }
    expect(placed).toBeGreaterThan(100); // the cycles did place pods, so the comparison covered drawn-on agents
  });

  it("gives the same plan with the per-spec search cache as the uncached search, within a plan and across kept plans", () => {
    const rnd = mulberry32(11);
    const cfg = testConfig();
    let views = richAgents(36);
    const kept = new AgentTable();
    let placed = 0;
    for (let cycle = 0; cycle < 12; cycle++) {
      if (cycle === 9) views = views.slice(2); // agents go away: everything is renumbered
      const pods = replicaBatch(rnd, cycle, 30);
      const reference = plan(views, pods, cfg, new AgentTable({ searchCache: false }));
      expect(plan(views, pods, cfg)).toEqual(reference); // cache within one plan
      expect(plan(views, pods, cfg, kept)).toEqual(reference); // cache kept across plans
      placed += reference.placements.length;
      views = next(views, pods, reference, rnd, cycle);
    }
    expect(placed).toBeGreaterThan(150);
    // the cache answered thousands of visits, so the comparison covered cached entries, not only fresh ones
    expect(kept.searchStats.visited - kept.searchStats.examined).toBeGreaterThan(2000);
  });

  it('examines afresh an agent a placement drew on, for the next replica of the same spec', () => {
    const cfg = testConfig();
    // room for two pods of 1 cpu beside the executor (0.1), not three
    const views = [makeAgent('a').offer('*', { cpus: 2.15, mem: 4096, disk: 100 }).build()];
    const pods = [0, 1, 2].map(() => makePod().owner('o').requests({ cpus: 1, mem: 10 }).build());
    const table = new AgentTable();
    const r = plan(views, pods, cfg, table);
    expect(r).toEqual(plan(views, pods, cfg, new AgentTable({ searchCache: false })));
    expect(r.placements).toHaveLength(2); // the third did not reuse the cached "fits" of the first two
    expect(r.unschedulable).toHaveLength(1);
    expect(r.unschedulable[0].message).toContain('Insufficient cpu');
    expect(table.searchStats).toEqual({ visited: 3, examined: 3, byWord: 3 });
  });

  it('examines afresh, in the next plan, an agent whose view changed although no plan drew on it', () => {
    const cfg = testConfig();
    const table = new AgentTable();
    const spec = (name: string): PodSpecView => makePod(name).owner('o').requests({ cpus: 1, mem: 10 }).build();
    const views = [makeAgent('a').offer('*', { cpus: 8, mem: 4096 }).build(), makeAgent('b').offer('*', { cpus: 8, mem: 4096 }).build()];
    const first = plan(views, [spec('p1')], cfg, table);
    expect(first.placements).toHaveLength(1);
    const used = first.placements[0].agentId;
    // the other agent is cordoned: a new view, and the spread score would otherwise prefer it (no sibling there)
    const after = views.map((v) =>
      v.id === used ? { ...v, pods: [makePod('p1').owner('o').placed()], offered: [{ role: '*', res: { cpus: 6.9, mem: 4054, disk: 0 }, ports: [] }] } : { ...v, unschedulable: true },
    );
    const second = plan(after, [spec('p2')], cfg, table);
    expect(second.placements.map((p) => p.agentId)).toEqual([used]);
    expect(second).toEqual(plan(after, [spec('p2')], cfg, new AgentTable({ searchCache: false })));
  });

  it('keeps search results only for specs seen twice, within its memory budget, least recently used dropped first', () => {
    const cfg = testConfig();
    const views = richAgents(30);
    // room for three specs' arrays (13 bytes per agent each)
    const table = new AgentTable({ searchCacheBytes: 13 * 30 * 3 });
    const specs = (cycle: number, count: number, each: number): PodSpecView[] =>
      Array.from({ length: count * each }, (_, i) => makePod(`c${cycle}-s${i}`).owner(`o${i % count}`).requests({ cpus: 0.01 * (1 + (i % count)), mem: 16 }).build());
    const lone = specs(0, 10, 1); // ten specs, one pod each: nothing worth keeping
    expect(plan(views, lone, cfg, table)).toEqual(plan(views, lone, cfg, new AgentTable({ searchCache: false })));
    expect(table.searchCacheCount).toBe(0);
    const pairs = specs(1, 8, 3); // eight specs, three pods each, interleaved
    expect(plan(views, pairs, cfg, table)).toEqual(plan(views, pairs, cfg, new AgentTable({ searchCache: false })));
    expect(table.searchCacheCount).toBe(3);
    expect(table.searchStats.examined).toBeLessThan(table.searchStats.visited); // the kept ones did answer
  });

  it('rebuilds only the agents whose view changed or that the previous plan drew on', () => {
    const cfg = testConfig();
    const views = agents(40);
    const table = new AgentTable();
    const pods = [makePod().owner('o').build(), makePod().owner('o').build(), makePod().owner('o').build()];
    const r = plan(views, pods, cfg, table);
    expect(table.rebuilt).toBe(40);
    const changed = new Set(r.placements.map((p) => p.agentId));
    expect(changed.size).toBe(3); // the sibling spread put them on three agents
    const again = views.map((v) => (changed.has(v.id) ? { ...v, pods: [...v.pods] } : v));
    plan(again, [makePod().build()], cfg, table);
    expect(table.rebuilt).toBe(3);
    plan(again, [], cfg, table);
    expect(table.rebuilt).toBe(0);
  });

  it('grows kept per-agent arrays when agents arrive, and refuses one it cannot grow', () => {
    const cfg = testConfig();
    const views = agents(6);
    const table = new AgentTable();
    table.sync(views.slice(0, 4), cfg);
    const caps = table.perAgent('test:cpus', (n) => new Float64Array(n), (v, a) => (v[a.idx] = a.slots[0]?.cpus ?? 0));
    expect(Array.from(caps)).toEqual([2, 3, 4, 2]);
    table.sync(views, cfg);
    const grown = table.perAgent('test:cpus', () => new Float64Array(0), () => undefined);
    expect(Array.from(grown)).toEqual([2, 3, 4, 2, 3, 4]); // the same key's array, grown, the new agents filled
    expect(() => table.perAgent('test:object', () => ({ n: 0 }), () => undefined)).toThrow('test:object');
  });

  it('starts over when the configuration object changes', () => {
    const views = agents(5);
    const table = new AgentTable();
    plan(views, [], testConfig(), table);
    plan(views, [], testConfig({ maxPodsPerKubelet: 1 }), table);
    expect(table.rebuilt).toBe(5);
  });
});
