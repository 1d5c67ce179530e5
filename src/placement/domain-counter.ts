// Pods counted per topology domain, kept by the AgentTable across plans (pod-groups.ts) and updated as pods and agents
// come, go and change domain: every update has its inverse, so that a kept counter equals one built afresh.
import type { Labels } from './selectors.js';
import type { DomainIndex } from './working-agent.js';

/** Pods that look alike for every selector: same namespace, sibling group, labels and anti-affinity terms. */
export interface PodGroup {
  /** Its pods' signature (pod-groups.ts): the key it is kept under. */
  sig: string;
  namespace: string;
  labels: Labels;
  groupKey: string;
  /** Keys of the required anti-affinity terms these pods declare. */
  antiTermKeys: string[];
  /** Pods of the group per agent (no entry for 0). */
  agentCounts: Map<number, number>;
  /** The group's pods in all: the group is dropped when it reaches 0. */
  total: number;
  counters: DomainCounter[];
}

export type CounterKind = 'plain' | 'spread' | 'groups';

/**
 * Agents whose pods count (1) or not (0), kept per agent by the table (eligibility.ts). The object stays the same while
 * the table keeps it (its array is replaced when agents arrive).
 */
export interface EligibleMask {
  m: Uint8Array;
}

/**
 * Pods matching a predicate, counted per domain. 'spread': only eligible agents count, every eligible domain
 * exists (with 0), min is tracked; 'groups' (Marathon): a domain exists while a pod is in it, pods on agents
 * without the field are counted in `missing`; 'plain': counts only.
 */
export class DomainCounter {
  counts: Int32Array;
  present: Uint8Array;
  presentCount = 0;
  missing = 0;
  total = 0;
  /** Smallest count over present domains (0 when none); 'spread' and 'groups' only. */
  min = 0;
  /** The last plan that asked for it (unused counters are dropped). */
  usedInPlan = 0;
  /** Per count, how many present domains have it. */
  private hist = new Map<number, number>();
  /** 'spread': eligible agents per domain (a domain is present while it has one). */
  private agentsIn: Int32Array;

  constructor(
    readonly key: string,
    readonly kind: CounterKind,
    readonly index: DomainIndex,
    readonly matches: (g: PodGroup) => boolean,
    readonly eligible: EligibleMask | null,
  ) {
    const n = index.names.length;
    this.counts = new Int32Array(n);
    this.present = new Uint8Array(n);
    this.agentsIn = new Int32Array(kind === 'spread' ? n : 0);
    if (kind === 'spread') {
      const ids = index.ids;
      const m = eligible?.m;
      for (let a = 0; a < ids.length; a++) {
        const d = ids[a];
        if (d < 0 || (m !== undefined && m[a] === 0)) continue;
        if (this.agentsIn[d]++ === 0) {
          this.present[d] = 1;
          this.presentCount++;
        }
      }
    }
  }

  /** Bulk load before first use; call finish() afterwards. */
  load(agent: number, n: number): void {
    if (this.eligible !== null && this.eligible.m[agent] === 0) return;
    const d = this.index.ids[agent];
    this.total += n;
    if (d < 0) {
      this.missing += n;
      return;
    }
    this.counts[d] += n;
    if (this.kind === 'groups' && !this.present[d]) {
      this.present[d] = 1;
      this.presentCount++;
    }
  }

  finish(): void {
    if (this.kind === 'plain') return;
    this.hist.clear();
    for (let d = 0; d < this.counts.length; d++) if (this.present[d]) this.histAdd(this.counts[d]);
    this.recomputeMin();
  }

  private recomputeMin(): void {
    let m = Infinity;
    for (const [c, n] of this.hist) if (n > 0 && c < m) m = c;
    this.min = m === Infinity ? 0 : m;
  }

  private histAdd(c: number): void {
    this.hist.set(c, (this.hist.get(c) ?? 0) + 1);
  }

  /** One domain fewer at count c; true when none is left at c. */
  private histRemove(c: number): boolean {
    const left = (this.hist.get(c) ?? 0) - 1;
    if (left === 0) this.hist.delete(c);
    else this.hist.set(c, left);
    return left === 0;
  }

  /** Domain d becomes present with the count it has. */
  private appear(d: number): void {
    this.present[d] = 1;
    this.presentCount++;
    const c = this.counts[d];
    this.histAdd(c);
    if (this.presentCount === 1 || c < this.min) this.min = c;
  }

