// Each agent's topology domain (a label's value, or a Marathon field's) as a number, kept by the table across plans
// (AgentTable.domainIndex), and each domain's agents as a bitset, for the search's word-at-a-time scan.
import { fieldValue, grown, type DomainIndex, type WAgent } from './working-agent.js';
import { grownBits, wordsFor } from './spec-caches.js';

/** Up to this many domains an index keeps bitsets (zones, racks); beyond, DomainIndex.bits is null. */
export const MAX_BIT_DOMAINS = 64;

/** The arguments of AgentTable.perAgent() that make and keep the index named `spec` ('label:<key>', 'field:<field>'). */
export function domainIndexParts(spec: string): {
  key: string;
  make: (n: number) => DomainIndex;
  fill: (idx: DomainIndex, a: WAgent) => void;
  grow: (idx: DomainIndex, from: number, to: number) => DomainIndex;
} {
  const isLabel = spec.startsWith('label:');
  const key = spec.slice(spec.indexOf(':') + 1);
  const byName = new Map<string, number>();
  return {
    key: `domains:${spec}`,
    // bitsets from the start (built with ids, not by a pass of their own), until there are too many domains
    make: (n) => ({ ids: new Int32Array(n), names: [], bits: [] }),
    fill: (idx, a) => {
      const v = isLabel ? a.labels[key] : fieldValue(a.view, key);
      let id = -1;
      if (v !== undefined) {
        const known = byName.get(v);
        if (known !== undefined) id = known;
        else {
          id = idx.names.length;
          idx.names.push(v);
          byName.set(v, id);
        }
      }
      const i = a.idx;
      const bits = idx.bits;
      if (bits !== null) setBit(idx, bits, idx.ids[i], id, i);
      idx.ids[i] = id;
    },
    grow: (idx, from, to) => {
      idx.ids = grown(idx.ids, from, to); // the same object: names and numbers stay
      if (idx.bits !== null) for (let d = 0; d < idx.bits.length; d++) idx.bits[d] = grownBits(idx.bits[d], to);
      return idx;
    },
  };
}

/** Agent i moves from domain `old` to `id` (-1: none) in the bitsets. */
function setBit(idx: DomainIndex, bits: Int32Array[], old: number, id: number, i: number): void {
  const w = i >>> 5;
  const bit = 1 << (i & 31);
  if (old >= 0 && old < bits.length) bits[old][w] &= ~bit; // an arriving agent's old entry is 0: its bit was never set
  if (id < 0) return;
  if (id >= MAX_BIT_DOMAINS) {
    idx.bits = null; // too many domains to keep a bitset each
    return;
  }
  while (bits.length <= id) bits.push(new Int32Array(wordsFor(idx.ids.length)));
  bits[id][w] |= bit;
}

/**
 * The first agent the index's bitsets place elsewhere than ids does, or -1 (also when it keeps none): for tests. The
 * number of agents when a bitset is not as long as they need.
 */
export function domainBitsMismatch(idx: DomainIndex): number {
  const bits = idx.bits;
  if (bits === null) return -1;
  for (let k = 0; k < bits.length; k++) if (bits[k].length !== wordsFor(idx.ids.length)) return idx.ids.length; // not grown
  for (let i = 0; i < idx.ids.length; i++) {
    const d = idx.ids[i];
    if (d >= bits.length) return i;
    for (let k = 0; k < bits.length; k++) if (((bits[k][i >>> 5] >>> (i & 31)) & 1) !== (k === d ? 1 : 0)) return i;
  }
  return -1;
}
