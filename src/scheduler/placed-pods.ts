/**
 * The pods on each agent as placement sees them (PlacedPod), kept between cycles. A cycle's snapshot asks for every
 * agent's pods; rebuilding that from every task and every pod each cycle cost more than the rest of a small cycle (at
 * 100 pods/s, ten cycles a second over thousands of tasks). Here only the agents whose tasks or pods changed since the
 * last look are recomputed, and an unchanged agent keeps its array object, so the snapshot cache can tell it unchanged
 * by identity.
 *
 * What an agent's list holds, in this order (as a full rebuild gives it): the pod of each of its tasks whose pod the
 * informer shows, in task order; then the pods bound to its Node that no task of ours runs ("foreign": bound by someone
 * else, or a pod whose task ended), not finished, in the informer's order. Changes come from the maps themselves:
 * `PodMap` and `WatchedMap` report every write, TaskRegistry reports tasks added and removed.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { PlacedPod } from '../placement/types.js';
import { ANNOTATION_AGENT_ID } from '../names.js';
import { hostPortsOf, isFinished, placedPod } from './pods.js';
import type { TaskRecord } from './tasks.js';

const EMPTY: readonly PlacedPod[] = Object.freeze([]);

/** A Map that calls `onWrite` with the key of every change: a set to another value, a delete (undefined: cleared). */
export class WatchedMap<K, V> extends Map<K, V> {
  onWrite: ((key: K | undefined) => void) | undefined;

  override set(key: K, value: V): this {
    const same = super.get(key) === value && super.has(key);
    super.set(key, value);
    if (!same) this.onWrite?.(key);
    return this;
  }

  override delete(key: K): boolean {
    const had = super.delete(key);
    if (had) this.onWrite?.(key);
    return had;
  }

  override clear(): void {
    super.clear();
    this.onWrite?.(undefined);
  }
}

/** A pod's PlacedPod stays the same object while its pod object, task and host ports do. */
const placedCache = new WeakMap<V1Pod, { task: object | undefined; hostPorts: number[]; placed: PlacedPod }>();

