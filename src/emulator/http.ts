import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CodecError,
  type ContentType,
  decodeExecutorCall,
  decodeSchedulerCall,
  encodeExecutorEvent,
  encodeSchedulerEvent,
  JSON_TYPE,
  PROTOBUF,
} from '../mesos/codec.js';
import { encodeRecord } from '../mesos/recordio.js';
import type { Logger } from '../telemetry/log.js';
import { silentLogger } from '../telemetry/log.js';
import type { ExecutorSink } from './agent.js';
import type { Master, SchedulerSink } from './master.js';
import type { ExecutorCall, ExecutorEvent, SchedulerCall, SchedulerEvent } from './proto-types.js';
import { parseSchedule } from './maintenance.js';

/** Fault injection and agent management behind `/emulator/*`; implemented by the emulator that owns the Master. */
export interface EmulatorControl {
  addAgents(req: { count?: number; zone?: string; region?: string; resources?: string; attributes?: string }): { ok: true; agents: unknown[] } | { ok: false; error: string };
  leaderFailover(redirectMs?: number): Promise<{ leader: string; previous: string }>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

interface Listener {
  server: Server;
  host: string;
  port: number;
  /** Responses of open event streams, ended when the listener closes. */
  streams: Set<ServerResponse>;
  /** Until when a former leader still answers 307 (the base listener always does: it also hosts the agents). */
  redirectUntil?: number;
  closeTimer?: NodeJS.Timeout;
}

/**
 * The emulator's HTTP face: the master's scheduler API on the leading listener, the agents' executor API, /state and
 * /emulator/* on every listener. A leader failover opens a new listener; old ones answer 307 to it.
 */
export class EmulatorHttp {
  private readonly log: Logger;
  private readonly listeners: Listener[] = [];
  private leader?: Listener;
  private control?: EmulatorControl;

  constructor(
    private readonly master: Master,
    opts: { log?: Logger } = {},
  ) {
    this.log = opts.log ?? silentLogger();
  }

  setControl(control: EmulatorControl): void {
    this.control = control;
  }

  get baseUrl(): string {
    const l = this.listeners[0];
    return `http://${urlHost(l.host)}:${l.port}`;
  }

  get leaderUrl(): string {
    const l = this.leader!;
    return `http://${urlHost(l.host)}:${l.port}`;
  }

