/**
 * The scheduler's side of the Mesos protocol, per pod, observed in the bench's process (the sandbox runs the scheduler
 * in it): when its pod informer delivered the pod, which offers arrived when, when the ACCEPT with the pod's task left,
 * the executor's TASK_STARTING timestamp and when that update and TASK_RUNNING arrived. Observation only: a second
 * listener on the client's events and the informer, and a wrapper around `client.call` that notes the call and passes
 * it on unchanged.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { SchedulerCall, SchedulerEvent } from '../../src/mesos/api-types.js';
import { podOfTaskId } from '../../src/scheduler/launch.js';
import type { SchedulerService } from '../../src/scheduler/service.js';
import type { MesosTimes } from './real-cost.js';
import { waitUntil } from './waiters.js';

export class MesosTrace {
  /** By pod name (one namespace). */
  readonly pods = new Map<string, MesosTimes>();
  /** Task ids by pod name: every pod with a Mesos task, kube-scheduler's too (kube-mesos accounts those after the fact). */
  readonly taskOf = new Map<string, string>();
  readonly calls = new Map<string, number>();
  private readonly offerAt = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private uninstall: (() => void) | undefined;

  constructor(
    private readonly svc: Pick<SchedulerService, 'client' | 'informer'>,
    private readonly namespace: string,
    private readonly now: () => number = Date.now,
  ) {}

  install(): void {
    const client = this.svc.client;
    const onEvent = (ev: SchedulerEvent) => this.onEvent(ev);
    client.on('event', onEvent);
    const original = client.call.bind(client);
    client.call = (call: SchedulerCall) => {
      this.onCall(call);
      return original(call);
    };
    this.svc.informer.on('add', (pod: V1Pod) => {
      if (pod.metadata?.namespace === this.namespace && pod.metadata.name && !this.times(pod.metadata.name).seen) this.times(pod.metadata.name).seen = this.now();
    });
    this.uninstall = () => {
      client.off('event', onEvent);
      client.call = original;
    };
  }

  stop(): void {
    this.uninstall?.();
    this.uninstall = undefined;
  }

  /** Resolves once `ok()` holds (checked on every Mesos update), or with false after `timeoutMs`. */
  until(ok: () => boolean, timeoutMs: number): Promise<boolean> {
    return waitUntil(this.waiters, ok, timeoutMs);
  }

  private times(name: string): MesosTimes {
    let t = this.pods.get(name);
    if (!t) this.pods.set(name, (t = {}));
    return t;
  }

  private podName(taskId: string): string | undefined {
    const p = podOfTaskId(taskId);
    return p && p.namespace === this.namespace ? p.name : undefined;
  }

  private onCall(call: SchedulerCall): void {
    const at = this.now();
    this.calls.set(call.type, (this.calls.get(call.type) ?? 0) + 1);
    if (call.type !== 'ACCEPT') return;
    const offers = (call.accept.offer_ids ?? []).map((o) => this.offerAt.get(o.value)).filter((x): x is number => x !== undefined);
    for (const op of call.accept.operations ?? []) {
      for (const task of op.type === 'LAUNCH' ? (op.launch?.task_infos ?? []) : []) {
        const name = this.podName(task.task_id.value);
        if (!name) continue;
        this.taskOf.set(name, task.task_id.value);
        const t = this.times(name);
        t.accept ??= at;
        if (offers.length) t.offer ??= Math.max(...offers);
      }
    }
  }

  private onEvent(ev: SchedulerEvent): void {
    const at = this.now();
    if (ev.type === 'OFFERS') {
      for (const o of ev.offers.offers ?? []) this.offerAt.set(o.id.value, at);
      return;
    }
    if (ev.type !== 'UPDATE') return;
    const s = ev.update.status;
    const name = this.podName(s.task_id.value);
    if (!name) return;
    this.taskOf.set(name, s.task_id.value);
    const t = this.times(name);
    if (s.state === 'TASK_STARTING' && t.starting === undefined) {
      t.starting = at;
      if (s.timestamp !== undefined) t.launched = s.timestamp * 1000;
    }
    if (s.state === 'TASK_RUNNING') t.taskRunning ??= at;
    for (const w of [...this.waiters]) w();
  }
}
