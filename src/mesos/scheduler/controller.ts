/**
 * The subscribe / re-subscribe loop (mesos-go's extras/scheduler/controller): asks the detector for a master,
 * subscribes through the session, follows redirects, watches heartbeats on the stream, and after a failure waits
 * with backoff before subscribing again.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { SchedulerCall, SchedulerEvent } from '../types.js';
import { decodeSchedulerEvent, type ContentType, type UnknownEnumValue } from '../codec.js';
import { logUnknownEnumsOnce } from '../unknown-enums.js';
import { type Backoff, sleep, type Clock } from '../../time/backoff.js';
import { ConnectionError, ErrorEventError, HeartbeatTimeoutError, MesosClientError, ProtocolError } from '../errors.js';
import { apiUrl, pumpRecords } from '../http.js';
import { Redirect, type SchedulerSession } from './session.js';
import type { MasterDetector } from './detector.js';

export const SCHEDULER_API_PATH = '/api/v1/scheduler';
/** Mesos' default when SUBSCRIBED carries none. */
const DEFAULT_HEARTBEAT_SECONDS = 15;

export interface ControllerOptions {
  detector: MasterDetector;
  session: SchedulerSession;
  backoff: Backoff;
  clock: Clock;
  log: Logger;
  /** The stream is dead after this many heartbeat intervals without an event. */
  heartbeatMissLimit: number;
  /** Redirects followed in a row before backing off; default 5. */
  maxRedirects?: number;
  maxFrameBytes?: number;
}

export interface ControllerHooks {
  /** The SUBSCRIBE to send now (framework info with its id once known, suppressed roles). */
  subscribeCall(): SchedulerCall;
  /** SUBSCRIBED arrived on a new stream (before it is passed to `event`). */
  subscribed(ev: Extract<SchedulerEvent, { type: 'SUBSCRIBED' }>['subscribed'], heartbeatIntervalSeconds: number, master: string): void;
  event(ev: SchedulerEvent): void;
  /** The stream ended or SUBSCRIBE failed; the controller waits and tries again. */
  disconnected(reason: Error, wasSubscribed: boolean): void;
}

export class SubscriptionController {
  state: 'connecting' | 'subscribed' | 'stopped' = 'connecting';
  private streamAbort: AbortController | undefined;
  /** Logs each enum value a newer master sends once (issue 16: unknown values are kept, not a reconnect loop). */
  private unknownEnums: ((u: UnknownEnumValue) => void) | undefined;

  constructor(
    private readonly o: ControllerOptions,
    private readonly hooks: ControllerHooks,
  ) {}

  /** Runs until `signal` aborts. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    const { session, backoff, clock, log, detector } = this.o;
    let redirects = 0;
    let refusals = 0;
    while (!signal.aborted) {
      let url: string;
      try {
        url = session.leader ?? apiUrl(await detector.next(), SCHEDULER_API_PATH);
      } catch (err) {
        log.warn({ err }, 'master detection failed');
        await sleep(backoff.next(), clock, signal);
        continue;
      }
      const started = clock.now();
      const outcome = await this.subscribeOnce(url, signal);
      if (signal.aborted) break;

      if (outcome instanceof Redirect) {
        log.info({ from: url, to: outcome.location }, 'SUBSCRIBE redirected to the leading master');
        session.leader = outcome.location;
        // Follow at once, but a redirect loop (masters disagreeing during an election) backs off.
        if (++redirects <= (this.o.maxRedirects ?? 5)) continue;
        redirects = 0;
        await sleep(backoff.next(), clock, signal);
        continue;
      }
      redirects = 0;
      const reason = outcome;
      const wasSubscribed = this.state === 'subscribed';
      this.state = 'connecting';
      session.streamId = undefined;
      log.warn({ err: reason, master: url, wasSubscribed }, wasSubscribed ? 'subscription lost' : 'SUBSCRIBE failed');
      this.hooks.disconnected(reason, wasSubscribed);

      if (reason instanceof ConnectionError) {
        // This master is gone: ask the detector for the next one, at once until every one refused in a row.
        session.leader = undefined;
        if (++refusals < (detector.size ?? 1)) continue;
        refusals = 0;
      } else {
        refusals = 0;
      }
      // A subscription that stayed up longer than the longest wait counts as healthy: start pacing afresh.
      // After an ERROR event (e.g. "Framework failed over") it never does, so a fight over the id cannot hot-loop.
      if (wasSubscribed && !(reason instanceof ErrorEventError) && clock.now() - started >= backoff.maxMs) backoff.reset();
      await sleep(backoff.next(), clock, signal);
    }
    this.state = 'stopped';
  }

  /** Ends the current stream at once (stop() of the client). */
  abortStream(): void {
    this.streamAbort?.abort();
  }

