/**
 * The HTTP side of being a framework (mesos-go's httpcli/httpsched): content type and auth headers, the leading
 * master's URL and the Mesos-Stream-Id, 307 redirects (relative and protocol-relative Locations included) and 503
 * retries with backoff. It knows nothing of subscribing again; the controller does that.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { SchedulerCall } from '../types.js';
import { encodeSchedulerCall, type ContentType } from '../codec.js';
import { Backoff, sleep, type Clock } from '../../time/backoff.js';
import { ConnectionError, errorForStatus, MesosClientError, NotSubscribedError, ProtocolError } from '../errors.js';
import { basicAuthHeader, CallAgents, headerString, isStream, openStream, post, resolveLocation, responseContentType } from '../http.js';

export interface SessionOptions {
  contentType: ContentType;
  credentials?: { principal: string; secret: string };
  ca?: string | Buffer;
  requestTimeoutMs?: number;
  /** Redirects a call follows in a row; default 5. */
  maxRedirects?: number;
  /** 503s a call retries (with backoff) before failing; default 5. */
  callRetries?: number;
  backoff: { initialMs: number; maxMs: number };
  random?: () => number;
  clock: Clock;
  log: Logger;
}

/**
 * Calls that answer offers or change what the master offers. They go on connections of their own: a framework holds
 * offers until its ACCEPT or DECLINE reaches the master, and thousands of ACKNOWLEDGEs (a burst's status updates) on
 * the shared connections would hold them there long after the framework decided.
 */
export const OFFER_CALLS: ReadonlySet<string> = new Set(['ACCEPT', 'DECLINE', 'SUPPRESS', 'REVIVE', 'ACCEPT_INVERSE_OFFERS', 'DECLINE_INVERSE_OFFERS']);

/** A SUBSCRIBE answered 307: where the leader is. */
export class Redirect {
  constructor(readonly location: string) {}
}

/** An open subscription stream. */
export interface OpenStream {
  response: IncomingMessage;
  streamId: string;
  contentType: ContentType;
}

export class SchedulerSession {
  /** API URL of the master last known to lead (from a 307 or a successful SUBSCRIBE). */
  leader: string | undefined;
  /** The current subscription's Mesos-Stream-Id; calls carry it. */
  streamId: string | undefined;
  private readonly agents: CallAgents;
  /** Offer calls' own connections: an ACCEPT or DECLINE never queues behind the acknowledgements of a burst's updates. */
  private readonly offerAgents: CallAgents;
  private readonly authHeader: string | undefined;

  constructor(private readonly o: SessionOptions) {
    this.agents = new CallAgents({ ca: o.ca });
    this.offerAgents = new CallAgents({ ca: o.ca });
    this.authHeader = o.credentials ? basicAuthHeader(o.credentials.principal, o.credentials.secret) : undefined;
  }

  headers(): Record<string, string> {
    const h: Record<string, string> = { 'Content-Type': this.o.contentType, Accept: this.o.contentType };
    if (this.authHeader) h.Authorization = this.authHeader;
    return h;
  }

  /**
   * Sends a call (framework_id filled in) to the leading master on a keep-alive connection; resolves on 200/202.
   * Follows 307 (the new leader is remembered), retries 503 with backoff; `stop` ends the waiting.
   */
  async call(call: SchedulerCall, stop: AbortSignal): Promise<void> {
    const streamId = this.streamId;
    const frameworkId = call.framework_id?.value;
    if (!streamId || !frameworkId || !this.leader) throw new NotSubscribedError();
    const body = encodeSchedulerCall(call, this.o.contentType);
    const retry = new Backoff({ initialMs: this.o.backoff.initialMs, maxMs: this.o.backoff.maxMs, random: this.o.random });
    let url = this.leader;
    let redirects = 0;
    for (;;) {
      const r = await post({
        url,
        body,
        headers: { ...this.headers(), 'Mesos-Stream-Id': streamId },
        agent: (OFFER_CALLS.has(call.type) ? this.offerAgents : this.agents).for(new URL(url)),
        ca: this.o.ca,
        timeoutMs: this.o.requestTimeoutMs ?? 30_000,
      });
      if (r.status === 202 || r.status === 200) return;
      if (r.status === 307) {
        const next = resolveLocation(headerString(r.headers.location), url);
        if (!next) throw new MesosClientError('bad-redirect', `${url}: 307 without a usable Location (${String(r.headers.location)})`);
        if (++redirects > (this.o.maxRedirects ?? 5)) throw new MesosClientError('too-many-redirects', `${call.type}: more than ${redirects - 1} redirects, last to ${next}`);
        this.o.log.info({ from: url, to: next, call: call.type }, 'call redirected to the leading master');
        url = next;
        this.leader = next;
        continue;
      }
      if ((r.status === 503 || r.status === 429) && retry.attempts < (this.o.callRetries ?? 5)) {
        // Retry-After (seconds or an HTTP-date), when the master or a proxy sends one, is the least we wait.
        const asked = retryAfterMs(headerString(r.headers['retry-after']), this.o.clock.now());
        const delay = Math.max(retry.next(), asked ?? 0);
        this.o.log.debug({ call: call.type, delay, status: r.status, retryAfterMs: asked }, 'master busy; retrying call');
        await sleep(delay, this.o.clock, stop);
        if (stop.aborted) throw new MesosClientError('stopped', 'client stopped');
        continue;
      }
      throw errorForStatus(r.status, r.body.toString('utf8'), url);
    }
  }

  /** POSTs SUBSCRIBE to `url`. Never throws: the open stream, a redirect, or why it failed. */
  async subscribe(url: string, call: SchedulerCall, signal: AbortSignal): Promise<OpenStream | Redirect | Error> {
    let r;
    try {
      const body = encodeSchedulerCall(call, this.o.contentType);
      r = await openStream({ url, body, headers: this.headers(), ca: this.o.ca, signal, timeoutMs: this.o.requestTimeoutMs ?? 30_000 });
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
    const streamId = headerString(r.headers['mesos-stream-id']);
    if (!streamId) {
      r.response.destroy();
      return new ProtocolError(`${url}: SUBSCRIBE answered ${r.status} without a Mesos-Stream-Id header`);
    }
    return { response: r.response, streamId, contentType: responseContentType(headerString(r.headers['content-type']), this.o.contentType) };
  }

  /** Closes the keep-alive connections. */
  destroy(): void {
    this.agents.destroy();
    this.offerAgents.destroy();
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
