/**
 * The v1 scheduler client, laid out as mesos-go's: pure call builders (scheduler/calls.ts), the HTTP session with
 * the Mesos-Stream-Id, redirects, 503 retries and auth (scheduler/session.ts), and the subscribe / re-subscribe
 * controller with heartbeat watchdog and backoff (scheduler/controller.ts). This class wires them, so the scheduler
 * loop only sees typed events and `call()`s.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Filters, FrameworkInfo, KillPolicy, MasterInfo, OfferOperation, SchedulerCall, SchedulerEvent, TaskStatus } from './types.js';
import { encodeSchedulerCall, type ContentType } from './codec.js';
import { Backoff, systemClock, type Clock } from '../time/backoff.js';
import { ErrorEventError, NotSubscribedError } from './errors.js';
import { silentLogger } from '../telemetry/log.js';
import * as calls from './scheduler/calls.js';
import { SubscriptionController } from './scheduler/controller.js';
import { type MasterDetector, StaticMasterDetector } from './scheduler/detector.js';
import { SchedulerSession } from './scheduler/session.js';

export { SCHEDULER_API_PATH } from './scheduler/controller.js';
export { type MasterDetector, StaticMasterDetector } from './scheduler/detector.js';

export interface SchedulerClientOptions {
  /** 'http://host:5050', 'https://…'; tried in order (next one on connection failure), 307 followed. */
  masters?: string[];
  /** Alternative to `masters`. */
  detector?: MasterDetector;
  /** `id` is filled in after the first SUBSCRIBED and reused on every re-subscribe. */
  framework: FrameworkInfo;
  /** Default protobuf. */
  contentType?: ContentType;
  /** HTTP basic auth on every request. */
  credentials?: { principal: string; secret: string };
  /** PEM CA bundle for https masters. */
  ca?: string | Buffer;
  /** The stream is dead after this many heartbeat intervals without an event; default 5. */
  heartbeatMissLimit?: number;
  /** Reconnect pacing: exponential with jitter, capped; defaults 500 ms .. 30 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** 503s a call retries (with backoff) before failing; default 5. */
  callRetries?: number;
  /** Redirects followed in a row before backing off; default 5. */
  maxRedirects?: number;
  /** Timeout for call responses and SUBSCRIBE's response headers; default 30 s. */
  requestTimeoutMs?: number;
  /** Jitter source (seeded in tests). */
  random?: () => number;
  clock?: Clock;
  log?: Logger;
  maxFrameBytes?: number;
  /** Each call's outcome and seconds from sending to the master's answer (retries and redirects included). */
  onCall?: (type: SchedulerCall['type'], seconds: number, ok: boolean) => void;
}

export type SchedulerClientState = 'idle' | 'connecting' | 'subscribed' | 'stopped';

export interface SubscribedInfo {
  frameworkId: string;
  heartbeatIntervalSeconds: number;
  masterInfo?: MasterInfo;
  /** The API URL of the master we are subscribed to. */
  master: string;
}

interface SchedulerClientEvents {
  event: [SchedulerEvent];
  subscribed: [SubscribedInfo];
  disconnected: [Error];
  /** The master removed the framework (its failover timeout passed, or it was torn down): the next SUBSCRIBE registers anew. */
  frameworkRemoved: [{ frameworkId: string; message: string }];
}

/** The master's answer to a SUBSCRIBE with the id of a removed framework (master.cpp); Mesos gives no code, only this text. */
const FRAMEWORK_REMOVED = 'Framework has been removed';

export class SchedulerClient {
  private readonly log: Logger;
  private readonly session: SchedulerSession;
  private readonly controller: SubscriptionController;
  private readonly emitter = new EventEmitter();
  private readonly stopSignal = new AbortController();
  private framework: FrameworkInfo;
  private loop: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private suppressed = new Set<string>();
  private readonly onCall: SchedulerClientOptions['onCall'];

