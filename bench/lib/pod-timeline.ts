/**
 * Follows the bench's pods as a user's tools would: one pod watch (bound, container running, ContainersReady as the API
 * shows them) and, once a pod is bound, its log (pods/log, polled) until the container's first line is there. The
 * first line carries the container's own start time (`first-line <uptime>`). Times in epoch ms.
 */
import { setMaxListeners } from 'node:events';
import type { KubeHttp, RawWatchEvent } from '../../src/kube/http.js';
import { startedFromLog, type PodTimeline } from './real-cost.js';
import { waitUntil } from './waiters.js';

interface RawPod {
  metadata: { name: string; resourceVersion?: string };
  spec: { nodeName?: string };
  status?: { conditions?: { type: string; status: string }[]; containerStatuses?: { state?: { running?: unknown } }[] };
}

export class PodTimelines {
  readonly pods = new Map<string, PodTimeline>();
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly polling = new Set<string>();
  private readonly polls = new Set<Promise<void>>();
  private waiters = new Set<() => void>();

  constructor(
    private readonly http: KubeHttp,
    private readonly ns: string,
    private readonly selector: string,
    private readonly bootMs: number,
    /** Between two reads of a pod's log. */
    private readonly logIntervalMs: () => number,
  ) {
    // Every log read in flight listens to it: a batch is more than the default 10.
    setMaxListeners(0, this.abort.signal);
  }

  /** Resolves once the watch is established (list, then watch from its resourceVersion). */
  async start(): Promise<void> {
    const res = await this.http.request('GET', `/api/v1/namespaces/${this.ns}/pods`, { query: { labelSelector: this.selector, limit: '1' } });
    if (res.status !== 200) throw new Error(`listing pods in ${this.ns}: HTTP ${res.status}`);
    let rv = (res.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const loop = async () => {
      while (!this.abort.signal.aborted) {
        const end = await this.http.watch(
          `/api/v1/namespaces/${this.ns}/pods`,
          { resourceVersion: rv, labelSelector: this.selector, timeoutSeconds: 900, allowWatchBookmarks: true },
          (ev: RawWatchEvent) => {
            const pod = ev.object as unknown as RawPod;
            if (pod.metadata?.resourceVersion) rv = pod.metadata.resourceVersion;
            if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.onPod(pod);
          },
          { signal: this.abort.signal, idleMs: 960_000 },
        );
        if (end.kind === 'failed') await new Promise((r) => setTimeout(r, 200));
      }
    };
    this.running = loop();
  }

  /** Registers a pod about to be created; `created` is taken now, just before the request leaves. */
  track(p: Omit<PodTimeline, 'created'>): PodTimeline {
    const t: PodTimeline = { ...p, created: Date.now() };
    this.pods.set(p.name, t);
    return t;
  }

  /** Resolves true once `ok()` holds (checked on every pod event and log read), false after `timeoutMs`. */
  until(ok: () => boolean, timeoutMs: number): Promise<boolean> {
    return waitUntil(this.waiters, ok, timeoutMs);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    await Promise.allSettled([...this.polls]);
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private onPod(pod: RawPod): void {
    const t = this.pods.get(pod.metadata.name);
    if (!t) return;
    const at = Date.now();
    if (pod.spec?.nodeName && t.bound === undefined) {
      t.bound = at;
      t.node = pod.spec.nodeName;
      this.pollLog(t);
    }
    if (pod.status?.containerStatuses?.[0]?.state?.running && t.running === undefined) t.running = at;
    if (pod.status?.conditions?.some((c) => c.type === 'ContainersReady' && c.status === 'True') && t.ready === undefined) t.ready = at;
    this.notify();
  }

  /** Reads the pod's log until its first line is there (a waiting container answers 400 meanwhile). */
  private pollLog(t: PodTimeline): void {
    if (this.polling.has(t.name)) return;
    this.polling.add(t.name);
    const poll = (async () => {
      const deadline = Date.now() + 180_000;
      while (!this.abort.signal.aborted && Date.now() < deadline) {
        const res = await this.http.request('GET', `/api/v1/namespaces/${this.ns}/pods/${t.name}/log`, { signal: this.abort.signal });
        const at = Date.now();
        const started = res.status === 200 && typeof res.body === 'string' ? startedFromLog(res.body, this.bootMs) : undefined;
        if (started !== undefined) {
          t.firstLog = at;
          t.started = started;
          this.notify();
          return;
        }
        await new Promise((r) => setTimeout(r, this.logIntervalMs()));
      }
    })();
    this.polls.add(poll);
    void poll.finally(() => this.polls.delete(poll));
  }
}
