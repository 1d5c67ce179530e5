/**
 * A minimal ZooKeeper client over the wire protocol (3.4+ servers): session handshake and re-attach, pings, digest
 * auth, create/delete/exists/getChildren/getData with one-shot watches, closeSession. No dependency, no native code.
 *
 * Contract: watches do NOT survive a reconnect (no SetWatches), so a consumer re-reads what it watches on every
 * 'connected'. A session is expired when the server says so or after being disconnected for its whole timeout.
 */
import { EventEmitter } from 'node:events';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { Backoff, sleep, systemClock, type Clock, type TimerHandle } from '../../time/backoff.js';
import { silentLogger } from '../../telemetry/log.js';
import { FrameDecoder, JuteReader, JuteWriter, ZkProtocolError, type ZkStat } from './jute.js';

export type { ZkStat };
export { OPEN_ACL, ZkCode, ZkError } from './protocol.js';
export type { ZkAcl, ZkCreateMode, ZkServerAddress, ZkSessionInfo, ZkWatchEvent, ZkWatchType } from './protocol.js';
import { CODE_NAMES, CREATE_FLAGS, OPEN_ACL, Op, WATCH_TYPES, Xid, ZkCode, ZkError, type ZkAcl, type ZkCreateMode, type ZkServerAddress, type ZkSessionInfo, type ZkWatchEvent } from './protocol.js';

export type ZkClientState = 'idle' | 'connecting' | 'connected' | 'closed';

export interface ZooKeeperClientOptions {
  /** The ensemble; tried in order, the next one after a connection fails or drops. */
  servers: ZkServerAddress[];
  /** Requested session timeout; the server clamps it to its min/max. Default 10 s (Mesos' default). */
  sessionTimeoutMs?: number;
  /** Sent after each handshake, e.g. { scheme: 'digest', auth: 'user:pass' }. */
  auth?: { scheme: string; auth: string };
  /**
   * One TCP connect + handshake; default max(1 s, session timeout / max(3, number of servers)): the Java client's
   * session timeout / servers, but never the whole session for one attempt. A restarting server can accept a
   * connection and never answer it (ZooKeeper 3.8 while it loads its database); the next attempt must still re-attach
   * the session before it expires.
   */
  connectTimeoutMs?: number;
  /** Pause after every server failed in a row; defaults 200 ms .. 5 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  random?: () => number;
  clock?: Clock;
  log?: Logger;
  maxFrameBytes?: number;
}

interface ZkClientEvents {
  connected: [ZkSessionInfo];
  disconnected: [Error];
  /** The session is gone: its ephemeral nodes and watches too. A new one is being made. */
  expired: [];
  watch: [ZkWatchEvent];
  /** The server refused the credentials; the client has closed. */
  authFailed: [ZkError];
}

interface Pending {
  xid: number;
  op: number;
  resolve: (r: JuteReader) => void;
  reject: (e: Error) => void;
}

interface Connection {
  socket: Socket;
  server: ZkServerAddress;
  pending: Pending[];
  handshaken: boolean;
  lastRecv: number;
  pingTimer?: TimerHandle;
}

const NO_PASSWORD = Buffer.alloc(16);

export class ZooKeeperClient {
  private readonly servers: ZkServerAddress[];
  private readonly requestedTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly emitter = new EventEmitter();
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | undefined;
  private conn: Connection | undefined;
  private _state: ZkClientState = 'idle';
  private sessionId = 0n;
  private password: Buffer = NO_PASSWORD;
  private negotiatedTimeoutMs: number;
  private lastZxid = 0n;
  private xid = 1;
  private serverIndex = 0;
  private expiryTimer: TimerHandle | undefined;

