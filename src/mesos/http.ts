/**
 * The HTTP layer shared by the scheduler and executor clients: node:http/https directly (fetch cannot take a CA
 * bundle on Node 20), one keep-alive agent for calls, a dedicated connection per subscription stream.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { ConnectionError, MesosClientError, ProtocolError } from './errors.js';
import { RecordIODecoder } from './recordio.js';
import type { ContentType } from './codec.js';

export interface TlsOptions {
  /** PEM CA bundle that signs the server certificate (https only). */
  ca?: string | Buffer;
}

/** Keep-alive agents for non-streaming calls; one pair per client so `destroy()` closes only its sockets. */
export class CallAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
  constructor(tls: TlsOptions = {}) {
    this.http = new http.Agent({ keepAlive: true, maxSockets: 16 });
    this.https = new https.Agent({ keepAlive: true, maxSockets: 16, ca: tls.ca });
  }
  for(url: URL): http.Agent {
    return url.protocol === 'https:' ? this.https : this.http;
  }
  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

export interface PostOptions extends TlsOptions {
  url: string;
  body: Uint8Array;
  headers: Record<string, string>;
  /** A keep-alive agent for calls; `false` (the default) opens a connection of its own, as a subscription needs. */
  agent?: http.Agent | false;
  signal?: AbortSignal;
  /** Idle-socket timeout for the request and its response headers; 0 = none (streams). */
  timeoutMs?: number;
}

export interface BufferedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface StreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body stream; only for 2xx. Destroying it ends the subscription. */
  response: IncomingMessage;
}

const MAX_ERROR_BODY = 64 * 1024;

/** POSTs and resolves once response headers arrive; never rejects with anything but a MesosClientError. */
function request(opts: PostOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch (err) {
      reject(new ConnectionError(`bad URL ${JSON.stringify(opts.url)}`, err));
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new ConnectionError(`unsupported URL scheme in ${opts.url} (want http: or https:)`));
      return;
    }
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'POST',
      headers: { ...opts.headers, 'Content-Length': String(opts.body.byteLength) },
      agent: opts.agent ?? false,
      ca: url.protocol === 'https:' ? opts.ca : undefined,
      signal: opts.signal,
      timeout: opts.timeoutMs || undefined,
    });
    req.on('timeout', () => req.destroy(new ConnectionError(`${opts.url}: no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err) => {
      if (err instanceof MesosClientError) reject(err);
      else if ((err as { name?: string }).name === 'AbortError') reject(new MesosClientError('stopped', `${opts.url}: request aborted`, { cause: err }));
      else reject(new ConnectionError(`${opts.url}: ${err.message}`, err));
    });
    req.on('response', (res) => {
      // The idle timeout covers waiting for headers only; a subscription stream may stay quiet for a long time.
      req.setTimeout(0);
      resolve(res);
    });
    req.end(opts.body);
  });
}

/** The whole body (at most `limit` bytes kept); events rather than an async iterator: calls are thousands a second. */
function readBody(res: IncomingMessage, limit = Infinity): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (b: Buffer) => {
      if (size < limit) chunks.push(b);
      size += b.length;
    });
    res.on('error', (err) => reject(new ConnectionError(`reading response: ${err.message}`, err)));
    // A promise settles once: whichever of these comes first wins; 'close' without 'end' is a cut connection.
    res.on('close', () => {
      if (!res.complete) reject(new ConnectionError('reading response: connection cut'));
    });
    res.on('end', () => {
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      resolve(all.length > limit ? all.subarray(0, limit) : all);
    });
  });
}

/** A call: POST and buffer the whole answer. */
export async function post(opts: PostOptions): Promise<BufferedResponse> {
  const res = await request(opts);
  const body = await readBody(res, res.statusCode && res.statusCode < 300 ? Infinity : MAX_ERROR_BODY);
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}

/** A subscription: POST and hand back the open body on 2xx; other answers are buffered (body in `body`). */
export async function openStream(opts: PostOptions): Promise<StreamResponse | BufferedResponse> {
  // Its own connection (no pool), kept open: the subscription lives as long as the socket.
  const res = await request({ ...opts, agent: opts.agent ?? false, headers: { Connection: 'keep-alive', ...opts.headers } });
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return { status, headers: res.headers, response: res };
  const body = await readBody(res, MAX_ERROR_BODY);
  return { status, headers: res.headers, body };
}

export function isStream(r: StreamResponse | BufferedResponse): r is StreamResponse {
  return 'response' in r;
}

/**
 * Where a 307 points. Masters send `//host:port` (protocol-relative, often without a path) or an absolute URL;
 * the scheme is kept from the current URL when absent, and the API path when the Location has none.
 */
export function resolveLocation(location: string | undefined, current: string): string | undefined {
  if (!location) return undefined;
  let cur: URL;
  let next: URL;
  try {
    cur = new URL(current);
    next = new URL(location, cur);
  } catch {
    return undefined;
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') return undefined;
  if (!next.host) return undefined;
  if (next.pathname === '/' || next.pathname === '') next.pathname = cur.pathname;
  return next.toString();
}

/** Joins a master/agent base (`http://host:5050` or with a path) and the API path, unless the base already ends in it. */
export function apiUrl(base: string, path: string): string {
  const u = new URL(base.includes('://') ? base : `http://${base}`);
  if (u.pathname.endsWith(path)) return u.toString();
  u.pathname = u.pathname.replace(/\/+$/, '') + path;
  return u.toString();
}

export function basicAuthHeader(principal: string, secret: string): string {
  return `Basic ${Buffer.from(`${principal}:${secret}`, 'utf8').toString('base64')}`;
}

export function headerString(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/**
 * Reads a RecordIO stream to its end, handing each record to `onRecord` (which may throw to end the stream).
 * Resolves when the peer ends the stream; rejects with a ProtocolError on bad framing, or with whatever the
 * stream was destroyed with (a heartbeat timeout, a ConnectionError on reset).
 */
export async function pumpRecords(
  res: AsyncIterable<unknown> & { destroy(err?: Error): unknown },
  onRecord: (record: Uint8Array) => void,
  opts: { maxFrameBytes?: number; onChunk?: () => void } = {},
): Promise<void> {
  const decoder = new RecordIODecoder({ maxFrameBytes: opts.maxFrameBytes });
  try {
    for await (const chunk of res) {
      opts.onChunk?.();
      let records: Uint8Array[];
      try {
        records = decoder.push(chunk as Uint8Array);
      } catch (err) {
        throw new ProtocolError(`bad RecordIO framing: ${(err as Error).message}`, err);
      }
      for (const record of records) onRecord(record);
    }
  } catch (err) {
    if (err instanceof MesosClientError) throw err;
    throw new ConnectionError(`stream broke: ${(err as Error).message}`, err);
  } finally {
    res.destroy();
  }
}

/** The content type events come in: what the server says, else what we asked for. */
export function responseContentType(header: string | undefined, asked: ContentType): ContentType {
  const h = (header ?? '').split(';')[0].trim().toLowerCase();
  if (h === 'application/json') return 'application/json';
  if (h === 'application/x-protobuf') return 'application/x-protobuf';
  return asked;
}
