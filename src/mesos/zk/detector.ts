/**
 * `zk://` master detection as Mesos' ZooKeeperMasterDetector does it: watch the children of the masters' znode, the
 * lowest `json.info_` sequence leads, its MasterInfo says where. Keeps the leader through a ZooKeeper connection
 * loss (the masters' sessions outlive it too) and forgets it when our session expires.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../time/backoff.js';
import type { MasterDetector } from '../scheduler.js';
import { silentLogger } from '../../telemetry/log.js';
import { ZooKeeperClient, ZkError, type ZkWatchEvent } from './client.js';
import { leaderFromChildren, masterInfoToUrl, parseZkUrl, type MasterUrlOptions, type ZkUrl } from './master-info.js';

export interface ZooKeeperMasterDetectorOptions extends MasterUrlOptions {
  /** `zk://[user:pass@]host1:2181,host2:2181/mesos`. */
  url: string;
  /** ZooKeeper session timeout asked for; default 10 s (Mesos' --zk_session_timeout). */
  sessionTimeoutMs?: number;
  connectTimeoutMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  random?: () => number;
  clock?: Clock;
  log?: Logger;
}

export class DetectorStoppedError extends Error {
  override name = 'DetectorStoppedError';
}

interface Waiter {
  resolve: (url: string) => void;
  reject: (err: Error) => void;
}

export class ZooKeeperMasterDetector implements MasterDetector {
  /** One leader at a time: a refusal means "ask again", not "try the next one". */
  readonly size = 1;
  readonly zk: ZkUrl;
  private readonly client: ZooKeeperClient;
  private readonly log: Logger;
  private readonly urlOpts: MasterUrlOptions;
  private current: { node: string; url: string | undefined } | undefined;
  private readonly waiters: Waiter[] = [];
  private readonly listeners = new Set<(leader: string | undefined) => void>();
  private started = false;
  private stopped: Error | undefined;
  private refreshing = false;
  private dirty = false;
  private _synced = false;

  constructor(opts: ZooKeeperMasterDetectorOptions) {
    this.zk = parseZkUrl(opts.url);
    this.log = (opts.log ?? silentLogger()).child({ component: 'zk-detector' });
    this.urlOpts = { preferIp: opts.preferIp, scheme: opts.scheme };
    this.client = new ZooKeeperClient({
      servers: this.zk.servers,
      sessionTimeoutMs: opts.sessionTimeoutMs,
      connectTimeoutMs: opts.connectTimeoutMs,
      auth: this.zk.auth,
      backoff: opts.backoff,
      random: opts.random,
      clock: opts.clock,
      log: this.log,
    });
  }

  /** The leading master's base URL as last seen, undefined while there is none (or not yet known). */
  get leader(): string | undefined {
    return this.current?.url;
  }

  /** True once the masters' znode was read (and watched) since the last (re)connect: `leader` is then current. */
  get synced(): boolean {
    return this._synced;
  }

  /** Starts watching ZooKeeper. Idempotent; `next()` calls it too. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.client.on('connected', () => this.refresh());
    this.client.on('disconnected', () => (this._synced = false));
    this.client.on('expired', () => this.setLeader(undefined));
    this.client.on('watch', (ev: ZkWatchEvent) => {
      if (ev.path === this.zk.path) this.refresh();
    });
    this.client.on('authFailed', (err) => this.fail(err));
    this.client.start();
  }

  /** The leading master's base URL; waits while there is none. Rejects once the detector is stopped. */
  next(): Promise<string> {
    if (this.stopped) return Promise.reject(this.stopped);
    this.start();
    const url = this.current?.url;
    if (url) return Promise.resolve(url);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Calls `listener` with each new leader URL (undefined: none). Returns the unsubscribe function. */
  onChange(listener: (leader: string | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Closes the ZooKeeper session; pending and later `next()` calls reject with DetectorStoppedError. */
  async stop(): Promise<void> {
    this.fail(new DetectorStoppedError('ZooKeeper master detector stopped'));
    await this.client.close();
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stopped = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** Re-reads the children (and re-arms the watch); runs one at a time, again if asked meanwhile. */
  private refresh(): void {
    if (this.stopped) return;
    if (this.refreshing) {
      this.dirty = true;
      return;
    }
    this.refreshing = true;
    void (async () => {
      try {
        do {
          this.dirty = false;
          await this.refreshOnce();
        } while (this.dirty && !this.stopped);
        this._synced = true;
      } catch (err) {
        // Connection loss: the next 'connected' refreshes. Anything else waits for the next event too.
        const level = err instanceof ZkError && err.codeName === 'CONNECTIONLOSS' ? 'debug' : 'warn';
        this.log[level]({ err, path: this.zk.path }, 'reading the masters from ZooKeeper failed');
      } finally {
        this.refreshing = false;
      }
      if (this.dirty && !this.stopped) this.refresh();
    })();
  }

  private async refreshOnce(): Promise<void> {
    const path = this.zk.path;
    const children = await this.client.getChildren(path, true);
    if (children === undefined) {
      // No such znode yet (no master ever ran): watch for its creation.
      if (await this.client.exists(path, true)) this.dirty = true;
      else this.setLeader(undefined);
      return;
    }
    const node = leaderFromChildren(children);
    if (!node) {
      this.setLeader(undefined);
      return;
    }
    if (node === this.current?.node) return;
    const got = await this.client.getData(`${path}/${node}`);
    if (!got) {
      this.dirty = true; // gone between the two reads
      return;
    }
    const r = masterInfoToUrl(got.data, this.urlOpts);
    if (!r.ok) {
      this.log.error({ node: `${path}/${node}`, reason: r.reason }, 'leading master\'s MasterInfo is unusable; waiting for another leader');
      this.setLeader({ node, url: undefined });
      return;
    }
    this.setLeader({ node, url: r.url });
  }

  private setLeader(next: { node: string; url: string | undefined } | undefined): void {
    const before = this.current?.url;
    this.current = next;
    const url = next?.url;
    if (url === before) return;
    this.log.info({ leader: url ?? null, node: next?.node, previous: before ?? null }, url ? 'leading Mesos master detected' : 'no leading Mesos master');
    if (url) for (const w of this.waiters.splice(0)) w.resolve(url);
    for (const l of this.listeners) {
      try {
        l(url);
      } catch (err) {
        this.log.error({ err }, 'leader change listener threw');
      }
    }
  }
}

/** True for a `mesos.masters` entry that asks for ZooKeeper detection. */
export function isZkUrl(s: string): boolean {
  return s.startsWith('zk://');
}
