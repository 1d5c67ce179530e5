/**
 * Pod events from the informer (upsert, delete), the requeue of a pod whose launch failed, and the Unschedulable
 * reports a cycle's plan produces (rate-limited per pod; held back for a grace period while part of the cluster was not
 * offered). Pods from the informer are read-only.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { podFromV1 } from '../placement/pod.js';
import type { PodDefaults, PodSpecView } from '../placement/types.js';
import type { BoundPods } from './bound-pods.js';
import type { Effects } from './effects.js';
import { isFinished, podKey } from './pods.js';
import type { CoreState } from './state.js';

export interface PodEventsConfig {
  podDefaults: PodDefaults;
  /** Re-report an unchanged unschedulable message at most this often per pod. */
  unschedulableReportIntervalMs: number;
  /** A pod failing while some agents have no offer out is reported only after failing this long (0: at once). */
  unschedulableGraceMs?: number;
}

export class PodEvents {
  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly config: PodEventsConfig,
    private readonly wake: () => void,
    /** Pods bound by someone else; set by the core once built. */
    public bound?: BoundPods,
  ) {}

  /** A pod of this scheduler was added or changed (informer). The object is read-only. */
  upsert(pod: V1Pod): void {
    const s = this.state;
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const prev = s.pods.get(uid);
    s.pods.set(uid, pod);
    const key = podKey(pod);
    s.podUidByKey.set(key, uid);
    if (pod.spec?.nodeName) {
      s.queue.delete(key);
      s.tasks.markBound(uid);
      if (this.bound?.note(pod)) this.wake(); // it needs offers: revive and run a cycle
      return;
    }
    if (pod.metadata?.deletionTimestamp || isFinished(pod)) {
      s.queue.delete(key);
      return;
    }
    if (s.tasks.forPod(uid)) return; // assumed: launch in flight
    if (prev && prev.metadata?.resourceVersion === pod.metadata?.resourceVersion && s.queue.has(key)) return;
    this.requeue(pod);
  }

  delete(pod: V1Pod): void {
    const s = this.state;
    const uid = pod.metadata?.uid;
    if (!uid) return;
    s.pods.delete(uid);
    const key = podKey(pod);
    if (s.podUidByKey.get(key) === uid) s.podUidByKey.delete(key);
    s.failover.podBack(uid);
    this.bound?.forget(pod);
    s.queue.delete(key);
    s.lastUnschedulable.delete(key);
    s.failingSince.delete(key);
    const rec = s.tasks.forPod(uid);
    if (rec) this.fx.send(this.fx.mesos.kill(rec.taskId, rec.agentId), 'kill deleted pod');
    s.queue.moveAllToActive();
    this.wake();
  }

  /** (Back) on the queue; a pod whose spec or annotations cannot be read is reported Unschedulable instead. */
  requeue(pod: V1Pod): void {
    const view = podFromV1(pod, this.config.podDefaults);
    if (!view.ok) {
      this.state.queue.delete(podKey(pod));
      this.reportUnschedulable(pod, view.reason, this.fx.clock.now());
      return;
    }
    if (!this.state.queue.has(view.pod.key)) this.state.lastPodQueuedMs = this.fx.clock.now();
    this.state.queue.upsert(view.pod);
    this.wake();
  }

  /**
   * The pods a cycle's plan found no place for: backed off, and reported — unless the cycle saw only part of the
   * cluster (`partialView`) and the pod has not failed for the grace period yet.
   */
  unschedulable(list: readonly { podKey: string; message: string }[], considered: readonly PodSpecView[], partialView: boolean, now: number): void {
    const s = this.state;
    const byKey = new Map(considered.map((p) => [p.key, p]));
    const grace = this.config.unschedulableGraceMs ?? 0;
    for (const u of list) {
      s.queue.backoff(u.podKey, now);
      const view = byKey.get(u.podKey);
      const pod = view ? s.pods.get(view.uid) : undefined;
      if (!pod) continue;
      if (partialView && grace > 0) {
        const since = s.failingSince.get(u.podKey) ?? now;
        s.failingSince.set(u.podKey, since);
        if (now - since < grace) continue;
      }
      this.reportUnschedulable(pod, u.message, now);
    }
  }

  /** PodScheduled=False and a FailedScheduling event, at most once per interval for an unchanged message. */
  reportUnschedulable(pod: V1Pod, message: string, now: number): void {
    const key = podKey(pod);
    const last = this.state.lastUnschedulable.get(key);
    if (last && last.message === message && now - last.atMs < this.config.unschedulableReportIntervalMs) return;
    this.state.lastUnschedulable.set(key, { message, atMs: now });
    this.fx.note('Warning', 'FailedScheduling', key, message);
    this.fx.send(this.fx.kube.reportUnschedulable(pod, message), 'report unschedulable');
  }
}
