import { silentLogger, type Logger } from '../telemetry/log.js';
import { rfc3339, type KubeClient } from './client.js';

/** What an event is about (core/v1 ObjectReference). `uid` matters: `kubectl describe` selects events by it. */
export interface InvolvedObject {
  kind: string;
  apiVersion?: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** Writes events; give the recorder its own client (own QPS budget) so events never delay bindings. */
  client: Pick<KubeClient, 'raw'>;
  /** source.component / reportingComponent, e.g. `kube-mesos`. */
  component: string;
  /** source.host / reportingInstance, e.g. the scheduler's identity. */
  instance?: string;
  now?: () => Date;
  log?: Logger;
  /** Writes allowed per involved object at once, then one per `refillMs` (counts keep accumulating meanwhile). */
  burst?: number;
  refillMs?: number;
  /** Distinct events remembered for correlation (least recently used dropped first). */
  cacheSize?: number;
  /** Pause before retrying a write that failed with a retryable error. */
  retryMs?: number;
}

interface Entry {
  key: string;
  objectKey: string;
  namespace: string;
  name: string;
  involved: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
  count: number;
  first: Date;
  last: Date;
  created: boolean;
  writing: boolean;
  dirty: boolean;
  /** The last write failed in a way worth retrying after a pause. */
  retry: boolean;
  timer?: NodeJS.Timeout;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Records core/v1 Events. Identical events (same object, type, reason, message) are correlated as client-go's
 * EventCorrelator does: the first creates an Event, later ones patch its `count` and `lastTimestamp`. Bursts coalesce into
 * one write, writes are rate-limited per object, and nothing here ever throws into the caller.
 */
export class EventRecorder {
  private readonly client: Pick<KubeClient, 'raw'>;
  private readonly component: string;
  private readonly instance: string | undefined;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly cacheSize: number;
  private readonly retryMs: number;
  private readonly entries = new Map<string, Entry>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly inflight = new Set<Promise<void>>();
  private seq = 0;
  private stopped = false;
  readonly stats = { recorded: 0, created: 0, patched: 0, failed: 0, dropped: 0 };

  constructor(opts: EventRecorderOptions) {
    if (!opts.component) throw new TypeError('EventRecorder: component is required');
    this.client = opts.client;
    this.component = opts.component;
    this.instance = opts.instance;
    this.now = opts.now ?? (() => new Date());
    this.log = (opts.log ?? silentLogger()).child({ component: 'events' });
    this.burst = opts.burst ?? 25;
    this.refillMs = opts.refillMs ?? 60_000;
    this.cacheSize = opts.cacheSize ?? 4096;
    this.retryMs = opts.retryMs ?? 5000;
  }

  /** Records an event about `obj`; returns at once, the write happens in the background. */
  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    try {
      if (this.stopped) return;
      this.stats.recorded++;
      const involved: InvolvedObject = { kind: obj.kind, apiVersion: obj.apiVersion ?? 'v1', name: obj.name, ...(obj.namespace ? { namespace: obj.namespace } : {}), ...(obj.uid ? { uid: obj.uid } : {}) };
      const objectKey = [involved.kind, involved.namespace ?? '', involved.name, involved.uid ?? ''].join('/');
      const key = [objectKey, type, reason, message].join('\u0000');
      const now = this.now();
      let e = this.entries.get(key);
      if (e) {
        this.entries.delete(key); // re-insert: most recently used last
        e.count++;
        e.last = now;
      } else {
        const namespace = involved.namespace ?? 'default';
        const name = `${involved.name}.${(now.getTime() * 1000 + (this.seq++ % 1000)).toString(16)}`;
        e = { key, objectKey, namespace, name, involved, type, reason, message, count: 1, first: now, last: now, created: false, writing: false, dirty: false, retry: false };
        this.evict();
      }
      this.entries.set(key, e);
      e.dirty = true;
      this.schedule(e);
    } catch (err) {
      this.log.error({ err }, 'recording an event failed');
    }
  }

  /** `Scheduled` (Normal), as kube-scheduler writes it. */
  scheduled(pod: PodLike, nodeName: string): void {
    const ref = podRef(pod);
    if (ref) this.event(ref, 'Normal', 'Scheduled', `Successfully assigned ${ref.namespace}/${ref.name} to ${nodeName}`);
  }

  /** `FailedScheduling` (Warning) with a kube-scheduler-style message (`0/12 nodes are available: ...`). */
  failedScheduling(pod: PodLike, message: string): void {
    const ref = podRef(pod);
    if (ref) this.event(ref, 'Warning', 'FailedScheduling', message);
  }

