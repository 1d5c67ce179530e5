// A fault-injecting HTTP proxy in front of the run's kube-apiserver, for chaos tests. Clients reach it over plain
// http with the admin token (kubeconfig()); requests go on to the API server over TLS. Rules answer matching requests
// with an error instead (429 with Retry-After, 500, 503…), for a number of times or until removed, chosen by a seeded
// coin; clients can be cut off by process (the executors of one agent), as a network partition would cut them.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { controlPlaneInfo } from './kube.js';
import { seededRandom } from '../../src/time/backoff.js';

export interface FaultRule {
  /** Which requests it applies to. */
  match: (req: { method: string; path: string; query: URLSearchParams }) => boolean;
  status: number;
  /** Retry-After header value (seconds), when the fault carries one. */
  retryAfter?: string;
  /** Applies to this many matching requests, then retires (default: until removed). */
  times?: number;
  /** Share of matching requests it applies to, drawn from the proxy's seeded generator (default 1). */
  probability?: number;
}

export interface FaultProxy {
  url: string;
  /** Path of a kubeconfig (admin token) that goes through the proxy. */
  kubeconfigPath: string;
  add(rule: FaultRule): { injected: () => number; remove: () => void };
  /** Requests seen, and answered with an injected fault, by `METHOD kind` (kind = the path's resource). */
  readonly seen: Map<string, { requests: number; faults: number }>;
  /** Every request in order: when, what, from which process, and the status injected if one was. */
  /** Every request seen; `body`: a digest of its body (set once the body has arrived), to tell a retry from another write. */
  readonly log: { at: number; method: string; path: string; userAgent: string; injected?: number; body?: string }[];
  /** Cuts every connection from these processes (now and until healed): they get no answer at all. */
  cut(pids: Iterable<number>): void;
  heal(): void;
  close(): Promise<void>;
}

/** A seeded generator (mulberry32), so which requests fail is the same on every run. */
const seeded = seededRandom;

/** `/api/v1/namespaces/x/pods/y/status` → `pods/status`; `/apis/coordination.k8s.io/v1/.../leases/n` → `leases`. */
export function resourceKind(path: string): string {
  const parts = path.split('/').filter(Boolean);
  const start = parts[0] === 'api' ? 2 : 3;
  const rest = parts.slice(start);
  if (rest[0] === 'namespaces' && rest.length > 2) rest.splice(0, 2);
  const kind = rest[0] ?? '';
  const sub = rest.length > 2 ? `/${rest[2]}` : '';
  return kind + sub;
}

/** The socket inode of the client end of a loopback TCP connection (`clientPort` → `serverPort`), from /proc/net. */
function clientInode(clientPort: number, serverPort: number): string | undefined {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && f[1].endsWith(`:${hex(clientPort)}`) && f[2].endsWith(`:${hex(serverPort)}`) && f[9] !== '0') return f[9];
    }
  }
  return undefined;
}

/** The socket inodes these processes hold open. */
function socketInodes(pids: Iterable<number>): Set<string> {
  const out = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) out.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

export async function startFaultProxy(dir: string, seed = 16): Promise<FaultProxy> {
  const cp = controlPlaneInfo();
  const target = new URL(cp.server);
  const agent = new https.Agent({ keepAlive: true, ca: readFileSync(cp.caFile) });
  const random = seeded(seed);
  const rules = new Set<{ rule: FaultRule; left: number; injected: number }>();
  const seen = new Map<string, { requests: number; faults: number }>();
  /** Open client connections, with the client end's socket inode once looked up (only while a cut is active). */
  const sockets = new Map<Socket, string | undefined>();
  const cutPids = new Set<number>();
  const log: FaultProxy['log'] = [];
  let port = 0;

  const isCut = (socket: Socket): boolean => {
    if (cutPids.size === 0) return false;
    let inode = sockets.get(socket);
    if (inode === undefined && socket.remotePort) sockets.set(socket, (inode = clientInode(socket.remotePort, port)));
    return inode !== undefined && socketInodes(cutPids).has(inode);
  };

  const server = http.createServer((req, res) => {
    if (isCut(req.socket)) return void req.socket.destroy();
    const u = new URL(req.url ?? '/', 'http://proxy');
    const key = `${req.method} ${resourceKind(u.pathname)}`;
    const count = seen.get(key) ?? { requests: 0, faults: 0 };
    seen.set(key, count);
    count.requests++;
    const entry: FaultProxy['log'][number] = { at: Date.now(), method: req.method ?? 'GET', path: u.pathname, userAgent: req.headers['user-agent'] ?? '' };
    if (log.length < 200_000) log.push(entry);
    const digest = createHash('sha1');
    req.on('data', (chunk: Buffer) => digest.update(chunk));
    req.on('end', () => (entry.body = digest.digest('hex')));
    for (const r of rules) {
      if (r.left <= 0 || !r.rule.match({ method: req.method ?? 'GET', path: u.pathname, query: u.searchParams })) continue;
      if (r.rule.probability !== undefined && random() >= r.rule.probability) continue;
      r.left--;
      r.injected++;
      count.faults++;
      entry.injected = r.rule.status;
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `injected by the chaos proxy: ${r.rule.status}`, reason: r.rule.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', code: r.rule.status });
      res.writeHead(r.rule.status, { 'content-type': 'application/json', ...(r.rule.retryAfter ? { 'retry-after': r.rule.retryAfter } : {}) });
      req.resume();
      return void res.end(body);
    }
    const up = https.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connection', (socket) => {
    sockets.set(socket, undefined);
    socket.on('close', () => sockets.delete(socket));
    if (isCut(socket)) socket.destroy();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const kubeconfigPath = join(dir, 'kubeconfig-fault-proxy');
  writeFileSync(
    kubeconfigPath,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'proxy', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'admin', user: { token: cp.token } }],
      contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'admin' } }],
      'current-context': 'proxy',
    }),
    { mode: 0o600 },
  );
  return {
    url,
    kubeconfigPath,
    seen,
    log,
    add(rule) {
      const r = { rule, left: rule.times ?? Infinity, injected: 0 };
      rules.add(r);
      return { injected: () => r.injected, remove: () => rules.delete(r) };
    },
    cut(pids) {
      for (const p of pids) cutPids.add(p);
      for (const s of [...sockets.keys()]) if (isCut(s)) s.destroy();
    },
    heal() {
      cutPids.clear();
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      agent.destroy();
    },
  };
}
