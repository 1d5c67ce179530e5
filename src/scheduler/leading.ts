/**
 * The scheduler's work while it leads: prepared when leadership is won, subscribed to Mesos only if leadership still
 * holds once it is ready, stopped when leadership ends. Leadership can end while the start is pending (the stored
 * framework id being read with backoff, informers syncing): then what it produces is stopped without ever subscribing,
 * and stop() waits for the pending start, so a replica that no longer leads never talks to the master (issue 16 item 8).
 */
import type { Logger } from '../telemetry/log.js';

/** What `prepare` produces: ready to subscribe, not yet subscribed. */
export interface LeadingService {
  /** Starts the Mesos subscription (once). */
  subscribe(): void;
  stop(): Promise<void>;
}

export interface LeaderWorkOptions<S extends LeadingService> {
  /** Builds the service for one term of leadership; aborts with `leadership`. Resolves undefined when it gave up (aborted). */
  prepare: (leadership: AbortSignal) => Promise<S | undefined>;
  log: Logger;
  /** A start that failed (not a loss of leadership). */
  onError: (err: unknown) => void;
}

/** How one term's start ended. */
export type TermOutcome = { kind: 'subscribed' } | { kind: 'not-leading' } | { kind: 'failed'; error: unknown };

export class LeaderWork<S extends LeadingService> {
  private pending: Promise<void> = Promise.resolve();
  private current: S | undefined;

  constructor(private readonly o: LeaderWorkOptions<S>) {}

  /** The service of the current term, once it subscribed. */
  get service(): S | undefined {
    return this.current;
  }

  /**
   * Leadership won (the elector's onStartedLeading): prepare, then subscribe if still leading. The returned promise
   * (never rejected; a failure also goes to onError) says how the start ended; the elector may ignore it.
   */
  started(leadership: AbortSignal): Promise<TermOutcome> {
    const previous = this.pending;
    const term = (async (): Promise<TermOutcome> => {
      await previous; // a term's start never overlaps the previous term's
      const svc = await this.o.prepare(leadership);
      if (!svc) return { kind: 'not-leading' };
      // No await between this check and subscribe(): leadership cannot end in between.
      if (leadership.aborted) {
        this.o.log.warn('leadership lost while the scheduler was starting: stopping it without subscribing to Mesos');
        await svc.stop();
        return { kind: 'not-leading' };
      }
      this.current = svc;
      svc.subscribe();
      return { kind: 'subscribed' };
    })().catch((error: unknown): TermOutcome => {
      this.o.onError(error);
      return { kind: 'failed', error };
    });
    this.pending = term.then(() => undefined);
    return term;
  }

  /** Waits for a pending start, then stops what runs. Idempotent. */
  async stop(): Promise<void> {
    await this.pending;
    const svc = this.current;
    this.current = undefined;
    await svc?.stop();
  }
}
