import type { WatchEnd } from '../http.js';
import { objectKey, type KubeObject, type ListOutcome, type ListWatchSource, type WatchEvent } from '../informer.js';

interface Watcher<T> {
  onEvent: (ev: WatchEvent<T>) => void;
  end: (e: WatchEnd) => void;
}

/**
 * An in-memory API server collection for informer tests: resource versions, an event history that can be compacted
 * (so old resource versions get 410 Gone), and an outage switch.
 */
export class FakeListWatch<T extends KubeObject> implements ListWatchSource<T> {
  private rv = 0;
  private readonly objects = new Map<string, T>();
  private history: Array<{ rv: number; ev: WatchEvent<T> }> = [];
  private oldestRv = 0;
  private readonly watchers = new Set<Watcher<T>>();
  down = false;
  lists = 0;
  watchCalls = 0;

  get activeWatches(): number {
    return this.watchers.size;
  }

  upsert(obj: T): T {
    const key = objectKey(obj);
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } } as T;
    const type = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    this.objects.set(key, stored);
    this.publish({ type, object: stored });
    return stored;
  }

  remove(key: string): void {
    const old = this.objects.get(key);
    if (!old) return;
    this.objects.delete(key);
    const tomb = { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.rv) } } as T;
    this.publish({ type: 'DELETED', object: tomb });
  }

  /** Forget history: watches from a resource version before now get 410 Gone. */
  compact(): void {
    this.history = [];
    this.oldestRv = this.rv;
  }

  /** Ends every open watch as a transport failure (a killed API server). */
  breakWatches(): void {
    for (const w of [...this.watchers]) w.end({ kind: 'failed', status: 0, error: new Error('connection reset') });
  }

  /** Sends an ERROR event on every open watch. */
  sendError(code: number): void {
    for (const w of [...this.watchers]) w.onEvent({ type: 'ERROR', code, reason: code === 410 ? 'Expired' : 'InternalError', message: 'injected' });
  }

  async list(): Promise<ListOutcome<T>> {
    this.lists++;
    await Promise.resolve();
    if (this.down) return { ok: false, status: 0, message: 'connection refused' };
    return { ok: true, items: [...this.objects.values()], resourceVersion: String(this.rv) };
  }

  watch(resourceVersion: string, onEvent: (ev: WatchEvent<T>) => void, signal: AbortSignal): Promise<WatchEnd> {
    this.watchCalls++;
    if (this.down) return Promise.resolve({ kind: 'failed', status: 0, error: new Error('connection refused') });
    const from = Number(resourceVersion);
    return new Promise<WatchEnd>((resolve) => {
      const w: Watcher<T> = {
        onEvent,
        end: (e) => {
          if (!this.watchers.delete(w)) return;
          resolve(e);
        },
      };
      this.watchers.add(w);
      signal.addEventListener('abort', () => w.end({ kind: 'aborted' }), { once: true });
      queueMicrotask(() => {
        if (from < this.oldestRv) {
          onEvent({ type: 'ERROR', code: 410, reason: 'Expired', message: `too old resource version: ${from} (${this.oldestRv})` });
          return;
        }
        for (const h of this.history) if (h.rv > from && this.watchers.has(w)) onEvent(h.ev);
      });
    });
  }

  private publish(ev: WatchEvent<T>): void {
    this.history.push({ rv: this.rv, ev });
    for (const w of this.watchers) w.onEvent(ev);
  }
}

