import type { V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import type { Result } from '../kube/client.js';
import type { KubeletApi, PodIdentity, PodStatusPatch } from './kube-api.js';
import type { PodInformerLike } from './pod-source.js';

// An in-memory stand-in for the API server, for unit tests of the executor and the hollow kubelet: pods, nodes and
// leases, with the API server's binding and graceful-deletion rules, and informer events for every pod change.

type Handlers = { add: ((p: V1Pod) => void)[]; update: ((p: V1Pod, o: V1Pod) => void)[]; delete: ((p: V1Pod) => void)[] };

const fail = (kind: 'NotFound' | 'Conflict' | 'AlreadyExists' | 'Retryable', message: string) =>
  ({ ok: false, kind, message, status: kind === 'NotFound' ? 404 : kind === 'Retryable' ? 503 : 409 }) as const;

export class FakeCluster implements KubeletApi, PodInformerLike {
  readonly pods = new Map<string, V1Pod>();
  readonly nodes = new Map<string, V1Node>();
  readonly leases = new Map<string, { renewTime: string; leaseDurationSeconds: number }>();
  /** Every write, as `verb resource name`, for asserting on API load. */
  readonly writes: string[] = [];
  /** Make the next N calls of a method fail as Retryable. */
  readonly failNext = new Map<string, number>();
  private readonly handlers: Handlers = { add: [], update: [], delete: [] };
  private rv = 1;
  private uidSeq = 1;

  on(event: 'add', h: (pod: V1Pod) => void): this;
  on(event: 'update', h: (pod: V1Pod, old: V1Pod) => void): this;
  on(event: 'delete', h: (pod: V1Pod) => void): this;
  on(event: keyof Handlers, h: (p: V1Pod, o: V1Pod) => void): this {
    (this.handlers[event] as unknown[]).push(h);
    return this;
  }

  addPod(namespace: string, name: string, extra: { annotations?: Record<string, string>; nodeName?: string; grace?: number } = {}): V1Pod {
    const pod: V1Pod = {
      metadata: { namespace, name, uid: `uid-${this.uidSeq++}`, resourceVersion: String(this.rv++), annotations: extra.annotations },
      spec: { containers: [{ name: 'main', image: 'busybox' }], nodeName: extra.nodeName, terminationGracePeriodSeconds: extra.grace ?? 30 },
      status: { phase: 'Pending' },
    };
    this.pods.set(`${namespace}/${name}`, pod);
    for (const h of this.handlers.add) h(pod);
    return pod;
  }

  pod(namespace: string, name: string): V1Pod | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }

  /** Replaces a pod with a changed copy (never mutates the old object, as an informer would not). */
  mutatePod(key: string, change: (p: V1Pod) => void): V1Pod | undefined {
    const old = this.pods.get(key);
    if (!old) return undefined;
    const next = structuredClone(old);
    change(next);
    next.metadata!.resourceVersion = String(this.rv++);
    this.pods.set(key, next);
    for (const h of this.handlers.update) h(next, old);
    return next;
  }

  removePod(key: string): void {
    const old = this.pods.get(key);
    if (!old) return;
    this.pods.delete(key);
    for (const h of this.handlers.delete) h(old);
  }

  private failing(method: string): boolean {
    const n = this.failNext.get(method) ?? 0;
    if (n <= 0) return false;
    this.failNext.set(method, n - 1);
    return true;
  }

  async bindPod(p: PodIdentity, nodeName: string, annotations: Record<string, string>): Promise<Result<void>> {
    await Promise.resolve();
    if (this.failing('bindPod')) return fail('Retryable', 'injected');
    this.writes.push(`create binding ${p.namespace}/${p.name}`);
    const key = `${p.namespace}/${p.name}`;
    const pod = this.pods.get(key);
    if (!pod) return fail('NotFound', `pods "${p.name}" not found`);
    if (pod.metadata?.uid !== p.uid) return fail('Conflict', 'Precondition failed: UID');
    if (pod.spec?.nodeName) return fail('Conflict', `pod ${p.name} is already assigned to node "${pod.spec.nodeName}"`);
    this.mutatePod(key, (x) => {
      x.spec!.nodeName = nodeName;
      x.metadata!.annotations = { ...x.metadata!.annotations, ...annotations };
    });
    return { ok: true, value: undefined };
  }

  async getPod(ns: string, name: string): Promise<Result<V1Pod>> {
    await Promise.resolve();
    const pod = this.pods.get(`${ns}/${name}`);
    return pod ? { ok: true, value: pod } : fail('NotFound', 'not found');
  }

  async deletePod(ns: string, name: string, opts: { gracePeriodSeconds?: number; uid?: string }): Promise<Result<void>> {
    await Promise.resolve();
    if (this.failing('deletePod')) return fail('Retryable', 'injected');
    this.writes.push(`delete pod ${ns}/${name} grace=${opts.gracePeriodSeconds ?? 'default'}`);
    const key = `${ns}/${name}`;
    const pod = this.pods.get(key);
    if (!pod) return fail('NotFound', 'not found');
    if (opts.uid && pod.metadata?.uid !== opts.uid) return fail('Conflict', 'Precondition failed: UID');
    const grace = opts.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    // As the API server does: unbound pods or grace 0 go at once; bound ones get a deletionTimestamp for the kubelet.
    if (grace === 0 || !pod.spec?.nodeName) this.removePod(key);
    else if (!pod.metadata?.deletionTimestamp) {
      this.mutatePod(key, (x) => {
        x.metadata!.deletionTimestamp = new Date(Date.now() + grace * 1000);
        x.metadata!.deletionGracePeriodSeconds = grace;
      });
    }
    return { ok: true, value: undefined };
  }

  async patchPodStatus(ns: string, name: string, status: PodStatusPatch): Promise<Result<void>> {
    await Promise.resolve();
    if (this.failing('patchPodStatus')) return fail('Retryable', 'injected');
    this.writes.push(`patch pod/status ${ns}/${name} ${String(status.phase)}`);
    const next = this.mutatePod(`${ns}/${name}`, (x) => {
      x.status = { ...x.status, ...(structuredClone(status) as V1Pod['status']) };
    });
    return next ? { ok: true, value: undefined } : fail('NotFound', 'not found');
  }

  async patchPodAnnotations(ns: string, name: string, annotations: Record<string, string>): Promise<Result<V1Pod>> {
    await Promise.resolve();
    this.writes.push(`patch pod ${ns}/${name}`);
    const next = this.mutatePod(`${ns}/${name}`, (x) => (x.metadata!.annotations = { ...x.metadata!.annotations, ...annotations }));
    return next ? { ok: true, value: next } : fail('NotFound', 'not found');
  }

  async getNode(name: string): Promise<Result<V1Node>> {
    await Promise.resolve();
    const n = this.nodes.get(name);
    return n ? { ok: true, value: n } : fail('NotFound', 'not found');
  }

  async createNode(node: V1Node): Promise<Result<V1Node>> {
    await Promise.resolve();
    if (this.failing('createNode')) return fail('Retryable', 'injected');
    const name = node.metadata!.name!;
    this.writes.push(`create node ${name}`);
    if (this.nodes.has(name)) return fail('AlreadyExists', 'exists');
    // The TaintNodesByCondition admission plugin taints every new Node not-ready.
    const n: V1Node = structuredClone(node);
    n.metadata!.uid = `node-uid-${name}`;
    n.spec = { ...n.spec, taints: [...(n.spec?.taints ?? []), { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] };
    this.nodes.set(name, n);
    return { ok: true, value: n };
  }

  async patchNode(name: string, patch: { labels?: Record<string, string>; annotations?: Record<string, string>; taints?: V1Taint[] }): Promise<Result<V1Node>> {
    await Promise.resolve();
    this.writes.push(`patch node ${name}`);
    const n = this.nodes.get(name);
    if (!n) return fail('NotFound', 'not found');
    const next = structuredClone(n);
    next.metadata!.labels = { ...next.metadata!.labels, ...patch.labels };
    next.metadata!.annotations = { ...next.metadata!.annotations, ...patch.annotations };
    if (patch.taints) next.spec = { ...next.spec, taints: patch.taints.length ? patch.taints : undefined };
    this.nodes.set(name, next);
    return { ok: true, value: next };
  }

  async patchNodeStatus(name: string, status: Record<string, unknown>): Promise<Result<V1Node>> {
    await Promise.resolve();
    this.writes.push(`patch node/status ${name}`);
    const n = this.nodes.get(name);
    if (!n) return fail('NotFound', 'not found');
    const next = structuredClone(n);
    next.status = { ...next.status, ...(structuredClone(status) as V1Node['status']) };
    this.nodes.set(name, next);
    return { ok: true, value: next };
  }

  async renewNodeLease(nodeName: string, opts: { leaseDurationSeconds: number; renewTime: Date }): Promise<Result<void>> {
    await Promise.resolve();
    this.writes.push(`renew lease ${nodeName}`);
    this.leases.set(nodeName, { renewTime: opts.renewTime.toISOString(), leaseDurationSeconds: opts.leaseDurationSeconds });
    return { ok: true, value: undefined };
  }
}
