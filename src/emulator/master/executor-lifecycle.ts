import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Agent, type ExecutorRun, type ExecutorSink, key } from '../agent.js';
import type { CallOutcome, ExitStatus } from '../executors.js';
import type { CommandInfo, ExecutorCall, ExecutorInfo, TaskInfo, TaskState, TaskStatus } from '../proto-types.js';
import type { ResourceBag } from '../resources.js';
import { charge, domainOf, type Framework, hex, id, isTerminal, type MasterParts, type MasterState } from './shared.js';

const SHUTDOWN_GRACE_MS = 5000; // the agent's --executor_shutdown_grace_period

/** The agent side of executors: launch, subscribe, calls, exit, KILL and SHUTDOWN; the built-in command executor. */
export class ExecutorLifecycle {
  constructor(
    private readonly s: MasterState,
    private readonly p: MasterParts,
  ) {}

  private readonly executorsByToken = new Map<string, ExecutorRun>();
  private readonly executorSinks = new Map<ExecutorSink, ExecutorRun>();
  /** Command executors whose command runs as a real process (process mode). */
  private readonly commandProcesses = new Set<ExecutorRun>();

  liveExecutor(a: Agent, fid: string, eid: string): ExecutorRun | undefined {
    const e = a.executors.get(key(fid, eid));
    return e && e.state !== 'terminated' ? e : undefined;
  }

  createExecutor(fw: Framework, a: Agent, info: ExecutorInfo, res: Map<string, ResourceBag>, kind: 'custom' | 'command', role: string): ExecutorRun {
    const containerId = randomUUID();
    const directory = join(
      this.s.opts.workDir ?? join(tmpdir(), 'kube-mesos-emulator'),
      'slaves',
      a.id,
      'frameworks',
      fw.id,
      'executors',
      info.executor_id.value,
      'runs',
      containerId,
    );
    const e: ExecutorRun = {
      agentId: a.id,
      frameworkId: fw.id,
      executorId: info.executor_id.value,
      info,
      resources: res,
      role,
      kind,
      state: 'launching',
      containerId,
      directory,
      token: randomBytes(18).toString('base64url'),
      queued: [],
      shutdownRequested: false,
    };
    a.executors.set(key(fw.id, e.executorId), e);
    this.executorsByToken.set(e.token, e);
    if (!a.reachable) return e; // the launch message never reaches a partitioned agent; see deliverToExecutor
    this.startExecutor(fw, a, e);
    return e;
  }

  private startExecutor(fw: Framework, a: Agent, e: ExecutorRun): void {
    if (e.handle || e.state === 'terminated') return;
    if (e.kind === 'command') {
      // The emulator's command executor: subscribes at once and reports the task running.
      e.handle = { kill: () => this.s.clock.after(0, () => this.executorExited(a, e, { code: null, signal: 'SIGKILL' })) };
      this.s.clock.after(0, () => this.commandExecutorSubscribed(a, e));
      return;
    }
    const launcher = this.s.opts.launcher;
    const env = this.executorEnv(fw, a, e);
    if (!launcher) {
      this.s.clock.after(0, () => this.executorExited(a, e, { code: 1, error: 'no executor launcher configured' }));
      e.handle = { kill: () => undefined };
      return;
    }
    e.handle = launcher.launch({ agentId: a.id, frameworkId: fw.id, executorId: e.executorId, info: e.info, env, directory: e.directory, token: e.token }, (s) =>
      this.executorExited(a, e, s),
    );
    e.registrationTimer = this.s.clock.after(this.s.opts.executorRegistrationTimeoutMs, () => {
      if (e.state !== 'launching') return;
      this.s.log.warn({ executor: e.executorId, agent: a.id }, 'executor did not subscribe in time');
      e.registrationTimedOut = true;
      e.handle?.kill();
    });
  }