  constructor(private readonly opts: ZooKeeperClientOptions) {
    if (!opts.servers?.length) throw new TypeError('ZooKeeperClient: at least one server is required');
    for (const s of opts.servers) {
      if (!s.host || !Number.isInteger(s.port) || s.port <= 0 || s.port > 65535) throw new TypeError(`ZooKeeperClient: bad server ${JSON.stringify(s)}`);
    }
    this.servers = [...opts.servers];
    this.requestedTimeoutMs = opts.sessionTimeoutMs ?? 10_000;
    if (!(this.requestedTimeoutMs > 0)) throw new RangeError(`ZooKeeperClient: sessionTimeoutMs must be > 0, got ${opts.sessionTimeoutMs}`);
    this.negotiatedTimeoutMs = this.requestedTimeoutMs;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? Math.max(1000, Math.floor(this.requestedTimeoutMs / Math.max(3, this.servers.length)));
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger();
    this.backoff = new Backoff({ initialMs: opts.backoff?.initialMs ?? 200, maxMs: opts.backoff?.maxMs ?? 5_000, random: opts.random });
    // Start somewhere random in the ensemble (as ZooKeeper's own client does) so clients spread over servers.
    this.serverIndex = Math.floor((opts.random ?? Math.random)() * this.servers.length) % this.servers.length;
  }

  get state(): ZkClientState {
    return this._state;
  }
  /** The current session id (0 before the first handshake or after an expiry). */
  get session(): bigint {
    return this.sessionId;
  }

  on<K extends keyof ZkClientEvents>(event: K, handler: (...args: ZkClientEvents[K]) => void): this {
    this.emitter.on(event, handler as (...args: unknown[]) => void);
    return this;
  }
  off<K extends keyof ZkClientEvents>(event: K, handler: (...args: ZkClientEvents[K]) => void): this {
    this.emitter.off(event, handler as (...args: unknown[]) => void);
    return this;
  }

  /** Starts connecting (and reconnecting) in the background. Idempotent. */
  start(): void {
    if (this.loop || this._state === 'closed') return;
    this._state = 'connecting';
    this.loop = this.run().catch((err: unknown) => this.log.error({ err }, 'zookeeper client loop failed'));
  }

