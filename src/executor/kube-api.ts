import type { V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import { rfc3339Micro, type KubeClient, type Result } from '../kube/client.js';

// The Kubernetes calls the executor and the hollow kubelet make, as one narrow interface (fakes in unit tests), built on
// src/kube's KubeClient. No Binding: the scheduler writes it (a node identity may not create pods/binding).

export type { Result };

export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
}

/** A raw JSON status patch (timestamps as RFC 3339 strings), sent as a strategic merge patch. */
export type PodStatusPatch = Record<string, unknown>;

export interface KubeletApi {
  getPod(namespace: string, name: string): Promise<Result<V1Pod>>;
  /** Graceful delete; `uid` as a precondition so a re-created pod of the same name is never hit. */
  deletePod(namespace: string, name: string, opts: { gracePeriodSeconds?: number; uid?: string }): Promise<Result<void>>;
  /** The answer's pod is not read (nor parsed). */
  patchPodStatus(namespace: string, name: string, status: PodStatusPatch): Promise<Result<void>>;
  patchPodAnnotations(namespace: string, name: string, annotations: Record<string, string>): Promise<Result<V1Pod>>;
  getNode(name: string): Promise<Result<V1Node>>;
  createNode(node: V1Node): Promise<Result<V1Node>>;
  /** Merge patch: labels/annotations are added or overwritten; `taints` replaces the Node's whole taint list. */
  patchNode(name: string, patch: { labels?: Record<string, string>; annotations?: Record<string, string>; taints?: V1Taint[] }): Promise<Result<V1Node>>;
  /** Strategic merge patch of nodes/status (raw JSON). */
  patchNodeStatus(name: string, status: Record<string, unknown>): Promise<Result<V1Node>>;
  /**
   * Renews the node's Lease in kube-node-lease (merge patch), creating it when missing; `create`: the Lease is most likely
   * new (a Node just created), so create first and patch only if it exists.
   */
  renewNodeLease(nodeName: string, opts: { leaseDurationSeconds: number; renewTime: Date; nodeUid?: string; create?: boolean }): Promise<Result<void>>;
}

const enc = encodeURIComponent;
const podPath = (ns: string, name: string) => `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}`;
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
const MERGE = 'application/merge-patch+json';
const SMP = 'application/strategic-merge-patch+json';

/**
 * A write's response as the model type without converting it (`ObjectSerializer.deserialize` was 37% of the in-process
 * executors' decoding CPU in the e2e benchmark): callers read plain fields (uid, taints), never timestamps as Date.
 */
function asModel<T>(r: Result<unknown>): Result<T> {
  return r as Result<T>;
}
function unit(r: Result<unknown>): Result<void> {
  return r.ok ? { ok: true, value: undefined } : r;
}

export function createKubeletApi(client: KubeClient): KubeletApi {
  return {
    getPod: (ns, name) => client.getPod(ns, name),
    deletePod: (ns, name, opts) => client.deletePod(ns, name, opts),
    async patchPodStatus(ns, name, status) {
      return unit(await client.raw('PATCH', `${podPath(ns, name)}/status`, { body: { status }, contentType: SMP, discardBody: true }));
    },
    patchPodAnnotations: (ns, name, annotations) => client.patchPodAnnotations(ns, name, annotations),
    getNode: (name) => client.getNode(name),
    createNode: (node) => client.createNode(node),
    patchNode(name, patch) {
      const body: Record<string, unknown> = {};
      if (patch.labels || patch.annotations) body.metadata = { labels: patch.labels, annotations: patch.annotations };
      if (patch.taints) body.spec = { taints: patch.taints.length > 0 ? patch.taints : null };
      return client.patchNode(name, body, 'merge');
    },
    async patchNodeStatus(name, status) {
      return asModel<V1Node>(await client.raw('PATCH', `/api/v1/nodes/${enc(name)}/status`, { body: { status }, contentType: SMP }));
    },
    async renewNodeLease(nodeName, opts) {
      const spec = { holderIdentity: nodeName, leaseDurationSeconds: opts.leaseDurationSeconds, renewTime: rfc3339Micro(opts.renewTime) };
      const patch = () => client.raw('PATCH', `${LEASES}/${enc(nodeName)}`, { body: { spec }, contentType: MERGE, discardBody: true });
      const create = () => {
        const ownerReferences = opts.nodeUid ? [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: opts.nodeUid }] : undefined;
        const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: nodeName, namespace: 'kube-node-lease', ownerReferences }, spec };
        return client.raw('POST', LEASES, { body, discardBody: true });
      };
      if (opts.create) {
        const c = await create();
        return c.ok || c.kind !== 'AlreadyExists' ? unit(c) : unit(await patch());
      }
      const r = await patch();
      if (r.ok || r.kind !== 'NotFound') return unit(r);
      const c = await create();
      return c.ok || c.kind === 'AlreadyExists' ? { ok: true, value: undefined } : c;
    },
  };
}