  /** The environment slave.cpp executorEnvironment() gives, plus the ExecutorInfo's CommandInfo environment. */
  executorEnv(fw: Framework, a: Agent, e: ExecutorRun): Record<string, string> {
    const env: Record<string, string> = { ...(this.s.opts.baseEnv ?? {}) };
    if (!env.PATH) env.PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    env.LIBPROCESS_PORT = '0';
    const checkpoint = fw.info.checkpoint === true;
    Object.assign(env, {
      MESOS_FRAMEWORK_ID: fw.id,
      MESOS_EXECUTOR_ID: e.executorId,
      MESOS_DIRECTORY: e.directory,
      MESOS_SANDBOX: e.directory,
      MESOS_SLAVE_ID: a.id,
      MESOS_SLAVE_PID: `slave(1)@${this.s.agentAddress()}`,
      MESOS_AGENT_ENDPOINT: this.s.agentAddress(),
      MESOS_CHECKPOINT: checkpoint ? '1' : '0',
      MESOS_HTTP_COMMAND_EXECUTOR: '0',
      MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5secs',
      MESOS_EXECUTOR_AUTHENTICATION_TOKEN: e.token,
    });
    if (checkpoint) {
      env.MESOS_RECOVERY_TIMEOUT = '15mins';
      env.MESOS_SUBSCRIPTION_BACKOFF_MAX = '2secs';
    }
    for (const v of e.info.command?.environment?.variables ?? []) if (v.value !== undefined) env[v.name] = v.value;
    return env;
  }

