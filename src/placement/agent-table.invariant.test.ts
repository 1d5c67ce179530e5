// The kept AgentTable is a cache of a from-scratch build: after any seeded sequence of offer, pod, kubelet, label, taint
// and cordon changes, agents arriving and agents leaving, a table kept across all of it must hold what a fresh table
// built from the same views holds, and plan the same.
import { AgentTable } from './agent-table.js';
import { freeRowOf } from './free-columns.js';
import { plan } from './plan.js';
import { makePod, resetSeq, testConfig } from './testing/builders.js';
import { batch, newAgent, next } from './testing/table-steps.js';
import type { PodSpecView } from './types.js';
import { seededRandom as mulberry32 } from '../time/backoff.js';

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
