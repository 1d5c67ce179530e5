// One pod's search for feasible agents and the choice among them: plan()'s hot path, in methods called once per pod so
// that V8 optimises them after a few pods (a loop inside plan() itself runs unoptimised or on-stack-replaced code, which
// boxes every double it computes).
import { normalizeScores, type FilterPlugin, type PodCtx, type ScorePlugin } from './framework.js';
import { examine, examineFree, type FreeNeed, type LocalScore } from './search-cache.js';
import type { CycleState, SearchCache, WAgent } from './state.js';

export class Search {
  /** The feasible agents' numbers (WAgent.idx) found by the last scan(), in scan order: the first `found` entries. */
  readonly feasible: Int32Array;
  found = 0;
  private raw = new Float64Array(16);
  private total = new Float64Array(16);
  private readonly prepared: { sc: ScorePlugin<unknown>; data: unknown; weight: number }[] = [];

  constructor(
    private readonly st: CycleState,
    private readonly toFind: number,
  ) {
    this.feasible = new Int32Array(Math.max(1, toFind));
  }

  /**
   * Visits `list` (null: all agents, by number) in rotation from `start` until `toFind` agents pass (or all were
   * visited); returns how many were visited. An agent passes when its cached entry (examined afresh when stale, or
   * always without the cache) says so and every filter in `filters` lets it through. `free`: examine from the table's
   * columns where the agent allows (freeNeed()).
   */
  scan(
    list: readonly WAgent[] | null,
    start: number,
    ctx: PodCtx,
    mask: Uint8Array,
    cache: SearchCache,
    cacheOn: boolean,
    local: readonly LocalScore[],
    filters: readonly FilterPlugin<unknown>[],
    data: readonly unknown[],
    free: FreeNeed | null,
  ): number {
    const nf = filters.length;
    let byIdx = true;
    for (let k = 0; k < nf; k++) if (!filters[k].rejectsAt) byIdx = false;
    // The common case (all agents, the cache on, at most one filter, answering by number) in loops of their own, the
    // same steps as the general one: without the other cases' branches V8 makes it ~13% faster at 50 000 agents. Each
    // loop is a method of its own, so that V8 compiles only the ones a workload uses.
    if (list === null && cacheOn && byIdx && nf <= 1) {
      const f0 = nf === 1 ? filters[0] : null;
      const d0 = nf === 1 ? data[0] : null;
      if (f0 === null || (f0.answersByWord !== undefined && f0.answersByWord(d0))) return this.scanWords(start, ctx, mask, cache, local, f0, d0, free);
      return this.scanAll(start, ctx, mask, cache, local, f0!, d0, free);
    }
    return this.scanAny(list, start, ctx, mask, cache, cacheOn, local, filters, data, free, byIdx);
  }

  /** scan() of all agents, the cache on, with one filter that answers by number. */
  private scanAll(start: number, ctx: PodCtx, mask: Uint8Array, cache: SearchCache, local: readonly LocalScore[], f0: FilterPlugin<unknown>, d0: unknown, free: FreeNeed | null): number {
    const st = this.st;
    const agents = st.agents;
    const ver = st.table.ver;
    const stamp = cache.stamp;
    const ok = cache.ok;
    const feasible = this.feasible;
    const m = agents.length;
    const toFind = this.toFind;
    let found = 0;
    let visited = 0;
    let examined = 0;
    let j = start;
    while (visited < m) {
      const i = j;
      visited++;
      if (++j === m) j = 0;
      if (stamp[i] !== ver[i]) {
        if (f0.rejectsAt!(d0, i)) continue;
        if (free === null || !examineFree(cache, i, free, st, mask, local, ver[i])) examine(cache, agents[i], ctx, st, mask, local, ver[i]);
        examined++;
        if (ok[i] === 0) continue;
      } else if (ok[i] === 0 || f0.rejectsAt!(d0, i)) continue;
      feasible[found++] = i;
      if (found >= toFind) break;
    }
    return this.done(found, visited, examined);
  }

  /** scan() in general: `list` or all agents, with the cache or without, any filters. */
  private scanAny(
    list: readonly WAgent[] | null,
    start: number,
    ctx: PodCtx,
    mask: Uint8Array,
    cache: SearchCache,
    cacheOn: boolean,
    local: readonly LocalScore[],
    filters: readonly FilterPlugin<unknown>[],
    data: readonly unknown[],
    free: FreeNeed | null,
    byIdx: boolean,
  ): number {
    const st = this.st;
    const agents = st.agents;
    const ver = st.table.ver;
    const stamp = cache.stamp;
    const ok = cache.ok;
    const feasible = this.feasible;
    const m = list === null ? agents.length : list.length;
    const nf = filters.length;
    const toFind = this.toFind;
    let found = 0;
    let visited = 0;
    let examined = 0;
    let j = start;
    while (visited < m) {
      const i = list === null ? j : list[j].idx;
      visited++;
      if (++j === m) j = 0;
      if (!cacheOn || stamp[i] !== ver[i]) {
        // Filters that answer by number go first on a stale entry: an agent they reject for this pod is not examined
        // for it (a later replica the filters let through examines it; measured: 65 -> 61 examinations per pod).
        if (nf > 0 && byIdx && rejectsAt(filters, data, i)) continue;
        if (free === null || !examineFree(cache, i, free, st, mask, local, ver[i])) examine(cache, agents[i], ctx, st, mask, local, ver[i]);
        examined++;
        if (ok[i] === 0) continue;
        if (nf > 0 && !byIdx && rejects(filters, data, agents[i], ctx, st)) continue;
      } else {
        if (ok[i] === 0) continue;
        if (nf > 0 && (byIdx ? rejectsAt(filters, data, i) : rejects(filters, data, agents[i], ctx, st))) continue;
      }
      feasible[found++] = i;
      if (found >= toFind) break;
    }
    return this.done(found, visited, examined);
  }

