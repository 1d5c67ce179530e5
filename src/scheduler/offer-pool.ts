/**
 * Offers held per agent until they are used, declined, rescinded or expired. Holding offers briefly lets pods that arrive
 * a moment later use them without waiting for the next allocation; holding them long would starve other frameworks, so
 * every offer has a deadline after which the scheduler declines it. Pure: time is passed in.
 */
export interface OfferLike {
  id: { value: string };
  agent_id: { value: string };
}

interface Held<O> {
  offer: O;
  receivedAtMs: number;
}

export class OfferPool<O extends OfferLike = OfferLike> {
  private readonly byId = new Map<string, Held<O>>();
  private readonly byAgent = new Map<string, Set<string>>();
  /** Per agent, a number that changes whenever its held offers do (the snapshot reuses what it built from them). */
  private readonly versions = new Map<string, number>();
  private versionSeq = 0;
  /** Called with an offer's receive time as it leaves the pool (used, declined, rescinded, expired): hold figures. */
  onRelease: ((receivedAtMs: number) => void) | undefined;

  get size(): number {
    return this.byId.size;
  }

  get agentCount(): number {
    return this.byAgent.size;
  }

  add(offer: O, nowMs: number): void {
    const id = offer.id.value;
    if (this.byId.has(id)) return; // the master never resends an offer id; ignore a duplicate
    this.byId.set(id, { offer, receivedAtMs: nowMs });
    const agent = offer.agent_id.value;
    let set = this.byAgent.get(agent);
    if (!set) this.byAgent.set(agent, (set = new Set()));
    set.add(id);
    this.versions.set(agent, ++this.versionSeq);
  }

  /** Changes whenever the agent's held offers do; equal numbers mean the same offers. */
  version(agentId: string): number {
    return this.versions.get(agentId) ?? 0;
  }

  /** Removes an offer (rescinded, used, declined). Returns it if it was held. */
  remove(offerId: string): O | undefined {
    const held = this.byId.get(offerId);
    if (!held) return undefined;
    this.byId.delete(offerId);
    this.onRelease?.(held.receivedAtMs);
    const agent = held.offer.agent_id.value;
    const set = this.byAgent.get(agent);
    set?.delete(offerId);
    if (set && set.size === 0) this.byAgent.delete(agent);
    this.versions.set(agent, ++this.versionSeq);
    return held.offer;
  }

  has(offerId: string): boolean {
    return this.byId.has(offerId);
  }

  /** Offers held for one agent (read-only view). */
  /** Some offer of the agent is held (no array built: asked for every agent every cycle). */
  hasAgent(agentId: string): boolean {
    return this.byAgent.has(agentId);
  }

  forAgent(agentId: string): O[] {
    const ids = this.byAgent.get(agentId);
    if (!ids) return [];
    const out: O[] = [];
    for (const id of ids) out.push(this.byId.get(id)!.offer);
    return out;
  }

  /** Takes (removes and returns) every offer held for an agent: they go into one ACCEPT or one DECLINE. */
  takeAgent(agentId: string): O[] {
    const offers = this.forAgent(agentId);
    for (const o of offers) this.remove(o.id.value);
    return offers;
  }

  /** Takes (removes and returns) the given offers that are still held. */
  take(offers: readonly O[]): O[] {
    const out: O[] = [];
    for (const o of offers) if (this.remove(o.id.value)) out.push(o);
    return out;
  }

  /** Removes every offer of an agent (agent lost), returning their ids. */
  dropAgent(agentId: string): string[] {
    return this.takeAgent(agentId).map((o) => o.id.value);
  }

  agents(): IterableIterator<string> {
    return this.byAgent.keys();
  }

  /** Takes offers held longer than `holdMs` (to be declined). */
  takeExpired(nowMs: number, holdMs: number): O[] {
    const out: O[] = [];
    for (const [id, held] of this.byId) {
      if (nowMs - held.receivedAtMs >= holdMs) {
        out.push(held.offer);
        this.remove(id);
      }
    }
    return out;
  }

