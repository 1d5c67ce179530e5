/**
 * The v1 scheduler client. It owns everything HTTP about being a framework — the SUBSCRIBE stream, the
 * Mesos-Stream-Id, leader redirects, 503 retries, heartbeat watchdog, reconnect with backoff — so the scheduler
 * loop only sees typed events and `call()`s.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type {
  AgentID,
  ExecutorID,
  Filters,
  FrameworkInfo,
  KillPolicy,
  MasterInfo,
  OfferID,
  OfferOperation,
  SchedulerCall,
  SchedulerEvent,
  TaskID,
  TaskStatus,
} from './types.js';
import { decodeSchedulerEvent, encodeSchedulerCall, type ContentType, type UnknownEnumValue } from './codec.js';
import { logUnknownEnumsOnce } from './unknown-enums.js';
import { Backoff, sleep, systemClock, type Clock } from './backoff.js';
import {
  ConnectionError,
  ErrorEventError,
  errorForStatus,
  HeartbeatTimeoutError,
  MesosClientError,
  NotSubscribedError,
  ProtocolError,
} from './errors.js';
import {
  apiUrl,
  basicAuthHeader,
  CallAgents,
  headerString,
  isStream,
  openStream,
  post,
  pumpRecords,
  resolveLocation,
  responseContentType,
} from './http.js';
import { silentLogger } from '../telemetry/log.js';

export const SCHEDULER_API_PATH = '/api/v1/scheduler';

/** Where to find the leading master. Static lists now; ZooKeeper (`zk://`) detection plugs in here later. */
export interface MasterDetector {
  /** The next master base URL to try (`http://host:5050`); called again after each connection failure. */
  next(): Promise<string>;
  /** How many distinct masters one round covers (to know when every one refused). */
  readonly size?: number;
}

/** Round-robin over a fixed list of master URLs. */
export class StaticMasterDetector implements MasterDetector {
  private i = 0;
  readonly size: number;
  constructor(private readonly masters: string[]) {
    if (masters.length === 0) throw new TypeError('StaticMasterDetector: at least one master URL is required');
    for (const m of masters) {
      try {
        const u = new URL(m);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
      } catch {
        throw new TypeError(`StaticMasterDetector: "${m}" is not an http(s) URL (want e.g. http://master:5050)`);
      }
    }
    this.size = masters.length;
  }
  async next(): Promise<string> {
    const m = this.masters[this.i % this.masters.length];
    this.i++;
    return m;
  }
}

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
}

/** Mesos' default when SUBSCRIBED carries none. */
const DEFAULT_HEARTBEAT_SECONDS = 15;

class Redirect {
  constructor(readonly location: string) {}
}

const id = (value: string): { value: string } => ({ value });

export class SchedulerClient {
  private readonly opts: SchedulerClientOptions;
  private readonly detector: MasterDetector;
  private readonly contentType: ContentType;
  private readonly clock: Clock;
  private readonly log: Logger;
  private unknownEnums: ((u: UnknownEnumValue) => void) | undefined;
  private readonly backoff: Backoff;
  private readonly agents: CallAgents;
  private readonly authHeader: string | undefined;
  private readonly emitter = new EventEmitter();
  private readonly stopSignal = new AbortController();
  private framework: FrameworkInfo;
  private loop: Promise<void> | undefined;
  private _state: SchedulerClientState = 'idle';
  private _streamId: string | undefined;
  /** API URL of the master last known to lead (from a 307 or a successful SUBSCRIBE). */
  private leader: string | undefined;
  private streamAbort: AbortController | undefined;
  private suppressed = new Set<string>();