  /** Resolves when every write started or deferred so far has been attempted (deferred ones are written now). */
  async flush(): Promise<void> {
    for (const e of this.entries.values()) {
      if (e.timer && e.dirty) {
        clearTimeout(e.timer);
        e.timer = undefined;
        this.start(e);
      }
    }
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** Writes what is pending, then ignores further events. */
  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
    for (const e of this.entries.values()) clearTimeout(e.timer);
  }

  private schedule(e: Entry): void {
    if (e.writing || e.timer) return; // the running write (or the timer) picks up the new count
    const wait = this.takeToken(e.objectKey);
    if (wait > 0) {
      e.timer = setTimeout(() => {
        e.timer = undefined;
        this.schedule(e);
      }, wait);
      e.timer.unref?.();
      return;
    }
    this.start(e);
  }

  private start(e: Entry): void {
    e.writing = true;
    const p = this.write(e)
      .catch((err: unknown) => this.log.error({ err }, 'event write crashed'))
      .finally(() => {
        e.writing = false;
        this.inflight.delete(p);
        if (!e.dirty || this.stopped || this.entries.get(e.key) !== e) return;
        if (!e.retry) return this.schedule(e);
        e.retry = false;
        e.timer = setTimeout(() => {
          e.timer = undefined;
          this.schedule(e);
        }, this.retryMs);
        e.timer.unref?.();
      });
    this.inflight.add(p);
  }

  private async write(e: Entry): Promise<void> {
    e.dirty = false;
    const count = e.count;
    const last = rfc3339(e.last);
    const path = `/api/v1/namespaces/${encodeURIComponent(e.namespace)}/events`;
    if (e.created) {
      const r = await this.client.raw('PATCH', `${path}/${encodeURIComponent(e.name)}`, {
        body: { count, lastTimestamp: last, message: e.message },
        contentType: 'application/strategic-merge-patch+json',
      });
      if (r.ok) {
        this.stats.patched++;
        return;
      }
      if (r.kind !== 'NotFound') return this.failed(e, r.kind, r.message);
      e.created = false; // expired or deleted: create it again, keeping the count
    }
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: e.name, namespace: e.namespace },
      involvedObject: e.involved,
      reason: e.reason,
      message: e.message,
      type: e.type,
      count,
      firstTimestamp: rfc3339(e.first),
      lastTimestamp: last,
      source: { component: this.component, ...(this.instance ? { host: this.instance } : {}) },
      reportingComponent: this.component,
      reportingInstance: this.instance ?? '',
    };
    const r = await this.client.raw('POST', path, { body, discardBody: true });
    if (r.ok || r.kind === 'AlreadyExists') {
      e.created = true;
      this.stats.created++;
      if (!r.ok) e.dirty = true; // someone made it already: patch the count next
      return;
    }
    this.failed(e, r.kind, r.message);
  }

  private failed(e: Entry, kind: string, message: string): void {
    this.stats.failed++;
    // Retryable failures keep the entry dirty so a later record (or flush) writes the accumulated count.
    if (kind === 'Retryable') e.dirty = e.retry = true;
    this.log.warn({ kind, event: e.name, reason: e.reason }, `event write failed: ${message}`);
  }

  /** Returns 0 if a write may go now (taking a token), else ms until one is available. */
  private takeToken(objectKey: string): number {
    const t = this.now().getTime();
    let b = this.buckets.get(objectKey);
    if (!b) {
      b = { tokens: this.burst, at: t };
      if (this.buckets.size >= this.cacheSize) this.buckets.delete(this.buckets.keys().next().value!);
      this.buckets.set(objectKey, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + (t - b.at) / this.refillMs);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) * this.refillMs);
  }

  private evict(): void {
    while (this.entries.size >= this.cacheSize) {
      const [k, e] = this.entries.entries().next().value as [string, Entry];
      if (e.dirty && (e.writing || e.timer)) this.stats.dropped++;
      clearTimeout(e.timer);
      this.entries.delete(k);
    }
  }
}

export interface PodLike {
  metadata?: { namespace?: string; name?: string; uid?: string };
}

function podRef(pod: PodLike): InvolvedObject | undefined {
  const m = pod.metadata;
  if (!m?.name || !m.namespace) return undefined;
  return { kind: 'Pod', apiVersion: 'v1', namespace: m.namespace, name: m.name, uid: m.uid };
}
