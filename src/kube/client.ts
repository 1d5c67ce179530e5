import type { KubeConfig, V1ConfigMap, V1Node, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { KubeHttp, type HttpResponse, type KubeHttpOptions } from './http.js';

/** What went wrong, as a kind to branch on; never branch on message text. */
export type FailureKind =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Forbidden'
  | 'Unauthorized'
  | 'Invalid'
  | 'Gone'
  /** An eviction refused because it would violate a PodDisruptionBudget (429 from the eviction subresource). */
  | 'DisruptionBudget'
  /** Worth trying again later: 429 throttling, 5xx, timeouts, connection failures. */
  | 'Retryable'
  | 'Unknown';

/** `notSent`: cancelled before it left (see HttpResponse): the server saw nothing. */
export type Failure = { ok: false; kind: FailureKind; message: string; status: number; retryAfterSeconds?: number; notSent?: boolean };
export type Result<T> = { ok: true; value: T } | Failure;

/** Classifies an answer by HTTP status and the Status object's `reason` field (structured, not message text). */
export function failureKind(status: number, reason?: string): FailureKind {
  if (status === 0) return 'Retryable';
  if (status === 404) return 'NotFound';
  if (status === 409) return reason === 'AlreadyExists' ? 'AlreadyExists' : 'Conflict';
  if (status === 403) return 'Forbidden';
  if (status === 401) return 'Unauthorized';
  if (status === 400 || status === 422) return 'Invalid';
  if (status === 410) return 'Gone';
  if (status === 429 || status >= 500) return 'Retryable';
  return 'Unknown';
}

/** Turns a non-2xx response into a Failure value. */
export function toFailure(res: HttpResponse): Failure {
  const st = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as { reason?: string; message?: string };
  const message = st.message ?? res.error?.message ?? (typeof res.body === 'string' && res.body ? res.body.slice(0, 300) : `HTTP ${res.status}`);
  return { ok: false, kind: failureKind(res.status, st.reason), message, status: res.status, retryAfterSeconds: res.retryAfterSeconds, ...(res.notSent ? { notSent: true } : {}) };
}

const ok = (s: number) => s >= 200 && s < 300;

export const PatchType = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;

export interface KubeClientOptions extends KubeHttpOptions {
  /** API version of the Eviction body: policy/v1beta1 on Kubernetes 1.20 (the default), policy/v1 from 1.22. */
  evictionVersion?: 'policy/v1beta1' | 'policy/v1';
}

/** A minimal object reference; Pods from an informer satisfy it. */
export interface PodRef {
  metadata?: { namespace?: string; name?: string; uid?: string };
  status?: { conditions?: V1PodCondition[] };
}

const enc = encodeURIComponent;
const podPath = (ns: string, name: string) => `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}`;

/**
 * The writes kube-mesos makes, each returning a Result value (expected failures such as NotFound/Conflict are values,
 * not exceptions). Objects returned are the API server's JSON typed as client-node models: timestamps are RFC 3339 strings,
 * not Dates (read them with `new Date(x)`). Shares the transport's QPS limit.
 */
export class KubeClient {
  readonly http: KubeHttp;
  private readonly evictionVersion: 'policy/v1beta1' | 'policy/v1';

  constructor(kc: KubeConfig | KubeHttp, opts: KubeClientOptions = {}) {
    this.http = KubeHttp.from(kc, opts);
    this.evictionVersion = opts.evictionVersion ?? 'policy/v1beta1';
  }

  // ---- pods ----

  getPod(ns: string, name: string): Promise<Result<V1Pod>> {
    return this.typed('GET', podPath(ns, name));
  }

  createPod(ns: string, pod: V1Pod): Promise<Result<V1Pod>> {
    return this.typed('POST', `/api/v1/namespaces/${enc(ns)}/pods`, { body: wire(pod) });
  }

  /**
   * Binds the pod to a node through pods/binding. `uid` is sent as a precondition, which newer API servers enforce;
   * kube-apiserver 1.20 ignores it (seen in test), so a caller that must not bind a re-created pod checks the uid first.
   */
  bindPod(ns: string, name: string, uid: string | undefined, nodeName: string): Promise<Result<void>> {
    const body = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name, namespace: ns, ...(uid ? { uid } : {}) },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    };
    return this.unit('POST', `${podPath(ns, name)}/binding`, { body });
  }

  /**
   * Sets the pod's PodScheduled condition through the status subresource (strategic merge on `type`).
   * lastTransitionTime moves only when the status changes, as kube-scheduler does.
   */
  setPodScheduledCondition(pod: PodRef, cond: { status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string }, now = new Date()): Promise<Result<V1Pod>> {
    return this.setPodCondition(pod, 'PodScheduled', cond, now);
  }

  /** Sets one pod condition (strategic merge on `type`), keeping its lastTransitionTime while the status is unchanged. */
  setPodCondition(pod: PodRef, type: string, cond: { status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string }, now = new Date()): Promise<Result<V1Pod>> {
    const namespace = pod.metadata?.namespace;
    const name = pod.metadata?.name;
    if (!namespace || !name) return Promise.resolve(invalid('pod needs metadata.namespace and metadata.name'));
    const prev = pod.status?.conditions?.find((c) => c.type === type);
    const transition = prev && prev.status === cond.status && prev.lastTransitionTime ? new Date(prev.lastTransitionTime) : now;
    const condition = {
      type,
      status: cond.status,
      reason: cond.reason ?? null,
      message: cond.message ?? null,
      lastProbeTime: null,
      lastTransitionTime: rfc3339(transition),
    };
    return this.typed('PATCH', `${podPath(namespace, name)}/status`, { body: { status: { conditions: [condition] } }, contentType: PatchType.strategic });
  }

  /** Merge-patches annotations; a null value removes that annotation. */
  patchPodAnnotations(ns: string, name: string, annotations: Record<string, string | null>): Promise<Result<V1Pod>> {
    return this.typed('PATCH', podPath(ns, name), { body: { metadata: { annotations } }, contentType: PatchType.merge });
  }

  deletePod(ns: string, name: string, opts: { gracePeriodSeconds?: number; uid?: string } = {}): Promise<Result<void>> {
    return this.unit('DELETE', podPath(ns, name), { body: deleteOptions(opts) });
  }

  /** Evicts through the Eviction API: PodDisruptionBudgets are honoured; a refusal is kind 'DisruptionBudget'. */
  async evictPod(ns: string, name: string, opts: { gracePeriodSeconds?: number; uid?: string } = {}): Promise<Result<void>> {
    const body = { apiVersion: this.evictionVersion, kind: 'Eviction', metadata: { name, namespace: ns }, deleteOptions: deleteOptions(opts) };
    const res = await this.http.request('POST', `${podPath(ns, name)}/eviction`, { body });
    if (ok(res.status)) return { ok: true, value: undefined };
    const f = toFailure(res);
    return res.status === 429 ? { ...f, kind: 'DisruptionBudget' } : f;
  }

  // ---- nodes ----

  getNode(name: string): Promise<Result<V1Node>> {
    return this.typed('GET', `/api/v1/nodes/${enc(name)}`);
  }

  createNode(node: V1Node): Promise<Result<V1Node>> {
    return this.typed('POST', '/api/v1/nodes', { body: wire(node) });
  }

  /** Patches the node object (labels, taints, spec); strategic merge by default. */
  patchNode(name: string, patch: object, type: keyof typeof PatchType = 'strategic'): Promise<Result<V1Node>> {
    return this.typed('PATCH', `/api/v1/nodes/${enc(name)}`, { body: patch, contentType: PatchType[type] });
  }

  /** Patches nodes/status, e.g. `{ status: { conditions: [{ type: 'Ready', status: 'True', ... }] } }` (strategic merge on type). */
  patchNodeStatus(name: string, patch: object, type: keyof typeof PatchType = 'strategic'): Promise<Result<V1Node>> {
    return this.typed('PATCH', `/api/v1/nodes/${enc(name)}/status`, { body: patch, contentType: PatchType[type] });
  }

  cordonNode(name: string, unschedulable = true): Promise<Result<V1Node>> {
    return this.patchNode(name, { spec: { unschedulable } }, 'merge');
  }

  deleteNode(name: string, opts: { uid?: string } = {}): Promise<Result<void>> {
    return this.unit('DELETE', `/api/v1/nodes/${enc(name)}`, { body: deleteOptions(opts) });
  }

  // ---- config maps ----

  getConfigMap(ns: string, name: string): Promise<Result<V1ConfigMap>> {
    return this.typed('GET', `/api/v1/namespaces/${enc(ns)}/configmaps/${enc(name)}`);
  }

  createConfigMap(ns: string, cm: V1ConfigMap): Promise<Result<V1ConfigMap>> {
    return this.typed('POST', `/api/v1/namespaces/${enc(ns)}/configmaps`, { body: wire(cm) });
  }

  /** PUT: with metadata.resourceVersion set, a concurrent change makes this fail with kind 'Conflict'. */
  replaceConfigMap(ns: string, cm: V1ConfigMap): Promise<Result<V1ConfigMap>> {
    const name = cm.metadata?.name;
    if (!name) return Promise.resolve(invalid('configmap needs metadata.name'));
    return this.typed('PUT', `/api/v1/namespaces/${enc(ns)}/configmaps/${enc(name)}`, { body: wire(cm) });
  }

  // ---- raw JSON objects (events, leases): their MicroTime fields are written as strings by their owners ----

  async raw<T>(method: string, path: string, opts: { body?: unknown; contentType?: string; signal?: AbortSignal; retrySignal?: AbortSignal; timeoutMs?: number; discardBody?: boolean } = {}): Promise<Result<T>> {
    const res = await this.http.request(method, path, opts);
    return ok(res.status) ? { ok: true, value: res.body as T } : toFailure(res);
  }

  /** The answer as the API server's JSON (timestamps stay RFC 3339 strings, as informer objects are). */
  private async typed<T>(method: string, path: string, opts: { body?: unknown; contentType?: string } = {}): Promise<Result<T>> {
    const res = await this.http.request(method, path, opts);
    if (!ok(res.status)) return toFailure(res);
    return { ok: true, value: res.body as T };
  }

  private async unit(method: string, path: string, opts: { body?: unknown; contentType?: string } = {}): Promise<Result<void>> {
    const res = await this.http.request(method, path, { ...opts, discardBody: true });
    return ok(res.status) ? { ok: true, value: undefined } : toFailure(res);
  }
}

/** A client-node model object as the API server reads it: Dates become RFC 3339 strings, undefined fields are dropped. */
export function wire<T>(obj: T): unknown {
  return JSON.parse(JSON.stringify(obj)) as unknown;
}

function deleteOptions(opts: { gracePeriodSeconds?: number; uid?: string }): object {
  return {
    apiVersion: 'v1',
    kind: 'DeleteOptions',
    ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
    ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}),
  };
}

function invalid(message: string): Failure {
  return { ok: false, kind: 'Invalid', message, status: 0 };
}

/** metav1.Time: RFC 3339 with whole seconds. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function rfc3339Micro(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
