import type { V1Pod } from '@kubernetes/client-node';
import { Backoff, sleep } from '../time/backoff.js';
import type { AgentInfo, ExecutorEvent, KillPolicy, TaskInfo, TaskStatus, TaskStatusReason } from '../mesos/types.js';
import { isTerminalTaskState } from '../mesos/types.js';
import { silentLogger, type Logger } from '../telemetry/log.js';
import type { ExecutorEnv } from './env.js';
import type { KubeletApi } from './kube-api.js';
import type { ExecutorMetrics } from './metrics.js';
import { isNewTaskState, podTaskState, type PodTaskState } from './pod-state.js';
import type { PodEvent, PodSource } from './pod-source.js';
import { ANNOTATION_AGENT_ID, ANNOTATION_EXECUTOR_ID, ANNOTATION_TASK_ID, LABEL_KUBELET_KEEPER, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../names.js';

/** A task with this label (value "true") is no pod: it keeps a warm kubelet's executor alive (pool.minPerZone). */
export const KEEPER_LABEL = LABEL_KUBELET_KEEPER;

export const POD_LABELS = { namespace: LABEL_POD_NAMESPACE, name: LABEL_POD_NAME, uid: LABEL_POD_UID } as const;
export const POD_ANNOTATIONS = { taskId: ANNOTATION_TASK_ID, agentId: ANNOTATION_AGENT_ID, executorId: ANNOTATION_EXECUTOR_ID } as const;

export type ExecutorStatusUpdate = Omit<TaskStatus, 'uuid' | 'source' | 'executor_id' | 'agent_id'>;

/** The Mesos side as the executor needs it; src/mesos/executor.ts's ExecutorClient satisfies it. */
export interface ExecutorDriver {
  on(event: 'event', h: (ev: ExecutorEvent) => void): unknown;
  on(event: 'exit', h: (reason: string) => void): unknown;
  start(): void;
  stop(): Promise<void>;
  update(status: ExecutorStatusUpdate): Promise<void>;
}

/** The kubelet the executor runs for its node (hollow mode: a HollowKubelet in this process). */
export interface Kubelet {
  start(): void;
  stop(): Promise<void>;
}

export interface KubeletExecutorOptions {
  config: Pick<ExecutorEnv, 'nodeName' | 'noTaskStarting'>;
  driver: ExecutorDriver;
  api: KubeletApi;
  pods: PodSource;
  /** Creates the kubelet once SUBSCRIBED arrives. */
  /** Builds the kubelet once SUBSCRIBED tells which agent this is (its total resources size the Node). */
  kubelet: (agent?: AgentInfo) => Kubelet;
  /** Fallbacks until SUBSCRIBED tells (MESOS_EXECUTOR_ID; agent id from the env). */
  executorId?: string;
  agentId?: string;
  /** How long SHUTDOWN waits for pods to go before sending final updates anyway. */
  shutdownTimeoutMs?: number;
  log?: Logger;
  metrics?: ExecutorMetrics;
  random?: () => number;
}

export interface ExecutorExit {
  code: number;
  reason: string;
}

interface Task {
  taskId: string;
  namespace: string;
  name: string;
  uid: string;
  killPolicy?: KillPolicy;
  /** 'binding': TASK_STARTING sent, waiting for the scheduler's Binding to show on the pod. */
  phase: 'binding' | 'bound' | 'done';
  killRequested: boolean;
  /** A warm-pool keeper task: RUNNING until killed, no pod behind it. */
  keeper?: boolean;
  last?: PodTaskState;
  launchedAtMs?: number;
  /** Updates of one task go out in order. */
  chain: Promise<void>;
}

type Reason = TaskStatusReason;

/**
 * The kubelet executor: reports each launched pod's task TASK_STARTING (the scheduler then binds the pod to this node),
 * follows the pod once it is bound here and reports its state as task updates; KILL deletes the pod gracefully;
 * SHUTDOWN drains. It never writes a Binding: it runs as its node (`system:node:<name>`). Lifecycle: run(signal).
 */
export class KubeletExecutor {
  private readonly log: Logger;
  private readonly nodeName: string;
  private readonly tasks = new Map<string, Task>();
  private readonly byUid = new Map<string, string>();
  private executorId: string | undefined;
  private agentId: string | undefined;
  private kubelet: Kubelet | undefined;
  private unsubscribe: (() => void) | undefined;
  private finish!: (exit: ExecutorExit) => void;
  private shuttingDown = false;
  /** Set while SHUTDOWN waits for pods to go. */
  private onTaskDone: (() => void) | undefined;
  private readonly random: () => number;

  constructor(private readonly opts: KubeletExecutorOptions) {
    if (!opts.config?.nodeName) throw new TypeError('KubeletExecutor: config.nodeName is required');
    if (!opts.driver || !opts.api || !opts.pods || !opts.kubelet) throw new TypeError('KubeletExecutor: driver, api, pods and kubelet are required');
    this.nodeName = opts.config.nodeName;
    this.executorId = opts.executorId;
    this.agentId = opts.agentId;
    this.random = opts.random ?? Math.random;
    this.log = (opts.log ?? silentLogger()).child({ component: 'executor', node: this.nodeName });
  }

  /** Runs until SHUTDOWN (code 0), the driver gives up (code 1) or `signal` aborts (code 0, pods left running). */
  async run(signal: AbortSignal): Promise<ExecutorExit> {
    const done = new Promise<ExecutorExit>((resolve) => (this.finish = resolve));
    const onAbort = () => this.finish({ code: 0, reason: `stopped: ${String((signal.reason as Error | undefined)?.message ?? 'signal')}` });
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.opts.driver.on('event', (ev) => this.onEvent(ev));
    this.opts.driver.on('exit', (reason) => {
      if (!this.shuttingDown) this.finish({ code: 1, reason });
    });
    this.unsubscribe = this.opts.pods.watchNode(this.nodeName, (ev) => this.onPod(ev));
    this.opts.driver.start();
    const exit = await done;
    signal.removeEventListener('abort', onAbort);
    this.unsubscribe?.();
    await this.kubelet?.stop().catch((err: unknown) => this.log.warn({ err }, 'kubelet stop failed'));
    await Promise.allSettled([...this.tasks.values()].map((t) => t.chain));
    await this.opts.driver.stop().catch((err: unknown) => this.log.warn({ err }, 'driver stop failed'));
    this.log.info(exit, 'executor exiting');
    return exit;
  }

  /** Tasks by id with their last reported state (for tests and /debug). */
  get taskStates(): Record<string, string | undefined> {
    return Object.fromEntries([...this.tasks].map(([id, t]) => [id, t.last?.state]));
  }

  private onEvent(ev: ExecutorEvent): void {
    switch (ev.type) {
      case 'SUBSCRIBED':
        this.executorId = ev.subscribed.executor_info?.executor_id?.value ?? this.executorId;
        this.agentId = ev.subscribed.agent_info?.id?.value ?? this.agentId;
        this.log.info({ executorId: this.executorId, agentId: this.agentId }, 'subscribed');
        if (!this.kubelet) {
          this.kubelet = this.opts.kubelet(ev.subscribed.agent_info);
          this.kubelet.start();
        }
        return;
      case 'LAUNCH':
        return this.launch(ev.launch.task);
      case 'LAUNCH_GROUP':
        for (const t of ev.launch_group.task_group.tasks ?? []) this.launch(t);
        return;
      case 'KILL':
        return this.kill(ev.kill.task_id.value, ev.kill.kill_policy);
      case 'SHUTDOWN':
        void this.shutdown();
        return;
      case 'ERROR':
        this.log.error({ msg: ev.error.message }, 'agent sent ERROR');
        return;
      default:
        return;
    }
  }

  // ---- LAUNCH ----

  private launch(info: TaskInfo): void {
    const taskId = info.task_id?.value;
    if (!taskId) return;
    if (this.tasks.has(taskId)) {
      this.log.info({ task: taskId }, 'duplicate LAUNCH ignored');
      return;
    }
    const labels = new Map((info.labels?.labels ?? []).map((l) => [l.key, l.value ?? '']));
    if (labels.get(KEEPER_LABEL) === 'true') {
      const keeper: Task = { taskId, namespace: '', name: '', uid: '', phase: 'bound', killRequested: false, keeper: true, chain: Promise.resolve() };
      this.tasks.set(taskId, keeper);
      if (this.shuttingDown) return this.terminal(keeper, 'TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH', 'executor is shutting down');
      this.report(keeper, { state: 'TASK_RUNNING', message: 'keeping a warm kubelet', healthy: true });
      return;
    }
    const namespace = labels.get(POD_LABELS.namespace) ?? '';
    const name = labels.get(POD_LABELS.name) ?? '';
    const uid = labels.get(POD_LABELS.uid) ?? '';
    const task: Task = { taskId, namespace, name, uid, killPolicy: info.kill_policy, phase: 'binding', killRequested: false, chain: Promise.resolve() };
    this.tasks.set(taskId, task);
    if (!namespace || !name || !uid) {
      const missing = Object.values(POD_LABELS).filter((k) => !labels.get(k));
      this.terminal(task, 'TASK_FAILED', 'REASON_TASK_INVALID', `task carries no pod reference: missing label(s) ${missing.join(', ')}`);
      return;
    }
    if (this.shuttingDown) {
      this.terminal(task, 'TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH', 'executor is shutting down');
      return;
    }
    this.byUid.set(uid, taskId);
    task.launchedAtMs = Date.now();
    // The scheduler binds the pod when this TASK_STARTING reaches it (a node identity may not create pods/binding) —
    // unless it binds on the ACCEPT's answer (placement.bindOnAccept): then the first update is TASK_RUNNING.
    if (!this.opts.config.noTaskStarting) this.report(task, { state: 'TASK_STARTING', message: `waiting for the scheduler to bind pod ${namespace}/${name} to node ${this.nodeName}` });
    const already = this.opts.pods.podsOnNode(this.nodeName).find((p) => p.metadata?.uid === uid);
    if (already) this.bound(task, already);
  }

  /** The pod showed up bound to this node: follow it from now on. */
  private bound(task: Task, pod: V1Pod): void {
    if (task.phase !== 'binding') return;
    task.phase = 'bound';
    const waitedMs = Date.now() - (task.launchedAtMs ?? Date.now());
    this.opts.metrics?.bindingWait.observe(waitedMs / 1000);
    this.log.info({ task: task.taskId, pod: `${task.namespace}/${task.name}`, waitedMs }, 'pod bound to this node');
    this.follow(task, pod);
    if (task.killRequested) void this.deletePod(task);
  }

  // ---- following the pod ----

  private onPod(ev: PodEvent): void {
    const uid = ev.pod.metadata?.uid;
    const taskId = uid ? this.byUid.get(uid) : undefined;
    const task = taskId ? this.tasks.get(taskId) : undefined;
    if (!task) return;
    const pod = ev.type === 'delete' ? undefined : ev.pod;
    // Before the binding only this node's pods are dispatched, so a pod seen here is bound to it.
    if (task.phase === 'binding') {
      if (pod?.spec?.nodeName === this.nodeName) this.bound(task, pod);
    } else if (task.phase === 'bound') this.follow(task, pod);
  }

  private follow(task: Task, pod: V1Pod | undefined): void {
    const next = podTaskState(pod);
    if (next.state === 'TASK_STARTING') return; // sent at LAUNCH
    if (!isNewTaskState(task.last, next)) return;
    if (isTerminalTaskState(next.state)) return this.terminal(task, next.state, undefined, next.message);
    this.report(task, next);
  }

  // ---- KILL and SHUTDOWN ----

  private kill(taskId: string, policy: KillPolicy | undefined): void {
    const task = this.tasks.get(taskId);
    if (!task) {
      // Not ours (e.g. launched before an executor restart and never re-sent): say it is gone so the scheduler can move on.
      const t: Task = { taskId, namespace: '', name: '', uid: '', phase: 'binding', killRequested: true, chain: Promise.resolve() };
      this.tasks.set(taskId, t);
      return this.terminal(t, 'TASK_KILLED', undefined, 'task unknown to this executor');
    }
    if (task.phase === 'done') return;
    if (task.keeper) return this.terminal(task, 'TASK_KILLED', undefined, 'warm kubelet released');
    if (policy) task.killPolicy = policy;
    if (task.killRequested) return;
    task.killRequested = true;
    // Not bound yet: the pod is still the scheduler's pending pod, not ours to delete.
    if (task.phase === 'binding') return this.terminal(task, 'TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH', 'killed before the pod was bound');
    void this.deletePod(task);
  }

  private async deletePod(task: Task): Promise<void> {
    if (task.phase !== 'bound') return;
    if (isNewTaskState(task.last, { state: 'TASK_KILLING' })) this.report(task, { state: 'TASK_KILLING', message: 'deleting pod' });
    const ns = task.killPolicy?.grace_period?.nanoseconds;
    const gracePeriodSeconds = ns === undefined ? undefined : Math.max(0, Math.ceil(ns / 1e9));
    const backoff = new Backoff({ initialMs: 250, maxMs: 5000, random: this.random });
    for (let attempt = 1; attempt <= 8 && task.phase === 'bound'; attempt++) {
      const r = await this.opts.api.deletePod(task.namespace, task.name, { gracePeriodSeconds, uid: task.uid });
      if (r.ok) return; // TASK_KILLED once the pod is gone (watch)
      if (r.kind === 'NotFound' || r.kind === 'Conflict') return this.follow(task, undefined); // gone, or replaced by another pod
      if (r.kind !== 'Retryable') {
        this.log.warn({ task: task.taskId, kind: r.kind, msg: r.message }, 'pod delete refused');
        return;
      }
      await sleep(backoff.next());
    }
  }

  private async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const open = [...this.tasks.values()].filter((t) => t.phase !== 'done');
    this.log.info({ tasks: open.length }, 'SHUTDOWN: killing all pods');
    for (const t of open) this.kill(t.taskId, undefined);
    const allDone = new Promise<void>((resolve) => {
      this.onTaskDone = () => {
        if ([...this.tasks.values()].every((t) => t.phase === 'done')) resolve();
      };
      this.onTaskDone();
    });
    const timeout = new AbortController();
    await Promise.race([allDone, sleep(this.opts.shutdownTimeoutMs ?? 4000, timeout.signal)]);
    timeout.abort();
    for (const t of this.tasks.values()) {
      if (t.phase !== 'done') this.terminal(t, 'TASK_KILLED', 'REASON_EXECUTOR_TERMINATED', 'executor shut down before the pod was gone');
    }
    this.finish({ code: 0, reason: 'agent sent SHUTDOWN' });
  }

  // ---- updates ----

  private terminal(task: Task, state: PodTaskState['state'], reason: Reason | undefined, message: string | undefined): void {
    if (task.phase === 'done') return;
    task.phase = 'done';
    if (task.uid) this.byUid.delete(task.uid);
    this.report(task, { state, message }, reason);
    this.onTaskDone?.();
  }

  private report(task: Task, s: PodTaskState, reason?: Reason): void {
    task.last = s;
    const status: ExecutorStatusUpdate = { task_id: { value: task.taskId }, state: s.state };
    if (s.message) status.message = s.message;
    if (s.healthy !== undefined) status.healthy = s.healthy;
    if (reason) status.reason = reason;
    this.log.info({ task: task.taskId, state: s.state, healthy: s.healthy, reason }, 'task update');
    this.opts.metrics?.taskUpdates.inc({ state: s.state });
    task.chain = task.chain.then(
      () => this.opts.driver.update(status),
    ).catch((err: unknown) => this.log.warn({ err, task: task.taskId, state: s.state }, 'update not sent'));
  }
}