  constructor(opts: SchedulerClientOptions) {
    if (!opts.framework) throw new TypeError('SchedulerClient: framework is required');
    if (!opts.detector && !(opts.masters && opts.masters.length)) throw new TypeError('SchedulerClient: masters (or a detector) is required');
    const limit = opts.heartbeatMissLimit ?? 5;
    if (!(limit > 0)) throw new RangeError(`SchedulerClient: heartbeatMissLimit must be > 0, got ${opts.heartbeatMissLimit}`);
    if (opts.credentials && !opts.credentials.principal) throw new TypeError('SchedulerClient: credentials.principal is empty');
    this.opts = opts;
    this.detector = opts.detector ?? new StaticMasterDetector(opts.masters ?? []);
    this.contentType = opts.contentType ?? 'application/x-protobuf';
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger();
    this.backoff = new Backoff({ initialMs: opts.backoff?.initialMs ?? 500, maxMs: opts.backoff?.maxMs ?? 30_000, random: opts.random });
    this.agents = new CallAgents({ ca: opts.ca });
    this.authHeader = opts.credentials ? basicAuthHeader(opts.credentials.principal, opts.credentials.secret) : undefined;
    this.framework = { ...opts.framework };
    try {
      encodeSchedulerCall({ type: 'SUBSCRIBE', subscribe: { framework_info: this.framework } }, this.contentType);
    } catch (err) {
      throw new TypeError(`SchedulerClient: framework cannot be sent to Mesos: ${(err as Error).message}`, { cause: err });
    }
  }

  get state(): SchedulerClientState {
    return this._state;
  }
  get frameworkId(): string | undefined {
    return this.framework.id?.value;
  }
  get streamId(): string | undefined {
    return this._streamId;
  }
  /** The API URL of the master currently believed to lead. */
  get master(): string | undefined {
    return this.leader;
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
    if (this._state !== 'idle') throw new Error(`SchedulerClient.start: already ${this._state}`);
    this._state = 'connecting';
    this.loop = this.run().catch((err: unknown) => this.log.error({ err }, 'scheduler client loop failed'));
  }

