/**
 * How an executor reaches its agent. HTTP by default; the emulator's in-process mode plugs in its own transport,
 * so the same ExecutorClient drives thousands of executors without sockets.
 */
import type { Logger } from 'pino';
import type { ExecutorCall, ExecutorEvent } from './types.js';
import { decodeExecutorEvent, encodeExecutorCall, type ContentType, type UnknownEnumValue } from './codec.js';
import { logUnknownEnumsOnce } from './unknown-enums.js';
import { errorForStatus, MesosClientError, ProtocolError } from './errors.js';
import { apiUrl, CallAgents, isStream, openStream, post, pumpRecords, responseContentType } from './http.js';
import { silentLogger } from '../telemetry/log.js';

export interface ExecutorTransport {
  /**
   * Sends SUBSCRIBE; resolves once the agent accepted it (the event stream is open), rejects if it did not.
   * Afterwards `onEvent` gets every event in order and `onClose` is called exactly once when the stream ends:
   * with the reason, or with nothing when `close()` ended it.
   */
  subscribe(call: ExecutorCall, onEvent: (ev: ExecutorEvent) => void, onClose: (err?: Error) => void): Promise<void>;
  /** A non-SUBSCRIBE call; resolves on 202. */
  call(call: ExecutorCall): Promise<void>;
  /** Ends the subscription stream (if any) and frees connections. */
  close(): void;
}

export interface HttpExecutorTransportOptions {
  /** Agent base URL, `http://10.0.0.7:5051`; `/api/v1/executor` is appended. */
  endpoint: string;
  contentType?: ContentType;
  /** MESOS_EXECUTOR_AUTHENTICATION_TOKEN, sent as `Authorization: Bearer …`. */
  token?: string;
  ca?: string | Buffer;
  /** Timeout for calls and for SUBSCRIBE's response headers; default 10 s. */
  requestTimeoutMs?: number;
  maxFrameBytes?: number;
  log?: Logger;
}

/**
 * How long a call or the SUBSCRIBE's response headers may take. The agent is local; a slower answer is a starved host
 * (an executor's event loop, or the agent's, busy for seconds), and giving up re-subscribes, after which the agent drops
 * every task sent on the old stream that the executor never saw (slave.cpp subscribe). 30 s, not 10: on a loaded 2-core
 * test machine 10 s timed out dozens of times per run.
 */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export class HttpExecutorTransport implements ExecutorTransport {
  readonly url: string;
  private readonly contentType: ContentType;
  private readonly headers: Record<string, string>;
  private readonly agents: CallAgents;
  private readonly opts: HttpExecutorTransportOptions;
  private readonly log: Logger;
  private readonly unknownEnums: (u: UnknownEnumValue) => void;
  private stream: AbortController | undefined;

  constructor(opts: HttpExecutorTransportOptions) {
    if (!opts.endpoint) throw new TypeError('HttpExecutorTransport: endpoint is required');
    this.url = apiUrl(opts.endpoint, '/api/v1/executor');
    this.contentType = opts.contentType ?? 'application/x-protobuf';
    this.headers = { 'Content-Type': this.contentType, Accept: this.contentType };
    if (opts.token) this.headers.Authorization = `Bearer ${opts.token}`;
    this.agents = new CallAgents({ ca: opts.ca });
    this.opts = opts;
    this.log = opts.log ?? silentLogger();
    this.unknownEnums = logUnknownEnumsOnce(this.log, 'Mesos agent');
  }

  async subscribe(call: ExecutorCall, onEvent: (ev: ExecutorEvent) => void, onClose: (err?: Error) => void): Promise<void> {
    this.stream?.abort();
    const ac = new AbortController();
    this.stream = ac;
    const r = await openStream({
      url: this.url,
      body: encodeExecutorCall(call, this.contentType),
      headers: this.headers,
      ca: this.opts.ca,
      signal: ac.signal,
      timeoutMs: this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    });
    if (!isStream(r)) throw errorForStatus(r.status, r.body.toString('utf8'), this.url);
    const res = r.response;
    const ct = responseContentType(r.headers['content-type'], this.contentType);
    const onRecord = (record: Uint8Array): void => {
      let ev: ExecutorEvent;
      try {
        ev = decodeExecutorEvent(record, ct, { onUnknownEnum: this.unknownEnums });
      } catch (err) {
        throw new ProtocolError(`undecodable executor event: ${(err as Error).message}`, err);
      }
      onEvent(ev);
    };
    pumpRecords(res, onRecord, { maxFrameBytes: this.opts.maxFrameBytes }).then(
      () => {
        if (ac.signal.aborted) onClose();
        else onClose(new MesosClientError('connection', `${this.url}: agent ended the subscription stream`));
      },
      (err: Error) => {
        if (ac.signal.aborted) onClose();
        else {
          this.log.warn({ err }, 'executor subscription stream broke');
          onClose(err);
        }
      },
    );
  }

  async call(call: ExecutorCall): Promise<void> {
    const r = await post({
      url: this.url,
      body: encodeExecutorCall(call, this.contentType),
      headers: this.headers,
      agent: this.agents.for(new URL(this.url)),
      ca: this.opts.ca,
      timeoutMs: this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    });
    if (r.status === 202 || r.status === 200) return;
    throw errorForStatus(r.status, r.body.toString('utf8'), this.url);
  }

  close(): void {
    this.stream?.abort();
    this.stream = undefined;
    this.agents.destroy();
  }
}