  constructor(opts: SchedulerClientOptions) {
    if (!opts.framework) throw new TypeError('SchedulerClient: framework is required');
    if (!opts.detector && !(opts.masters && opts.masters.length)) throw new TypeError('SchedulerClient: masters (or a detector) is required');
    const limit = opts.heartbeatMissLimit ?? 5;
    if (!(limit > 0)) throw new RangeError(`SchedulerClient: heartbeatMissLimit must be > 0, got ${opts.heartbeatMissLimit}`);
    if (opts.credentials && !opts.credentials.principal) throw new TypeError('SchedulerClient: credentials.principal is empty');
    const contentType = opts.contentType ?? 'application/x-protobuf';
    const clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger();
    const backoff = new Backoff({ initialMs: opts.backoff?.initialMs ?? 500, maxMs: opts.backoff?.maxMs ?? 30_000, random: opts.random });
    this.framework = { ...opts.framework };
    this.onCall = opts.onCall;
    try {
      encodeSchedulerCall(calls.subscribe(this.framework, []), contentType);
    } catch (err) {
      throw new TypeError(`SchedulerClient: framework cannot be sent to Mesos: ${(err as Error).message}`, { cause: err });
    }
    this.session = new SchedulerSession({
      contentType,
      credentials: opts.credentials,
      ca: opts.ca,
      requestTimeoutMs: opts.requestTimeoutMs,
      maxRedirects: opts.maxRedirects,
      callRetries: opts.callRetries,
      backoff: { initialMs: backoff.initialMs, maxMs: backoff.maxMs },
      random: opts.random,
      clock,
      log: this.log,
    });
    this.controller = new SubscriptionController(
      {
        detector: opts.detector ?? new StaticMasterDetector(opts.masters ?? []),
        session: this.session,
        backoff,
        clock,
        log: this.log,
        heartbeatMissLimit: limit,
        maxRedirects: opts.maxRedirects,
        maxFrameBytes: opts.maxFrameBytes,
      },
      {
        subscribeCall: () => calls.subscribe(this.framework, this.suppressedRoles),
        subscribed: (s, heartbeatIntervalSeconds, master) => {
          this.framework = { ...this.framework, id: s.framework_id };
          this.emit('subscribed', { frameworkId: s.framework_id.value, heartbeatIntervalSeconds, masterInfo: s.master_info, master });
        },
        event: (ev) => this.emit('event', ev),
        disconnected: (reason) => {
          this.emit('disconnected', reason);
          const id = this.framework.id?.value;
          if (id && reason instanceof ErrorEventError && reason.mesosMessage === FRAMEWORK_REMOVED) {
            // That id can never subscribe again: register as a new framework (its tasks are gone with the old one).
            const { id: _removed, ...rest } = this.framework;
            this.framework = rest;
            this.emit('frameworkRemoved', { frameworkId: id, message: reason.mesosMessage });
          }
        },
      },
    );
  }

  get state(): SchedulerClientState {
    if (this.stopped) return 'stopped';
    return this.started ? this.controller.state : 'idle';
  }
  get frameworkId(): string | undefined {
    return this.framework.id?.value;
  }
  get streamId(): string | undefined {
    return this.session.streamId;
  }
  /** The API URL of the master currently believed to lead. */
  get master(): string | undefined {
    return this.session.leader;
  }

  on<K extends keyof SchedulerClientEvents>(event: K, handler: (...args: SchedulerClientEvents[K]) => void): this {
    this.emitter.on(event, handler as (...args: unknown[]) => void);
    return this;
  }
  off<K extends keyof SchedulerClientEvents>(event: K, handler: (...args: SchedulerClientEvents[K]) => void): this {
    this.emitter.off(event, handler as (...args: unknown[]) => void);
    return this;
  }

  start(): void {
    if (this.state !== 'idle') throw new Error(`SchedulerClient.start: already ${this.state}`);
    this.started = true;
    this.loop = this.controller.run(this.stopSignal.signal).catch((err: unknown) => this.log.error({ err }, 'scheduler client loop failed'));
  }

