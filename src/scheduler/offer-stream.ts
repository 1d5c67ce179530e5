/**
 * The offer stream, as the master sees it from us: DECLINE with a refuse filter, SUPPRESS when nothing waits, REVIVE
 * (rate-limited by a small bucket) when pods wait again, and a REVIVE after a quiet spell in case one got lost. The
 * decisions are the pure `offerStreamAction`; this class keeps the state and sends the calls.
 */
import type { Offer } from '../mesos/types.js';
import type { Effects } from './effects.js';
import { offerStreamAction, refuseSecondsFor, spendRevive, type OfferPolicyConfig, type ReviveBudget } from './offer-pool.js';
import type { CoreState } from './state.js';

/** Pods waiting this long without any offer, while not suppressed: REVIVE again. */
const STALLED_OFFERS_MS = 10_000;

/**
 * A pod queued this recently means more are probably on their way (a Deployment scaling, a steady stream of jobs): the
 * queue running empty between two of them is not "nothing pending". Meanwhile held offers are kept (up to the hold),
 * declines and accepts carry the short refuse filter, and the framework does not SUPPRESS; once no pod came for this
 * long, it gives everything back as when idle. Shorter than Mesos' default allocation interval (1 s), so other
 * frameworks get the offers back within one more allocation after the last pod.
 */
export const PODS_ARRIVING_MS = 1000;

export class OfferStream {
  private suppressed = false;
  private chain: Promise<unknown> = Promise.resolve();
  private lastOffersMs = 0;
  private reviveDueMs: number | undefined;
  private lastReviveMs: number | undefined;
  private reviveBudget: ReviveBudget | undefined;
  /** The pool wants offers although no pod waits (warm kubelets to start). */
  wantsOffers = false;

  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly config: OfferPolicyConfig,
  ) {}

  get isSuppressed(): boolean {
    return this.suppressed;
  }

  /**
   * refuse_seconds for offers declined now (and for what an ACCEPT leaves of them): short while pods wait or keep
   * coming, long when idle. Pods bound by someone else wait for a task on their agent too, and that agent is the one
   * being refused.
   */
  refuseSeconds(): number {
    return refuseSecondsFor(this.demand(this.fx.clock.now()), this.config);
  }

  /** A pod joined the queue less than PODS_ARRIVING_MS ago: more are probably coming. */
  podsArriving(now: number): boolean {
    return now - this.state.lastPodQueuedMs < PODS_ARRIVING_MS;
  }

  /**
   * Pods that want offers: pending, bound by someone else and waiting for a task, or (1) about to come; (1) also while
   * offers are wanted without a pod (warm kubelets, volumes to reclaim): a long refusal then would keep those agents
   * away for minutes with no SUPPRESS for a later REVIVE to undo.
   */
  private demand(now: number): number {
    const pending = this.state.queue.size + this.state.boundWaiting.size;
    return pending > 0 ? pending : this.podsArriving(now) || this.wantsOffers ? 1 : 0;
  }

  /** A fresh subscription: REVIVE once, because the master keeps a framework's offer filters (and its suppression) across a failover. */
  subscribed(now: number): void {
    this.lastOffersMs = now;
    this.revive(now);
  }

  offersArrived(now: number): void {
    this.lastOffersMs = now;
  }

  decline(offers: readonly Offer[], refuseSeconds: number): number {
    if (offers.length === 0) return 0;
    this.fx.metrics?.offersDeclined(offers.length);
    this.fx.send(this.fx.mesos.decline(offers.map((o) => o.id.value), refuseSeconds), 'decline');
    return offers.length;
  }

  /** Before a wake-up: pods wait while we are suppressed, so REVIVE now rather than at the end of the next cycle. */
  onWake(now: number): void {
    if (this.state.subscribed && this.state.queue.size + this.state.boundWaiting.size > 0 && this.suppressed) this.update(now);
  }

  /**
   * A REVIVE held back by the bucket is due then (the cycle that runs at that time sends it); and while pods were
   * arriving with nothing pending, the moment they count as stopped (that cycle declines what is held and SUPPRESSes).
   */
  nextDueMs(): number | undefined {
    const quiet = this.state.queue.size === 0 && !this.suppressed && this.podsArriving(this.fx.clock.now()) ? this.state.lastPodQueuedMs + PODS_ARRIVING_MS : undefined;
    if (quiet === undefined) return this.reviveDueMs;
    return this.reviveDueMs === undefined ? quiet : Math.min(quiet, this.reviveDueMs);
  }

  /** At the end of a cycle: SUPPRESS, REVIVE, or nothing. */
  update(now: number): void {
    const pendingPods = this.state.queue.size + this.state.boundWaiting.size;
    const wantsOffers = this.wantsOffers || this.podsArriving(now);
    const action = offerStreamAction({ pendingPods, wantsOffers, suppressed: this.suppressed, reviveBudget: this.reviveBudget, nowMs: now }, this.config);
    if (action.kind === 'suppress') {
      this.suppressed = true;
      this.call(() => this.fx.mesos.suppress(), 'suppress');
    } else if (action.kind === 'revive') {
      this.revive(now);
    } else if (action.kind === 'revive-later') {
      this.reviveDueMs = action.atMs;
    } else if (
      action.kind === 'none' &&
      !this.suppressed &&
      pendingPods > 0 &&
      now - this.lastOffersMs > STALLED_OFFERS_MS &&
      (this.lastReviveMs === undefined || now - this.lastReviveMs > STALLED_OFFERS_MS)
    ) {
      // Pods wait, we think we are not suppressed, yet no offer came for a while: say REVIVE again (it is idempotent).
      this.revive(now);
    }
  }

  /**
   * A pod waits for resources a DECLINE may have filtered (its Mesos volume, offered earlier while no pod wanted it and
   * declined for refuse_seconds): REVIVE, which clears the framework's filters, at most once per `minIntervalMs`.
   */
  reviveFiltered(now: number, minIntervalMs: number): void {
    if (!this.state.subscribed || (this.lastReviveMs !== undefined && now - this.lastReviveMs < minIntervalMs)) return;
    this.revive(now);
  }

  private revive(now: number): void {
    this.reviveDueMs = undefined;
    this.suppressed = false;
    this.lastReviveMs = now;
    this.reviveBudget = spendRevive(this.reviveBudget, now, this.config.reviveMinIntervalMs);
    this.call(() => this.fx.mesos.revive(), 'revive');
  }

  /** SUPPRESS and REVIVE go out one after the other: two calls racing on separate connections could land reversed. */
  private call(call: () => Promise<void>, what: string): void {
    const next = this.chain.then(call);
    this.chain = next.catch(() => undefined);
    this.fx.send(next, what);
  }
}
