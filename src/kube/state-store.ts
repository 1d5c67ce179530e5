import type { V1ConfigMap } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../telemetry/log.js';
import { Backoff, sleep } from '../time/backoff.js';
import type { KubeClient, Result } from './client.js';

const KEY_RE = /^[-._a-zA-Z0-9]+$/;

export interface StateStoreOptions {
  client: Pick<KubeClient, 'getConfigMap' | 'createConfigMap' | 'replaceConfigMap'>;
  /** The framework's namespace. */
  namespace: string;
  /** ConfigMap name (default `kube-mesos-state`). */
  name?: string;
  /** Attempts on write conflicts before giving up with kind 'Conflict' (default 10). */
  maxAttempts?: number;
  log?: Logger;
  random?: () => number;
}

/** Keys kube-mesos keeps here. */
export const StateKeys = { frameworkId: 'framework-id' } as const;

/**
 * Small state that must survive restarts (the framework id, …) in one ConfigMap, written with optimistic concurrency:
 * every change is read–modify–write on the resourceVersion, re-reading and re-applying on conflict.
 */
export class ConfigMapStateStore {
  private readonly client: StateStoreOptions['client'];
  readonly namespace: string;
  readonly name: string;
  private readonly maxAttempts: number;
  private readonly log: Logger;
  private readonly random: () => number;

  constructor(opts: StateStoreOptions) {
    if (!opts.namespace) throw new TypeError('state store: namespace is required');
    this.client = opts.client;
    this.namespace = opts.namespace;
    this.name = opts.name ?? 'kube-mesos-state';
    this.maxAttempts = opts.maxAttempts ?? 10;
    this.log = (opts.log ?? silentLogger()).child({ component: 'state-store' });
    this.random = opts.random ?? Math.random;
  }

  /** All keys; an absent ConfigMap reads as empty. */
  async getAll(): Promise<Result<Record<string, string>>> {
    const r = await this.client.getConfigMap(this.namespace, this.name);
    if (!r.ok) return r.kind === 'NotFound' ? { ok: true, value: {} } : r;
    return { ok: true, value: { ...(r.value.data ?? {}) } };
  }

  async get(key: string): Promise<Result<string | undefined>> {
    const r = await this.getAll();
    return r.ok ? { ok: true, value: r.value[key] } : r;
  }

  async set(key: string, value: string): Promise<Result<Record<string, string>>> {
    return this.update((d) => ({ ...d, [key]: value }));
  }

  async delete(key: string): Promise<Result<Record<string, string>>> {
    return this.update((d) => {
      const { [key]: _gone, ...rest } = d;
      return rest;
    });
  }

  getFrameworkId(): Promise<Result<string | undefined>> {
    return this.get(StateKeys.frameworkId);
  }

  /**
   * The stored framework id, read until the store answers: `undefined` only when it positively says there is none (the
   * ConfigMap is absent (404) or has no such key). Any other failure (503, timeout, 403…) is retried with backoff —
   * subscribing without the id would register a new framework and every running task would be lost with the old one.
   * Resolves `{ ok: false }` only when `signal` aborts.
   */
  async getFrameworkIdUntilKnown(opts: { signal?: AbortSignal; initialMs?: number; maxMs?: number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> } = {}): Promise<{ ok: true; value: string | undefined } | { ok: false; aborted: true }> {
    const backoff = new Backoff({ initialMs: opts.initialMs ?? 500, maxMs: opts.maxMs ?? 30_000, random: this.random });
    const wait = opts.sleep ?? sleep;
    for (;;) {
      if (opts.signal?.aborted) return { ok: false, aborted: true };
      const r = await this.getFrameworkId();
      if (r.ok) return r;
      const delay = backoff.next();
      this.log.warn({ kind: r.kind, status: r.status, message: r.message, attempt: backoff.attempts, retryInMs: delay }, 'cannot read the stored framework id; not subscribing until it is known');
      await wait(delay, opts.signal);
    }
  }

  setFrameworkId(id: string): Promise<Result<Record<string, string>>> {
    return this.set(StateKeys.frameworkId, id);
  }

  /**
   * Applies `mutate` to the current data and writes the result if it changed. `mutate` may run several times (once per
   * conflict) and must be a pure function of its argument. Returns the data as written.
   */
  async update(mutate: (data: Readonly<Record<string, string>>) => Record<string, string>): Promise<Result<Record<string, string>>> {
    const backoff = new Backoff({ initialMs: 10, maxMs: 500, random: this.random });
    let last: Result<Record<string, string>> = { ok: false, kind: 'Conflict', status: 409, message: 'no attempt made' };
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const cur = await this.client.getConfigMap(this.namespace, this.name);
      if (!cur.ok && cur.kind !== 'NotFound') return cur;
      const before = cur.ok ? { ...(cur.value.data ?? {}) } : {};
      const after = mutate(Object.freeze({ ...before }));
      const bad = Object.entries(after).find(([k, v]) => !KEY_RE.test(k) || typeof v !== 'string');
      if (bad) return { ok: false, kind: 'Invalid', status: 0, message: `state key "${bad[0]}" must match ${KEY_RE} and have a string value` };
      if (cur.ok && sameData(before, after)) return { ok: true, value: after };
      let res: Result<V1ConfigMap>;
      if (cur.ok) {
        const cm: V1ConfigMap = { ...cur.value, metadata: { ...cur.value.metadata, name: this.name, resourceVersion: cur.value.metadata?.resourceVersion }, data: after };
        res = await this.client.replaceConfigMap(this.namespace, cm);
      } else {
        const cm: V1ConfigMap = {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: this.name, namespace: this.namespace, labels: { 'app.kubernetes.io/name': 'kube-mesos', 'app.kubernetes.io/component': 'state' } },
          data: after,
        };
        res = await this.client.createConfigMap(this.namespace, cm);
      }
      if (res.ok) return { ok: true, value: { ...(res.value.data ?? {}) } };
      if (res.kind !== 'Conflict' && res.kind !== 'AlreadyExists' && res.kind !== 'NotFound') return res;
      // Someone else wrote in between (or deleted it): re-read and apply our change again.
      last = res;
      this.log.debug({ attempt, kind: res.kind }, 'state write raced; retrying');
      await sleep(backoff.next());
    }
    return last;
  }
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}
