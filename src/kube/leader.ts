import { silentLogger, type Logger } from '../telemetry/log.js';
import { sleep } from '../time/backoff.js';
import { rfc3339Micro, type KubeClient, type Result } from './client.js';

/** The spec of a coordination.k8s.io/v1 Lease as leader election uses it. */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

export interface StoredLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/** The three calls leader election makes; `get` gives null when the Lease does not exist. */
export interface LeaseApi {
  get(signal?: AbortSignal): Promise<Result<StoredLease | null>>;
  create(record: LeaseRecord, signal?: AbortSignal): Promise<Result<StoredLease>>;
  update(record: LeaseRecord, resourceVersion: string, signal?: AbortSignal): Promise<Result<StoredLease>>;
}

interface RawLease {
  metadata?: { resourceVersion?: string };
  spec?: Partial<LeaseRecord>;
}

function stored(raw: RawLease): StoredLease {
  const s = raw.spec ?? {};
  return {
    resourceVersion: raw.metadata?.resourceVersion ?? '',
    record: {
      holderIdentity: s.holderIdentity ?? '',
      leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
      acquireTime: s.acquireTime ?? undefined,
      renewTime: s.renewTime ?? undefined,
      leaseTransitions: s.leaseTransitions ?? 0,
    },
  };
}

/** LeaseApi over the API server. */
export function leaseApi(client: Pick<KubeClient, 'raw'>, namespace: string, name: string, timeoutMs = 5000): LeaseApi {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const body = (record: LeaseRecord, resourceVersion?: string) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: record,
  });
  const map = (r: Result<RawLease>): Result<StoredLease> => (r.ok ? { ok: true, value: stored(r.value) } : r);
  return {
    async get(signal) {
      const r = await client.raw<RawLease>('GET', `${base}/${encodeURIComponent(name)}`, { signal, timeoutMs });
      if (!r.ok) return r.kind === 'NotFound' ? { ok: true, value: null } : r;
      return { ok: true, value: stored(r.value) };
    },
    async create(record, signal) {
      return map(await client.raw<RawLease>('POST', base, { body: body(record), signal, timeoutMs }));
    },
    async update(record, resourceVersion, signal) {
      return map(await client.raw<RawLease>('PUT', `${base}/${encodeURIComponent(name)}`, { body: body(record, resourceVersion), signal, timeoutMs }));
    },
  };
}

/** When we last saw the lease record change, by our own clock (as client-go does, so clock skew between holders is harmless). */
export interface Observation {
  key: string;
  at: number;
}

export type AcquireDecision =
  | { action: 'create'; record: LeaseRecord }
  | { action: 'update'; record: LeaseRecord }
  /** Someone else holds an unexpired lease. */
  | { action: 'wait'; holder: string };

const recordKey = (r: LeaseRecord) => JSON.stringify([r.holderIdentity, r.leaseDurationSeconds, r.acquireTime, r.renewTime, r.leaseTransitions]);

/**
 * The pure core of tryAcquireOrRenew: given the current lease (null if none), what we observed of it before, and the time,
 * decide whether to create it, take it over / renew it, or wait. Returns the updated observation too.
 */
export function decideAcquire(
  current: LeaseRecord | null,
  observed: Observation | undefined,
  now: number,
  identity: string,
  leaseDurationMs: number,
): { decision: AcquireDecision; observed: Observation | undefined } {
  const nowStr = rfc3339Micro(new Date(now));
  const durationSeconds = Math.ceil(leaseDurationMs / 1000);
  if (!current) {
    return { decision: { action: 'create', record: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: nowStr, renewTime: nowStr, leaseTransitions: 0 } }, observed };
  }
  const key = recordKey(current);
  const obs = observed && observed.key === key ? observed : { key, at: now };
  const heldByOther = current.holderIdentity !== '' && current.holderIdentity !== identity;
  const expiresAt = obs.at + current.leaseDurationSeconds * 1000;
  if (heldByOther && expiresAt > now) return { decision: { action: 'wait', holder: current.holderIdentity }, observed: obs };
  const renewing = current.holderIdentity === identity;
  const record: LeaseRecord = {
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime: renewing ? current.acquireTime : nowStr,
    renewTime: nowStr,
    leaseTransitions: renewing ? current.leaseTransitions : current.leaseTransitions + 1,
  };
  return { decision: { action: 'update', record }, observed: obs };
}

export interface LeaderElectorOptions {
  lease: LeaseApi;
  /** Unique per candidate, e.g. `${hostname}_${random}`. */
  identity: string;
  /** How long a non-renewed lease blocks others (default 15 s). */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failing renewal before giving up leadership (default 10 s). */
  renewDeadlineMs?: number;
  /** Time between attempts (default 2 s). */
  retryPeriodMs?: number;
  /** On a clean stop, clear holderIdentity so another candidate takes over at once (default true). */
  releaseOnCancel?: boolean;
  onStartedLeading: (signal: AbortSignal) => void;
  onStoppedLeading: () => void;
  /** Called whenever the observed holder changes (including to ourselves). */
  onNewLeader?: (identity: string) => void;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  log?: Logger;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics: acquire, renew every retry period, give up
 * leadership when renewal has failed for the renew deadline. run() returns after leadership is lost or the signal aborts.
 */
export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectorOptions, 'onNewLeader' | 'log'>> & Pick<LeaderElectorOptions, 'onNewLeader'>;
  private readonly log: Logger;
  private observed: Observation | undefined;
  private current: StoredLease | null = null;
  private leading = false;
  private lastHolder: string | undefined;

