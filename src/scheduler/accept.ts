/**
 * The cycle's last step: assume each placement in the task registry, start the agent's kubelet executor with its first
 * pod, and send one ACCEPT with LAUNCH operations per agent. An ACCEPT the master refused is undone: the assumed
 * tasks are forgotten and their pods re-queued. An ACCEPT that may have been applied (the connection dropped, no
 * answer) is not: its tasks stay assumed and are reconciled at once, so a pod is never launched a second time while its
 * first task may run; its offers are declined (a no-op for offers the master used), so they come back if it was not.
 * Also starts warm kubelets (pool.minPerZone) the same way.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { reservationRole, scalar } from '../mesos/resources.js';
import type { Placement } from '../placement/types.js';
import { LABEL_KUBELET_KEEPER } from '../names.js';
import { canAddKubelet, type KubeletCounts, type PoolConfig } from '../pool/planner.js';
import { MesosHttpError, NotSubscribedError } from '../mesos/errors.js';
import type { Offer } from '../mesos/types.js';
import type { Effects } from './effects.js';
import { buildExecutorInfo, buildTaskInfo, carveTaskResources, executorIdFor, taskIdFor, type ExecutorConfig } from './launch.js';
import type { OfferStream } from './offer-stream.js';
import { offersOfOneRole } from './offer-roles.js';
import type { CoreState } from './state.js';
import type { TaskRecord } from './tasks.js';
import type { NewVolume } from './volume-plan.js';
import type { Volumes } from './volumes.js';
import type { OfferOperation } from '../mesos/types.js';

/** What a warm kubelet's keeper task holds: next to nothing, the executor's own resources are what count. */
const KEEPER_RESOURCES = { cpus: 0.01, mem: 1, disk: 0 };

export interface LauncherConfig {
  executor: ExecutorConfig;
  pool: PoolConfig;
}

