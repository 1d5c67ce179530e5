/**
 * The pending-pod queue, after kube-scheduler's scheduling queue: an active set ordered by priority (higher first) then
 * age (older first), and a backoff set for pods that did not fit. A pod in backoff comes back when its backoff expires
 * or, earlier, when new capacity arrives (`moveAllToActive`). Pure: time is passed in.
 */
export interface QueuedPod {
  key: string; // namespace/name
  uid: string;
  priority: number;
  createdAtMs: number;
}

export interface QueueOptions {
  initialBackoffMs?: number; // kube-scheduler: 1s
  maxBackoffMs?: number; // kube-scheduler: 10s
}

interface Entry<P extends QueuedPod> {
  pod: P;
  seq: number; // tie-breaker: insertion order
  attempts: number;
  backoffUntilMs: number; // 0 = active
}

export class SchedulingQueue<P extends QueuedPod = QueuedPod> {
  private readonly entries = new Map<string, Entry<P>>();
  private seq = 0;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(opts: QueueOptions = {}) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    if (this.initialBackoffMs <= 0 || this.maxBackoffMs < this.initialBackoffMs) {
      throw new RangeError(`queue backoff: need 0 < initial (${this.initialBackoffMs}) ≤ max (${this.maxBackoffMs})`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): P | undefined {
    return this.entries.get(key)?.pod;
  }

  /** Adds a pod, or replaces the spec of one already queued (keeping its backoff state unless the uid changed). */
  upsert(pod: P): void {
    const e = this.entries.get(pod.key);
    if (e && e.pod.uid === pod.uid) {
      e.pod = pod;
      return;
    }
    this.entries.set(pod.key, { pod, seq: this.seq++, attempts: 0, backoffUntilMs: 0 });
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Pods ready now (not backing off), in scheduling order, at most `max`. They stay queued until `delete`d. */
  ready(nowMs: number, max = Infinity): P[] {
    const out: Entry<P>[] = [];
    for (const e of this.entries.values()) if (e.backoffUntilMs <= nowMs) out.push(e);
    out.sort(compareEntries);
    return (out.length > max ? out.slice(0, max) : out).map((e) => e.pod);
  }

  /** The pod did not fit: back off exponentially (initial × 2^(attempts-1), capped). */
  backoff(key: string, nowMs: number): number | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    e.attempts++;
    const ms = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(30, e.attempts - 1));
    e.backoffUntilMs = nowMs + ms;
    return e.backoffUntilMs;
  }

  /** New capacity (offers, an agent, a pod gone): every backing-off pod may try again at once. Returns how many moved. */
  moveAllToActive(): number {
    let n = 0;
    for (const e of this.entries.values()) {
      if (e.backoffUntilMs > 0) {
        e.backoffUntilMs = 0;
        n++;
      }
    }
    return n;
  }

  /** When the next backing-off pod becomes ready, or undefined if none is backing off. */
  nextBackoffExpiry(nowMs: number): number | undefined {
    let next: number | undefined;
    for (const e of this.entries.values()) {
      if (e.backoffUntilMs > nowMs && (next === undefined || e.backoffUntilMs < next)) next = e.backoffUntilMs;
    }
    return next;
  }

  counts(nowMs: number): { active: number; backoff: number } {
    let backoff = 0;
    for (const e of this.entries.values()) if (e.backoffUntilMs > nowMs) backoff++;
    return { active: this.entries.size - backoff, backoff };
  }

  attempts(key: string): number {
    return this.entries.get(key)?.attempts ?? 0;
  }
}

function compareEntries<P extends QueuedPod>(a: Entry<P>, b: Entry<P>): number {
  return b.pod.priority - a.pod.priority || a.pod.createdAtMs - b.pod.createdAtMs || a.seq - b.seq;
}
