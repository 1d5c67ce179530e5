import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { KubeConfig } from '@kubernetes/client-node';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import type { Registry } from 'prom-client';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { userAgent } from '../telemetry/build.js';
import { RequestLimiter } from './backoff.js';
import { sleep } from '../time/backoff.js';
import { KubeClientMetrics, requestResource, requestVerb } from './metrics.js';

/** The field manager every write names (managedFields, audit logs), as kube-scheduler writes as `kube-scheduler`. */
export const FIELD_MANAGER = 'kube-mesos';

/** What came back from one request: an HTTP status with its JSON body, or status 0 when no answer arrived. */
export interface HttpResponse {
  status: number;
  body: unknown;
  /** Seconds from a Retry-After header, when present. */
  retryAfterSeconds?: number;
  /** Cancelled before it was sent (while waiting for the rate limiter): the server saw nothing. */
  notSent?: boolean;
  /** Set when status is 0: connection refused, reset, timeout, TLS failure. */
  error?: Error;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Cuts the request on the wire, and stops any Retry-After wait and retry (or the wait for the rate limiter). */
  signal?: AbortSignal;
  /**
   * Stops any Retry-After wait and retry, and a wait for the client's rate limiter (the request is then never sent),
   * but never cuts an attempt already sent (its effect on the server would be unknown): that attempt's answer is returned.
   */
  retrySignal?: AbortSignal;
  timeoutMs?: number;
  /** A 2xx answer's body is read and dropped, not parsed (`body` undefined): for writes whose echo nobody reads. */
  discardBody?: boolean;
}

/** One watch event as the API server streams it (objects still raw JSON). */
export interface RawWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

/** How a watch stream ended: closed cleanly by the server, aborted by us, or failed (HTTP status, or 0 for transport). */
export type WatchEnd = { kind: 'closed' } | { kind: 'aborted' } | { kind: 'failed'; status: number; body?: unknown; error?: Error };

export interface KubeHttpOptions {
  /** Client-side rate limit, like client-go's QPS/Burst. */
  qps?: number;
  burst?: number;
  /** Bound on requests in flight at once (watches not counted). */
  maxInFlight?: number;
  /** Per-request timeout; watches use their own idle timeout. */
  timeoutMs?: number;
  /**
   * How long credentials from the kubeconfig are reused before being read again: client certificate, key and CA files,
   * token files. A changed certificate, key or CA gets a new connection pool; a changed token is sent from then on.
   */
  authRefreshMs?: number;
  /** A bearer token file read at every refresh (a kubeconfig's `token-file`; client-node reads it only once). */
  tokenFile?: string;
  /** `User-Agent` of every request; default `kube-mesos/<version> (<os>/<arch>)`. */
  userAgent?: string;
  /** `fieldManager` of every create, update and patch; default `kube-mesos`. */
  fieldManager?: string;
  /** Registry for the request metrics (`kube_mesos_rest_client_*`); none = not counted. */
  registry?: Registry;
  now?: () => number;
  /** Retries of a 429/5xx that carries Retry-After (default 10, as client-go); 0 = never. */
  maxRetryAfterRetries?: number;
  /** Waits between those retries (tests inject it). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Longest wait a Retry-After header can impose on one retry. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** How long to wait before retrying (undefined: do not retry): 429 or 5xx with Retry-After, within the retry budget. */
export function retryAfterWaitMs(status: number, retryAfterSeconds: number | undefined, attempt: number, maxRetries: number): number | undefined {
  if (retryAfterSeconds === undefined || attempt >= maxRetries) return undefined;
  if (status !== 429 && !(status >= 500 && status <= 599)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, retryAfterSeconds) * 1000);
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in seconds from `nowMs`; undefined if absent or bad. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - nowMs) / 1000)) : undefined;
}