  private vanish(d: number): void {
    this.present[d] = 0;
    this.presentCount--;
    const c = this.counts[d];
    if (this.histRemove(c) && c === this.min) this.recomputeMin();
  }

  /** Room for every domain the index knows (it learns new ones as agents arrive or are relabelled): readers index counts by domain. */
  fitIndex(): void {
    if (this.counts.length < this.index.names.length) this.growTo(this.index.names.length);
  }

  private growTo(n: number): void {
    const counts = new Int32Array(n);
    counts.set(this.counts);
    this.counts = counts;
    const present = new Uint8Array(n);
    present.set(this.present);
    this.present = present;
    if (this.kind === 'spread') {
      const agentsIn = new Int32Array(n);
      agentsIn.set(this.agentsIn);
      this.agentsIn = agentsIn;
    }
  }

  /** Where `agent` counts: its domain, -1 without one (`missing`), -2 when it does not count (not eligible). */
  placeOf(agent: number): number {
    if (this.eligible !== null && this.eligible.m[agent] === 0) return -2;
    return this.index.ids[agent];
  }

  /** A matching pod on `agent`. */
  add(agent: number): void {
    this.addAt(this.placeOf(agent));
  }

  /** A matching pod gone from `agent` (add's inverse, with the agent's domain and eligibility as they were then). */
  remove(agent: number): void {
    this.removeAt(this.placeOf(agent));
  }

  /** 'spread': `agent` joins its domain (as the table has it now), before its pods are added. */
  agentIn(agent: number): void {
    this.joinAt(this.placeOf(agent));
  }

  /**
   * An agent that changed domain or eligibility (placeOf `from` before, `to` now) with `n` matching pods that stayed:
   * its pods and, for 'spread', the agent itself move.
   */
  move(from: number, to: number, n: number): void {
    for (let k = 0; k < n; k++) this.removeAt(from);
    if (this.kind === 'spread') {
      this.quitAt(from);
      this.joinAt(to);
    }
    for (let k = 0; k < n; k++) this.addAt(to);
  }

  private addAt(d: number): void {
    if (d === -2) return;
    this.total++;
    if (d < 0) {
      this.missing++;
      return;
    }
    if (d >= this.counts.length) this.growTo(this.index.names.length);
    const c = this.counts[d];
    this.counts[d] = c + 1;
    if (this.kind === 'plain') return;
    if (!this.present[d]) {
      this.appear(d); // only 'groups' domains appear on first pod
      return;
    }
    const none = this.histRemove(c);
    this.histAdd(c + 1);
    if (c === this.min && none) this.recomputeMin();
  }

  private removeAt(d: number): void {
    if (d === -2) return;
    this.total--;
    if (d < 0) {
      this.missing--;
      return;
    }
    const c = this.counts[d];
    this.counts[d] = c - 1;
    if (this.kind === 'plain') return;
    const none = this.histRemove(c);
    if (this.kind === 'groups' && c === 1) {
      // a 'groups' domain exists while a pod is in it
      this.present[d] = 0;
      this.presentCount--;
      if (none && c === this.min) this.recomputeMin();
      return;
    }
    this.histAdd(c - 1);
    if (c - 1 < this.min) this.min = c - 1;
  }

  /** 'spread': an eligible agent in domain d (a domain is present while it has one). */
  private joinAt(d: number): void {
    if (d < 0) return;
    if (d >= this.counts.length) this.growTo(this.index.names.length);
    if (this.agentsIn[d]++ === 0) this.appear(d);
  }

  /** 'spread': joinAt's inverse, after the agent's pods there were removed. */
  private quitAt(d: number): void {
    if (d < 0) return;
    if (--this.agentsIn[d] === 0) this.vanish(d);
  }

  /** The counter as plain data, by domain name (domain numbers depend on the order the table learnt them): for tests. */
  inspect(): { key: string; kind: CounterKind; total: number; missing: number; presentCount: number; min: number; domains: Record<string, [number, number]> } {
    const domains: Record<string, [number, number]> = {};
    const names = this.index.names;
    for (let d = 0; d < this.counts.length; d++) if (this.counts[d] !== 0 || this.present[d]) domains[names[d]] = [this.counts[d], this.present[d]];
    return { key: this.key, kind: this.kind, total: this.total, missing: this.missing, presentCount: this.presentCount, min: this.min, domains };
  }
}