  /** Takes every held offer (nothing to place: decline them all). */
  takeAll(): O[] {
    const out = [...this.byId.values()].map((h) => h.offer);
    if (this.onRelease) for (const h of this.byId.values()) this.onRelease(h.receivedAtMs);
    for (const agent of this.byAgent.keys()) this.versions.set(agent, ++this.versionSeq);
    this.byId.clear();
    this.byAgent.clear();
    return out;
  }

  /** When the oldest held offer reaches `holdMs`, or undefined when none is held. */
  nextExpiry(holdMs: number): number | undefined {
    let oldest: number | undefined;
    for (const h of this.byId.values()) if (oldest === undefined || h.receivedAtMs < oldest) oldest = h.receivedAtMs;
    return oldest === undefined ? undefined : oldest + holdMs;
  }
}

/** How the framework treats offers, given what is waiting. Pure. */
export interface OfferPolicyConfig {
  /** refuse_seconds for offers declined while pods wait (they may fit soon elsewhere or after backoff). */
  refuseWhileWaitingSeconds: number;
  /** refuse_seconds when nothing waits: give the resources to other frameworks for a long while. */
  refuseIdleSeconds: number;
  /**
   * REVIVE rate limit: one call per this interval on average, from a bucket of REVIVE_BURST. The burst lets the first REVIVE
   * after a quiet spell go out at once even if one was sent just before (e.g. at subscription), while a framework that
   * suppresses and revives over and over still sends at most one a interval.
   */
  reviveMinIntervalMs: number;
}

/** REVIVEs that may go out back to back after a quiet spell. */
export const REVIVE_BURST = 2;

/** The REVIVE token bucket: `tokens` as of `atMs`. Starts full. */
export interface ReviveBudget {
  tokens: number;
  atMs: number;
}

/** Tokens available at `nowMs` (refilled at one per interval, capped at REVIVE_BURST). Pure. */
export function reviveTokens(b: ReviveBudget | undefined, nowMs: number, intervalMs: number): number {
  if (!b) return REVIVE_BURST;
  if (intervalMs <= 0) return REVIVE_BURST;
  return Math.min(REVIVE_BURST, b.tokens + Math.max(0, nowMs - b.atMs) / intervalMs);
}

/** The bucket after a REVIVE sent at `nowMs`. Pure. */
export function spendRevive(b: ReviveBudget | undefined, nowMs: number, intervalMs: number): ReviveBudget {
  return { tokens: Math.max(0, reviveTokens(b, nowMs, intervalMs) - 1), atMs: nowMs };
}

export const DEFAULT_OFFER_POLICY: OfferPolicyConfig = {
  refuseWhileWaitingSeconds: 2,
  refuseIdleSeconds: 300,
  reviveMinIntervalMs: 1000,
};

export function refuseSecondsFor(pendingPods: number, cfg: OfferPolicyConfig): number {
  return pendingPods > 0 ? cfg.refuseWhileWaitingSeconds : cfg.refuseIdleSeconds;
}

export type OfferStreamAction = { kind: 'none' } | { kind: 'suppress' } | { kind: 'revive' } | { kind: 'revive-later'; atMs: number };

/**
 * SUPPRESS when nothing is pending (and no warm kubelet is wanted); REVIVE when something arrives, rate-limited.
 * `suppressed` is the framework's current state toward the master.
 */
export function offerStreamAction(
  s: { pendingPods: number; wantsOffers: boolean; suppressed: boolean; reviveBudget: ReviveBudget | undefined; nowMs: number },
  cfg: OfferPolicyConfig,
): OfferStreamAction {
  const want = s.pendingPods > 0 || s.wantsOffers;
  if (!want) return s.suppressed ? { kind: 'none' } : { kind: 'suppress' };
  if (!s.suppressed) return { kind: 'none' };
  const tokens = reviveTokens(s.reviveBudget, s.nowMs, cfg.reviveMinIntervalMs);
  if (tokens < 1) return { kind: 'revive-later', atMs: s.nowMs + Math.ceil((1 - tokens) * cfg.reviveMinIntervalMs) };
  return { kind: 'revive' };
}
