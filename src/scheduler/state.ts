/**
 * The framework's shared state: the pods the informer showed us, the agents Mesos offered, the offers held, the queue,
 * the task and kubelet registry, and the failover and maintenance trackers. Every handler reads and changes this one
 * object; none keeps a second copy. No I/O here: effects go through `Effects`.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { ExecutorInfo, Offer } from '../mesos/types.js';
import type { PodSpecView } from '../placement/types.js';
import { ExecutorLossTracker } from '../failover/executor-loss.js';
import { FailoverManager } from '../failover/manager.js';
import { DEFAULT_FAILOVER_CONFIG, type FailoverConfig } from '../failover/policy.js';
import type { AgentInfo } from './agent-info.js';
import { OfferPool } from './offer-pool.js';
import { SchedulingQueue } from './queue.js';
import type { StorageView } from './claims.js';
import { TaskRegistry } from './tasks.js';
import { PlacedPodIndex, WatchedMap } from './placed-pods.js';
import type { PdbView } from '../placement/preemption.js';

export interface KnownAgent {
  info: AgentInfo;
  lastOfferMs: number;
  /** What its latest offers held (unreserved + reserved), for the dashboard's free resources and the pool's capacity. */
  lastOffered: { cpus: number; mem: number };
}

/** Tasks whose pods failover replaced are remembered this many at most (oldest dropped). */
const REPLACED_TASKS_MAX = 100_000;

export class CoreState {
  readonly queue: SchedulingQueue<PodSpecView>;
  readonly offers = new OfferPool<Offer>();
  readonly tasks = new TaskRegistry();
  readonly agents = new Map<string, KnownAgent>();
  /** A Node's name → its agent. Every write is seen by `placed`. */
  readonly agentByNode = new WatchedMap<string, string>();
  /** Pods bound to a kube-mesos Node by someone else, waiting for a task (bound-pods.ts), by key. */
  readonly boundWaiting = new Map<string, PodSpecView>();
  /** agentId → its kubelet's Node (the Node informer's object; never mutated). */
  readonly nodes = new Map<string, V1Node>();
  /** Every pod of this scheduler the informer has shown us, by uid. Never mutated; every write is seen by `placed`. */
  readonly pods = new WatchedMap<string, V1Pod>();
  /** The pods on each agent as placement sees them, kept current from the writes to `pods`, `agentByNode` and `tasks`. */
  readonly placed = new PlacedPodIndex(this.pods, this.agentByNode);
  readonly podUidByKey = new Map<string, string>();
  /** The last Unschedulable report per pod key (rate limit and the dashboard's reason). */
  readonly lastUnschedulable = new Map<string, { message: string; atMs: number }>();
  /** Pods that found no place while part of the cluster was not offered: since when (ms). */
  readonly failingSince = new Map<string, number>();
  /** agentId → the ExecutorInfo its kubelet runs with. */
  readonly executorInfos = new Map<string, ExecutorInfo>();
  /** Tasks whose pods failover replaced: never adopted again, killed if they come back. Bounded. */
  private readonly replaced = new Set<string>();
  readonly failover: FailoverManager;
  /** Nodes of kubelet executors that died, deleted once empty (scheduler/executor-loss.ts). */
  readonly executorLoss = new ExecutorLossTracker();
  /** Claims, volumes and classes (the storage informers); absent: claims are not looked at (tests without storage). */
  storage: StorageView | undefined;
  /** Mesos volumes whose ACCEPT went out and whose PersistentVolume is not seen yet: persistence id → since (ms). */
  readonly volumesInFlight = new Map<string, number>();
  /** The cluster's PodDisruptionBudgets, as preemption reads them (the PDB informer's latest list). */
  pdbs: readonly PdbView[] = [];
  frameworkId: string | undefined;
  subscribed = false;
  /** No pending pod is launched before this time (the adoption grace after SUBSCRIBED; see FrameworkCoreConfig). */
  launchHoldUntilMs = 0;
  /** When the framework last SUBSCRIBED (ms). */
  subscribedAtMs = -Infinity;
  /** When a pod last joined the queue (ms): while pods keep coming, offers are held (offer-stream.ts `podsArriving`). */
  lastPodQueuedMs = -Infinity;

  constructor(o: { queue?: { initialBackoffMs?: number; maxBackoffMs?: number }; failover?: FailoverConfig; nowMs: number }) {
    this.queue = new SchedulingQueue<PodSpecView>(o.queue);
    this.failover = new FailoverManager(o.failover ?? DEFAULT_FAILOVER_CONFIG, o.nowMs);
    this.tasks.observer = this.placed;
  }

  podByName(namespace: string, name: string): V1Pod | undefined {
    const uid = this.podUidByKey.get(`${namespace}/${name}`);
    return uid ? this.pods.get(uid) : undefined;
  }

  /** The pods of this scheduler on the agent (its tasks' pods), as the informer shows them. */
  podsOn(agentId: string): V1Pod[] {
    return this.tasks.onAgent(agentId).flatMap((t) => this.pods.get(t.podUid) ?? []);
  }

  nodeName(agentId: string): string | undefined {
    return this.agents.get(agentId)?.info.nodeName ?? this.tasks.kubelet(agentId)?.nodeName ?? this.nodes.get(agentId)?.metadata?.name;
  }

  zoneOf(agentId: string): string {
    return this.agents.get(agentId)?.info.zone ?? '';
  }

  /** Id and zone of every agent heard of (failover's health view). */
  agentZones(): { id: string; zone: string }[] {
    return [...this.agents.values()].map((a) => ({ id: a.info.id, zone: a.info.zone ?? '' }));
  }

  markReplaced(taskId: string): void {
    this.replaced.add(taskId);
    if (this.replaced.size > REPLACED_TASKS_MAX) this.replaced.delete(this.replaced.values().next().value!);
  }

  wasReplaced(taskId: string): boolean {
    return this.replaced.has(taskId);
  }
}