  deliverToExecutor(a: Agent, e: ExecutorRun, tasks: TaskInfo[], group: boolean): void {
    if (!a.reachable) return; // lost on the wire: the master learns when it marks the agent unreachable or it re-registers
    for (const t of tasks) {
      const task = a.tasks.get(key(e.frameworkId, t.task_id.value));
      if (task) task.delivered = true;
    }
    if (e.state === 'subscribed' && e.sink) {
      if (e.kind === 'command') return this.commandExecutorRun(a, e, tasks);
      if (group) e.sink.send({ type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks } } });
      else for (const t of tasks) e.sink.send({ type: 'LAUNCH', launch: { task: t } });
    } else e.queued.push({ tasks, group });
    const fw = this.s.frameworks.get(e.frameworkId);
    if (fw && !e.handle) this.startExecutor(fw, a, e);
    this.resizeContainer(a, e.frameworkId, e.executorId);
  }

  /** Process mode with cgroups: the executor's container holds its own resources plus its live tasks'. */
  resizeContainer(a: Agent, frameworkId: string, executorId: string): void {
    const e = a.executors.get(key(frameworkId, executorId));
    if (!e?.handle?.update || e.state === 'terminated') return;
    const tasks = [...a.tasks.values()].filter((t) => t.frameworkId === frameworkId && t.executorId === executorId && t.holdsResources).map((t) => t.info);
    e.handle.update({ executor: e.info.resources, tasks });
  }

  private commandExecutorSubscribed(a: Agent, e: ExecutorRun): void {
    if (e.state !== 'launching') return;
    e.state = 'subscribed';
    const queued = e.queued.splice(0);
    for (const q of queued) this.commandExecutorRun(a, e, q.tasks);
  }

  private commandExecutorRun(a: Agent, e: ExecutorRun, tasks: TaskInfo[]): void {
    const launcher = this.s.opts.launcher;
    const fw = this.s.frameworks.get(e.frameworkId);
    for (const t of tasks) {
      const update = (state: TaskState, message?: string) =>
        this.p.updates.agentStatusUpdate(a, e.frameworkId, { task_id: t.task_id, state, source: 'SOURCE_EXECUTOR', executor_id: id(e.executorId), agent_id: id(a.id), ...(message ? { message } : {}) });
      update('TASK_STARTING');
      if (!launcher?.runCommand || !t.command || !fw) {
        update('TASK_RUNNING');
        const seconds = simulatedSleepSeconds(t.command);
        if (seconds !== undefined) this.s.clock.after(seconds * 1000, () => this.simulatedCommandExited(a, e, t));
        continue;
      }
      // Process mode: the command really runs in the sandbox; its exit decides the terminal state.
      this.commandProcesses.add(e);
      const spec = { agentId: a.id, frameworkId: fw.id, executorId: e.executorId, info: e.info, env: this.executorEnv(fw, a, e), directory: e.directory, token: e.token };
      e.handle = launcher.runCommand(spec, t.command, (s) => {
        this.commandProcesses.delete(e);
        const task = a.tasks.get(key(e.frameworkId, t.task_id.value));
        if (a.hostUp && e.state !== 'terminated' && task && !isTerminal(task.state)) {
          if (task.killRequested) update('TASK_KILLED', 'Command terminated by KILL');
          else if (s.code === 0) update('TASK_FINISHED', 'Command exited with status 0');
          else update('TASK_FAILED', s.code === null ? `Command terminated with signal ${s.signal ?? 'unknown'}` : `Command exited with status ${s.code}${s.error ? `: ${s.error}` : ''}`);
        }
        this.executorExited(a, e, s);
      });
      update('TASK_RUNNING');
    }
  }

  /** A simulated `sleep N` ran its time: TASK_FINISHED, then the command executor exits, as a real one does after its task. */
  private simulatedCommandExited(a: Agent, e: ExecutorRun, t: TaskInfo): void {
    const task = a.tasks.get(key(e.frameworkId, t.task_id.value));
    if (!a.hostUp || e.state === 'terminated' || !task || isTerminal(task.state) || task.killRequested) return;
    this.p.updates.agentStatusUpdate(a, e.frameworkId, {
      task_id: t.task_id,
      state: 'TASK_FINISHED',
      source: 'SOURCE_EXECUTOR',
      executor_id: id(e.executorId),
      agent_id: id(a.id),
      message: 'Command exited with status 0',
    });
    this.s.clock.after(0, () => this.executorExited(a, e, { code: 0 }));
  }

  private resolveExecutor(token: string | undefined, call: ExecutorCall): ExecutorRun | CallOutcome {
    let e = token ? this.executorsByToken.get(token) : undefined;
    if (!e) {
      const matches = [...this.executorsByToken.values()].filter(
        (x) => x.frameworkId === call.framework_id?.value && x.executorId === call.executor_id?.value && x.state !== 'terminated',
      );
      if (matches.length > 1) return { status: 400, message: 'Executor is ambiguous without its MESOS_EXECUTOR_AUTHENTICATION_TOKEN' };
      e = matches[0];
    }
    if (!e || e.state === 'terminated') return { status: 400, message: 'Executor cannot be found' };
    if (e.frameworkId !== call.framework_id?.value || e.executorId !== call.executor_id?.value)
      return { status: 400, message: 'Framework or executor id does not match the executor this token was issued for' };
    return e;
  }

  executorSubscribe(token: string | undefined, call: ExecutorCall, sink: ExecutorSink): CallOutcome {
    const r = this.resolveExecutor(token, call);
    if ('status' in r) return r;
    const e = r;
    const a = this.s.agents.get(e.agentId)!;
    const fw = this.s.frameworks.get(e.frameworkId);
    if (!fw) return { status: 400, message: 'Framework cannot be found' };
    if (!a.hostUp) return { status: 400, message: 'Agent is not running' };
    if (e.sink && e.sink !== sink) {
      this.executorSinks.delete(e.sink);
      e.sink.close();
    }
    e.sink = sink;
    this.executorSinks.set(sink, e);
    e.state = 'subscribed';
    e.registrationTimer?.cancel();
    const agentInfo = {
      hostname: a.hostname,
      port: this.s.agentEndpoint.port,
      id: id(a.id),
      resources: a.totalResources,
      attributes: a.attributes,
      ...domainOf(a),
    };
    sink.send({ type: 'SUBSCRIBED', subscribed: { executor_info: e.info, framework_info: fw.info, agent_info: agentInfo, container_id: id(e.containerId) } });
    // Re-subscription: updates the executor still holds are taken (once) and acknowledged; tasks it reports as
    // unacknowledged are not launched again (slave.cpp subscribe).
    const sub = call.type === 'SUBSCRIBE' ? call.subscribe : {};
    for (const u of sub.unacknowledged_updates ?? []) {
      if (!u.status?.uuid || u.status.source !== 'SOURCE_EXECUTOR') continue;
      this.executorUpdate(a, e, u.status);
      sink.send({ type: 'ACKNOWLEDGED', acknowledged: { task_id: u.status.task_id, uuid: u.status.uuid } });
    }
    const known = new Set((sub.unacknowledged_tasks ?? []).map((t) => t.task_id.value));
    // slave.cpp subscribe(): a task already sent to the executor (not queued), still STAGING and unknown to it (not
    // in `unacknowledged_tasks`) never reached it — the event went down with the old connection. The agent says so:
    // TASK_DROPPED (TASK_LOST for a framework that is not PARTITION_AWARE), REASON_AGENT_RESTARTED.
    const queuedIds = new Set(e.queued.flatMap((q) => q.tasks.map((t) => t.task_id.value)));
    for (const t of a.tasks.values()) {
      if (t.frameworkId !== e.frameworkId || t.executorId !== e.executorId || t.state !== 'TASK_STAGING') continue;
      if (!t.delivered || queuedIds.has(t.info.task_id.value) || known.has(t.info.task_id.value)) continue;
      this.p.updates.agentStatusUpdate(a, e.frameworkId, {
        task_id: t.info.task_id,
        state: fw.capabilities.has('PARTITION_AWARE') ? 'TASK_DROPPED' : 'TASK_LOST',
        source: 'SOURCE_AGENT',
        reason: 'REASON_AGENT_RESTARTED',
        message: 'Task launched during agent restart',
        executor_id: id(e.executorId),
        agent_id: id(a.id),
      });
    }
    for (const q of e.queued.splice(0)) {
      const tasks = q.tasks.filter((t) => !known.has(t.task_id.value));
      if (!tasks.length) continue;
      if (q.group) sink.send({ type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks } } });
      else for (const t of tasks) sink.send({ type: 'LAUNCH', launch: { task: t } });
    }
    return { status: 200 };
  }

  executorCall(token: string | undefined, call: ExecutorCall): CallOutcome {
    const r = this.resolveExecutor(token, call);
    if ('status' in r) return r;
    const e = r;
    const a = this.s.agents.get(e.agentId)!;
    if (e.state !== 'subscribed') return { status: 403, message: 'Executor is not subscribed' };
    switch (call.type) {
      case 'UPDATE': {
        const status = call.update?.status;
        if (!status) return { status: 400, message: "Expecting 'update' to be present" };
        if (!status.uuid) return { status: 400, message: "Expecting 'uuid' to be present" };
        if (status.uuid.length !== 16) return { status: 400, message: 'Invalid UUID: expected 16 bytes' };
        if (status.executor_id && status.executor_id.value !== e.executorId)
          return { status: 400, message: `ExecutorID in Call: ${e.executorId} does not match ExecutorID in TaskStatus: ${status.executor_id.value}` };
        if (status.source !== 'SOURCE_EXECUTOR')
          return { status: 400, message: `Received Call from executor ${e.executorId} of framework ${e.frameworkId} with invalid source, expecting 'SOURCE_EXECUTOR'` };
        if (status.state === 'TASK_STAGING') return { status: 400, message: `Received TASK_STAGING from executor ${e.executorId} of framework ${e.frameworkId} which is not allowed` };
        if (!a.hostUp) return { status: 400, message: 'Agent is not running' };
        this.executorUpdate(a, e, status);
        // The agent acknowledges to the executor once its status update manager holds the update.
        e.sink?.send({ type: 'ACKNOWLEDGED', acknowledged: { task_id: status.task_id, uuid: status.uuid } });
        return { status: 202 };
      }
      case 'MESSAGE': {
        const fw = this.s.frameworks.get(e.frameworkId);
        if (a.reachable) fw?.sink?.send({ type: 'MESSAGE', message: { agent_id: id(a.id), executor_id: id(e.executorId), data: call.message?.data ?? new Uint8Array() } });
        return { status: 202 };
      }
      case 'HEARTBEAT':
        return { status: 202 };
      default:
        return { status: 400, message: `Call type ${call.type} is not supported` };
    }
  }

  /** An update from the executor; a retried one (same uuid) is acknowledged again but handled once. */
  private executorUpdate(a: Agent, e: ExecutorRun, status: TaskStatus): void {
    const u = hex(status.uuid);
    if (!a.handledUpdates.has(u)) {
      a.handledUpdates.add(u);
      if (a.handledUpdates.size > 100_000) a.handledUpdates.delete(a.handledUpdates.values().next().value as string);
      this.p.updates.agentStatusUpdate(a, e.frameworkId, { ...status, executor_id: id(e.executorId), agent_id: id(a.id) });
    }
  }

  /** The agent side of the executor's connection goes away (the agent process restarts): the executor sees its stream end. */
  dropExecutorStream(e: ExecutorRun): void {
    const sink = e.sink;
    if (!sink) return;
    this.executorSinks.delete(sink);
    e.sink = undefined;
    sink.close();
  }

  executorStreamClosed(sink: ExecutorSink): void {
    const e = this.executorSinks.get(sink);
    this.executorSinks.delete(sink);
    if (e && e.sink === sink) e.sink = undefined;
  }

  private executorExited(a: Agent, e: ExecutorRun, status: ExitStatus): void {
    if (e.state === 'terminated') return;
    const neverSubscribed = e.state === 'launching';
    const fw = this.releaseExecutor(a, e);
    if (!a.hostUp) return; // the host went down with it; the master learns when the agent comes back
    this.s.log.info({ agent: a.id, executor: e.executorId, status }, 'executor exited');
    for (const t of a.tasks.values()) {
      if (t.frameworkId !== e.frameworkId || t.executorId !== e.executorId || isTerminal(t.state)) continue;
      const killed = t.killRequested || e.shutdownRequested;
      // slave.cpp executorLaunched(): a container that failed to launch (e.g. a fetch failed) fails its tasks so.
      const launchFailed = status.launchFailed === true && !killed;
      const reason = launchFailed ? 'REASON_CONTAINER_LAUNCH_FAILED' : e.registrationTimedOut && neverSubscribed ? 'REASON_EXECUTOR_REGISTRATION_TIMEOUT' : 'REASON_EXECUTOR_TERMINATED';
      this.p.updates.agentStatusUpdate(a, e.frameworkId, {
        task_id: t.info.task_id,
        state: killed ? 'TASK_KILLED' : 'TASK_FAILED',
        source: 'SOURCE_AGENT',
        reason,
        message: launchFailed ? `Failed to launch container: ${status.error ?? 'unknown error'}` : status.error ? `Executor terminated: ${status.error}` : 'Executor terminated',
        executor_id: id(e.executorId),
        agent_id: id(a.id),
      });
    }
    if (fw?.sink && a.reachable && e.kind === 'custom')
      fw.sink.send({ type: 'FAILURE', failure: { agent_id: id(a.id), executor_id: id(e.executorId), status: exitStatusCode(status) } });
  }

  /** Marks the executor terminated and gives its resources back to the agent and its framework's allocation. */
  private releaseExecutor(a: Agent, e: ExecutorRun) {
    e.state = 'terminated';
    e.registrationTimer?.cancel();
    if (e.sink) {
      this.executorSinks.delete(e.sink);
      e.sink.close();
      e.sink = undefined;
    }
    this.executorsByToken.delete(e.token);
    a.executors.delete(key(e.frameworkId, e.executorId));
    a.release(e.resources);
    const fw = this.s.frameworks.get(e.frameworkId);
    if (fw) for (const b of e.resources.values()) charge(fw, e.role, b, -1);
    return fw;
  }

  /** Kills the executor; with `report` false its tasks are not transitioned here (the caller does it). */
  destroyExecutor(a: Agent, e: ExecutorRun, report: boolean): void {
    if (e.state === 'terminated') return;
    if (!report) this.releaseExecutor(a, e);
    e.handle?.kill();
  }

  // ---- KILL / SHUTDOWN -------------------------------------------------------------------------------------------

  kill(fw: Framework, taskId: string, agentId: string | undefined): void {
    const t = fw.tasks.get(taskId);
    if (!t) {
      // master.cpp kill(): an unknown task is answered by reconciliation.
      this.p.updates.reconcile(fw, [{ task_id: id(taskId), agent_id: agentId ? id(agentId) : undefined }]);
      return;
    }
    const a = this.s.agents.get(t.agentId);
    if (!a || !a.reachable || isTerminal(t.state)) return;
    t.killRequested = true;
    const e = a.executors.get(key(fw.id, t.executorId));
    if (!e || !t.delivered) return;
    const queuedIdx = e.queued.findIndex((q) => q.tasks.some((x) => x.task_id.value === taskId));
    if (e.state !== 'subscribed' || queuedIdx >= 0) {
      if (queuedIdx >= 0) {
        const q = e.queued[queuedIdx];
        // Killing one task of a queued group kills the whole group (slave.cpp killTask).
        e.queued.splice(queuedIdx, 1);
        for (const x of q.tasks)
          this.p.updates.agentStatusUpdate(a, fw.id, {
            task_id: x.task_id,
            state: 'TASK_KILLED',
            source: 'SOURCE_AGENT',
            reason: 'REASON_TASK_KILLED_DURING_LAUNCH',
            message: 'Killed before delivery to the executor',
            executor_id: id(e.executorId),
            agent_id: id(a.id),
          });
      }
      return;
    }
    if (e.kind === 'command' && this.commandProcesses.has(e)) {
      if (fw.capabilities.has('TASK_KILLING_STATE'))
        this.p.updates.agentStatusUpdate(a, fw.id, { task_id: t.info.task_id, state: 'TASK_KILLING', source: 'SOURCE_EXECUTOR', executor_id: id(e.executorId), agent_id: id(a.id) });
      e.handle?.kill();
      return;
    }
    if (e.kind === 'command') {
      const states: TaskState[] = fw.capabilities.has('TASK_KILLING_STATE') ? ['TASK_KILLING', 'TASK_KILLED'] : ['TASK_KILLED'];
      for (const state of states)
        this.p.updates.agentStatusUpdate(a, fw.id, { task_id: t.info.task_id, state, source: 'SOURCE_EXECUTOR', executor_id: id(e.executorId), agent_id: id(a.id) });
      this.s.clock.after(0, () => this.executorExited(a, e, { code: 0 }));
      return;
    }
    e.sink?.send({ type: 'KILL', kill: { task_id: t.info.task_id } });
  }

  shutdownExecutor(fw: Framework, agentId: string, executorId: string): void {
    const a = this.s.agents.get(agentId);
    const e = a?.executors.get(key(fw.id, executorId));
    if (!a || !e || !a.reachable) return;
    e.shutdownRequested = true;
    if (e.sink) e.sink.send({ type: 'SHUTDOWN' });
    // The agent kills an executor that has not exited after the shutdown grace period (5 s).
    this.s.clock.after(e.sink ? SHUTDOWN_GRACE_MS : 0, () => e.handle?.kill());
  }
}

/**
 * Where commands are simulated (no launcher runs them), a shell command that is exactly `sleep N` (N seconds, decimals
 * allowed, at most a day) finishes after N seconds on the emulator's clock; any other command runs until killed.
 */
export function simulatedSleepSeconds(c: CommandInfo | undefined): number | undefined {
  if (!c || c.shell === false || typeof c.value !== 'string') return undefined;
  const m = /^\s*sleep\s+(\d+(?:\.\d+)?)\s*$/.exec(c.value);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isFinite(n) && n <= 86_400 ? n : undefined;
}

function exitStatusCode(s: ExitStatus): number {
  if (s.code !== null && s.code !== undefined) return s.code << 8; // a wait(2) status, as Mesos reports it
  return 9; // killed by SIGKILL
}
