/**
 * The v1 executor client: SUBSCRIBE to the agent, reliable UPDATEs (kept until ACKNOWLEDGED and resent on
 * re-subscribe), and the disconnection rules of Mesos' executor HTTP API (retry until MESOS_RECOVERY_TIMEOUT
 * when checkpointing, exit at once otherwise).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ExecutorCall, ExecutorEvent, ExecutorEventSubscribed, TaskInfo, TaskStatus } from './types.js';
import type { ContentType } from './codec.js';
import { Backoff, sleep, systemClock, type Clock } from '../time/backoff.js';
import { ErrorEventError, MesosClientError, MesosHttpError, NotSubscribedError } from './errors.js';
import { HttpExecutorTransport, type ExecutorTransport } from './executor-transport.js';
import { silentLogger } from '../telemetry/log.js';

// ---------------------------------------------------------------------------------------------------------------
// Durations as Mesos (stout) writes them: a number and one unit, '15mins', '1secs', '100ms', '2hrs', '1.5days'.

const STOUT_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  secs: 1000,
  mins: 60_000,
  hrs: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

export type StoutDurationResult = { ok: true; ms: number } | { ok: false; error: string };

export function parseStoutDuration(input: string): StoutDurationResult {
  const m = /^(\d+(?:\.\d*)?|\.\d+)([a-z]+)$/.exec(input);
  if (!m) return { ok: false, error: `"${input}" is not a Mesos duration (expected e.g. 15mins, 5secs, 250ms, 2hrs)` };
  const unit = STOUT_UNITS_MS[m[2]];
  if (unit === undefined) return { ok: false, error: `"${input}": unknown unit "${m[2]}" (one of ${Object.keys(STOUT_UNITS_MS).join(', ')})` };
  // Round away binary noise (0.25us → 0.00025 ms) without losing sub-millisecond values.
  return { ok: true, ms: Number((Number(m[1]) * unit).toPrecision(12)) };
}

/** The inverse, choosing the unit as stout's `operator<<` does (largest unit not above the value). */
export function formatStoutDuration(ms: number): string {
  const order: Array<[string, number]> = [
    ['weeks', 604_800_000],
    ['days', 86_400_000],
    ['hrs', 3_600_000],
    ['mins', 60_000],
    ['secs', 1000],
    ['ms', 1],
    ['us', 1e-3],
  ];
  for (const [unit, size] of order) {
    if (ms >= size) return `${Number((ms / size).toPrecision(12))}${unit}`;
  }
  return `${Number((ms / 1e-6).toPrecision(12))}ns`;
}

// ---------------------------------------------------------------------------------------------------------------
// Options, from the environment a Mesos agent gives its executors.

export interface ExecutorClientOptions {
  /** Agent base URL: `http://10.0.0.7:5051` (MESOS_AGENT_ENDPOINT is `ip:port`; the scheme comes from SSL settings). */
  agentEndpoint: string;
  frameworkId: string;
  executorId: string;
  directory?: string;
  sandbox?: string;
  /** Framework checkpointing: re-subscribe after an agent restart instead of exiting. */
  checkpoint: boolean;
  recoveryTimeoutMs: number;
  /** Upper bound of each wait between SUBSCRIBE attempts. */
  subscriptionBackoffMaxMs: number;
  shutdownGracePeriodMs: number;
  httpCommandExecutor: boolean;
  authToken?: string;
  agentPid?: string;
  contentType?: ContentType;
}

export class ExecutorEnvError extends Error {
  constructor(readonly problems: Array<{ variable: string; message: string }>) {
    super(`bad executor environment: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`);
    this.name = 'ExecutorEnvError';
  }
}

const DEFAULT_RECOVERY_TIMEOUT_MS = 15 * 60_000; // the agent's --recovery_timeout default
const DEFAULT_SUBSCRIPTION_BACKOFF_MAX_MS = 2000; // the agent's --executor_reregistration_timeout default
const DEFAULT_SHUTDOWN_GRACE_PERIOD_MS = 5000;