  /** Closes the stream and stops reconnecting. Idempotent. */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    this.controller.abortStream();
    await this.loop;
    this.stopped = true;
    this.session.streamId = undefined;
    this.session.destroy();
  }

  /**
   * Sends a call to the leading master on a keep-alive connection of its own; resolves on 202.
   * Fills framework_id; rejects with NotSubscribedError unless subscribed, and with a typed MesosHttpError otherwise.
   */
  async call(call: SchedulerCall): Promise<void> {
    if (call.type === 'SUBSCRIBE') throw new TypeError('SchedulerClient.call: SUBSCRIBE is sent by the client itself');
    const frameworkId = this.frameworkId;
    if (this.state !== 'subscribed' || !frameworkId) throw new NotSubscribedError();
    const started = performance.now();
    let ok = false;
    try {
      await this.session.call({ ...call, framework_id: { value: frameworkId } }, this.stopSignal.signal);
      ok = true;
    } finally {
      this.onCall?.(call.type, (performance.now() - started) / 1000, ok);
    }
  }

  // ------------------------------------------------------------------------------------------ calls

  accept(offerIds: string[], operations: OfferOperation[], filters?: Filters): Promise<void> {
    return this.call(calls.accept(offerIds, operations, filters));
  }

  decline(offerIds: string[], filters?: Filters): Promise<void> {
    return this.call(calls.decline(offerIds, filters));
  }

  /** Acknowledges an UPDATE; a no-op for updates without a uuid (Mesos rejects acks for those). Resolves true if sent. */
  async acknowledge(status: TaskStatus): Promise<boolean> {
    const ack = calls.acknowledge(status);
    if (ack === 'no-uuid') return false;
    if (ack === 'no-agent-id') {
      this.log.warn({ task: status.task_id.value }, 'update with a uuid but no agent_id cannot be acknowledged');
      return false;
    }
    await this.call(ack);
    return true;
  }

  /** Explicit reconciliation of the given tasks; an empty list asks for implicit reconciliation (all tasks). */
  reconcile(tasks: Array<{ taskId: string; agentId?: string }>): Promise<void> {
    return this.call(calls.reconcile(tasks));
  }

  kill(taskId: string, agentId?: string, killPolicy?: KillPolicy): Promise<void> {
    return this.call(calls.kill(taskId, agentId, killPolicy));
  }

  /** REVIVE (all roles when none given); the roles also stop being suppressed on later re-subscriptions. */
  async revive(roles?: string[]): Promise<void> {
    await this.call(calls.revive(roles));
    for (const r of roles?.length ? roles : [...this.suppressed]) this.suppressed.delete(r);
  }

  /** SUPPRESS (all roles when none given); remembered so a re-SUBSCRIBE keeps them suppressed (`suppressed_roles`). */
  async suppress(roles?: string[]): Promise<void> {
    await this.call(calls.suppress(roles));
    for (const r of roles?.length ? roles : calls.frameworkRoles(this.framework)) this.suppressed.add(r);
  }

  /** Roles currently suppressed, as the next SUBSCRIBE will send them. */
  get suppressedRoles(): string[] {
    return [...this.suppressed].sort();
  }

  /** UPDATE_FRAMEWORK; the new info (same id) is what later re-subscriptions send. */
  async updateFramework(info: FrameworkInfo, suppressedRoles?: string[]): Promise<void> {
    const next: FrameworkInfo = { ...info, id: this.framework.id };
    await this.call(calls.updateFramework(next, suppressedRoles));
    this.framework = next;
    if (suppressedRoles) this.suppressed = new Set(suppressedRoles);
  }

  /** Removes the framework from Mesos for good, then stops the client (re-subscribing would be refused). */
  async teardown(): Promise<void> {
    await this.call(calls.teardown());
    await this.stop();
  }

  shutdown(executorId: string, agentId: string): Promise<void> {
    return this.call(calls.shutdown(executorId, agentId));
  }

  acceptInverseOffers(inverseOfferIds: string[], filters?: Filters): Promise<void> {
    return this.call(calls.acceptInverseOffers(inverseOfferIds, filters));
  }

  declineInverseOffers(inverseOfferIds: string[], filters?: Filters): Promise<void> {
    return this.call(calls.declineInverseOffers(inverseOfferIds, filters));
  }

  message(agentId: string, executorId: string, data: Uint8Array): Promise<void> {
    return this.call(calls.message(agentId, executorId, data));
  }

  private emit<K extends keyof SchedulerClientEvents>(event: K, ...args: SchedulerClientEvents[K]): void {
    try {
      this.emitter.emit(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, 'scheduler client listener threw');
    }
  }
}

