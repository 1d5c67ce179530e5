/**
 * Mesos events: SUBSCRIBED and disconnects, OFFERS and rescinds, task status UPDATEs (confirmation, launch failure,
 * loss handed to failover), FAILUREs of agents and executors, the adoption of tasks from before a restart, and
 * inverse offers handed to maintenance. Events dispatch through one switch with an explicit default.
 */
import type { Offer, SchedulerEvent, TaskStatus } from '../mesos/types.js';
import { ANNOTATION_AGENT_ID, ANNOTATION_EXECUTOR_ID, ANNOTATION_TASK_ID } from '../names.js';
import type { MaintenanceManager } from '../pool/maintenance.js';
import { classifyLoss } from '../failover/loss-policy.js';
import { checkAdoption, isKeeperTaskOf } from './adoption.js';
import { agentInfoFromOffer, type AgentInfoOptions } from './agent-info.js';
import type { TaskBinder } from './binder.js';
import type { Effects } from './effects.js';
import type { NodeIdentityIssuer } from './node-identity.js';
import type { ExecutorLossHandler } from './executor-loss.js';
import { podOfTaskId } from './launch.js';
import type { OfferStream } from './offer-stream.js';
import type { PodEvents } from './pod-events.js';
import type { Reconciler } from './reconcile.js';
import { hostPortsOf, isFinished, podKey, requestsOf } from './pods.js';
import type { CoreState } from './state.js';
import type { Volumes } from './volumes.js';
import { isTerminal, type TaskRecord } from './tasks.js';