/** Pure: reads the variables a Mesos agent sets; throws ExecutorEnvError naming every missing or bad one. */
export function executorOptionsFromEnv(env: Record<string, string | undefined>): ExecutorClientOptions {
  const problems: Array<{ variable: string; message: string }> = [];
  const required = (name: string): string => {
    const v = env[name];
    if (!v) problems.push({ variable: name, message: 'missing (a Mesos agent sets it when it launches the executor)' });
    return v ?? '';
  };
  const bool = (name: string, dflt: boolean): boolean => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    const t = v.trim().toLowerCase();
    if (['1', 'true', 't', 'yes'].includes(t)) return true;
    if (['0', 'false', 'f', 'no'].includes(t)) return false;
    problems.push({ variable: name, message: `"${v}" is not a boolean (expected 1 or 0)` });
    return dflt;
  };
  const duration = (name: string, dflt: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    const r = parseStoutDuration(v.trim());
    if (!r.ok) {
      problems.push({ variable: name, message: r.error });
      return dflt;
    }
    return r.ms;
  };

  const endpointRaw = required('MESOS_AGENT_ENDPOINT');
  const frameworkId = required('MESOS_FRAMEWORK_ID');
  const executorId = required('MESOS_EXECUTOR_ID');
  const ssl = bool('LIBPROCESS_SSL_ENABLED', false) || bool('MESOS_SSL_ENABLED', false);
  let agentEndpoint = '';
  if (endpointRaw) {
    const withScheme = /^https?:\/\//.test(endpointRaw) ? endpointRaw : `${ssl ? 'https' : 'http'}://${endpointRaw}`;
    try {
      const u = new URL(withScheme);
      if (!u.port) throw new Error('no port');
      agentEndpoint = `${u.protocol}//${u.host}`;
    } catch {
      problems.push({ variable: 'MESOS_AGENT_ENDPOINT', message: `"${endpointRaw}" is not ip:port` });
    }
  }
  const directory = env.MESOS_DIRECTORY || undefined;
  const checkpoint = bool('MESOS_CHECKPOINT', false);
  const opts: ExecutorClientOptions = {
    agentEndpoint,
    frameworkId,
    executorId,
    directory,
    sandbox: env.MESOS_SANDBOX || directory,
    checkpoint,
    recoveryTimeoutMs: duration('MESOS_RECOVERY_TIMEOUT', DEFAULT_RECOVERY_TIMEOUT_MS),
    subscriptionBackoffMaxMs: duration('MESOS_SUBSCRIPTION_BACKOFF_MAX', DEFAULT_SUBSCRIPTION_BACKOFF_MAX_MS),
    shutdownGracePeriodMs: duration('MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD', DEFAULT_SHUTDOWN_GRACE_PERIOD_MS),
    httpCommandExecutor: bool('MESOS_HTTP_COMMAND_EXECUTOR', false),
  };
  if (env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN) opts.authToken = env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN;
  if (env.MESOS_AGENT_PID) opts.agentPid = env.MESOS_AGENT_PID;
  if (problems.length) throw new ExecutorEnvError(problems);
  return opts;
}

// ---------------------------------------------------------------------------------------------------------------
// The client.

export type ExecutorClientState = 'idle' | 'connecting' | 'subscribed' | 'stopped';

/** What update() takes: the client fills in uuid, source, executor_id and agent_id (and timestamp if absent). */
export type ExecutorStatusUpdate = Omit<TaskStatus, 'uuid' | 'source' | 'executor_id' | 'agent_id'>;

export interface ExecutorClientDeps {
  transport?: ExecutorTransport;
  log?: Logger;
  clock?: Clock;
  /** Jitter source for the re-subscribe backoff. */
  random?: () => number;
  /** 16-byte update uuids; injectable for tests. */
  uuid?: () => Uint8Array;
  ca?: string | Buffer;
}

type SubscribedInfo = ExecutorEventSubscribed;