  /** Closes the stream and stops reconnecting. Idempotent. */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    this.streamAbort?.abort();
    await this.loop;
    this._state = 'stopped';
    this._streamId = undefined;
    this.agents.destroy();
  }

  /**
   * Sends a call to the leading master on a keep-alive connection of its own; resolves on 202.
   * Fills framework_id; rejects with NotSubscribedError unless subscribed, and with a typed MesosHttpError otherwise.
   */
  async call(call: SchedulerCall): Promise<void> {
    if (call.type === 'SUBSCRIBE') throw new TypeError('SchedulerClient.call: SUBSCRIBE is sent by the client itself');
    const streamId = this._streamId;
    const frameworkId = this.frameworkId;
    if (this._state !== 'subscribed' || !streamId || !frameworkId || !this.leader) throw new NotSubscribedError();
    const body = encodeSchedulerCall({ ...call, framework_id: id(frameworkId) }, this.contentType);
    const retry = new Backoff({ initialMs: this.backoff.initialMs, maxMs: this.backoff.maxMs, random: this.opts.random });
    let url = this.leader;
    let redirects = 0;
    for (;;) {
      const r = await post({
        url,
        body,
        headers: { ...this.headers(), 'Mesos-Stream-Id': streamId },
        agent: this.agents.for(new URL(url)),
        ca: this.opts.ca,
        timeoutMs: this.opts.requestTimeoutMs ?? 30_000,
      });
      if (r.status === 202 || r.status === 200) return;
      if (r.status === 307) {
        const next = resolveLocation(headerString(r.headers.location), url);
        if (!next) throw new MesosClientError('bad-redirect', `${url}: 307 without a usable Location (${String(r.headers.location)})`);
        if (++redirects > (this.opts.maxRedirects ?? 5)) throw new MesosClientError('too-many-redirects', `${call.type}: more than ${redirects - 1} redirects, last to ${next}`);
        this.log.info({ from: url, to: next, call: call.type }, 'call redirected to the leading master');
        url = next;
        this.leader = next;
        continue;
      }
      if ((r.status === 503 || r.status === 429) && retry.attempts < (this.opts.callRetries ?? 5)) {
        // Retry-After (seconds or an HTTP-date), when the master or a proxy sends one, is the least we wait.
        const asked = retryAfterMs(headerString(r.headers['retry-after']), this.clock.now());
        const delay = Math.max(retry.next(), asked ?? 0);
        this.log.debug({ call: call.type, delay, status: r.status, retryAfterMs: asked }, 'master busy; retrying call');
        if (!(await sleep(delay, this.clock, this.stopSignal.signal))) throw new MesosClientError('stopped', 'client stopped');
        continue;
      }
      throw errorForStatus(r.status, r.body.toString('utf8'), url);
    }
  }

  // ------------------------------------------------------------------------------------------ call builders

  accept(offerIds: string[], operations: OfferOperation[], filters?: Filters): Promise<void> {
    return this.call({ type: 'ACCEPT', accept: { offer_ids: offerIds.map(id), operations, ...(filters ? { filters } : {}) } });
  }

  decline(offerIds: string[], filters?: Filters): Promise<void> {
    return this.call({ type: 'DECLINE', decline: { offer_ids: offerIds.map(id), ...(filters ? { filters } : {}) } });
  }

  /** Acknowledges an UPDATE; a no-op for updates without a uuid (Mesos rejects acks for those). Resolves true if sent. */
  async acknowledge(status: TaskStatus): Promise<boolean> {
    if (!status.uuid || status.uuid.length === 0) return false;
    if (!status.agent_id) {
      this.log.warn({ task: status.task_id.value }, 'update with a uuid but no agent_id cannot be acknowledged');
      return false;
    }
    await this.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid } });
    return true;
  }

  /** Explicit reconciliation of the given tasks; an empty list asks for implicit reconciliation (all tasks). */
  reconcile(tasks: Array<{ taskId: string; agentId?: string }>): Promise<void> {
    return this.call({
      type: 'RECONCILE',
      reconcile: { tasks: tasks.map((t) => ({ task_id: id(t.taskId) as TaskID, ...(t.agentId ? { agent_id: id(t.agentId) as AgentID } : {}) })) },
    });
  }

  kill(taskId: string, agentId?: string, killPolicy?: KillPolicy): Promise<void> {
    return this.call({
      type: 'KILL',
      kill: { task_id: id(taskId), ...(agentId ? { agent_id: id(agentId) } : {}), ...(killPolicy ? { kill_policy: killPolicy } : {}) },
    });
  }

  /** REVIVE (all roles when none given); the roles also stop being suppressed on later re-subscriptions. */
  async revive(roles?: string[]): Promise<void> {
    await this.call({ type: 'REVIVE', revive: roles?.length ? { roles } : {} });
    for (const r of roles?.length ? roles : [...this.suppressed]) this.suppressed.delete(r);
  }

  /** SUPPRESS (all roles when none given); remembered so a re-SUBSCRIBE keeps them suppressed (`suppressed_roles`). */
  async suppress(roles?: string[]): Promise<void> {
    await this.call({ type: 'SUPPRESS', suppress: roles?.length ? { roles } : {} });
    for (const r of roles?.length ? roles : this.frameworkRoles()) this.suppressed.add(r);
  }

  /** Roles currently suppressed, as the next SUBSCRIBE will send them. */
  get suppressedRoles(): string[] {
    return [...this.suppressed].sort();
  }

  /** UPDATE_FRAMEWORK; the new info (same id) is what later re-subscriptions send. */
  async updateFramework(info: FrameworkInfo, suppressedRoles?: string[]): Promise<void> {
    const next: FrameworkInfo = { ...info, id: this.framework.id };
    await this.call({
      type: 'UPDATE_FRAMEWORK',
      update_framework: { framework_info: next, ...(suppressedRoles ? { suppressed_roles: suppressedRoles } : {}) },
    });
    this.framework = next;
    if (suppressedRoles) this.suppressed = new Set(suppressedRoles);
  }

  private frameworkRoles(): string[] {
    if (this.framework.roles?.length) return this.framework.roles;
    return [this.framework.role ?? '*'];
  }

  /** Removes the framework from Mesos for good, then stops the client (re-subscribing would be refused). */
  async teardown(): Promise<void> {
    await this.call({ type: 'TEARDOWN' });
    await this.stop();
  }

  shutdown(executorId: string, agentId: string): Promise<void> {
    return this.call({ type: 'SHUTDOWN', shutdown: { executor_id: id(executorId) as ExecutorID, agent_id: id(agentId) } });
  }

  acceptInverseOffers(inverseOfferIds: string[], filters?: Filters): Promise<void> {
    return this.call({
      type: 'ACCEPT_INVERSE_OFFERS',
      accept_inverse_offers: { inverse_offer_ids: inverseOfferIds.map(id) as OfferID[], ...(filters ? { filters } : {}) },
    });
  }

  declineInverseOffers(inverseOfferIds: string[], filters?: Filters): Promise<void> {
    return this.call({
      type: 'DECLINE_INVERSE_OFFERS',
      decline_inverse_offers: { inverse_offer_ids: inverseOfferIds.map(id) as OfferID[], ...(filters ? { filters } : {}) },
    });
  }

  message(agentId: string, executorId: string, data: Uint8Array): Promise<void> {
    return this.call({ type: 'MESSAGE', message: { agent_id: id(agentId), executor_id: id(executorId), data } });
  }

  // ------------------------------------------------------------------------------------------ subscription loop

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'Content-Type': this.contentType, Accept: this.contentType };
    if (this.authHeader) h.Authorization = this.authHeader;
    return h;
  }

  private emit<K extends keyof SchedulerClientEvents>(event: K, ...args: SchedulerClientEvents[K]): void {
    try {
      this.emitter.emit(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, 'scheduler client listener threw');
    }
  }

  private async run(): Promise<void> {
    const signal = this.stopSignal.signal;
    let redirects = 0;
    let refusals = 0;
    while (!signal.aborted) {
      let url: string;
      try {
        url = this.leader ?? apiUrl(await this.detector.next(), SCHEDULER_API_PATH);
      } catch (err) {
        this.log.warn({ err }, 'master detection failed');
        await sleep(this.backoff.next(), this.clock, signal);
        continue;
      }
      const started = this.clock.now();
      const outcome = await this.subscribeOnce(url);
      if (signal.aborted) break;

      if (outcome instanceof Redirect) {
        this.log.info({ from: url, to: outcome.location }, 'SUBSCRIBE redirected to the leading master');
        this.leader = outcome.location;
        // Follow at once, but a redirect loop (masters disagreeing during an election) backs off.
        if (++redirects <= (this.opts.maxRedirects ?? 5)) continue;
        redirects = 0;
        await sleep(this.backoff.next(), this.clock, signal);
        continue;
      }
      redirects = 0;
      const reason = outcome;
      const wasSubscribed = this._state === 'subscribed';
      this._state = 'connecting';
      this._streamId = undefined;
      this.log.warn({ err: reason, master: url, wasSubscribed }, wasSubscribed ? 'subscription lost' : 'SUBSCRIBE failed');
      this.emit('disconnected', reason);

      if (reason instanceof ConnectionError) {
        // This master is gone: ask the detector for the next one, at once until every one refused in a row.
        this.leader = undefined;
        if (++refusals < (this.detector.size ?? 1)) continue;
        refusals = 0;
      } else {
        refusals = 0;
      }
      // A subscription that stayed up longer than the longest wait counts as healthy: start pacing afresh.
      // After an ERROR event (e.g. "Framework failed over") it never does, so a fight over the id cannot hot-loop.
      if (wasSubscribed && !(reason instanceof ErrorEventError) && this.clock.now() - started >= this.backoff.maxMs) this.backoff.reset();
      await sleep(this.backoff.next(), this.clock, signal);
    }
    this._state = 'stopped';
  }

  /** One SUBSCRIBE and its stream to the end. Never throws: returns why it ended. */
  private async subscribeOnce(url: string): Promise<Error | Redirect> {
    const ac = new AbortController();
    this.streamAbort = ac;
    const onStop = (): void => ac.abort();
    this.stopSignal.signal.addEventListener('abort', onStop, { once: true });
    try {
      const call: SchedulerCall = {
        type: 'SUBSCRIBE',
        subscribe: { framework_info: this.framework, ...(this.suppressed.size ? { suppressed_roles: this.suppressedRoles } : {}) },
        ...(this.framework.id ? { framework_id: this.framework.id } : {}),
      };
      let r;
      try {
        const body = encodeSchedulerCall(call, this.contentType);
        r = await openStream({
          url,
          body,
          headers: this.headers(),
          ca: this.opts.ca,
          signal: ac.signal,
          timeoutMs: this.opts.requestTimeoutMs ?? 30_000,
        });
      } catch (err) {
        return err instanceof Error ? err : new ConnectionError(String(err));
      }
      if (!isStream(r)) {
        if (r.status === 307) {
          const next = resolveLocation(headerString(r.headers.location), url);
          if (!next) return new MesosClientError('bad-redirect', `${url}: 307 without a usable Location (${String(r.headers.location)})`);
          return new Redirect(next);
        }
        return errorForStatus(r.status, r.body.toString('utf8'), url);
      }
      const res = r.response;
      const streamId = headerString(r.headers['mesos-stream-id']);
      if (!streamId) {
        res.destroy();
        return new ProtocolError(`${url}: SUBSCRIBE answered ${r.status} without a Mesos-Stream-Id header`);
      }
      return await this.consume(res, url, streamId, responseContentType(headerString(r.headers['content-type']), this.contentType));
    } finally {
      this.stopSignal.signal.removeEventListener('abort', onStop);
      if (this.streamAbort === ac) this.streamAbort = undefined;
    }
  }

  private async consume(res: IncomingMessage, url: string, streamId: string, ct: ContentType): Promise<Error> {
    const limit = this.opts.heartbeatMissLimit ?? 5;
    let silenceMs = limit * DEFAULT_HEARTBEAT_SECONDS * 1000;
    let timer: unknown;
    let lastActivity = this.clock.now();
    // One timer per silence window, not per chunk: when it fires early it re-arms for the rest.
    const check = (): void => {
      const quiet = this.clock.now() - lastActivity;
      if (quiet >= silenceMs) res.destroy(new HeartbeatTimeoutError(silenceMs));
      else timer = this.clock.setTimeout(check, silenceMs - quiet);
    };
    const arm = (): void => {
      if (timer !== undefined) this.clock.clearTimeout(timer);
      lastActivity = this.clock.now();
      timer = this.clock.setTimeout(check, silenceMs);
    };
    const touch = (): void => {
      lastActivity = this.clock.now();
    };
    let first = true;
    let errorEvent: ErrorEventError | undefined;
    const onRecord = (record: Uint8Array): void => {
      let ev: SchedulerEvent;
      try {
        ev = decodeSchedulerEvent(record, ct, { onUnknownEnum: (this.unknownEnums ??= logUnknownEnumsOnce(this.log, 'Mesos master')) });
      } catch (err) {
        throw new ProtocolError(`undecodable scheduler event: ${(err as Error).message}`, err);
      }
      if (first) {
        if (ev.type !== 'SUBSCRIBED') throw new ProtocolError(`first event on the stream was ${ev.type}, not SUBSCRIBED`);
        first = false;
        const s = ev.subscribed;
        const interval = s.heartbeat_interval_seconds && s.heartbeat_interval_seconds > 0 ? s.heartbeat_interval_seconds : DEFAULT_HEARTBEAT_SECONDS;
        silenceMs = Math.max(1, Math.round(limit * interval * 1000));
        arm();
        this.framework = { ...this.framework, id: s.framework_id };
        this._streamId = streamId;
        this.leader = url;
        this._state = 'subscribed';
        this.log.info({ frameworkId: s.framework_id.value, master: url, heartbeat: interval }, 'subscribed');
        this.emit('subscribed', { frameworkId: s.framework_id.value, heartbeatIntervalSeconds: interval, masterInfo: s.master_info, master: url });
      }
      if (ev.type === 'ERROR') errorEvent = new ErrorEventError(ev.error.message);
      this.emit('event', ev);
      // Mesos closes the stream after ERROR; do not wait for it.
      if (errorEvent) throw errorEvent;
    };
    arm();
    try {
      await pumpRecords(res, onRecord, { maxFrameBytes: this.opts.maxFrameBytes, onChunk: touch });
      return new ConnectionError(`${url}: master ended the subscription stream`);
    } catch (err) {
      if (err instanceof ErrorEventError) return err;
      if (this.stopSignal.signal.aborted) return new MesosClientError('stopped', 'client stopped');
      return err instanceof Error ? err : new ConnectionError(String(err));
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    }
  }
}

/** Longest wait a Retry-After header can impose on one retried call. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** A Retry-After header (delay-seconds or HTTP-date) as milliseconds from `nowMs`, capped; undefined if absent or bad. */
export function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const ms = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - nowMs;
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : undefined;
}