export class MesosEvents {
  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly parts: { stream: OfferStream; pods: PodEvents; maintenance: MaintenanceManager; loss: ExecutorLossHandler; reconciler: Reconciler; binder: TaskBinder; identity: NodeIdentityIssuer; volumes?: Volumes },
    private readonly config: { agentInfo: AgentInfoOptions; adoptionGraceMs?: number; bindOnAccept?: boolean },
    private readonly wake: () => void,
  ) {}

  handle(ev: SchedulerEvent): void {
    switch (ev.type) {
      case 'SUBSCRIBED':
        return this.subscribed(ev.subscribed.framework_id.value);
      case 'OFFERS':
        return this.offers(ev.offers.offers ?? []);
      case 'RESCIND':
        if (this.state.offers.remove(ev.rescind.offer_id.value)) this.fx.metrics?.offersRescinded(1);
        return;
      case 'UPDATE':
        return this.update(ev.update.status);
      case 'FAILURE':
        return this.failure(ev.failure.agent_id?.value, ev.failure.executor_id?.value);
      case 'ERROR':
        this.fx.log.error({ message: ev.error.message }, 'Mesos master sent ERROR');
        return;
      case 'INVERSE_OFFERS':
        return this.parts.maintenance.onInverseOffers(ev.inverse_offers.inverse_offers ?? []);
      case 'RESCIND_INVERSE_OFFER':
        return this.parts.maintenance.onRescindInverseOffer(ev.rescind_inverse_offer.inverse_offer_id.value);
      case 'MESSAGE':
        return this.parts.identity.onMessage(ev.message.agent_id?.value, ev.message.executor_id?.value, ev.message.data);
      case 'HEARTBEAT':
      case 'UPDATE_OPERATION_STATUS':
        return;
      default: {
        const unknown: never = ev;
        this.fx.log.warn({ event: (unknown as { type: string }).type }, 'ignoring unknown Mesos event');
      }
    }
  }

  subscribed(frameworkId: string): void {
    this.state.frameworkId = frameworkId;
    this.state.subscribed = true;
    this.state.subscribedAtMs = this.fx.clock.now();
    this.state.launchHoldUntilMs = this.fx.clock.now() + (this.config.adoptionGraceMs ?? 0);
    this.parts.stream.subscribed(this.fx.clock.now());
    // Every known task is reconciled (again with backoff until it answers), plus one implicit reconciliation.
    this.parts.reconciler.subscribed(this.fx.clock.now());
    this.wake();
  }

  /** The master removed our framework: say so; the next SUBSCRIBED (a new id) reconciles the old tasks into losses. */
  frameworkRemoved(frameworkId: string, message: string): void {
    this.fx.note('Warning', 'FrameworkRemoved', frameworkId, `Mesos: ${message}; registering as a new framework, the old framework's tasks are gone and their pods will be replaced`);
  }

  /** The subscription broke: offers are void, nothing can be launched until the next SUBSCRIBED. */
  disconnected(): void {
    this.state.subscribed = false;
    this.state.offers.takeAll();
  }

  offers(offers: readonly Offer[]): void {
    const s = this.state;
    const now = this.fx.clock.now();
    const offered = new Map<string, { cpus: number; mem: number }>();
    for (const o of offers) {
      const sum = offered.get(o.agent_id.value) ?? { cpus: 0, mem: 0 };
      for (const r of o.resources ?? []) {
        if (r.name === 'cpus') sum.cpus += r.scalar?.value ?? 0;
        if (r.name === 'mem') sum.mem += r.scalar?.value ?? 0;
      }
      offered.set(o.agent_id.value, sum);
    }
    for (const o of offers) {
      const info = agentInfoFromOffer(o, this.config.agentInfo);
      s.agents.set(info.id, { info, lastOfferMs: now, lastOffered: offered.get(info.id)! });
      s.agentByNode.set(info.nodeName, info.id);
      s.offers.add(o, now);
      if (s.failover.agentBack(info.id)) this.fx.note('Normal', 'AgentBack', info.nodeName, `agent ${info.id} offers again`);
      this.adoptRunningExecutor(info.id, info.nodeName, o.executor_ids?.map((e) => e.value) ?? [], now);
      this.parts.binder.agentKnown(info.id);
    }
    this.fx.metrics?.offersReceived(offers.length);
    if (offers.length > 0) this.parts.stream.offersArrived(now);
    if (offers.length > 0 && s.queue.moveAllToActive() >= 0) this.wake();
  }

  update(status: TaskStatus): void {
    const s = this.state;
    const fx = this.fx;
    if (status.uuid && status.uuid.length > 0) fx.send(fx.mesos.acknowledge(status), 'acknowledge');
    const now = fx.clock.now();
    const taskId = status.task_id.value;
    this.parts.reconciler.answered(taskId);
    fx.metrics?.taskState(status.state);
    // An agent thought lost speaks again (a task RUNNING there, or any update its agent or executor sent): it is back,
    // even when none of our tasks is left on it and offers are suppressed, so that no offer would ever say so.
    const from = status.agent_id?.value;
    if (from && s.failover.isAgentLost(from) && (status.source !== 'SOURCE_MASTER' || status.state === 'TASK_RUNNING' || status.state === 'TASK_STARTING') && s.failover.agentBack(from)) {
      fx.note('Normal', 'AgentBack', s.nodeName(from) ?? from, `agent ${from} sent ${status.state} for task ${taskId}`);
    }
    const out = s.tasks.applyUpdate({ taskId, state: status.state, agentId: status.agent_id?.value }, now);
    // A Binding still waiting for this task would bind its pod to a Node where nothing runs it.
    if (out.kind === 'launch-failed' || out.kind === 'terminal') this.parts.binder.taskEnded(taskId, out.record.agentId);
    switch (out.kind) {
      case 'unknown-task':
        if (!isTerminal(status.state)) this.adoptOrKill(status, now);
        else if (classifyLoss(status.state, status.reason) === 'gone') this.forceDeleteReplaced(taskId);
        return;
      case 'progress': {
        const rec = out.record;
        const k = s.tasks.kubelet(rec.agentId);
        if (k && k.state === 'launching') {
          s.tasks.kubeletRunning(k.agentId, k.executorId);
          fx.metrics?.kubeletStarted?.((now - k.launchedAtMs) / 1000);
        }
        if (status.state === 'TASK_UNREACHABLE' || status.state === 'TASK_UNKNOWN') {
          this.taskLost(rec, status, false, now);
          return;
        }
        if (s.failover.isAgentLost(rec.agentId) && (status.state === 'TASK_RUNNING' || status.state === 'TASK_STARTING')) {
          s.failover.agentBack(rec.agentId);
          fx.note('Normal', 'AgentBack', rec.agentId, `task ${taskId} is ${status.state} again`);
        }
        s.failover.podBack(rec.podUid);
        // The task reached its agent: the scheduler binds the pod (once; binder.ts), which also reports Scheduled; the
        // volumes made with its launch exist, and get their PersistentVolumes.
        if (status.state === 'TASK_STARTING' || status.state === 'TASK_RUNNING') {
          if (out.firstConfirmation) fx.metrics?.taskReached?.(Math.max(0, now - rec.launchedAtMs) / 1000);
          this.parts.volumes?.taskReached(taskId);
          this.parts.binder.taskStarted(rec);
        }
        return;
      }
      case 'launch-failed': {
        this.parts.volumes?.launchFailed(taskId);
        const pod = s.pods.get(out.record.podUid);
        fx.log.info({ pod: out.record.podKey, taskId, state: status.state, reason: status.reason, message: status.message }, 'launch failed before binding: re-queueing');
        fx.metrics?.kubeletLaunchFailed?.(status.reason ?? 'REASON_UNKNOWN');
        fx.note('Warning', 'FailedLaunch', out.record.podKey, `task ${taskId} ended ${status.state} before binding: ${status.message ?? status.reason ?? ''}`);
        if (pod) {
          fx.send(fx.kube.reportWarning(pod, 'FailedLaunch', `task ${taskId} ended ${status.state} (${status.reason ?? 'no reason'}): ${status.message ?? ''}`.trim()), 'FailedLaunch event');
          this.parts.pods.requeue(pod);
          // Back off like a pod that did not fit: a launch that keeps failing must not spin (a new offer ends it early).
          s.queue.backoff(out.record.podKey, now);
        }
        this.wake();
        return;
      }
      case 'terminal':
        this.parts.volumes?.launchFailed(taskId); // ended unseen (a kill, a loss): no PersistentVolume for what it carried
        if (!out.record.reached && this.config.bindOnAccept) {
          // Bound on the ACCEPT's answer, and the launch failed before the task reached its agent (TASK_DROPPED, ERROR,
          // FAILED): nothing will run the pod on that Node.
          const nodeName = s.nodeName(out.record.agentId) ?? out.record.agentId;
          fx.log.info({ pod: out.record.podKey, taskId, state: status.state, reason: status.reason, message: status.message }, 'launch failed after binding');
          fx.note('Warning', 'FailedLaunch', out.record.podKey, `task ${taskId} ended ${status.state} before reaching its agent: ${status.message ?? status.reason ?? ''}`);
          this.parts.binder.boundWithoutTask(out.record, nodeName, `bound to ${nodeName}, and its task ${taskId} ended ${status.state} before reaching the agent`);
          this.wake();
          return;
        }
        if (this.parts.loss.taskEnded(out.record, status, now)) {
          s.queue.moveAllToActive();
          return;
        }
        if (classifyLoss(status.state, status.reason) !== undefined) {
          this.taskLost(out.record, status, classifyLoss(status.state, status.reason) === 'gone', now);
        } else {
          s.failover.podBack(out.record.podUid);
          if (status.state !== 'TASK_FINISHED' && status.state !== 'TASK_KILLED') fx.note('Warning', status.state, out.record.podKey, `task ${taskId}: ${status.message ?? status.reason ?? ''}`);
        }
        // The pod's own status tells the story (the executor follows it); failover decides about replacements.
        s.queue.moveAllToActive();
        this.wake();
        return;
    }
  }

  failure(agentId: string | undefined, executorId: string | undefined): void {
    const s = this.state;
    if (agentId && executorId) {
      const gone = s.tasks.kubeletGone(agentId, executorId);
      if (gone) {
        this.fx.note('Warning', 'KubeletGone', gone.nodeName, `executor ${executorId} terminated`);
        s.executorInfos.delete(agentId);
        this.fx.log.warn({ agentId, executorId }, 'kubelet executor terminated');
        this.parts.loss.executorGone(agentId, executorId, gone.nodeName, this.fx.clock.now());
      }
    } else if (agentId) {
      this.fx.log.warn({ agentId }, 'agent lost');
      this.fx.note('Warning', 'AgentLost', s.agents.get(agentId)?.info.nodeName ?? agentId, `agent ${agentId} is unreachable`);
      s.offers.dropAgent(agentId);
      s.failover.agentLost(agentId, this.fx.clock.now());
      this.wake();
    }
  }

  /**
   * After the pod informer synced (a restart, a new leader): adopt every task the pods' annotations name, and the
   * kubelets running them, so nothing running is killed or launched twice. Reconciled on the next SUBSCRIBED.
   */
  adoptFromPods(): number {
    const s = this.state;
    const now = this.fx.clock.now();
    let n = 0;
    for (const pod of s.pods.values()) {
      const a = pod.metadata?.annotations ?? {};
      const taskId = a[ANNOTATION_TASK_ID];
      const agentId = a[ANNOTATION_AGENT_ID];
      const executorId = a[ANNOTATION_EXECUTOR_ID];
      if (!taskId || !agentId || !executorId || isFinished(pod) || s.tasks.get(taskId)) continue;
      const check = checkAdoption(pod, taskId, { requireBound: true, agentNodeName: s.tasks.kubelet(agentId)?.nodeName });
      if (!check.ok) {
        this.fx.log.warn({ pod: podKey(pod), taskId, reason: check.reason }, 'not adopting the task a pod names');
        this.fx.note('Warning', 'NotAdopted', podKey(pod), check.reason);
        continue;
      }
      if (!s.tasks.kubelet(agentId)) {
        s.tasks.launchKubelet(agentId, executorId, pod.spec?.nodeName ?? agentId, now);
        s.tasks.kubeletRunning(agentId, executorId);
      }
      s.tasks.adopt({ taskId, podKey: podKey(pod), podUid: pod.metadata!.uid!, agentId, executorId, state: 'TASK_RUNNING', bound: true, launchedAtMs: now, lastUpdateMs: now, ...requestsOf(pod), hostPorts: hostPortsOf(pod) }, { unconfirmed: true });
      n++;
    }
    return n;
  }

  /**
   * An offer lists the framework's executors running on its agent (Offer.executor_ids). One we do not know is a kubelet
   * from before a restart (a warm one whose keeper task is not adopted yet): adopt it rather than start a second
   * executor for the same Node.
   */
  private adoptRunningExecutor(agentId: string, nodeName: string, executorIds: readonly string[], now: number): void {
    const s = this.state;
    const ours = executorIds.filter((e) => e.startsWith(`kubelet.${agentId}.`));
    if (ours.length === 0) return;
    const k = s.tasks.kubelet(agentId);
    if (k) {
      for (const other of ours) if (other !== k.executorId) this.fx.log.warn({ agentId, known: k.executorId, other }, 'a second kubelet executor of this framework runs on the agent');
      return;
    }
    s.tasks.launchKubelet(agentId, ours[0], nodeName, now);
    s.tasks.kubeletRunning(agentId, ours[0]);
    this.fx.note('Normal', 'KubeletAdopted', nodeName, `kubelet executor ${ours[0]} found running on agent ${agentId}: adopted`);
  }

  /** TASK_GONE for a task whose pod failover replaced with a graceful delete: the pod object may stay Terminating. */
  private forceDeleteReplaced(taskId: string): void {
    const s = this.state;
    if (!s.wasReplaced(taskId)) return;
    const ref = podOfTaskId(taskId);
    const pod = ref ? s.podByName(ref.namespace, ref.name) : undefined;
    if (!pod || !pod.metadata?.deletionTimestamp || pod.metadata.annotations?.[ANNOTATION_TASK_ID] !== taskId) return;
    this.fx.note('Normal', 'TaskGone', podKey(pod), `task ${taskId} is gone: the Terminating pod is removed`);
    this.fx.send(this.fx.kube.deletePod(pod, 0), 'delete pod of a gone task');
  }

  /** A bound pod's task is unreachable, lost or gone: failover decides when to replace the pod. */
  private taskLost(rec: TaskRecord, status: TaskStatus, gone: boolean, now: number): void {
    const s = this.state;
    const pod = s.pods.get(rec.podUid);
    if (status.reason === 'REASON_AGENT_REMOVED' || status.reason === 'REASON_AGENT_DISCONNECTED' || status.state === 'TASK_UNREACHABLE' || gone) {
      s.failover.agentLost(rec.agentId, now);
    }
    this.fx.note('Warning', status.state, rec.podKey, `task ${rec.taskId} on agent ${rec.agentId}: ${status.message ?? status.reason ?? ''}`);
    if (!pod || !rec.bound) return;
    const r = s.failover.podLost(pod, rec.agentId, s.zoneOf(rec.agentId), gone, now);
    if (!r.ok) this.fx.send(this.fx.kube.reportWarning(pod, 'InvalidAnnotation', r.error), 'invalid failover-after');
    this.wake();
  }

  /**
   * An update for a task the registry does not know. If it names a pod we have (same namespace, name and uid) whose
   * binding does not point elsewhere, it is ours from before a restart: adopt it. Otherwise it is an orphan: kill it.
   */
  private adoptOrKill(status: TaskStatus, now: number): void {
    const s = this.state;
    const taskId = status.task_id.value;
    const agentId = status.agent_id?.value;
    const executorId = status.executor_id?.value;
    if (agentId && executorId && isKeeperTaskOf(taskId, agentId) && !s.wasReplaced(taskId)) return this.adoptKeeper(taskId, agentId, executorId, status.state, now);
    const ref = podOfTaskId(taskId);
    const pod = ref ? s.podByName(ref.namespace, ref.name) : undefined;
    const check = pod ? checkAdoption(pod, taskId, { requireBound: false, agentNodeName: agentId ? s.nodeName(agentId) : undefined }) : { ok: false as const, reason: 'no such pod' };
    const annotated = pod?.metadata?.annotations?.[ANNOTATION_TASK_ID];
    const boundElsewhere = pod?.spec?.nodeName !== undefined && annotated !== undefined && annotated !== taskId;
    if (pod && check.ok && agentId && !s.wasReplaced(taskId) && !boundElsewhere && !isFinished(pod) && !pod.metadata?.deletionTimestamp) {
      const exec = executorId ?? pod.metadata?.annotations?.[ANNOTATION_EXECUTOR_ID] ?? '';
      const rec: TaskRecord = { taskId, podKey: podKey(pod), podUid: pod.metadata!.uid!, agentId, executorId: exec, state: status.state, bound: Boolean(pod.spec?.nodeName), launchedAtMs: now, lastUpdateMs: now, ...requestsOf(pod), hostPorts: hostPortsOf(pod) };
      s.tasks.adopt(rec);
      s.queue.delete(podKey(pod));
      this.fx.log.info({ taskId, pod: podKey(pod), bound: rec.bound }, 'adopted a running task');
      // Launched by an earlier leader whose Binding never happened (it stopped in between): bind it now, and write the
      // PersistentVolumes of volumes its launch made that it had not written yet.
      if (status.state === 'TASK_STARTING' || status.state === 'TASK_RUNNING') {
        this.parts.volumes?.adoptedTask(pod, agentId);
        this.parts.binder.taskStarted(rec);
      }
      return;
    }
    this.fx.log.warn({ taskId, state: status.state, reason: check.ok ? undefined : check.reason }, 'update for a task no pod claims: killing it');
    this.fx.note('Warning', 'OrphanTask', taskId, `task ${taskId} (${status.state}) belongs to no pod: killed`);
    this.fx.send(this.fx.mesos.kill(taskId, agentId), 'kill orphan');
  }

  /** A warm-pool keeper task from before a restart: adopt it and its kubelet (never a second executor there). */
  private adoptKeeper(taskId: string, agentId: string, executorId: string, state: string, now: number): void {
    const s = this.state;
    const k = s.tasks.kubelet(agentId);
    if (k && k.executorId !== executorId) {
      // Another kubelet already serves this agent's Node: this keeper's executor would be a second one.
      this.fx.note('Warning', 'OrphanTask', taskId, `keeper task ${taskId} of executor ${executorId}: agent ${agentId} already has kubelet ${k.executorId}; killed`);
      this.fx.send(this.fx.mesos.kill(taskId, agentId), 'kill duplicate keeper');
      return;
    }
    const nodeName = s.nodeName(agentId) ?? agentId;
    if (!k) {
      s.tasks.launchKubelet(agentId, executorId, nodeName, now);
      s.tasks.kubeletRunning(agentId, executorId);
    }
    s.tasks.adopt({ taskId, podKey: `kubelet/${nodeName}`, podUid: `keeper:${agentId}`, agentId, executorId, state, bound: true, launchedAtMs: now, lastUpdateMs: now, cpus: 0.01, mem: 1, disk: 0, hostPorts: [] });
    this.fx.log.info({ taskId, agentId, executorId }, 'adopted a warm-pool keeper task and its kubelet');
  }
}
