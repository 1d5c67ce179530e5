// The search's examination from the table's columns (examineFree) must record what the examination of the agent
// objects (examine) records, bit for bit: the cached scores are summed with the uncached ones and ties are broken on them.
import { AgentTable } from './agent-table.js';
import { makePodCtx } from './framework.js';
import { staticMaskFilter } from './filters/static-mask.js';
import { plan } from './plan.js';
import { kubeletScore } from './scores/kubelet.js';
import { resourcesAndBalanceScore } from './scores/resources.js';
import { examine, examineFree, freeNeed, type LocalScore } from './search-cache.js';
import { newSearchCache } from './spec-caches.js';
import { CycleState, type SearchCache } from './state.js';
import { makeAgent, makePod, resetSeq, testConfig } from './testing/builders.js';
import type { AgentView, PodSpecView } from './types.js';
import { seededRandom as mulberry32 } from '../time/backoff.js';

function views(rnd: () => number): AgentView[] {
  return Array.from({ length: 60 }, (_, i) => {
    const b = makeAgent(`agent-${i}`).zone(['a', 'b', 'c'][i % 3]);
    const kind = i % 6;
    const cpus = [0.1, 0.3, 0.35, 1, 2.5, 8][Math.floor(rnd() * 6)];
    const mem = [0.3, 50, 200, 1000, 4096][Math.floor(rnd() * 5)];
    if (kind === 0) b.offer('prod', { cpus, mem, disk: 100 });
    else if (kind === 1) b.offer('*', { cpus, mem, disk: 100 }).offer('prod', { cpus: 1, mem: 512, disk: 10 }); // several roles: read the object
    else if (kind === 2) {
      /* no offers */
    } else b.offer('*', { cpus, mem, disk: rnd() < 0.2 ? 0 : 500 });
    if (rnd() < 0.3) b.kubelet(Math.floor(rnd() * 3), rnd() < 0.3 ? 2 : 110);
    if (rnd() < 0.3) b.capacity(16, 8192);
    if (rnd() < 0.1) b.unschedulable();
    return b.build();
  });
}

function entries(c: SearchCache, i: number): [number, number, string] {
  const bits = new Uint8Array(new Float64Array([c.score[i]]).buffer).join(','); // -0 and 0 differ here
  return [c.stamp[i], c.ok[i], c.ok[i] ? bits : ''];
}

describe('examineFree', () => {
  beforeEach(() => resetSeq());

  it.each([1, 2, 3])('seed %i: records what examine() records, for every agent and spec, as built, reset and rebuilt', (seed) => {
    const rnd = mulberry32(seed);
    // 0.2 + 0.1 > 0.3 in floating point: only the comparisons' slack lets such a pod fit an agent offering 0.3
    const cfg = testConfig({ maxPodsPerKubelet: 3, executor: { cpus: 0.1, mem: 0.1, disk: 0 } });
    let vs = views(rnd);
    const table = new AgentTable();
    const specs: PodSpecView[] = [
      makePod('p1').requests({ cpus: 0.1, mem: 64 }).build(),
      makePod('p2').requests({ cpus: 0.25, mem: 190 }).scoring('binpack').build(),
      makePod('p3').requests({ cpus: 2.4, mem: 900, disk: 100 }).roles('prod', '*').build(),
      makePod('p4').requests({ cpus: 0.5, mem: 128 }).roles('prod').build(),
      makePod('p5').requests({ cpus: 0, mem: 0 }).roles('gpu').build(),
      makePod('p6').requests({ cpus: 0.2, mem: 0.2 }).build(),
    ];
    let compared = 0;
    let free = 0;
    for (let round = 0; round < 3; round++) {
      // the agents as synced: first built, then reset after a plan drew on them, then rebuilt from new views
      const st = new CycleState(vs, cfg, table);
      for (const spec of specs) {
        const ctx = makePodCtx(spec, st);
        const mask = staticMaskFilter.prepare(ctx, st)!;
        const local: LocalScore[] = [];
        for (const sc of [resourcesAndBalanceScore, kubeletScore]) {
          const p = (sc as typeof resourcesAndBalanceScore).prepare(ctx, st);
          if (p) local.push({ plugin: sc as never, data: p.data, weight: p.weight });
        }
        const need = freeNeed(ctx, st, local)!;
        expect(need).not.toBeNull();
        const n = st.agents.length;
        const a: SearchCache = newSearchCache(n, 0);
        const b: SearchCache = newSearchCache(n, 0);
        for (let i = 0; i < n; i++) {
          examine(a, st.agents[i], ctx, st, mask, local, 7);
          if (examineFree(b, i, need, st, mask, local, 7)) {
            free++;
            expect([i, ...entries(b, i)]).toEqual([i, ...entries(a, i)]);
          }
          compared++;
        }
      }
      plan(vs, Array.from({ length: 25 }, (_, k) => makePod(`r${round}-${k}`).requests({ cpus: 0.1 + (k % 3) * 0.2, mem: 64 }).build()), cfg, table);
      if (round === 1) vs = views(rnd); // every agent changed: rebuilt in the next sync
    }
    expect(compared).toBe(3 * 6 * 60);
    expect(free).toBeGreaterThan(compared / 2); // most agents have one role: the columns answered for them
  });
});