  /** Opens a listener; the first one is the agents' endpoint and the initial leader. */
  async listen(host: string, port: number): Promise<Listener> {
    const l: Listener = { server: createServer(), host, port, streams: new Set() };
    l.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(l, req, res).catch((err: unknown) => {
        this.log.error({ err }, 'request failed');
        if (!res.headersSent) text(res, 500, 'Internal error');
        else res.destroy();
      });
    });
    // Long-lived event streams must not be cut by Node's request timeouts.
    l.server.requestTimeout = 0;
    l.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      l.server.once('error', reject);
      l.server.listen(port, host, () => {
        l.server.off('error', reject);
        resolve();
      });
    });
    l.port = (l.server.address() as AddressInfo).port;
    this.listeners.push(l);
    if (!this.leader) this.elect(l);
    return l;
  }

  private elect(l: Listener): void {
    this.leader = l;
    this.master.setAddress(l.host === '0.0.0.0' || l.host === '::' ? 'localhost' : l.host, l.host.includes(':') ? '127.0.0.1' : l.host, l.port);
    const base = this.listeners[0] ?? l;
    this.master.agentEndpoint = { ip: base.host === '0.0.0.0' || base.host === '::' ? '127.0.0.1' : base.host, port: base.port };
  }

  /**
   * A master election: the master drops every subscription stream, a new listener (new port) becomes the leader,
   * and the old leader answers 307 to it for `redirectMs` (then closes, unless it is the agents' listener).
   */
  async failover(redirectMs: number): Promise<{ leader: string; previous: string }> {
    const previous = this.leader!;
    const prevUrl = this.leaderUrl;
    const next = await this.listen(previous.host, 0);
    this.master.failoverLeader();
    this.elect(next);
    if (previous !== this.listeners[0]) {
      previous.redirectUntil = Date.now() + redirectMs;
      previous.closeTimer = setTimeout(() => void this.closeListener(previous), redirectMs);
      previous.closeTimer.unref();
    }
    this.log.info({ leader: this.leaderUrl, previous: prevUrl }, 'leader failover');
    return { leader: this.leaderUrl, previous: prevUrl };
  }

  private async closeListener(l: Listener): Promise<void> {
    clearTimeout(l.closeTimer);
    for (const r of l.streams) r.end();
    l.streams.clear();
    l.server.closeAllConnections();
    await new Promise<void>((resolve) => l.server.close(() => resolve()));
    const i = this.listeners.indexOf(l);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  async close(): Promise<void> {
    for (const l of [...this.listeners].reverse()) await this.closeListener(l);
  }

  // ---- routing ---------------------------------------------------------------------------------------------------

  private async handle(l: Listener, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/api/v1/scheduler' || path === '/master/api/v1/scheduler') {
      if (l !== this.leader) return this.redirect(req, res);
      return this.scheduler(req, res, l);
    }
    if (path === '/api/v1/executor' || path === '/slave(1)/api/v1/executor') return this.executor(req, res, l);
    if (['/state', '/master/state', '/state.json', '/master/state.json'].includes(path)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, ['GET'], req.method);
      return json(res, 200, this.master.state());
    }
    if (path === '/health' || path === '/master/health') return text(res, 200, '');
    // ---- maintenance, the master's own endpoints ----
    if (path === '/maintenance/schedule' || path === '/master/maintenance/schedule') return this.maintenanceSchedule(req, res, 'mesos');
    if (path === '/maintenance/status' || path === '/master/maintenance/status') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, ['GET'], req.method);
      return json(res, 200, this.master.maintenance.status());
    }
    if (path.startsWith('/emulator/')) return this.emulator(req, res, path);
    return text(res, 404, `No route for ${path}`);
  }

  private redirect(req: IncomingMessage, res: ServerResponse): void {
    const l = this.leader!;
    // master/http.cpp redirect(): protocol-relative Location to the leading master.
    res.writeHead(307, { Location: `//${urlHost(l.host)}:${l.port}${req.url ?? '/api/v1/scheduler'}`, 'Content-Length': '0' });
    res.end();
    req.resume();
  }

  // ---- scheduler API ---------------------------------------------------------------------------------------------

  private async scheduler(req: IncomingMessage, res: ServerResponse, l: Listener): Promise<void> {
    if (req.method !== 'POST') return methodNotAllowed(res, ['POST'], req.method);
    const ct = requestContentType(req);
    if (ct === 'missing') return text(res, 400, "Expecting 'Content-Type' to be present", req);
    if (ct === 'unsupported') return text(res, 415, `Expecting 'Content-Type' of ${JSON_TYPE} or ${PROTOBUF}`, req);
    const body = await readBody(req);
    if (body === undefined) return text(res, 413, `Request body exceeds ${MAX_BODY_BYTES} bytes`);
    let call: SchedulerCall;
    try {
      call = decodeSchedulerCall(body, ct);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      return text(res, 400, ct === PROTOBUF ? `Failed to parse body into Call protobuf: ${err.message}` : `Failed to convert JSON into Call protobuf: ${err.message}`);
    }
    const invalid = validateSchedulerCall(call);
    if (invalid) return text(res, 400, `Failed to validate scheduler::Call: ${invalid}`);
    const streamId = header(req, 'mesos-stream-id');
    if (call.type === 'SUBSCRIBE') {
      const accept = negotiate(req.headers.accept);
      if (!accept) return text(res, 406, `Expecting 'Accept' to allow '${PROTOBUF}' or '${JSON_TYPE}'`);
      if (streamId !== undefined) return text(res, 400, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
      const id = randomUUID();
      res.writeHead(200, { 'Content-Type': accept, 'Mesos-Stream-Id': id, 'Cache-Control': 'no-cache' });
      res.flushHeaders();
      l.streams.add(res);
      res.on('error', (err) => this.log.debug({ err }, 'subscription stream error'));
      const sink = this.schedulerSink(res, accept, id);
      res.on('close', () => {
        l.streams.delete(res);
        sink.closed = true;
        this.master.disconnected(sink);
      });
      this.master.subscribe(sink, call);
      return;
    }
    // An injected fault (/emulator/faults): the connection drops unanswered, before or after the master applied the call.
    const lost = call.type === 'ACCEPT' ? this.master.faults.takeAccept((call.accept?.offer_ids ?? []).map((o) => o.value)) : undefined;
    if (lost?.mode === 'lose-response') this.master.call(call, streamId);
    if (lost) return void setTimeout(() => res.destroy(), lost.delayMs).unref();
    const r = this.master.call(call, streamId);
    if (r.status === 202) return text(res, 202, '');
    if (r.status === 200) return text(res, 200, '');
    return text(res, r.status, r.message);
  }

  private schedulerSink(res: ServerResponse, ct: ContentType, streamId: string): SchedulerSink & { closed: boolean } {
    const log = this.log;
    return {
      streamId,
      closed: false,
      send(ev: SchedulerEvent) {
        if (this.closed) return;
        try {
          res.write(encodeRecord(encodeSchedulerEvent(ev, ct)));
        } catch (err) {
          log.error({ err, type: ev.type }, 'cannot encode scheduler event');
        }
      },
      close() {
        if (this.closed) return;
        this.closed = true;
        res.end();
      },
    };
  }

  // ---- executor API (agents) -------------------------------------------------------------------------------------

  private async executor(req: IncomingMessage, res: ServerResponse, l: Listener): Promise<void> {
    if (req.method !== 'POST') return methodNotAllowed(res, ['POST'], req.method, `Expecting 'POST', received '${req.method}'`);
    const ct = requestContentType(req);
    if (ct === 'missing') return text(res, 400, "Expecting 'Content-Type' to be present", req);
    if (ct === 'unsupported') return text(res, 415, `Expecting 'Content-Type' of ${JSON_TYPE} or ${PROTOBUF}`, req);
    const body = await readBody(req);
    if (body === undefined) return text(res, 413, `Request body exceeds ${MAX_BODY_BYTES} bytes`);
    let call: ExecutorCall;
    try {
      call = decodeExecutorCall(body, ct);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      return text(res, 400, ct === PROTOBUF ? `Failed to parse body into Call protobuf: ${err.message}` : `Failed to convert JSON into Call protobuf: ${err.message}`);
    }
    const auth = header(req, 'authorization');
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    if (call.type === 'SUBSCRIBE') {
      const accept = negotiate(req.headers.accept);
      if (!accept) return text(res, 406, `Expecting 'Accept' to allow '${PROTOBUF}' or '${JSON_TYPE}'`);
      // Events are held until the subscription is accepted, so a refused SUBSCRIBE gets a plain error response.
      const held: ExecutorEvent[] = [];
      let open = false;
      let closed = false;
      const log = this.log;
      const sink: ExecutorSink = {
        send(ev) {
          if (closed) return;
          if (!open) return void held.push(ev);
          try {
            res.write(encodeRecord(encodeExecutorEvent(ev, accept)));
          } catch (err) {
            log.error({ err, type: ev.type }, 'cannot encode executor event');
          }
        },
        close() {
          if (closed) return;
          closed = true;
          res.end();
        },
      };
      const r = this.master.executorSubscribe(token, call, sink);
      if (r.status !== 200) return text(res, r.status, 'message' in r ? r.message : '');
      res.writeHead(200, { 'Content-Type': accept, 'Cache-Control': 'no-cache' });
      res.flushHeaders();
      l.streams.add(res);
      res.on('error', (err) => this.log.debug({ err }, 'executor stream error'));
      open = true;
      for (const ev of held.splice(0)) sink.send(ev);
      res.on('close', () => {
        l.streams.delete(res);
        this.master.executorStreamClosed(sink);
        closed = true;
      });
      return;
    }
    const r = this.master.executorCall(token, call);
    return text(res, r.status, 'message' in r ? r.message : '');
  }

  // ---- /emulator -------------------------------------------------------------------------------------------------

  private async emulator(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent); // ['emulator', ...]
    if (parts[1] === 'maintenance' && parts.length === 2) return this.maintenanceSchedule(req, res, 'emulator');
    if (req.method === 'GET' && parts[1] === 'agents' && parts.length === 2) {
      return json(res, 200, { agents: [...this.master.agents.values()].map((a) => ({ id: a.id, hostname: a.hostname, zone: a.zone, state: a.state, reachable: a.reachable })) });
    }
    if (req.method === 'GET' && parts[1] === 'faults' && parts.length === 2) return json(res, 200, this.master.faults.view());
    if (req.method === 'GET' && parts[1] === 'allocation' && parts.length === 2) {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      return json(res, 200, this.master.allocationJson({ byAgent: q.get('agents') === '1', lists: q.get('lists') !== '0' }));
    }
    if (req.method !== 'POST') return methodNotAllowed(res, ['POST'], req.method);
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    if (raw && raw.length) {
      try {
        const parsed: unknown = JSON.parse(Buffer.from(raw).toString('utf8'));
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
        else return json(res, 400, { error: 'body must be a JSON object' });
      } catch (err) {
        return json(res, 400, { error: `body is not JSON: ${(err as Error).message}` });
      }
    }
    if (parts[1] === 'faults' && parts.length === 2) {
      const r = this.master.faults.set(body);
      return r.ok ? json(res, 200, r.value) : json(res, 400, { error: r.error });
    }
    if (parts[1] === 'agents' && parts.length === 4) {
      const [, , agentId, action] = parts;
      const ops: Record<string, (id: string) => boolean> = {
        fail: (id) => this.master.failAgent(id),
        recover: (id) => this.master.recoverAgent(id),
        partition: (id) => this.master.partitionAgent(id),
        gone: (id) => this.master.markAgentGone(id),
        restart: (id) => this.master.restartAgent(id),
      };
      const op = ops[action];
      if (!op) return json(res, 404, { error: `unknown agent action "${action}" (fail, recover, partition, gone, restart)` });
      if (!this.master.agents.has(agentId)) return json(res, 404, { error: `agent "${agentId}" not found` });
      if (!op(agentId)) return json(res, 409, { error: `agent "${agentId}" is gone` });
      const a = this.master.agents.get(agentId)!;
      return json(res, 200, { agent: { id: a.id, state: a.state, reachable: a.reachable, host_up: a.hostUp } });
    }
    if (parts[1] === 'agents' && parts.length === 2) {
      if (!this.control) return json(res, 501, { error: 'adding agents is not available' });
      const count = body.count === undefined ? 1 : body.count;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 100_000) return json(res, 400, { error: '"count" must be a whole number from 1 to 100000' });
      for (const k of ['zone', 'region', 'resources', 'attributes'] as const)
        if (body[k] !== undefined && typeof body[k] !== 'string') return json(res, 400, { error: `"${k}" must be a string` });
      const r = this.control.addAgents({ ...(body as Record<string, string>), count });
      return r.ok ? json(res, 200, { agents: r.agents }) : json(res, 400, { error: r.error });
    }
    if (parts[1] === 'zones' && parts.length === 4) {
      const [, , zone, action] = parts;
      if (action !== 'fail' && action !== 'recover') return json(res, 404, { error: `unknown zone action "${action}" (fail, recover)` });
      const agents = this.master.agentsInZone(zone);
      if (!agents.length) return json(res, 404, { error: `no agents in zone "${zone}"` });
      for (const a of agents) void (action === 'fail' ? this.master.failAgent(a.id) : this.master.recoverAgent(a.id));
      return json(res, 200, { zone, agents: agents.map((a) => a.id) });
    }
    const expired = parts[1] === 'frameworks' && parts[3] === 'expire' && parts.length === 4 ? this.master.expireFramework(parts[2]) : undefined;
    if (expired) return json(res, { expired: 200, 'not-found': 404, subscribed: 409 }[expired], expired === 'expired' ? { framework: parts[2], removed: true } : { error: `framework "${parts[2]}" ${expired === 'subscribed' ? 'is subscribed (no failover timeout runs)' : 'not found'}` });
    if (parts[1] === 'leader' && parts[2] === 'failover' && parts.length === 3) {
      if (!this.control) return json(res, 501, { error: 'leader failover is not available' });
      const ms = body.redirectMs;
      if (ms !== undefined && (typeof ms !== 'number' || ms < 0)) return json(res, 400, { error: '"redirectMs" must be a number ≥ 0' });
      return json(res, 200, await this.control.leaderFailover(ms as number | undefined));
    }
    return json(res, 404, { error: `No route for ${path}` });
  }
  // ---- maintenance ---------------------------------------------------------------------------------

  /**
   * `/maintenance/schedule` as the master answers it (GET: the schedule; POST: replace it, 200 with an empty body or 400
   * with the validation error as text) and `/emulator/maintenance` (JSON both ways; GET shows inverse offers and answers;
   * DELETE clears the schedule). Both accept Mesos' schedule JSON and the emulator's `{"agents":[…],"startInSeconds":…}`.
   */
  private async maintenanceSchedule(req: IncomingMessage, res: ServerResponse, flavour: 'mesos' | 'emulator'): Promise<void> {
    const master = this.master;
    const fail = (status: number, error: string) => (flavour === 'mesos' ? text(res, status, error, req) : json(res, status, { error }));
    if (req.method === 'GET' || req.method === 'HEAD') return json(res, 200, flavour === 'mesos' ? master.maintenance.current : master.maintenance.toJSON());
    if (req.method === 'DELETE' && flavour === 'emulator') {
      master.updateMaintenanceSchedule({ windows: [] });
      return json(res, 200, master.maintenance.toJSON());
    }
    if (req.method !== 'POST') return methodNotAllowed(res, flavour === 'mesos' ? ['GET', 'POST'] : ['GET', 'POST', 'DELETE'], req.method);
    const raw = await readBody(req);
    if (raw === undefined) return fail(413, `Request body exceeds ${MAX_BODY_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(raw).toString('utf8') || '{}');
    } catch (err) {
      return fail(400, `Failed to parse the schedule JSON: ${(err as Error).message}`);
    }
    const hostnameOf = (x: string) => master.agents.get(x)?.hostname ?? [...master.agents.values()].find((a) => a.hostname.toLowerCase() === x.toLowerCase())?.hostname;
    const parsed = parseSchedule(body, { nowMs: Date.now(), hostnameOf });
    if (!parsed.ok) return fail(400, parsed.error);
    master.updateMaintenanceSchedule(parsed.value);
    return flavour === 'mesos' ? text(res, 200, '') : json(res, 200, master.maintenance.toJSON());
  }
}

// ---- helpers -------------------------------------------------------------------------------------------------------


function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Content types are compared exactly, as master/http.cpp does (its TODO notes they should not be). */
function requestContentType(req: IncomingMessage): ContentType | 'missing' | 'unsupported' {
  const v = header(req, 'content-type');
  if (v === undefined) return 'missing';
  if (v === PROTOBUF) return PROTOBUF;
  if (v === JSON_TYPE) return JSON_TYPE;
  return 'unsupported';
}

/** Request::acceptsMediaType: JSON first (an absent Accept allows everything), then protobuf; q=0 refuses. */
export function negotiate(accept: string | undefined): ContentType | undefined {
  if (accept === undefined || accept.trim() === '') return JSON_TYPE;
  for (const t of [JSON_TYPE, PROTOBUF]) if (accepts(accept, t)) return t;
  return undefined;
}

function accepts(accept: string, type: string): boolean {
  const [main] = type.split('/');
  let best: { specificity: number; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [range, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!range) continue;
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2));
    const specificity = range === type ? 3 : range === `${main}/*` ? 2 : range === '*/*' ? 1 : 0;
    if (!specificity) continue;
    if (!best || specificity > best.specificity) best = { specificity, q: Number.isFinite(q) ? q : 0 };
  }
  return !!best && best.q > 0;
}

