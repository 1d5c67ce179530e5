// The kept AgentTable is a cache of a from-scratch build: after any seeded sequence of offer, pod, kubelet, label, taint
// and cordon changes, agents arriving and agents leaving, a table kept across all of it must hold what a fresh table
// built from the same views holds, and plan the same.
import { AgentTable } from './agent-table.js';
import { freeRowOf } from './free-columns.js';
import { plan } from './plan.js';
import { agentLabels } from './state.js';
import { makeAgent, makePod, resetSeq, testConfig } from './testing/builders.js';
import type { AgentView, PlacedPod, Plan, PodSpecView } from './types.js';
import { seededRandom as mulberry32 } from '../time/backoff.js';


const ZONES = ['a', 'b', 'c', 'd'];

function newAgent(i: number, rnd: () => number): AgentView {
  // zone 'd' appears only among later arrivals: a domain the kept indexes have not seen
  const zone = ZONES[i < 12 ? i % 3 : Math.floor(rnd() * 4)];
  const b = makeAgent(`agent-${i}`).zone(zone).attr('rack', `r${i % 4}`).offer('*', { cpus: 1 + Math.floor(rnd() * 4), mem: 4096, disk: 1000 }, [[31000, 31010]]);
  if (rnd() < 0.2) b.offer('prod', { cpus: 1, mem: 1024, disk: 100 });
  if (rnd() < 0.15) b.taint({ key: 'soft', value: 'x', effect: 'PreferNoSchedule' });
  if (rnd() < 0.1) b.avoid('ReplicaSet', 'rs-1');
  if (rnd() < 0.2) b.kubelet(0, 110);
  return b.build();
}

/** The same kinds of pods every cycle (so both tables make the same per-spec arrays), with seeded requests. */
function batch(rnd: () => number, cycle: number): PodSpecView[] {
  const out: PodSpecView[] = [];
  for (let i = 0; i < 16; i++) {
    const kind = i % 8;
    const app = `app-${kind}`;
    const p = makePod(`c${cycle}-p${i}`).labels({ app }).owner(kind === 5 ? 'rs-1' : `owner-${app}`, 'ReplicaSet').requests({ cpus: [0.1, 0.25, 0.5][Math.floor(rnd() * 3)], mem: 128 });
    switch (kind) {
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
        p.nodeSelector({ 'topology.kubernetes.io/zone': 'b' });
        break;
      case 4:
        p.hostPort(31000 + (cycle % 5));
        break;
      case 6:
        p.toleration({ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }).scoring('binpack').roles('prod', '*');
        break;
      case 7:
        p.spreadConstraint({ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { app } } });
        break;
      default:
        break; // the controller some Nodes prefer to avoid
    }
    out.push(p.build());
  }
  return out;
}

/** The next snapshot after `r`: placements carried out (or not), then random changes from outside; changed agents are new objects. */
function next(views: AgentView[], pods: PodSpecView[], r: Plan, rnd: () => number, arrivals: { n: number }): { views: AgentView[]; kinds: string[] } {
  let out = [...views];
  const kinds: string[] = [];
  const byKey = new Map(pods.map((p) => [p.key, p]));
  const index = new Map(views.map((v, i) => [v.id, i]));
  if (rnd() < 0.75) {
    for (const pl of r.placements) {
      const i = index.get(pl.agentId)!;
      const v = out[i];
      const pod = byKey.get(pl.podKey)!;
      const offered = v.offered.map((o) => (o.role === pl.role ? { role: o.role, res: { cpus: o.res.cpus - pl.res.cpus, mem: o.res.mem - pl.res.mem, disk: o.res.disk }, ports: o.ports } : o));
      const placed: PlacedPod = { uid: pod.uid, namespace: pod.namespace, name: pod.name, labels: pod.labels, ownerUid: pod.ownerUid, hostPorts: pl.hostPorts, affinity: pod.affinity, requests: pod.requests };
      out[i] = { ...v, offered, pods: [...v.pods, placed], kubelet: { podCount: v.pods.length + 1, maxPods: 110 } };
    }
  } else kinds.push('plan not carried out');
  const changes = 1 + Math.floor(rnd() * 4);
  for (let c = 0; c < changes; c++) {
    const j = Math.floor(rnd() * out.length);
    const v = out[j];
    const what = Math.floor(rnd() * 9);
    switch (what) {
      case 0: // offers used by another framework, or declined
        out[j] = { ...v, offered: rnd() < 0.5 ? [] : v.offered.map((o) => ({ ...o, res: { ...o.res, cpus: Math.max(0, o.res.cpus - 1) } })) };
        kinds.push('offers taken');
        break;
      case 1: // offers back, more than before
        out[j] = { ...v, offered: [{ role: '*', res: { cpus: 2 + Math.floor(rnd() * 6), mem: 8192, disk: 1000 }, ports: [[31000, 31010]] }] };
        kinds.push('offers back');
        break;
      case 2: // a pod gone (and its kubelet, when it was the last)
        if (v.pods.length > 0) {
          const pods = v.pods.slice(1);
          out[j] = { ...v, pods, kubelet: pods.length ? { podCount: pods.length, maxPods: 110 } : undefined };
          kinds.push('pod gone');
        }
        break;
      case 3:
        out[j] = { ...v, taints: v.taints.length ? [] : [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] };
        kinds.push('taint');
        break;
      case 4:
        out[j] = { ...v, unschedulable: !v.unschedulable };
        kinds.push('cordon');
        break;
      case 5: {
        const zone = ZONES[(ZONES.indexOf(v.zone!) + 1) % ZONES.length];
        out[j] = { ...v, zone, labels: agentLabels({ ...v, zone }) };
        kinds.push('relabel');
        break;
      }
      case 6:
      case 7: {
        const k = 1 + Math.floor(rnd() * 5);
        for (let x = 0; x < k; x++) out.push(newAgent(arrivals.n++, rnd));
        kinds.push('arrivals');
        break;
      }
      default:
        if (rnd() < 0.3 && out.length > 8) {
          out = out.filter((_, i) => i !== j);
          kinds.push('agent gone');
        } else {
          out[j] = { ...v, kubelet: v.kubelet ? undefined : { podCount: v.pods.length, maxPods: 3 } };
          kinds.push('kubelet');
        }
    }
  }
  return { views: out, kinds };
}