  constructor(opts: LeaderElectorOptions) {
    const o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      releaseOnCancel: true,
      now: Date.now,
      sleep,
      random: Math.random,
      ...opts,
    };
    if (!o.identity) throw new TypeError('leader election: identity is required');
    if (!(o.retryPeriodMs > 0)) throw new TypeError('leader election: retryPeriod must be > 0');
    if (!(o.renewDeadlineMs > o.retryPeriodMs * 1.2)) throw new TypeError('leader election: renewDeadline must exceed 1.2 × retryPeriod');
    if (!(o.leaseDurationMs > o.renewDeadlineMs)) throw new TypeError('leader election: leaseDuration must exceed renewDeadline');
    this.o = o;
    this.log = (opts.log ?? silentLogger()).child({ component: 'leader', identity: o.identity });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder we last saw ('' when released). */
  get leader(): string | undefined {
    return this.lastHolder;
  }

  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.acquire(signal))) return;
    this.leading = true;
    const leadership = new AbortController();
    this.log.info('started leading');
    this.safely(() => this.o.onStartedLeading(leadership.signal));
    await this.renewLoop(signal);
    this.leading = false;
    leadership.abort();
    if (signal.aborted && this.o.releaseOnCancel) await this.release();
    this.log.info('stopped leading');
    this.safely(() => this.o.onStoppedLeading());
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew(signal)) return true;
      await this.o.sleep(this.o.retryPeriodMs * (1 + 0.2 * this.o.random()), signal);
    }
    return false;
  }

  private async renewLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.o.sleep(this.o.retryPeriodMs, signal);
      if (signal.aborted) return;
      const deadline = this.o.now() + this.o.renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted && this.o.now() < deadline) {
        if (await this.tryAcquireOrRenew(signal)) {
          renewed = true;
          break;
        }
        await this.o.sleep(Math.min(this.o.retryPeriodMs, Math.max(0, deadline - this.o.now())), signal);
      }
      if (!renewed && !signal.aborted) {
        this.log.warn({ renewDeadlineMs: this.o.renewDeadlineMs }, 'failed to renew the lease in time; giving up leadership');
        return;
      }
    }
  }

  // Requests are not aborted on shutdown (each has its own timeout): an update cut mid-flight may still land, and then
  // our view of the Lease would be stale when we release it.
  private async tryAcquireOrRenew(_signal: AbortSignal): Promise<boolean> {
    const got = await this.o.lease.get();
    if (!got.ok) {
      this.log.debug({ kind: got.kind }, `reading the lease failed: ${got.message}`);
      return false;
    }
    this.current = got.value;
    this.noteHolder(got.value?.record.holderIdentity);
    const { decision, observed } = decideAcquire(got.value?.record ?? null, this.observed, this.o.now(), this.o.identity, this.o.leaseDurationMs);
    this.observed = observed;
    if (decision.action === 'wait') return false;
    const res = decision.action === 'create' ? await this.o.lease.create(decision.record) : await this.o.lease.update(decision.record, got.value!.resourceVersion);
    if (!res.ok) {
      // Conflict / AlreadyExists: someone else wrote first; we re-read next time.
      this.log.debug({ kind: res.kind }, `writing the lease failed: ${res.message}`);
      return false;
    }
    this.current = res.value;
    this.observed = { key: recordKey(res.value.record), at: this.o.now() };
    this.noteHolder(this.o.identity);
    return true;
  }

  /** Clears holderIdentity so others need not wait for expiry (as client-go's ReleaseOnCancel). */
  private async release(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) {
        const got = await this.o.lease.get();
        if (!got.ok) break;
        this.current = got.value;
      }
      if (!this.current || this.current.record.holderIdentity !== this.o.identity) return;
      const nowStr = rfc3339Micro(new Date(this.o.now()));
      const record: LeaseRecord = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: nowStr, renewTime: nowStr, leaseTransitions: this.current.record.leaseTransitions };
      const res = await this.o.lease.update(record, this.current.resourceVersion);
      if (res.ok) return this.noteHolder('');
      this.log.warn({ kind: res.kind, attempt }, `releasing the lease failed: ${res.message}`);
      if (res.kind !== 'Conflict') return;
    }
  }

  private noteHolder(holder: string | undefined): void {
    if (holder === undefined || holder === this.lastHolder) return;
    this.lastHolder = holder;
    if (holder) this.safely(() => this.o.onNewLeader?.(holder));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, 'leader election callback threw');
    }
  }
}