export function placedOnce(pod: V1Pod, hostPorts: number[], task?: Parameters<typeof placedPod>[2]): PlacedPod {
  const hit = placedCache.get(pod);
  if (hit && hit.task === task && (hit.hostPorts === hostPorts || sameNumbers(hit.hostPorts, hostPorts))) return hit.placed;
  const placed = placedPod(pod, hostPorts, task);
  placedCache.set(pod, { task, hostPorts, placed });
  return placed;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class PlacedPodIndex {
  private readonly lists = new Map<string, readonly PlacedPod[]>();
  /** taskId → its record and its position in the registry's order (kept when the id is set again, as a Map keeps it). */
  private readonly taskEntries = new Map<string, { rec: TaskRecord; seq: number }>();
  private readonly tasksOfAgent = new Map<string, Set<string>>();
  /** podUid → the ids of its tasks (normally one). */
  private readonly tasksOfPod = new Map<string, Set<string>>();
  /** Foreign pods: uid → agent, and per agent the uids. */
  private readonly foreignAgent = new Map<string, string>();
  private readonly foreignOf = new Map<string, Set<string>>();
  /** uid → its position in the informer's order (the pods map's insertion order). */
  private readonly podSeq = new Map<string, number>();
  private nextSeq = 0;
  private readonly dirtyAgents = new Set<string>();
  private readonly dirtyPods = new Set<string>();

  constructor(
    private readonly pods: WatchedMap<string, V1Pod>,
    private readonly agentByNode: WatchedMap<string, string>,
  ) {
    for (const uid of pods.keys()) this.podWritten(uid);
    pods.onWrite = (uid) => this.podWritten(uid);
    agentByNode.onWrite = () => this.nodesChanged();
  }

  /** TaskRegistry's hook: a record set under its id (added, or replacing the one before). */
  taskSet(rec: TaskRecord): void {
    const had = this.taskEntries.get(rec.taskId);
    if (had) this.unlink(had.rec);
    this.taskEntries.set(rec.taskId, { rec, seq: had?.seq ?? this.nextSeq++ });
    addTo(this.tasksOfAgent, rec.agentId, rec.taskId);
    addTo(this.tasksOfPod, rec.podUid, rec.taskId);
    this.dirtyAgents.add(rec.agentId);
    this.dirtyPods.add(rec.podUid); // whether the pod counts as foreign may have changed
  }

  /** TaskRegistry's hook: a task id removed. */
  taskDeleted(taskId: string): void {
    const had = this.taskEntries.get(taskId);
    if (!had) return;
    this.taskEntries.delete(taskId);
    this.unlink(had.rec);
  }

  /** The agent's pods (an empty array when none). The same array object as last time while nothing of it changed. */
  forAgent(agentId: string): readonly PlacedPod[] {
    if (this.dirtyAgents.size > 0 || this.dirtyPods.size > 0) this.refresh();
    return this.lists.get(agentId) ?? EMPTY;
  }

  private unlink(rec: TaskRecord): void {
    removeFrom(this.tasksOfAgent, rec.agentId, rec.taskId);
    removeFrom(this.tasksOfPod, rec.podUid, rec.taskId);
    this.dirtyAgents.add(rec.agentId);
    this.dirtyPods.add(rec.podUid);
  }

  private podWritten(uid: string | undefined): void {
    if (uid === undefined) {
      // Cleared: every pod is gone, every agent's list with them.
      this.podSeq.clear();
      for (const id of this.foreignAgent.keys()) this.dirtyPods.add(id);
      for (const id of this.lists.keys()) this.dirtyAgents.add(id);
      return;
    }
    if (!this.pods.has(uid)) this.podSeq.delete(uid);
    else if (!this.podSeq.has(uid)) this.podSeq.set(uid, this.nextSeq++);
    this.dirtyPods.add(uid);
  }

  /** A Node name now names another agent (or none): every bound pod's agent is looked up again. */
  private nodesChanged(): void {
    for (const uid of this.pods.keys()) this.dirtyPods.add(uid);
  }

  private refresh(): void {
    for (const uid of this.dirtyPods) {
      for (const id of this.tasksOfPod.get(uid) ?? []) this.dirtyAgents.add(this.taskEntries.get(id)!.rec.agentId);
      const before = this.foreignAgent.get(uid);
      const after = this.foreignAgentOf(uid);
      if (before === after) {
        if (before !== undefined) this.dirtyAgents.add(before); // the pod object changed
        continue;
      }
      if (before !== undefined) {
        this.foreignAgent.delete(uid);
        removeFrom(this.foreignOf, before, uid);
        this.dirtyAgents.add(before);
      }
      if (after !== undefined) {
        this.foreignAgent.set(uid, after);
        addTo(this.foreignOf, after, uid);
        this.dirtyAgents.add(after);
      }
    }
    this.dirtyPods.clear();
    for (const agentId of this.dirtyAgents) {
      const list = this.listOf(agentId);
      if (list.length > 0) this.lists.set(agentId, list);
      else this.lists.delete(agentId);
    }
    this.dirtyAgents.clear();
  }

  /** The agent a pod is counted on without a task of ours, or undefined. */
  private foreignAgentOf(uid: string): string | undefined {
    const pod = this.pods.get(uid);
    if (!pod || this.tasksOfPod.has(uid) || !pod.spec?.nodeName || isFinished(pod)) return undefined;
    return pod.metadata?.annotations?.[ANNOTATION_AGENT_ID] ?? this.agentByNode.get(pod.spec.nodeName);
  }

  private listOf(agentId: string): PlacedPod[] {
    const out: PlacedPod[] = [];
    const taskIds = this.tasksOfAgent.get(agentId);
    if (taskIds) {
      const entries = [...taskIds].map((id) => this.taskEntries.get(id)!);
      if (entries.length > 1) entries.sort((a, b) => a.seq - b.seq);
      for (const { rec } of entries) {
        const pod = this.pods.get(rec.podUid);
        if (pod) out.push(placedOnce(pod, rec.hostPorts, rec));
      }
    }
    const foreign = this.foreignOf.get(agentId);
    if (foreign) {
      const uids = [...foreign];
      if (uids.length > 1) uids.sort((a, b) => this.podSeq.get(a)! - this.podSeq.get(b)!);
      for (const uid of uids) {
        const pod = this.pods.get(uid)!;
        out.push(placedOnce(pod, hostPortsOf(pod)));
      }
    }
    return out;
  }
}

function addTo(m: Map<string, Set<string>>, key: string, value: string): void {
  let set = m.get(key);
  if (!set) m.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom(m: Map<string, Set<string>>, key: string, value: string): void {
  const set = m.get(key);
  if (set?.delete(value) && set.size === 0) m.delete(key);
}