  /**
   * scan()'s common case 32 agents a word: the same agents visited in the same order, examined and found as there, but
   * the agents whose entry holds and says no, or that the filter rejects, are skipped by their words' bits
   * (SearchCache.fresh, okBits; FilterPlugin.allowedWord) instead of one by one. All agents, rotation from `start`.
   */
  private scanWords(
    start: number,
    ctx: PodCtx,
    mask: Uint8Array,
    cache: SearchCache,
    local: readonly LocalScore[],
    f0: FilterPlugin<unknown> | null,
    d0: unknown,
    free: FreeNeed | null,
  ): number {
    const st = this.st;
    const agents = st.agents;
    const m = agents.length;
    const ver = st.table.ver;
    const ok = cache.ok;
    const fresh = cache.fresh;
    const okBits = cache.okBits;
    const feasible = this.feasible;
    const toFind = this.toFind;
    let found = 0;
    let examined = 0;
    let before = 0; // agents visited in the earlier segment
    st.table.searchStats.byWord++;
    // the rotation as two segments: start..m-1, then 0..start-1
    for (let seg = 0; seg < 2; seg++) {
      const lo = seg === 0 ? start : 0;
      const hi = seg === 0 ? m : start;
      if (lo >= hi) continue;
      const wLo = lo >>> 5;
      const wHi = (hi - 1) >>> 5;
      for (let w = wLo; w <= wHi; w++) {
        let range = w === wLo ? -1 << (lo & 31) : -1;
        if (w === wHi) {
          const bits = hi - (w << 5); // 1..32
          if (bits < 32) range &= (1 << bits) - 1;
        }
        const fr = fresh[w];
        // an entry that holds and says ok, or one to examine; then what the filter lets through
        let cand = (okBits[w] | ~fr) & range;
        if (f0 !== null && cand !== 0) cand &= f0.allowedWord!(d0, w);
        while (cand !== 0) {
          const low = cand & -cand;
          cand ^= low;
          const i = (w << 5) | (31 - Math.clz32(low));
          if ((fr & low) === 0) {
            if (free === null || !examineFree(cache, i, free, st, mask, local, ver[i])) examine(cache, agents[i], ctx, st, mask, local, ver[i]);
            examined++;
            if (ok[i] === 0) continue;
          }
          feasible[found++] = i;
          if (found >= toFind) return this.done(found, before + i - lo + 1, examined);
        }
      }
      before += hi - lo;
    }
    return this.done(found, m, examined);
  }

  private done(found: number, visited: number, examined: number): number {
    this.found = found;
    const stats = this.st.table.searchStats;
    stats.visited += visited;
    stats.examined += examined;
    return visited;
  }

  /**
   * The feasible agent with the highest total score; ties go to the first in scan order. The local scores' weighted sum
   * comes from the cache (the same additions, in the same order, the loop below makes for the other scores).
   */
  best(ctx: PodCtx, cache: SearchCache, scores: readonly ScorePlugin<unknown>[]): WAgent {
    const m = this.found;
    const feasible = this.feasible;
    const agents = this.st.agents;
    if (m === 1) return agents[feasible[0]];
    if (this.raw.length < m) {
      this.raw = new Float64Array(m * 2);
      this.total = new Float64Array(m * 2);
    }
    const raw = this.raw;
    const total = this.total;
    const cached = cache.score;
    for (let j = 0; j < m; j++) total[j] = cached[feasible[j]];
    const prepared = this.prepared;
    prepared.length = 0;
    for (const sc of scores) {
      const p = sc.prepare(ctx, this.st);
      if (p) prepared.push({ sc, data: p.data, weight: p.weight });
    }
    for (const { sc, data, weight } of prepared) {
      const at = sc.scoreAt;
      if (at) for (let j = 0; j < m; j++) raw[j] = at(data, feasible[j]);
      else for (let j = 0; j < m; j++) raw[j] = sc.score(data, agents[feasible[j]], ctx, this.st);
      normalizeScores(raw, m, sc.normalize);
      for (let j = 0; j < m; j++) total[j] += weight * raw[j];
    }
    let bi = 0;
    for (let j = 1; j < m; j++) if (total[j] > total[bi] + 1e-9) bi = j;
    return agents[feasible[bi]];
  }
}

function rejectsAt(filters: readonly FilterPlugin<unknown>[], data: readonly unknown[], i: number): boolean {
  for (let k = 0; k < filters.length; k++) if (filters[k].rejectsAt!(data[k], i)) return true;
  return false;
}

function rejects(filters: readonly FilterPlugin<unknown>[], data: readonly unknown[], a: WAgent, ctx: PodCtx, st: CycleState): boolean {
  for (let k = 0; k < filters.length; k++) if (filters[k].filter(data[k], a, ctx, st)) return true;
  return false;
}