async function readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const b = c as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function text(res: ServerResponse, status: number, body: string, req?: IncomingMessage): void {
  req?.resume();
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

function methodNotAllowed(res: ServerResponse, allowed: string[], method: string | undefined, message?: string): void {
  const body = message ?? `Expecting one of { '${allowed.join("', '")}' }, but received '${method ?? ''}'`;
  res.writeHead(405, { Allow: allowed.join(', '), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** validation.cpp scheduler::call::validate (the parts the codec does not already guarantee). */
export function validateSchedulerCall(call: SchedulerCall): string | undefined {
  if (call.type === 'UNKNOWN' as string) return "Expecting 'type' to be present";
  if (call.type === 'SUBSCRIBE') {
    if (!call.subscribe) return "Expecting 'subscribe' to be present";
    if ((call.subscribe.framework_info.id?.value ?? undefined) !== (call.framework_id?.value ?? undefined))
      return "'framework_id' differs from 'subscribe.framework_info.id'";
    return undefined;
  }
  if (!call.framework_id) return "Expecting 'framework_id' to be present";
  const payload: Record<string, string> = {
    ACCEPT: 'accept',
    DECLINE: 'decline',
    ACCEPT_INVERSE_OFFERS: 'accept_inverse_offers',
    DECLINE_INVERSE_OFFERS: 'decline_inverse_offers',
    KILL: 'kill',
    SHUTDOWN: 'shutdown',
    ACKNOWLEDGE: 'acknowledge',
    RECONCILE: 'reconcile',
    MESSAGE: 'message',
    REQUEST: 'request',
    UPDATE_FRAMEWORK: 'update_framework',
  };
  const field = payload[call.type];
  if (field && (call as unknown as Record<string, unknown>)[field] === undefined) return `Expecting '${field}' to be present`;
  if (call.type === 'ACKNOWLEDGE' && call.acknowledge.uuid?.length !== 16) return "'acknowledge.uuid' is not a valid UUID";
  return undefined;
}