export class Launcher {
  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly stream: OfferStream,
    private readonly config: LauncherConfig,
    private readonly requeue: (pod: V1Pod) => void,
    /** Asks the master for these tasks' state now (reconciliation). */
    private readonly reconcileNow: (tasks: readonly { taskId: string; agentId: string }[]) => void,
    /** Mesos volumes for pods' claims (RESERVE + CREATE before the LAUNCH, the volume in the task). */
    private readonly volumes?: Volumes,
    /** placement.bindOnAccept: binds a launched task's pod once the master accepted the launch. */
    private readonly bindOnAccept?: (rec: TaskRecord) => void,
  ) {}

  /**
   * Assumes each placement and sends one ACCEPT per agent. Returns the number of ACCEPT calls. `counts` (the pool's
   * kubelets) is updated as new kubelets start.
   */
  launch(placements: readonly Placement[], counts: KubeletCounts, now: number): number {
    const s = this.state;
    const byAgent = new Map<string, Placement[]>();
    for (const p of placements) {
      let list = byAgent.get(p.agentId);
      if (!list) byAgent.set(p.agentId, (list = []));
      list.push(p);
    }
    let accepts = 0;
    for (const [agentId, list] of byAgent) {
      const agent = s.agents.get(agentId);
      if (!agent) continue;
      const existing = s.tasks.kubelet(agentId);
      if (!existing && !canAddKubelet(agent.info.zone ?? '', counts, this.config.pool)) {
        // plan() placed several pods on new kubelets in one cycle beyond pool.max: these wait for the next cycle.
        for (const p of list) s.queue.backoff(p.podKey, now);
        continue;
      }
      const offers = s.offers.take(offersOfOneRole(s.offers.forAgent(agentId)));
      if (offers.length === 0) continue;
      let executor = s.executorInfos.get(agentId);
      if (!executor || !existing) {
        // An adopted kubelet (after a restart) keeps its executor id: the ExecutorInfo is rebuilt the same way.
        const executorId = existing?.executorId ?? executorIdFor(agentId, now);
        executor = buildExecutorInfo({ agent: agent.info, executorId, frameworkId: s.frameworkId!, config: this.config.executor, role: list[0].role, offers });
        s.executorInfos.set(agentId, executor);
        if (!existing) {
          s.tasks.launchKubelet(agentId, executorId, agent.info.nodeName, now);
          counts.total++;
          counts.perZone.set(agent.info.zone ?? '', (counts.perZone.get(agent.info.zone ?? '') ?? 0) + 1);
          this.fx.note('Normal', 'KubeletLaunched', agent.info.nodeName, `kubelet executor ${executorId} launched with the first pod on agent ${agentId}`);
          this.fx.metrics?.kubeletLaunched?.();
        }
      }
      const k = s.tasks.kubelet(agentId)!;
      const remaining = carveTaskResources.start(offers, k.state === 'launching' && k.taskIds.size === 0 ? executor : undefined);
      const taskInfos = [];
      const assumed: TaskRecord[] = [];
      const volumeOps: OfferOperation[] = [];
      const created: [taskId: string, volumes: NewVolume[]][] = [];
      for (const p of list) {
        const view = s.queue.get(p.podKey) ?? s.boundWaiting.get(p.podKey);
        const pod = view ? s.pods.get(view.uid) : undefined;
        if (!view || !pod) continue;
        const before = remaining.remaining;
        const vols = this.volumes?.forLaunch(remaining.remaining, view.uid, p);
        if (vols && !vols.ok) {
          this.fx.log.warn({ pod: p.podKey, agentId, reason: vols.reason }, 'the pod\'s volumes do not fit the offers: re-queueing');
          this.fx.send(this.fx.kube.reportWarning(pod, 'FailedVolumeCreate', `Mesos volume on agent ${agentId}: ${vols.reason}`), 'report volume failure');
          s.queue.backoff(p.podKey, now);
          continue;
        }
        if (vols) remaining.remaining = vols.remaining;
        const carved = carveTaskResources.take(remaining, p);
        if (!carved.ok) {
          remaining.remaining = before;
          this.fx.log.error({ pod: p.podKey, agentId, reason: carved.reason }, 'placement does not fit the offers (bug): re-queueing');
          s.queue.backoff(p.podKey, now);
          continue;
        }
        const taskId = taskIdFor(view);
        if (vols) {
          volumeOps.push(...vols.operations);
          if (vols.created.length > 0) created.push([taskId, vols.created]);
        }
        taskInfos.push(buildTaskInfo({ taskId, agentId, pod, view, resources: vols ? [...carved.resources, ...vols.taskVolumes] : carved.resources, executor }));
        const rec = { taskId, podKey: view.key, podUid: view.uid, agentId, executorId: executor.executor_id.value, launchedAtMs: now, cpus: p.res.cpus, mem: p.res.mem, disk: p.res.disk, hostPorts: p.hostPorts };
        assumed.push(s.tasks.assume(rec, now));
        s.queue.delete(view.key);
        s.boundWaiting.delete(view.key);
        s.lastUnschedulable.delete(view.key);
        s.failingSince.delete(view.key);
      }
      const offerIds = offers.map((o) => o.id.value);
      if (taskInfos.length === 0) {
        this.stream.decline(offers, this.stream.refuseSeconds());
        continue;
      }
      accepts++;
      // What comes back of this agent at the next allocation: what a pod that prefers it may wait for (preferences.ts).
      agent.lastOffered = { cpus: scalar(remaining.remaining, 'cpus'), mem: scalar(remaining.remaining, 'mem') };
      this.fx.metrics?.offersAccepted(offerIds.length);
      this.fx.metrics?.launches(taskInfos.length);
      for (const [taskId, volumes] of created) this.volumes?.sending(taskId, agentId, volumes, now);
      const accept = this.fx.mesos.accept(offerIds, [...volumeOps, { type: 'LAUNCH', launch: { task_infos: taskInfos } }], this.stream.refuseSeconds());
      this.fx.send(
        accept.then(
          // The volumes' PersistentVolumes wait for their task to reach the agent (volumes.ts); the Binding may not.
          () => {
            if (!this.bindOnAccept) return;
            for (const rec of assumed) {
              const live = s.tasks.get(rec.taskId);
              if (live && !live.bound) this.bindOnAccept(live);
            }
          },
          (err: unknown) => {
            if (!refused(err)) return this.inDoubt(offers, assumed, err); // volumes stay in flight: they may exist
            for (const [taskId] of created) this.volumes?.launchFailed(taskId);
            this.undo(agentId, assumed, err);
          },
        ),
        'accept',
      );
    }
    return accepts;
  }

  /** Starts a kubelet with no pod on it (pool.minPerZone): the executor with a tiny keeper task that holds it up. */
  launchWarmKubelet(agentId: string, now: number): void {
    const s = this.state;
    const agent = s.agents.get(agentId);
    if (!agent || s.tasks.kubelet(agentId)) return;
    const offers = s.offers.take(offersOfOneRole(s.offers.forAgent(agentId)));
    if (offers.length === 0) return;
    const role = offers.flatMap((o) => o.resources ?? []).map((r) => reservationRole(r))[0] ?? '*';
    const executorId = executorIdFor(agentId, now);
    const executor = buildExecutorInfo({ agent: agent.info, executorId, frameworkId: s.frameworkId!, config: this.config.executor, role, offers });
    const carving = carveTaskResources.start(offers, executor);
    const carved = carveTaskResources.take(carving, { role, res: KEEPER_RESOURCES, hostPorts: [] });
    if (!carved.ok) {
      this.stream.decline(offers, this.stream.refuseSeconds());
      return;
    }
    const taskId = `kubelet.${agentId}.${now.toString(36)}`;
    s.executorInfos.set(agentId, executor);
    s.tasks.launchKubelet(agentId, executorId, agent.info.nodeName, now);
    s.tasks.assume({ taskId, podKey: `kubelet/${agent.info.nodeName}`, podUid: `keeper:${agentId}`, agentId, executorId, launchedAtMs: now, ...KEEPER_RESOURCES, hostPorts: [] }, now);
    this.fx.note('Normal', 'KubeletLaunched', agent.info.nodeName, `warm kubelet ${executorId} (pool.minPerZone) on agent ${agentId}`);
    this.fx.metrics?.kubeletLaunched?.();
    const task = {
      name: `kubelet keeper ${agent.info.nodeName}`,
      task_id: { value: taskId },
      agent_id: { value: agentId },
      resources: carved.resources,
      executor,
      labels: { labels: [{ key: LABEL_KUBELET_KEEPER, value: 'true' }] },
    };
    const accept = this.fx.mesos.accept(offers.map((o) => o.id.value), [{ type: 'LAUNCH', launch: { task_infos: [task] } }], this.stream.refuseSeconds());
    this.fx.send(
      accept.catch((err: unknown) => {
        this.fx.log.warn({ err, agentId }, 'warm kubelet launch failed');
        s.tasks.forget(taskId, this.fx.clock.now());
        s.tasks.kubeletGone(agentId, executorId);
        s.executorInfos.delete(agentId);
      }),
      'launch warm kubelet',
    );
  }

  /** The master may have applied the launch: keep the tasks assumed and ask for their state; give the offers back. */
  private inDoubt(offers: readonly Offer[], assumed: readonly TaskRecord[], err: unknown): void {
    this.fx.log.warn({ err, tasks: assumed.map((r) => r.taskId) }, 'ACCEPT unanswered: reconciling its tasks before any relaunch');
    this.stream.decline(offers, 0);
    this.reconcileNow(assumed.map((r) => ({ taskId: r.taskId, agentId: r.agentId })));
  }

  /** The master never got the launch: forget the assumed tasks and try the pods again. */
  private undo(agentId: string, assumed: readonly TaskRecord[], err: unknown): void {
    const s = this.state;
    this.fx.log.warn({ err, agentId, pods: assumed.length }, 'ACCEPT failed: re-queueing its pods');
    const t = this.fx.clock.now();
    for (const rec of assumed) {
      s.tasks.forget(rec.taskId, t);
      const pod = s.pods.get(rec.podUid);
      if (pod && !pod.spec?.nodeName) this.requeue(pod);
    }
    const k = s.tasks.kubelet(agentId);
    if (k && k.taskIds.size === 0 && k.state === 'launching') {
      s.tasks.kubeletGone(agentId, k.executorId);
      s.executorInfos.delete(agentId);
    }
  }
}

/** The master certainly did not apply the call: it answered 4xx or 503, or it was never sent. */
function refused(err: unknown): boolean {
  if (err instanceof NotSubscribedError) return true;
  return err instanceof MesosHttpError && ((err.status >= 400 && err.status < 500) || err.status === 503);
}