/** Entries a derived array fills lazily ('NaN' until first needed) are compared where both tables filled them. */
function filledOnly(x: unknown, other: unknown): unknown {
  if (!Array.isArray(x) || !Array.isArray(other) || !x.includes('NaN')) return x;
  return x.map((v, i) => (v === 'NaN' || other[i] === 'NaN' ? '-' : v));
}

describe('AgentTable kept across changes equals a from-scratch build', () => {
  beforeEach(() => resetSeq());

  it.each([1, 2, 3, 4, 5, 6])('seed %i: same working copy, per-agent arrays and plans as a fresh table, after every step', (seed) => {
    const rnd = mulberry32(seed);
    const cfg = testConfig();
    const arrivals = { n: 12 };
    let views = Array.from({ length: 12 }, (_, i) => newAgent(i, rnd));
    const kept = new AgentTable();
    const seen = new Set<string>();
    let placed = 0;
    let grown = 0;
    for (let step = 0; step < 30; step++) {
      const pods = batch(rnd, step);
      const before = kept.agents.length;
      const fromKept = plan(views, pods, cfg, kept);
      if (views.length > before && before > 0 && kept.rebuilt < views.length) grown++;
      const fresh = new AgentTable();
      const fromFresh = plan(views, pods, cfg, fresh);
      expect(fromKept).toEqual(fromFresh);
      expect(fromKept).toEqual(plan(views, pods, cfg, new AgentTable({ searchCache: false })));
      // both drawn on by the same plan: the same working copy, and the same entries in every per-agent array both made
      const k = kept.inspect();
      const f = fresh.inspect();
      expect(k.agents).toEqual(f.agents);
      // the free-resource columns hold what each working copy holds, after the plan drew on it (as a fresh build would)
      for (const a of k.agents) expect([a.id, a.free]).toEqual([a.id, freeRowOf(a as unknown as Parameters<typeof freeRowOf>[0])]);
      expect(k.kubeletAgents).toEqual(f.kubeletAgents);
      expect(k.maxFree).toEqual(f.maxFree);
      expect(k.flags).toEqual(f.flags);
      const shared = Object.keys(f.derived).filter((key) => key in k.derived);
      expect(shared.length).toBeGreaterThanOrEqual(4); // static masks, eligibility masks, domain indexes
      for (const key of shared) expect([key, filledOnly(k.derived[key], f.derived[key])]).toEqual([key, filledOnly(f.derived[key], k.derived[key])]);
      // the bitsets the search trusts (search caches, zone domains) say what their entries say, in both tables
      expect([kept.bitsMismatches(), fresh.bitsMismatches()]).toEqual([[], []]);
      placed += fromKept.placements.length;
      const n = next(views, pods, fromKept, rnd, arrivals);
      for (const kind of n.kinds) seen.add(kind);
      views = n.views;
    }
    expect(placed).toBeGreaterThan(100);
    // the sequence did exercise growth without a rebuild, and the changes the table must follow
    expect(grown).toBeGreaterThan(2);
    expect(seen.has('arrivals') && seen.has('offers taken') && seen.has('relabel') && seen.has('cordon')).toBe(true);
    expect(kept.searchStats.visited - kept.searchStats.examined).toBeGreaterThan(500);
  });

  it('adds arriving agents without rebuilding the known ones, keeping their search results', () => {
    const rnd = mulberry32(9);
    const cfg = testConfig();
    const views = Array.from({ length: 20 }, (_, i) => newAgent(i, rnd));
    const table = new AgentTable();
    const pods = (c: number): PodSpecView[] => Array.from({ length: 6 }, (_, i) => makePod(`c${c}-${i}`).owner('o').labels({ app: 'x' }).requests({ cpus: 0.1, mem: 64 }).build());
    plan(views, pods(0), cfg, table);
    expect(table.rebuilt).toBe(20);
    const more = [...views, newAgent(20, rnd), newAgent(21, rnd)];
    table.sync(more, cfg); // agents arriving, no plan: the next one finds them built
    expect(table.rebuilt).toBe(2); // the two new ones (the agents the last plan drew on are reset, not rebuilt)
    const r = plan(more, pods(1), cfg, table);
    expect(table.rebuilt).toBe(0);
    expect(r).toEqual(plan(more, pods(1), cfg, new AgentTable({ searchCache: false })));
    expect(table.searchCacheCount).toBe(1); // the spec's results survived the growth
    const gone = more.slice(1);
    plan(gone, pods(2), cfg, table);
    expect(table.rebuilt).toBe(21); // an agent gone renumbers everything
  });
});