  /** One SUBSCRIBE and its stream to the end. Never throws: returns why it ended. */
  private async subscribeOnce(url: string, stop: AbortSignal): Promise<Error | Redirect> {
    const ac = new AbortController();
    this.streamAbort = ac;
    const onStop = (): void => ac.abort();
    stop.addEventListener('abort', onStop, { once: true });
    try {
      const opened = await this.o.session.subscribe(url, this.hooks.subscribeCall(), ac.signal);
      if (opened instanceof Redirect || opened instanceof Error) return opened;
      return await this.consume(opened.response, url, opened.streamId, opened.contentType, stop);
    } finally {
      stop.removeEventListener('abort', onStop);
      if (this.streamAbort === ac) this.streamAbort = undefined;
    }
  }

  private async consume(res: IncomingMessage, url: string, streamId: string, ct: ContentType, stop: AbortSignal): Promise<Error> {
    const { clock, log, session } = this.o;
    const limit = this.o.heartbeatMissLimit;
    let silenceMs = limit * DEFAULT_HEARTBEAT_SECONDS * 1000;
    let timer: unknown;
    let lastActivity = clock.now();
    // One timer per silence window, not per chunk: when it fires early it re-arms for the rest.
    const check = (): void => {
      const quiet = clock.now() - lastActivity;
      if (quiet >= silenceMs) res.destroy(new HeartbeatTimeoutError(silenceMs));
      else timer = clock.setTimeout(check, silenceMs - quiet);
    };
    const arm = (): void => {
      if (timer !== undefined) clock.clearTimeout(timer);
      lastActivity = clock.now();
      timer = clock.setTimeout(check, silenceMs);
    };
    const touch = (): void => {
      lastActivity = clock.now();
    };
    let first = true;
    let errorEvent: ErrorEventError | undefined;
    const onRecord = (record: Uint8Array): void => {
      let ev: SchedulerEvent;
      try {
        ev = decodeSchedulerEvent(record, ct, { onUnknownEnum: (this.unknownEnums ??= logUnknownEnumsOnce(log, 'Mesos master')) });
      } catch (err) {
        throw new ProtocolError(`undecodable scheduler event: ${(err as Error).message}`, err);
      }
      // A refused SUBSCRIBE (e.g. "Framework has been removed") is a stream whose one event is ERROR.
      if (first && ev.type === 'ERROR') {
        this.hooks.event(ev);
        throw new ErrorEventError(ev.error.message);
      }
      if (first) {
        if (ev.type !== 'SUBSCRIBED') throw new ProtocolError(`first event on the stream was ${ev.type}, not SUBSCRIBED`);
        first = false;
        const s = ev.subscribed;
        const interval = s.heartbeat_interval_seconds && s.heartbeat_interval_seconds > 0 ? s.heartbeat_interval_seconds : DEFAULT_HEARTBEAT_SECONDS;
        silenceMs = Math.max(1, Math.round(limit * interval * 1000));
        arm();
        session.streamId = streamId;
        session.leader = url;
        this.state = 'subscribed';
        log.info({ frameworkId: s.framework_id.value, master: url, heartbeat: interval }, 'subscribed');
        this.hooks.subscribed(s, interval, url);
      }
      if (ev.type === 'ERROR') errorEvent = new ErrorEventError(ev.error.message);
      this.hooks.event(ev);
      // Mesos closes the stream after ERROR; do not wait for it.
      if (errorEvent) throw errorEvent;
    };
    arm();
    try {
      await pumpRecords(res, onRecord, { maxFrameBytes: this.o.maxFrameBytes, onChunk: touch });
      return new ConnectionError(`${url}: master ended the subscription stream`);
    } catch (err) {
      if (err instanceof ErrorEventError) return err;
      if (stop.aborted) return new MesosClientError('stopped', 'client stopped');
      return err instanceof Error ? err : new ConnectionError(String(err));
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
    }
  }
}