interface Auth {
  agent: http.Agent;
  headers: Record<string, string>;
  at: number;
  /** Hash of the TLS material the agent was built with: when it changes, the agent is replaced. */
  tls: string;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH']);

/**
 * A minimal HTTP/JSON transport to the API server built from a KubeConfig: keep-alive connections, a QPS/burst limit,
 * bounded concurrency, streaming watches. It never throws for HTTP or transport failures; callers read `status`.
 */
export class KubeHttp {
  readonly server: URL;
  private readonly limiter: RequestLimiter;
  private readonly timeoutMs: number;
  private readonly authRefreshMs: number;
  private readonly now: () => number;
  private readonly maxRetryAfterRetries: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly userAgent: string;
  private readonly fieldManager: string;
  private readonly tokenFile: string | undefined;
  private readonly metrics: KubeClientMetrics | undefined;
  private readonly proxyUrl: string | undefined;
  private auth: Auth | undefined;
  private authPending: Promise<Auth> | undefined;
  /** How many times the client certificate/CA changed and the connections were rebuilt. */
  tlsReloads = 0;

  constructor(
    private readonly kubeConfig: KubeConfig,
    opts: KubeHttpOptions = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new TypeError('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    if (this.server.protocol !== 'https:' && this.server.protocol !== 'http:') throw new TypeError(`kubeconfig server ${cluster.server} is not an http(s) URL`);
    this.now = opts.now ?? Date.now;
    this.limiter = new RequestLimiter(opts.qps ?? 50, opts.burst ?? 100, opts.maxInFlight ?? 50, this.now);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.authRefreshMs = opts.authRefreshMs ?? 60_000;
    this.maxRetryAfterRetries = opts.maxRetryAfterRetries ?? 10;
    this.sleep = opts.sleep ?? sleep;
    this.userAgent = opts.userAgent ?? userAgent();
    this.fieldManager = opts.fieldManager ?? FIELD_MANAGER;
    this.tokenFile = opts.tokenFile;
    this.metrics = opts.registry ? KubeClientMetrics.for(opts.registry) : undefined;
    this.proxyUrl = cluster.proxyUrl || undefined;
    if (this.proxyUrl && !/^(https?|socks[45]?h?):\/\//.test(this.proxyUrl)) {
      throw new TypeError(`kubeconfig proxy-url ${this.proxyUrl}: expected an http://, https:// or socks5:// URL`);
    }
  }

  /** Accepts either a KubeConfig or an existing transport, so callers can share one limiter. */
  static from(kc: KubeConfig | KubeHttp, opts?: KubeHttpOptions): KubeHttp {
    return kc instanceof KubeHttp ? kc : new KubeHttp(kc, opts);
  }

  get limiterState(): { active: number; pending: number } {
    return { active: this.limiter.active, pending: this.limiter.pending };
  }

  /**
   * One request, repeated while the server answers 429 or 5xx with a Retry-After header (as client-go does, up to
   * `maxRetryAfterRetries` times, default 10), after waiting what the header asks (at most 60 s per wait). Without the
   * header the answer goes back to the caller, whose own backoff decides. An aborted `signal` or `retrySignal` ends the
   * wait at once and returns the last answer.
   */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const stop = opts.signal && opts.retrySignal ? AbortSignal.any([opts.signal, opts.retrySignal]) : (opts.signal ?? opts.retrySignal);
    for (let attempt = 0; ; attempt++) {
      const res = await this.requestOnce(method, path, opts, stop);
      const wait = retryAfterWaitMs(res.status, res.retryAfterSeconds, attempt, this.maxRetryAfterRetries);
      if (wait === undefined || stop?.aborted) return res;
      await this.sleep(wait, stop);
      if (stop?.aborted) return res;
    }
  }

  private async requestOnce(method: string, path: string, opts: RequestOptions, stop: AbortSignal | undefined): Promise<HttpResponse> {
    const verb = this.metrics ? requestVerb(method, path) : '';
    const queued = this.now();
    // Cancelled while it waited for the rate limiter or a slot: never sent, so the server saw nothing.
    const release = await this.limiter.acquire(true, stop);
    if (!release) return { status: 0, body: undefined, notSent: true, error: new Error(`${method} ${path} not sent: cancelled while waiting for the client's rate limiter`) };
    const sent = this.now();
    try {
      const res = await this.send(method, path, opts);
      if (this.metrics) {
        const resource = requestResource(path);
        this.metrics.rateLimiterDuration.observe({ verb }, (sent - queued) / 1000);
        this.metrics.requestDuration.observe({ verb, resource }, (this.now() - sent) / 1000);
        this.metrics.requests.inc({ verb, resource, code: res.status === 0 ? '<error>' : String(res.status) });
      }
      return res;
    } finally {
      release();
    }
  }

