/**
 * Pure pieces of Mesos' ZooKeeper master detection: the `zk://` URL, which contender leads, and where the leading
 * master's HTTP API is. Mesos masters contend under a znode with EPHEMERAL_SEQUENTIAL children `json.info_<seq>`
 * holding their MasterInfo as JSON; the lowest sequence number leads (src/zookeeper/group.cpp, contender.cpp).
 */
import type { ZkServerAddress } from './client.js';

export const ZK_DEFAULT_PORT = 2181;
/** Children Mesos ≥ 0.24 writes; older protobuf `info_` nodes are ignored. */
export const MASTER_NODE_PREFIX = 'json.info_';

export interface ZkUrl {
  servers: ZkServerAddress[];
  /** The znode the masters contend under, e.g. `/mesos`. */
  path: string;
  /** From `zk://user:pass@…`: ZooKeeper digest credentials. */
  auth?: { scheme: 'digest'; auth: string };
}

/** Parses `zk://[user:pass@]host1[:port],host2[:port]/path`; throws TypeError saying what is wrong. */
export function parseZkUrl(url: string): ZkUrl {
  const bad = (why: string): TypeError => new TypeError(`bad ZooKeeper URL "${redact(url)}": ${why} (want e.g. zk://zk1:2181,zk2:2181/mesos)`);
  if (typeof url !== 'string' || !url.startsWith('zk://')) throw bad('it must start with zk://');
  const rest = url.slice('zk://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0) throw bad('no znode path');
  let authority = rest.slice(0, slash);
  const rawPath = rest.slice(slash);

  let auth: ZkUrl['auth'];
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    if (colon <= 0) throw bad('credentials must be user:password');
    let user: string;
    let pass: string;
    try {
      user = decodeURIComponent(userinfo.slice(0, colon));
      pass = decodeURIComponent(userinfo.slice(colon + 1));
    } catch {
      throw bad('credentials are not valid percent-encoding');
    }
    auth = { scheme: 'digest', auth: `${user}:${pass}` };
  }

  if (!authority) throw bad('no hosts');
  const servers = authority.split(',').map((h) => parseHostPort(h.trim(), bad));

  if (/[?#]/.test(rawPath)) throw bad('query strings and fragments are not allowed');
  const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, '') : rawPath;
  if (path === '/' || path === '') throw bad('no znode path');
  if (path.split('/').slice(1).some((seg) => seg === '' || seg === '.' || seg === '..')) throw bad(`"${path}" is not a valid znode path`);
  return auth ? { servers, path, auth } : { servers, path };
}

function parseHostPort(s: string, bad: (why: string) => TypeError): ZkServerAddress {
  if (!s) throw bad('an empty host');
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw bad(`"${s}" has an unclosed [`);
    host = s.slice(1, close);
    const after = s.slice(close + 1);
    if (after && !after.startsWith(':')) throw bad(`"${s}" is not host:port`);
    portText = after ? after.slice(1) : undefined;
  } else {
    const parts = s.split(':');
    if (parts.length > 2) throw bad(`"${s}": write IPv6 addresses as [addr]:port`);
    host = parts[0];
    portText = parts[1];
  }
  if (!host) throw bad(`"${s}" has no host`);
  if (!/^[A-Za-z0-9._:%-]+$/.test(host)) throw bad(`"${host}" is not a host name or address`);
  if (portText === undefined) return { host, port: ZK_DEFAULT_PORT };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw bad(`"${portText}" is not a port`);
  return { host, port };
}

/** A URL fit for logs and messages: userinfo (`user:secret@`) replaced by `***@`, for any scheme. */
export function redactUrl(url: unknown): string {
  return String(url).replace(/^((?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/)[^@/?#\s]*@/, '$1***@');
}

const redact = redactUrl;

/**
 * The leading contender among `children` (child names of the masters' znode): the `json.info_` node with the lowest
 * sequence number, or undefined when there is none.
 */
export function leaderFromChildren(children: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestSeq = Infinity;
  for (const name of children) {
    if (!name.startsWith(MASTER_NODE_PREFIX)) continue;
    const seqText = name.slice(MASTER_NODE_PREFIX.length);
    if (!/^\d+$/.test(seqText)) continue;
    const seq = Number(seqText);
    if (seq < bestSeq) {
      bestSeq = seq;
      best = name;
    }
  }
  return best;
}

export interface MasterUrlOptions {
  /** Use the master's IP rather than its hostname (when hostnames do not resolve where the scheduler runs). */
  preferIp?: boolean;
  /** Default http. */
  scheme?: 'http' | 'https';
}

export type MasterUrlResult = { ok: true; url: string; id?: string } | { ok: false; reason: string };

/**
 * `http://<hostname or ip>:<port>` of the master whose MasterInfo JSON is `data` (as Mesos writes it:
 * `{"address":{"hostname","ip","port"},"hostname","ip":<uint32>,"port","pid":"master@ip:port",…}`).
 */
export function masterInfoToUrl(data: Buffer | string | unknown, opts: MasterUrlOptions = {}): MasterUrlResult {
  let info: unknown = data;
  if (typeof data === 'string' || Buffer.isBuffer(data)) {
    try {
      info = JSON.parse(data.toString());
    } catch (err) {
      return { ok: false, reason: `MasterInfo is not JSON: ${(err as Error).message}` };
    }
  }
  if (!info || typeof info !== 'object' || Array.isArray(info)) return { ok: false, reason: 'MasterInfo is not a JSON object' };
  const m = info as Record<string, unknown>;
  const address = m.address && typeof m.address === 'object' ? (m.address as Record<string, unknown>) : {};
  const pid = typeof m.pid === 'string' ? parsePid(m.pid) : undefined;

  const hostname = nonEmpty(address.hostname) ?? nonEmpty(m.hostname);
  const ip = nonEmpty(address.ip) ?? packedIp(m.ip) ?? pid?.host;
  const host = opts.preferIp ? (ip ?? hostname) : (hostname ?? ip);
  const port = validPort(address.port) ?? validPort(m.port) ?? pid?.port;
  if (!host) return { ok: false, reason: 'MasterInfo has no hostname, ip or pid' };
  if (port === undefined) return { ok: false, reason: 'MasterInfo has no valid port' };
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const id = nonEmpty(m.id);
  return { ok: true, url: `${opts.scheme ?? 'http'}://${h}:${port}`, ...(id ? { id } : {}) };
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

function validPort(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 65535 ? v : undefined;
}

/** MasterInfo.ip is the in_addr's s_addr read as a host uint32: on the little-endian hosts Mesos runs on, the first octet is the low byte. */
function packedIp(v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 0xffffffff) return undefined;
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff].join('.');
}

function parsePid(pid: string): { host: string; port: number } | undefined {
  const m = /^[^@]+@(.+):(\d+)$/.exec(pid);
  if (!m) return undefined;
  const port = validPort(Number(m[2]));
  return port === undefined ? undefined : { host: m[1], port };
}