interface ExecutorClientEvents {
  event: [ExecutorEvent];
  subscribed: [SubscribedInfo];
  disconnected: [Error];
  exit: [string];
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export class ExecutorClient {
  private readonly opts: ExecutorClientOptions;
  private readonly transport: ExecutorTransport;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly newUuid: () => Uint8Array;
  private readonly emitter = new EventEmitter();
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | undefined;
  private _state: ExecutorClientState = 'idle';
  private agentId: string | undefined;
  /** Updates sent (or queued) but not ACKNOWLEDGED, in send order, keyed by uuid hex. */
  private readonly unackedUpdates = new Map<string, TaskStatus>();
  /** Tasks LAUNCHed for which no update was ACKNOWLEDGED yet, keyed by task id. */
  private readonly unackedTasks = new Map<string, TaskInfo>();
  private exited = false;

  constructor(opts: ExecutorClientOptions & ExecutorClientDeps) {
    for (const k of ['agentEndpoint', 'frameworkId', 'executorId'] as const) {
      if (!opts[k] && !(k === 'agentEndpoint' && opts.transport)) throw new TypeError(`ExecutorClient: ${k} is required`);
    }
    if (!(opts.recoveryTimeoutMs >= 0)) throw new RangeError(`ExecutorClient: recoveryTimeoutMs must be >= 0, got ${opts.recoveryTimeoutMs}`);
    if (!(opts.subscriptionBackoffMaxMs > 0)) throw new RangeError(`ExecutorClient: subscriptionBackoffMaxMs must be > 0, got ${opts.subscriptionBackoffMaxMs}`);
    this.opts = opts;
    this.log = opts.log ?? silentLogger();
    this.clock = opts.clock ?? systemClock;
    this.transport =
      opts.transport ??
      new HttpExecutorTransport({ endpoint: opts.agentEndpoint, contentType: opts.contentType, token: opts.authToken, ca: opts.ca, log: this.log });
    // Mesos asks that every executor retries at least once within MESOS_SUBSCRIPTION_BACKOFF_MAX.
    this.backoff = new Backoff({
      initialMs: Math.min(100, opts.subscriptionBackoffMaxMs),
      maxMs: opts.subscriptionBackoffMaxMs,
      random: opts.random,
    });
    this.newUuid = opts.uuid ?? (() => new Uint8Array(randomBytes(16)));
  }

  get state(): ExecutorClientState {
    return this._state;
  }

  /** Updates not yet acknowledged by the agent (copies). */
  get unacknowledgedUpdates(): TaskStatus[] {
    return [...this.unackedUpdates.values()];
  }

  get unacknowledgedTasks(): TaskInfo[] {
    return [...this.unackedTasks.values()];
  }

  on<K extends keyof ExecutorClientEvents>(event: K, handler: (...args: ExecutorClientEvents[K]) => void): this {
    this.emitter.on(event, handler as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof ExecutorClientEvents>(event: K, handler: (...args: ExecutorClientEvents[K]) => void): this {
    this.emitter.off(event, handler as (...args: unknown[]) => void);
    return this;
  }

  start(): void {
    if (this._state !== 'idle') throw new Error(`ExecutorClient.start: already ${this._state}`);
    this._state = 'connecting';
    this.loop = this.run().catch((err: unknown) => this.log.error({ err }, 'executor client loop failed'));
  }

  /** Closes the stream; no re-subscribe, no 'exit'. Idempotent. */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    this.transport.close();
    await this.loop;
    this._state = 'stopped';
  }

  async update(status: ExecutorStatusUpdate): Promise<void> {
    if (this._state === 'stopped') throw new MesosClientError('stopped', 'executor client is stopped');
    const uuid = this.newUuid();
    const full = {
      timestamp: this.clock.now() / 1000,
      ...status,
      uuid,
      source: 'SOURCE_EXECUTOR',
      executor_id: { value: this.opts.executorId },
      ...(this.agentId ? { agent_id: { value: this.agentId } } : {}),
    } as TaskStatus;
    const key = hex(uuid);
    this.unackedUpdates.set(key, full);
    // Not subscribed: kept, and sent with the next SUBSCRIBE as an unacknowledged update.
    if (this._state !== 'subscribed') return;
    try {
      await this.transport.call(this.baseCall('UPDATE', { update: { status: full } }));
    } catch (err) {
      // Any transport's status-carrying error counts (MesosHttpError over HTTP, the emulator's own in-process).
      const code = err instanceof MesosHttpError ? err.status : (err as { status?: unknown })?.status;
      if (typeof code === 'number' && code >= 400 && code < 500) {
        // The agent refused this update outright; resending it would fail the same way.
        this.unackedUpdates.delete(key);
        throw err;
      }
      this.log.warn({ err, task: status.task_id?.value }, 'UPDATE not delivered; will resend on re-subscribe');
    }
  }

  async message(data: Uint8Array): Promise<void> {
    if (this._state !== 'subscribed') throw new NotSubscribedError();
    await this.transport.call(this.baseCall('MESSAGE', { message: { data } }));
  }

  private baseCall(type: ExecutorCall['type'], rest: object): ExecutorCall {
    return {
      type,
      executor_id: { value: this.opts.executorId },
      framework_id: { value: this.opts.frameworkId },
      ...rest,
    } as ExecutorCall;
  }

  private subscribeCall(): ExecutorCall {
    return this.baseCall('SUBSCRIBE', {
      subscribe: {
        unacknowledged_tasks: [...this.unackedTasks.values()],
        unacknowledged_updates: [...this.unackedUpdates.values()].map((status) => ({ status })),
      },
    });
  }

  private emit<K extends keyof ExecutorClientEvents>(event: K, ...args: ExecutorClientEvents[K]): void {
    try {
      this.emitter.emit(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, 'executor client listener threw');
    }
  }

  private exit(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    this.log.warn({ reason }, 'executor should exit');
    this.emit('exit', reason);
  }

  private handleEvent(ev: ExecutorEvent): void {
    switch (ev.type) {
      case 'SUBSCRIBED': {
        const info = ev.subscribed;
        this.agentId = info.agent_info?.id?.value ?? this.agentId;
        this._state = 'subscribed';
        this.disconnectedAt = undefined;
        this.backoff.reset();
        this.log.info({ agent: this.agentId, unacked: this.unackedUpdates.size }, 'executor subscribed');
        this.emit('subscribed', info);
        break;
      }
      case 'LAUNCH':
        this.unackedTasks.set(ev.launch.task.task_id.value, ev.launch.task);
        break;
      case 'LAUNCH_GROUP':
        for (const t of ev.launch_group.task_group.tasks ?? []) this.unackedTasks.set(t.task_id.value, t);
        break;
      case 'ACKNOWLEDGED': {
        this.unackedUpdates.delete(hex(ev.acknowledged.uuid));
        this.unackedTasks.delete(ev.acknowledged.task_id.value);
        break;
      }
      default:
        break;
    }
    this.emit('event', ev);
    if (ev.type === 'SHUTDOWN') this.exit('agent sent SHUTDOWN');
    if (ev.type === 'ERROR') {
      // The executor API asks executors to drop the subscription on ERROR and subscribe again.
      this.closeReason = new ErrorEventError(ev.error.message);
      this.transport.close();
    }
  }

  private disconnectedAt: number | undefined;
  /** Why the client itself closed the stream (an ERROR event), reported instead of a bare close. */
  private closeReason: Error | undefined;

  private async run(): Promise<void> {
    const signal = this.stopSignal.signal;
    while (!signal.aborted && !this.exited) {
      let reason: Error;
      try {
        let onStop: () => void = () => {};
        const closed = new Promise<Error | undefined>((resolve) => {
          // stop() must not depend on the transport reporting the close.
          onStop = () => resolve(undefined);
          signal.addEventListener('abort', onStop, { once: true });
          this.transport
            .subscribe(this.subscribeCall(), (ev) => this.handleEvent(ev), (err) => resolve(err))
            .catch((err: unknown) => resolve(err instanceof Error ? err : new Error(String(err))));
        });
        const err = await closed;
        signal.removeEventListener('abort', onStop);
        reason = err ?? this.closeReason ?? new MesosClientError('stopped', 'subscription closed');
        this.closeReason = undefined;
      } catch (err) {
        reason = err instanceof Error ? err : new Error(String(err));
      }
      if (signal.aborted) break;
      const wasSubscribed = this._state === 'subscribed';
      this._state = 'connecting';
      if (wasSubscribed) {
        this.log.warn({ err: reason }, 'disconnected from agent');
        this.emit('disconnected', reason);
      } else {
        this.log.info({ err: reason }, 'SUBSCRIBE to agent failed');
      }
      if (!this.opts.checkpoint) {
        this.exit(`disconnected from the agent with checkpointing off: ${reason.message}`);
        break;
      }
      this.disconnectedAt ??= this.clock.now();
      const remaining = this.disconnectedAt + this.opts.recoveryTimeoutMs - this.clock.now();
      if (remaining <= 0) {
        this.exit(`could not re-subscribe within the recovery timeout (${formatStoutDuration(this.opts.recoveryTimeoutMs)}): ${reason.message}`);
        break;
      }
      const delay = Math.min(this.backoff.next(), remaining);
      await sleep(delay, this.clock, signal);
    }
    if (this.exited) this._state = 'stopped';
  }
}
