import type { V1Pod } from '@kubernetes/client-node';
import { httpListWatch, podInformer, ResilientInformer, type InformerOptions } from '../kube/informer.js';
import type { KubeHttp } from '../kube/http.js';

export type PodEvent = { type: 'add' | 'update' | 'delete'; pod: V1Pod };
export type PodHandler = (ev: PodEvent) => void;

/**
 * Pods bound to a node, as the executor and the hollow kubelet follow them. A new subscriber first gets an 'add' for every
 * pod already known on its node. Pods handed out are the informer's own: never mutate them.
 */
export interface PodSource {
  watchNode(nodeName: string, handler: PodHandler): () => void;
  podsOnNode(nodeName: string): V1Pod[];
}

/** What InformerPodSource needs of an informer; src/kube's ResilientInformer<V1Pod> fits. */
export interface PodInformerLike {
  on(event: 'add', h: (pod: V1Pod) => void): unknown;
  on(event: 'update', h: (pod: V1Pod, old: V1Pod) => void): unknown;
  on(event: 'delete', h: (pod: V1Pod) => void): unknown;
}

const keyOf = (p: V1Pod) => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;

/**
 * Dispatches one informer's pods by spec.nodeName, so thousands of in-process executors share one watch. Unbound pods
 * are not dispatched; the update that binds a pod is an 'add' for its node.
 */
export class InformerPodSource implements PodSource {
  private readonly byNode = new Map<string, Map<string, V1Pod>>();
  private readonly handlers = new Map<string, Set<PodHandler>>();

  constructor(informer: PodInformerLike) {
    informer.on('add', (pod) => this.upsert(pod, undefined));
    informer.on('update', (pod, old) => this.upsert(pod, old));
    informer.on('delete', (pod) => this.remove(pod));
  }

  watchNode(nodeName: string, handler: PodHandler): () => void {
    let set = this.handlers.get(nodeName);
    if (!set) this.handlers.set(nodeName, (set = new Set()));
    set.add(handler);
    for (const pod of this.podsOnNode(nodeName)) safeCall(handler, { type: 'add', pod });
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(nodeName) === set) this.handlers.delete(nodeName);
    };
  }

  podsOnNode(nodeName: string): V1Pod[] {
    return [...(this.byNode.get(nodeName)?.values() ?? [])];
  }

  /** Number of nodes with subscribers (for tests and metrics). */
  get subscribedNodes(): number {
    return this.handlers.size;
  }

  private upsert(pod: V1Pod, old: V1Pod | undefined): void {
    const node = pod.spec?.nodeName;
    const oldNode = old?.spec?.nodeName;
    if (oldNode && oldNode !== node) this.remove(old); // nodeName is immutable once set; defensive only
    if (!node) return;
    let pods = this.byNode.get(node);
    if (!pods) this.byNode.set(node, (pods = new Map()));
    const known = pods.has(keyOf(pod));
    pods.set(keyOf(pod), pod);
    this.dispatch(node, { type: known ? 'update' : 'add', pod });
  }

  private remove(pod: V1Pod): void {
    const node = pod.spec?.nodeName;
    if (!node) return;
    const pods = this.byNode.get(node);
    if (!pods?.delete(keyOf(pod))) return;
    if (pods.size === 0) this.byNode.delete(node);
    this.dispatch(node, { type: 'delete', pod });
  }

  private dispatch(node: string, ev: PodEvent): void {
    const set = this.handlers.get(node);
    if (!set) return;
    for (const h of [...set]) safeCall(h, ev);
  }
}

function safeCall(h: PodHandler, ev: PodEvent): void {
  try {
    h(ev);
  } catch {
    // A handler's own failure must not stop dispatch to the others; handlers log their own errors.
  }
}

/** Process mode: one informer over the pods bound to this node (field selector spec.nodeName). */
export function nodePodInformer(http: KubeHttp, nodeName: string, opts: InformerOptions = {}): ResilientInformer<V1Pod> {
  const source = httpListWatch<V1Pod>(http, { path: '/api/v1/pods', fieldSelector: `spec.nodeName=${nodeName}` });
  return new ResilientInformer(source, { name: `pods@${nodeName}`, ...opts });
}

/**
 * In-process mode: one informer shared by every executor in the process, over the scheduler's bound pods (pending ones are
 * no executor's business), or over every bound pod (`spec.nodeName!=`) when the scheduler's name is not known.
 */
export function schedulerPodInformer(http: KubeHttp, schedulerName: string | undefined, opts: InformerOptions = {}): ResilientInformer<V1Pod> {
  if (schedulerName) return podInformer(http, { schedulerName, boundOnly: true, ...opts });
  const source = httpListWatch<V1Pod>(http, { path: '/api/v1/pods', fieldSelector: 'spec.nodeName!=' });
  return new ResilientInformer(source, { name: 'bound-pods', ...opts });
}
