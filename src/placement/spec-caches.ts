// The table's per-spec search caches (search-cache.ts says what an entry holds): made on a spec's second sighting,
// grown as agents arrive, dropped when unused or over the memory budget. Besides the per-agent entries, each keeps
// two bitsets (32 agents a word) that let the search skip whole words of agents (Search.scan).
import { grown } from './working-agent.js';

/**
 * What the search learned about each agent for one pod spec (search-cache.ts): entry i holds while stamp[i] equals the
 * agent's version (AgentTable.ver).
 */
export interface SearchCache {
  stamp: Int32Array;
  /** The agent passes the filters that read only its own working copy and the pod's spec. */
  ok: Uint8Array;
  /** The weighted sum of the scores that read only the agent's working copy and the pod's spec (valid where ok). */
  score: Float64Array;
  /** Bit i (word i >> 5, bit i & 31): entry i holds (stamp[i] equals the agent's version). */
  fresh: Int32Array;
  /** Bit i: entry i holds and says ok. */
  okBits: Int32Array;
  usedInPlan: number;
  /** Order of last use among the table's caches (the least recent is dropped first). */
  lastUse: number;
}

/** Words of a bitset over n agents. */
export const wordsFor = (n: number): number => (n + 31) >>> 5;

export function newSearchCache(n: number, plan: number): SearchCache {
  const w = wordsFor(n);
  return { stamp: new Int32Array(n), ok: new Uint8Array(n), score: new Float64Array(n), fresh: new Int32Array(w), okBits: new Int32Array(w), usedInPlan: plan, lastUse: 0 };
}

/** A bitset over `from` agents with room for `to` (the new agents' bits 0). */
export function grownBits(b: Int32Array, to: number): Int32Array {
  const w = wordsFor(to);
  if (w === b.length) return b;
  const out = new Int32Array(w);
  out.set(b);
  return out;
}

function growSearchCache(c: SearchCache, from: number, to: number): void {
  c.stamp = grown(c.stamp, from, to); // new agents' entries stamped 0: stale (versions are never 0)
  c.ok = grown(c.ok, from, to);
  c.score = grown(c.score, from, to);
  c.fresh = grownBits(c.fresh, to); // and not fresh
  c.okBits = grownBits(c.okBits, to);
}

/** Records entry i as examined: it holds from now on, with `ok`. */
export function markExamined(c: SearchCache, i: number, ok: boolean): void {
  const w = i >>> 5;
  const bit = 1 << (i & 31);
  c.fresh[w] |= bit;
  if (ok) c.okBits[w] |= bit;
  else c.okBits[w] &= ~bit;
}

/**
 * The first agent whose bits disagree with the entries they summarise (fresh: stamp[i] equals ver[i]; okBits: fresh
 * and ok), or -1: for tests. Bits past the last agent must be clear; n when the bitsets are not n agents long.
 */
export function cacheBitsMismatch(c: SearchCache, ver: Int32Array): number {
  const n = ver.length;
  if (c.fresh.length !== wordsFor(n) || c.okBits.length !== wordsFor(n)) return n; // not grown with the agents
  for (let i = 0; i < c.fresh.length * 32; i++) {
    const fresh = (c.fresh[i >>> 5] >>> (i & 31)) & 1;
    const ok = (c.okBits[i >>> 5] >>> (i & 31)) & 1;
    const holds = i < n && c.stamp[i] === ver[i] ? 1 : 0;
    if (fresh !== holds || ok !== (holds && c.ok[i] === 1 ? 1 : 0)) return i;
  }
  return -1;
}

/** Spec keys remembered as seen once; a cache is made on a key's second sighting (a lone pod gains nothing from one). */
const SEEN_ONCE_LIMIT = 10_000;

export class SpecCaches {
  private readonly byKey = new Map<string, SearchCache>();
  /** The same caches as byKey, in an array: stale() walks it for every agent changed, without an iterator. */
  private list: SearchCache[] = [];
  private readonly seenOnce = new Set<string>();
  private scratch: SearchCache | undefined;
  private uses = 0;

  constructor(private readonly bytes: number) {}

  get size(): number {
    return this.byKey.size;
  }

  /** The caches kept (not the scratch one). */
  all(): readonly SearchCache[] {
    return this.list;
  }

  /**
   * The cache named `key` over n agents, or undefined the first time the key is seen (search that pod uncached, in
   * scratchCache()).
   */
  get(key: string, n: number, plan: number): SearchCache | undefined {
    let c = this.byKey.get(key);
    if (!c) {
      if (!this.seenOnce.has(key)) {
        if (this.seenOnce.size >= SEEN_ONCE_LIMIT) this.seenOnce.clear();
        this.seenOnce.add(key);
        return undefined;
      }
      this.seenOnce.delete(key);
      const max = Math.max(2, Math.floor(this.bytes / (13 * Math.max(1, n))));
      if (this.byKey.size >= max) this.dropLeastRecent();
      c = newSearchCache(n, plan);
      this.byKey.set(key, c);
      this.list.push(c);
    }
    c.usedInPlan = plan;
    c.lastUse = ++this.uses;
    return c;
  }

  /**
   * A cache that holds nothing (every entry stale), for one pod's search: what that search examines holds until an
   * agent changes, and no agent changes during one pod's search. Voided on every call (O(agents), a fill).
   */
  scratchCache(n: number, plan: number): SearchCache {
    const c = (this.scratch ??= newSearchCache(n, plan));
    c.stamp.fill(0); // versions are never 0
    c.fresh.fill(0);
    c.okBits.fill(0);
    return c;
  }

  /** Agent i's working copy changed (a new version): its entry in every cache no longer holds. */
  stale(i: number): void {
    const w = i >>> 5;
    const keep = ~(1 << (i & 31));
    const list = this.list;
    for (let k = 0; k < list.length; k++) {
      list[k].fresh[w] &= keep;
      list[k].okBits[w] &= keep;
    }
  }

  /** Every entry of every cache void (stamps 0, no bit set): the versions are numbered afresh. */
  staleAll(): void {
    for (const c of this.list) {
      c.stamp.fill(0);
      c.fresh.fill(0);
      c.okBits.fill(0);
    }
  }

  grow(from: number, to: number): void {
    for (const c of this.list) growSearchCache(c, from, to);
    this.scratch = undefined;
  }

  clear(): void {
    this.byKey.clear();
    this.list = [];
    this.seenOnce.clear();
    this.scratch = undefined;
  }

  /** Drops the caches no plan used in the last `keep` plans. */
  dropUnused(plan: number, keep: number): void {
    let dropped = false;
    for (const [k, c] of this.byKey) {
      if (plan - c.usedInPlan > keep) {
        this.byKey.delete(k);
        dropped = true;
      }
    }
    if (dropped) this.list = [...this.byKey.values()];
  }

  private dropLeastRecent(): void {
    let oldest: string | undefined;
    let at = Infinity;
    for (const [k, c] of this.byKey) {
      if (c.lastUse < at) {
        at = c.lastUse;
        oldest = k;
      }
    }
    if (oldest === undefined) return;
    this.byKey.delete(oldest);
    this.list = [...this.byKey.values()];
  }
}