  /**
   * Streams a watch; `onEvent` sees each event in order. Resolves (never rejects) when the stream ends. The server closes it
   * after `timeoutSeconds`; if nothing arrives for `idleMs` the connection is treated as dead and closed here.
   */
  async watch(path: string, query: RequestOptions['query'], onEvent: (ev: RawWatchEvent) => void, opts: { signal?: AbortSignal; idleMs: number }): Promise<WatchEnd> {
    const queued = this.now();
    await this.limiter.acquire(false);
    const sent = this.now();
    this.metrics?.rateLimiterDuration.observe({ verb: 'watch' }, (sent - queued) / 1000);
    if (opts.signal?.aborted) return { kind: 'aborted' };
    let auth: Auth;
    try {
      auth = await this.getAuth();
    } catch (err) {
      this.countWatch(path, 0, sent);
      return { kind: 'failed', status: 0, error: err as Error };
    }
    const url = this.url(path, { ...query, watch: true });
    return new Promise<WatchEnd>((resolve) => {
      let settled = false;
      let counted = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (end: WatchEnd) => {
        if (settled) return;
        settled = true;
        if (!counted && end.kind !== 'aborted') this.countWatch(path, end.kind === 'failed' ? end.status : 0, sent);
        clearTimeout(idle);
        opts.signal?.removeEventListener('abort', onAbort);
        req.destroy();
        resolve(end);
      };
      const onAbort = () => finish({ kind: 'aborted' });
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => finish({ kind: 'failed', status: 0, error: new Error(`watch idle for ${opts.idleMs} ms`) }), opts.idleMs);
      };
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request(url, { method: 'GET', agent: auth.agent, headers: { ...auth.headers, Accept: 'application/json' } }, (res) => {
        const status = res.statusCode ?? 0;
        if (status === 200) {
          counted = true;
          this.countWatch(path, 200, sent);
        }
        if (status !== 200) {
          readBody(res).then(
            (body) => finish({ kind: 'failed', status, body }),
            (err: Error) => finish({ kind: 'failed', status, error: err }),
          );
          return;
        }
        touch();
        res.on('error', (err) => finish({ kind: 'failed', status: 0, error: err }));
        // One JSON event per line. Split by hand: readline's per-line machinery (and its line-break regex) was a
        // measurable share of a watch's CPU with thousands of events a second.
        const decoder = new StringDecoder('utf8');
        let partial = '';
        const line = (text: string) => {
          if (settled || text.trim() === '') return;
          touch();
          let ev: RawWatchEvent;
          try {
            ev = JSON.parse(text) as RawWatchEvent;
          } catch {
            finish({ kind: 'failed', status: 0, error: new Error('malformed watch event') });
            return;
          }
          onEvent(ev);
        };
        res.on('data', (chunk: Buffer) => {
          const text = partial + decoder.write(chunk);
          let start = 0;
          for (let nl = text.indexOf('\n'); nl >= 0 && !settled; nl = text.indexOf('\n', start)) {
            line(text.slice(start, nl));
            start = nl + 1;
          }
          partial = text.slice(start);
        });
        res.on('end', () => {
          const rest = partial + decoder.end();
          partial = '';
          line(rest);
        });
        res.on('close', () => finish(res.complete ? { kind: 'closed' } : { kind: 'failed', status: 0, error: new Error('watch stream cut') }));
      });
      req.on('error', (err) => finish({ kind: 'failed', status: 0, error: err }));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      touch();
      req.end();
    });
  }

  private countWatch(path: string, status: number, sent: number): void {
    if (!this.metrics) return;
    const resource = requestResource(path);
    this.metrics.requests.inc({ verb: 'watch', resource, code: status === 0 ? '<error>' : String(status) });
    this.metrics.requestDuration.observe({ verb: 'watch', resource }, (this.now() - sent) / 1000);
  }

  private async send(method: string, path: string, opts: RequestOptions): Promise<HttpResponse> {
    let auth: Auth;
    try {
      auth = await this.getAuth();
    } catch (err) {
      return { status: 0, body: undefined, error: err as Error };
    }
    // Every write names its field manager (managedFields, audit), unless the caller chose one.
    const query = WRITES.has(method.toUpperCase()) && opts.query?.fieldManager === undefined ? { ...opts.query, fieldManager: this.fieldManager } : opts.query;
    const url = this.url(path, query);
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string> = { ...auth.headers, Accept: 'application/json' };
    if (payload) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<HttpResponse>((resolve) => {
      let settled = false;
      const finish = (r: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const onAbort = () => {
        req.destroy();
        finish({ status: 0, body: undefined, error: new Error('request aborted') });
      };
      const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
      const timer = setTimeout(() => {
        req.destroy();
        finish({ status: 0, body: undefined, error: new Error(`request timed out after ${timeoutMs} ms`) });
      }, timeoutMs);
      const req = mod.request(url, { method, agent: auth.agent, headers }, (res) => {
        const status = res.statusCode ?? 0;
        readBody(res, opts.discardBody === true && status >= 200 && status < 300).then(
          (body) => {
            finish({ status: res.statusCode ?? 0, body, retryAfterSeconds: parseRetryAfter(res.headers['retry-after'], this.now()) });
          },
          (err: Error) => finish({ status: 0, body: undefined, error: err }),
        );
      });
      req.on('error', (err) => finish({ status: 0, body: undefined, error: err }));
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.end(payload);
    });
  }

  private url(path: string, query: RequestOptions['query']): URL {
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private async getAuth(): Promise<Auth> {
    if (this.auth && this.now() - this.auth.at < this.authRefreshMs) return this.auth;
    this.authPending ??= this.loadAuth().finally(() => (this.authPending = undefined));
    return this.authPending;
  }

  private async loadAuth(): Promise<Auth> {
    // client-node re-reads the certificate, key and CA files here on every call.
    const o: https.RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(o);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    if (o.auth) headers.Authorization = 'Basic ' + Buffer.from(o.auth).toString('base64');
    if (this.tokenFile) headers.Authorization = `Bearer ${readFileSync(this.tokenFile, 'utf8').trim()}`;
    headers['User-Agent'] = this.userAgent;
    const tlsOptions: https.AgentOptions = { ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername };
    const tls = fingerprint(tlsOptions);
    let agent = this.auth?.agent;
    if (!agent || this.auth?.tls !== tls) {
      // First use, or a rotated certificate/key/CA: new connections from now on; the old pool closes its idle sockets and
      // drops the busy ones when their request (or watch) ends.
      if (agent) {
        retire(agent);
        this.tlsReloads++;
      }
      agent = this.createAgent(tlsOptions);
    }
    this.auth = { agent, headers, at: this.now(), tls };
    return this.auth;
  }

  /** Our own keep-alive agent (client-node's is one-shot), through the kubeconfig's `proxy-url` when it has one. */
  private createAgent(tlsOptions: https.AgentOptions): http.Agent {
    const https_ = this.server.protocol === 'https:';
    const opts = { keepAlive: true, ...(https_ ? tlsOptions : {}) };
    if (!this.proxyUrl) return https_ ? new https.Agent(opts) : new http.Agent(opts);
    if (this.proxyUrl.startsWith('socks')) return new SocksProxyAgent(this.proxyUrl, opts);
    return https_ ? new HttpsProxyAgent({ ...opts, proxy: this.proxyUrl }) : new HttpProxyAgent({ ...opts, proxy: this.proxyUrl });
  }

  /** Closes idle keep-alive sockets (open watches end through their own signals). */
  close(): void {
    this.auth?.agent.destroy();
    this.auth = undefined;
  }
}

function fingerprint(o: https.AgentOptions): string {
  const h = createHash('sha256');
  for (const v of [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername]) {
    h.update(v === undefined ? '\u0000' : Buffer.isBuffer(v) ? v : JSON.stringify(v));
    h.update('\u0001');
  }
  return h.digest('hex');
}

/** Stops an agent from keeping sockets: idle ones close now, busy ones when their request ends. */
function retire(agent: http.Agent): void {
  (agent as { keepAlive?: boolean }).keepAlive = false;
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
}

function readBody(res: http.IncomingMessage, discard = false): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => {
      if (!discard) chunks.push(c);
    });
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(new Error('connection cut while reading the response'));
    });
    res.on('end', () => {
      if (discard) return resolve(undefined);
      const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      if (text === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text) as unknown);
      } catch {
        resolve(text);
      }
    });
  });
}
