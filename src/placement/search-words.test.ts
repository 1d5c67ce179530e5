// The search skips agents 32 a word (Search.scanWords) by bitsets the table keeps beside the per-spec entries and the
// domain numbers. Over hundreds of agents (many words, agents arriving across word boundaries, scans that wrap around),
// a kept table must plan what the search one agent at a time plans, visit as many agents, and keep bits that say what
// the entries say.
import { AgentTable } from './agent-table.js';
import { plan } from './plan.js';
import { agentLabels } from './state.js';
import { makeAgent, makePod, resetSeq, testConfig } from './testing/builders.js';
import type { AgentView, PlacedPod, Plan, PodSpecView } from './types.js';
import { seededRandom as mulberry32 } from '../time/backoff.js';

const ZONES = ['a', 'b', 'c'];

function newAgent(i: number, rnd: () => number): AgentView {
  const b = makeAgent(`agent-${i}`).offer('*', { cpus: 1 + Math.floor(rnd() * 3), mem: 4096, disk: 1000 });
  if (rnd() < 0.9) b.zone(ZONES[Math.floor(rnd() * ZONES.length)]); // the rest have no zone: the spread filter rejects them
  if (rnd() < 0.3) b.kubelet(0, 110);
  return b.build();
}

function pods(rnd: () => number, step: number): PodSpecView[] {
  const out: PodSpecView[] = [];
  for (let i = 0; i < 60; i++) {
    const app = `app-${i % 3}`;
    const p = makePod(`s${step}-p${i}`).labels({ app }).owner(`owner-${app}`, 'ReplicaSet').requests({ cpus: [0.25, 0.5][Math.floor(rnd() * 2)], mem: 128 });
    // two apps spread over zones (the filter answers by word), one without constraints (no filter at all)
    if (i % 3 !== 2) p.spreadConstraint({ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { app } } });
    out.push(p.build());
  }
  return out;
}

function next(views: AgentView[], batch: PodSpecView[], r: Plan, rnd: () => number, arrivals: { n: number }): AgentView[] {
  const out = [...views];
  const byKey = new Map(batch.map((p) => [p.key, p]));
  const index = new Map(views.map((v, i) => [v.id, i]));
  for (const pl of r.placements) {
    const i = index.get(pl.agentId)!;
    const v = out[i];
    const pod = byKey.get(pl.podKey)!;
    const offered = v.offered.map((o) => ({ role: o.role, res: { cpus: o.res.cpus - pl.res.cpus, mem: o.res.mem - pl.res.mem, disk: o.res.disk }, ports: o.ports }));
    const placed: PlacedPod = { uid: pod.uid, namespace: pod.namespace, name: pod.name, labels: pod.labels, ownerUid: pod.ownerUid, hostPorts: [], requests: pod.requests };
    out[i] = { ...v, offered, pods: [...v.pods, placed], kubelet: { podCount: v.pods.length + 1, maxPods: 110 } };
  }
  for (let c = 0; c < 12; c++) {
    const j = Math.floor(rnd() * out.length);
    const v = out[j];
    switch (Math.floor(rnd() * 4)) {
      case 0:
        out[j] = { ...v, offered: v.offered.map((o) => ({ ...o, res: { ...o.res, cpus: 3 } })) };
        break;
      case 1:
        out[j] = { ...v, unschedulable: !v.unschedulable };
        break;
      case 2: {
        // another zone, or none
        const zone = rnd() < 0.2 ? undefined : ZONES[Math.floor(rnd() * ZONES.length)];
        out[j] = { ...v, zone, labels: agentLabels({ ...v, zone }) };
        break;
      }
      default:
        out[j] = { ...v, offered: [] };
    }
  }
  const k = Math.floor(rnd() * 40); // arrivals, across word boundaries
  for (let x = 0; x < k; x++) out.push(newAgent(arrivals.n++, rnd));
  return out;
}

describe('the search 32 agents a word', () => {
  beforeEach(() => resetSeq());

  it.each([1, 2, 3, 4])('seed %i: plans and visits as the search one agent at a time; the bits say what the entries say', (seed) => {
    const rnd = mulberry32(seed);
    const cfg = testConfig();
    const arrivals = { n: 150 };
    let views = Array.from({ length: 150 }, (_, i) => newAgent(i, rnd));
    const kept = new AgentTable();
    let examinedSkipped = 0;
    for (let step = 0; step < 14; step++) {
      const batch = pods(rnd, step);
      const before = { ...kept.searchStats };
      const r = plan(views, batch, cfg, kept);
      const one = new AgentTable({ searchCache: false });
      expect(r).toEqual(plan(views, batch, cfg, one));
      // the same agents visited (a scan stops at the same agent), fewer examined (the bits answered for the rest)
      expect(kept.searchStats.visited - before.visited).toBe(one.searchStats.visited);
      examinedSkipped += one.searchStats.examined - (kept.searchStats.examined - before.examined);
      expect(kept.bitsMismatches()).toEqual([]);
      expect(r.placements.length).toBeGreaterThan(20);
      views = next(views, batch, r, rnd, arrivals);
    }
    expect(views.length).toBeGreaterThan(300);
    expect(examinedSkipped).toBeGreaterThan(5000);
    // nearly every pod was searched word by word (a spec's first pod too: it searches an empty cache of its own)
    expect(kept.searchStats.byWord).toBeGreaterThan(14 * 60 * 0.9);
  });
});
