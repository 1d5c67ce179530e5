// The Nodes of kube-mesos' kubelets (label kube-mesos.io/agent-id), indexed by agent and by name, for placement's Node
// view: labels (incl. `kubectl label`), taints (incl. the node lifecycle controller's), cordon, Node-advertised resources,
// preferAvoidPods. Heartbeats (status conditions, Lease-era status refreshes) change nothing placement reads, so only
// changes of what it reads are reported.
import type { V1Node } from '@kubernetes/client-node';
import { KubeHttp } from './http.js';
import { nodeInformer, ResilientInformer, type InformerOptions } from './informer.js';

export const LABEL_AGENT_ID = 'kube-mesos.io/agent-id';
const PREFER_AVOID_PODS = 'scheduler.alpha.kubernetes.io/preferAvoidPods';

export interface NodeChange {
  agentId: string;
  nodeName: string;
  /** Absent: the Node was deleted. */
  node?: V1Node;
}

/** What placement reads of a Node, as text: equal signatures, same placement. */
export function schedulingSignature(n: V1Node | undefined): string {
  if (!n) return '';
  return JSON.stringify([
    n.metadata?.labels ?? {},
    n.spec?.taints ?? [],
    n.spec?.unschedulable === true,
    n.status?.allocatable ?? {},
    n.metadata?.annotations?.[PREFER_AVOID_PODS] ?? '',
  ]);
}

/** The part of an informer the index needs; ResilientInformer<V1Node> fits. */
export interface NodeInformerLike {
  on(event: 'add' | 'update' | 'delete', h: (obj: V1Node, old?: V1Node) => void): unknown;
  start(): void;
  stop(): Promise<void>;
  readonly ready: Promise<void>;
  hasSynced(): boolean;
}

export class KubeMesosNodes {
  private readonly byAgentId = new Map<string, V1Node>();
  private readonly agentByName = new Map<string, string>();
  private readonly listeners: ((c: NodeChange) => void)[] = [];

  constructor(private readonly informer: NodeInformerLike) {
    informer.on('add', (n) => this.put(n, undefined));
    informer.on('update', (n, old) => this.put(n, old));
    informer.on('delete', (n) => this.remove(n));
  }

  /** An informer on the API server's Nodes that carry kube-mesos.io/agent-id. */
  static watch(http: KubeHttp, opts: InformerOptions = {}): KubeMesosNodes {
    return new KubeMesosNodes(nodeInformer(http, { name: 'kube-mesos-nodes', labelSelector: LABEL_AGENT_ID, ...opts }) as ResilientInformer<V1Node>);
  }

  get ready(): Promise<void> {
    return this.informer.ready;
  }

  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  start(): void {
    this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** Called for each add, delete, and update that changes what placement reads. */
  onChange(h: (c: NodeChange) => void): void {
    this.listeners.push(h);
  }

  /** The informer's own object: do not mutate. */
  byAgent(agentId: string): V1Node | undefined {
    return this.byAgentId.get(agentId);
  }

  agentOf(nodeName: string): string | undefined {
    return this.agentByName.get(nodeName);
  }

  get size(): number {
    return this.byAgentId.size;
  }

  private put(n: V1Node, old: V1Node | undefined): void {
    const agentId = n.metadata?.labels?.[LABEL_AGENT_ID];
    const name = n.metadata?.name ?? '';
    const oldAgent = old?.metadata?.labels?.[LABEL_AGENT_ID];
    if (oldAgent && oldAgent !== agentId && this.byAgentId.get(oldAgent)?.metadata?.name === name) {
      this.byAgentId.delete(oldAgent);
      this.emit({ agentId: oldAgent, nodeName: name });
    }
    if (!agentId) {
      this.agentByName.delete(name);
      return;
    }
    this.byAgentId.set(agentId, n);
    this.agentByName.set(name, agentId);
    if (!old || oldAgent !== agentId || schedulingSignature(old) !== schedulingSignature(n)) this.emit({ agentId, nodeName: name, node: n });
  }

  private remove(n: V1Node): void {
    const name = n.metadata?.name ?? '';
    const agentId = n.metadata?.labels?.[LABEL_AGENT_ID] ?? this.agentByName.get(name);
    this.agentByName.delete(name);
    if (agentId && this.byAgentId.get(agentId)?.metadata?.name === name) {
      this.byAgentId.delete(agentId);
      this.emit({ agentId, nodeName: name });
    }
  }

  private emit(c: NodeChange): void {
    for (const h of this.listeners) h(c);
  }
}