  /** Resolves once connected (at once if already), rejects after `timeoutMs` or when the client closes. */
  ready(timeoutMs = 30_000): Promise<void> {
    if (this._state === 'connected') return Promise.resolve();
    if (this._state === 'closed') return Promise.reject(new ZkError(ZkCode.CONNECTIONLOSS, 'ZooKeeper client is closed'));
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        this.clock.clearTimeout(timer);
        this.off('connected', onConnected);
        this.stopSignal.signal.removeEventListener('abort', onClosed);
        if (err) reject(err);
        else resolve();
      };
      const onConnected = (): void => done();
      const onClosed = (): void => done(new ZkError(ZkCode.CONNECTIONLOSS, 'ZooKeeper client closed'));
      const timer = this.clock.setTimeout(() => done(new ZkError(ZkCode.CONNECTIONLOSS, `not connected to ZooKeeper after ${timeoutMs} ms`)), timeoutMs);
      this.on('connected', onConnected);
      this.stopSignal.signal.addEventListener('abort', onClosed, { once: true });
    });
  }

  /** Creates a znode; returns its actual path (with the sequence suffix for sequential modes). */
  async create(path: string, data: Buffer | string, mode: ZkCreateMode = 'persistent', acl: ZkAcl[] = OPEN_ACL): Promise<string> {
    const w = new JuteWriter().string(path).buffer(typeof data === 'string' ? Buffer.from(data) : data).int(acl.length);
    for (const a of acl) w.int(a.perms).string(a.scheme).string(a.id);
    w.int(CREATE_FLAGS[mode]);
    const r = await this.request(Op.create, w);
    return r.string() ?? path;
  }

  /** Creates `path` and its missing parents as persistent nodes; existing ones are fine. */
  async ensurePath(path: string, acl: ZkAcl[] = OPEN_ACL): Promise<void> {
    let prefix = '';
    for (const part of path.split('/').filter(Boolean)) {
      prefix += `/${part}`;
      try {
        await this.create(prefix, Buffer.alloc(0), 'persistent', acl);
      } catch (err) {
        if (!(err instanceof ZkError && err.code === ZkCode.NODEEXISTS)) throw err;
      }
    }
  }

  /** Deletes a znode; false if it did not exist. */
  async delete(path: string, version = -1): Promise<boolean> {
    try {
      await this.request(Op.delete, new JuteWriter().string(path).int(version));
      return true;
    } catch (err) {
      if (err instanceof ZkError && err.code === ZkCode.NONODE) return false;
      throw err;
    }
  }

  /** The node's Stat, or undefined if absent; `watch` fires on its creation, deletion or data change. */
  async exists(path: string, watch = false): Promise<ZkStat | undefined> {
    return this.orNoNode(async () => (await this.request(Op.exists, new JuteWriter().string(path).bool(watch))).stat());
  }

  /** Child names (not paths), or undefined if the node is absent; `watch` fires once on a change of the children. */
  async getChildren(path: string, watch = false): Promise<string[] | undefined> {
    return this.orNoNode(async () => (await this.request(Op.getChildren, new JuteWriter().string(path).bool(watch))).stringVector());
  }

  /** The node's data and Stat, or undefined if absent. */
  async getData(path: string, watch = false): Promise<{ data: Buffer; stat: ZkStat } | undefined> {
    return this.orNoNode(async () => {
      const r = await this.request(Op.getData, new JuteWriter().string(path).bool(watch));
      const data = Buffer.from(r.buffer() ?? Buffer.alloc(0));
      return { data, stat: r.stat() };
    });
  }

  /** Ends the session (its ephemeral nodes vanish at once) and stops reconnecting. Idempotent. */
  async close(): Promise<void> {
    if (this._state === 'closed' || this.stopSignal.signal.aborted) {
      await this.loop;
      return;
    }
    // Stop the loop first so the server closing the socket after closeSession does not start a new session.
    this.stopSignal.abort();
    if (this.expiryTimer !== undefined) this.clock.clearTimeout(this.expiryTimer);
    const conn = this.conn;
    if (conn?.handshaken && !conn.socket.destroyed) {
      const closing = this.request(Op.closeSession, new JuteWriter()).then(
        () => undefined,
        () => undefined,
      );
      await Promise.race([closing, sleep(2000, this.clock)]);
    }
    this._state = 'closed';
    this.conn?.socket.destroy();
    await this.loop;
  }

  /** Drops the TCP connection without ending the session, as a network failure would (for tests and operators). */
  dropConnection(): void {
    this.conn?.socket.destroy(new Error('connection dropped on request'));
  }

  private async orNoNode<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ZkError && err.code === ZkCode.NONODE) return undefined;
      throw err;
    }
  }

  private request(op: number, body: JuteWriter): Promise<JuteReader> {
    const conn = this.conn;
    if (!conn || !conn.handshaken || conn.socket.destroyed || (this.stopSignal.signal.aborted && op !== Op.closeSession)) {
      return Promise.reject(new ZkError(ZkCode.CONNECTIONLOSS, 'not connected to ZooKeeper'));
    }
    const xid = this.xid++;
    if (this.xid > 0x7fffffff) this.xid = 1;
    const frame = new JuteWriter().int(xid).int(op);
    const payload = Buffer.concat([frame.toBuffer(), body.toBuffer()]);
    const len = Buffer.alloc(4);
    len.writeInt32BE(payload.length);
    return new Promise((resolve, reject) => {
      conn.pending.push({ xid, op, resolve, reject });
      conn.socket.write(Buffer.concat([len, payload]));
    });
  }

  private emit<K extends keyof ZkClientEvents>(event: K, ...args: ZkClientEvents[K]): void {
    try {
      this.emitter.emit(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, 'zookeeper client listener threw');
    }
  }

  private async run(): Promise<void> {
    const signal = this.stopSignal.signal;
    let failures = 0;
    while (!signal.aborted) {
      const server = this.servers[this.serverIndex % this.servers.length];
      this.serverIndex = (this.serverIndex + 1) % this.servers.length;
      const outcome = await this.connectOnce(server);
      if (signal.aborted) break;
      if (outcome === 'expired') {
        // The server told us the session is gone: a fresh one, at once, on the same server.
        this.serverIndex = (this.serverIndex + this.servers.length - 1) % this.servers.length;
        continue;
      }
      if (outcome === 'authFailed') break;
      if (outcome === 'wasConnected') {
        failures = 0;
        this.backoff.reset();
        continue;
      }
      if (++failures >= this.servers.length) {
        failures = 0;
        await sleep(this.backoff.next(), this.clock, signal);
      }
    }
    this._state = 'closed';
  }

  /** One TCP connection from connect to close. */
  private connectOnce(server: ZkServerAddress): Promise<'failed' | 'wasConnected' | 'expired' | 'authFailed'> {
    return new Promise((resolve) => {
      let outcome: 'failed' | 'wasConnected' | 'expired' | 'authFailed' = 'failed';
      let closeReason: Error | undefined;
      const socket = tcpConnect({ host: server.host, port: server.port });
      socket.setNoDelay(true);
      const conn: Connection = { socket, server, pending: [], handshaken: false, lastRecv: this.clock.now() };
      this.conn = conn;
      const decoder = new FrameDecoder(this.opts.maxFrameBytes);
      const connectTimer = this.clock.setTimeout(() => {
        socket.destroy(new Error(`no ZooKeeper handshake from ${server.host}:${server.port} within ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);

      socket.on('connect', () => {
        const req = new JuteWriter()
          .int(0)
          .long(this.lastZxid)
          .int(this.requestedTimeoutMs)
          .long(this.sessionId)
          .buffer(this.password)
          .bool(false);
        socket.write(req.frame());
      });
      socket.on('data', (chunk: Buffer) => {
        conn.lastRecv = this.clock.now();
        try {
          for (const frame of decoder.push(chunk)) {
            if (!conn.handshaken) {
              const r = this.onHandshake(conn, frame);
              this.clock.clearTimeout(connectTimer);
              if (r === 'expired') {
                outcome = 'expired';
                socket.destroy();
                return;
              }
              outcome = 'wasConnected';
            } else if (this.onFrame(conn, frame) === 'authFailed') {
              outcome = 'authFailed';
              return;
            }
          }
        } catch (err) {
          socket.destroy(err instanceof Error ? err : new Error(String(err)));
        }
      });
      socket.on('error', (err) => {
        closeReason = err;
      });
      socket.on('close', () => {
        this.clock.clearTimeout(connectTimer);
        if (conn.pingTimer !== undefined) this.clock.clearTimeout(conn.pingTimer);
        const lost = new ZkError(ZkCode.CONNECTIONLOSS, `connection to ZooKeeper ${server.host}:${server.port} lost${closeReason ? `: ${closeReason.message}` : ''}`);
        for (const p of conn.pending.splice(0)) p.reject(lost);
        if (this.conn === conn) this.conn = undefined;
        if (conn.handshaken && this._state === 'connected' && !this.stopSignal.signal.aborted) {
          this._state = 'connecting';
          this.log.warn({ server, err: closeReason }, 'zookeeper connection lost');
          this.armExpiry();
          this.emit('disconnected', lost);
        } else if (!conn.handshaken && outcome === 'failed') {
          this.log.debug({ server, err: closeReason }, 'zookeeper connect failed');
        }
        resolve(outcome);
      });
    });
  }

  private onHandshake(conn: Connection, frame: Buffer): 'connected' | 'expired' {
    const r = new JuteReader(frame);
    r.int(); // protocol version
    const timeoutMs = r.int();
    const sessionId = r.long();
    const password = r.buffer() ?? NO_PASSWORD;
    if (timeoutMs <= 0) {
      this.log.warn({ server: conn.server, sessionId: this.sessionId.toString(16) }, 'zookeeper session expired');
      this.expireSession();
      return 'expired';
    }
    const newSession = sessionId !== this.sessionId;
    if (newSession && this.sessionId !== 0n) this.expireSession();
    this.sessionId = sessionId;
    this.password = Buffer.from(password);
    this.negotiatedTimeoutMs = timeoutMs;
    conn.handshaken = true;
    if (this.expiryTimer !== undefined) this.clock.clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.opts.auth) {
      const w = new JuteWriter().int(Xid.auth).int(Op.auth).int(0).string(this.opts.auth.scheme).buffer(Buffer.from(this.opts.auth.auth));
      conn.socket.write(w.frame());
    }
    this.schedulePing(conn);
    this._state = 'connected';
    this.log.info({ server: conn.server, sessionId: sessionId.toString(16), timeoutMs, newSession }, 'zookeeper connected');
    this.emit('connected', { sessionId, timeoutMs, server: conn.server, newSession });
    return 'connected';
  }

  private onFrame(conn: Connection, frame: Buffer): 'ok' | 'authFailed' {
    const r = new JuteReader(frame);
    const xid = r.int();
    const zxid = r.long();
    const err = r.int();
    if (zxid > this.lastZxid) this.lastZxid = zxid;
    if (xid === Xid.ping) return 'ok';
    if (xid === Xid.notification) {
      const type = r.int();
      r.int(); // keeper state
      const path = r.string() ?? '';
      this.emit('watch', { type: WATCH_TYPES[type] ?? 'other', path });
      return 'ok';
    }
    if (xid === Xid.auth) {
      if (err === ZkCode.OK) return 'ok';
      const e = new ZkError(err, `ZooKeeper refused the ${this.opts.auth?.scheme ?? ''} credentials (${CODE_NAMES.get(err) ?? err})`);
      this.log.error({ server: conn.server }, e.message);
      this._state = 'closed';
      this.stopSignal.abort();
      conn.socket.destroy();
      this.emit('authFailed', e);
      return 'authFailed';
    }
    const p = conn.pending.shift();
    if (!p || p.xid !== xid) throw new ZkProtocolError(`reply xid ${xid} does not match the oldest request ${p?.xid ?? '(none)'}`);
    if (err !== ZkCode.OK) p.reject(new ZkError(err));
    else p.resolve(r);
    return 'ok';
  }

  /** Pings every third of the session timeout; a server silent for two thirds of it is taken as gone. */
  private schedulePing(conn: Connection): void {
    const interval = Math.max(100, Math.floor(this.negotiatedTimeoutMs / 3));
    conn.pingTimer = this.clock.setTimeout(() => {
      if (conn.socket.destroyed) return;
      if (this.clock.now() - conn.lastRecv > (this.negotiatedTimeoutMs * 2) / 3) {
        conn.socket.destroy(new Error(`no reply from ZooKeeper for ${this.clock.now() - conn.lastRecv} ms`));
        return;
      }
      conn.socket.write(new JuteWriter().int(Xid.ping).int(Op.ping).frame());
      this.schedulePing(conn);
    }, interval);
  }

  /** Disconnected for the whole session timeout means the server has expired the session by now. */
  private armExpiry(): void {
    if (this.sessionId === 0n || this.expiryTimer !== undefined) return;
    this.expiryTimer = this.clock.setTimeout(() => {
      this.expiryTimer = undefined;
      if (this._state === 'connected' || this._state === 'closed') return;
      this.log.warn({ sessionId: this.sessionId.toString(16) }, 'zookeeper session timed out while disconnected');
      this.expireSession();
    }, this.negotiatedTimeoutMs);
  }

  private expireSession(): void {
    if (this.expiryTimer !== undefined) this.clock.clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const had = this.sessionId !== 0n;
    this.sessionId = 0n;
    this.password = NO_PASSWORD;
    this.lastZxid = 0n;
    if (had) this.emit('expired');
  }
}
