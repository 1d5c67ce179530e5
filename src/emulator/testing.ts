// Raw HTTP helpers for driving the emulator (or any Mesos master) at the wire level in tests and benchmarks.
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { type ContentType, decodeExecutorEvent, decodeSchedulerEvent, encodeExecutorCall, encodeSchedulerCall, JSON_TYPE, PROTOBUF } from '../mesos/codec.js';
import { RecordIODecoder } from '../mesos/recordio.js';
import type { ExecutorCall, ExecutorEvent, SchedulerCall, SchedulerEvent } from './proto-types.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request, whole response. */
export function rawRequest(url: string, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(opts.path ?? '/', url);
    const req = request(u, { method: opts.method ?? 'POST', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Events of a RecordIO stream, awaited one at a time. */
export class EventStream<E extends { type: string }> {
  readonly events: E[] = [];
  ended = false;
  error?: Error;
  private waiters: (() => void)[] = [];
  private read = 0;

  constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    private readonly res: IncomingMessage,
    decode: (b: Uint8Array) => E,
  ) {
    const decoder = new RecordIODecoder();
    res.on('data', (c: Buffer) => {
      try {
        for (const r of decoder.push(c)) this.events.push(decode(r));
      } catch (err) {
        this.error = err as Error;
        res.destroy();
      }
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    res.on('end', end);
    res.on('close', end);
    res.on('error', (err) => {
      this.error = err;
      end();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The next event (in order) matching `pred`; events before it are skipped. Rejects on timeout or stream end. */
  async next(pred: (e: E) => boolean = () => true, timeoutMs = 5000): Promise<E> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.read < this.events.length) {
        const e = this.events[this.read++];
        if (pred(e)) return e;
      }
      if (this.ended) throw new Error(`stream ended while waiting (${this.error?.message ?? 'closed'})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; saw ${this.events.map((e) => e.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the stream to end. */
  async closed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('stream did not end');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.res.destroy();
  }
}

function openStream<E extends { type: string }>(
  url: string,
  path: string,
  body: Uint8Array,
  headers: Record<string, string>,
  decode: (b: Uint8Array, ct: ContentType) => E,
): Promise<EventStream<E> | RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method: 'POST', headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        return;
      }
      const ct = res.headers['content-type'] === PROTOBUF ? PROTOBUF : JSON_TYPE;
      resolve(new EventStream<E>(200, res.headers, res, (b) => decode(b, ct)));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** SUBSCRIBE on the scheduler API; a 200 gives an EventStream, anything else the plain response. */
export function subscribeRaw(url: string, call: SchedulerCall, ct: ContentType, headers: Record<string, string> = {}): Promise<EventStream<SchedulerEvent> | RawResponse> {
  return openStream(url, '/api/v1/scheduler', encodeSchedulerCall(call, ct), { 'Content-Type': ct, Accept: ct, ...headers }, decodeSchedulerEvent);
}

export function callRaw(url: string, call: SchedulerCall, ct: ContentType, streamId?: string): Promise<RawResponse> {
  return rawRequest(url, {
    path: '/api/v1/scheduler',
    headers: { 'Content-Type': ct, ...(streamId !== undefined ? { 'Mesos-Stream-Id': streamId } : {}) },
    body: encodeSchedulerCall(call, ct),
  });
}

export function executorSubscribeRaw(url: string, call: ExecutorCall, ct: ContentType, headers: Record<string, string> = {}): Promise<EventStream<ExecutorEvent> | RawResponse> {
  return openStream(url, '/api/v1/executor', encodeExecutorCall(call, ct), { 'Content-Type': ct, Accept: ct, ...headers }, decodeExecutorEvent);
}

export function isStream<E extends { type: string }>(x: EventStream<E> | RawResponse): x is EventStream<E> {
  return x instanceof EventStream;
}

/** Polls `cond` until true (for effects in other processes); throws after `timeoutMs`. */
export async function eventually<T>(cond: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
