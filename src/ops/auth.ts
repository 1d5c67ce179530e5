/**
 * Delegated authentication and authorization for the ops server, as kube-scheduler's secure port does it: the caller's
 * Bearer token is checked with a TokenReview, the request with a SubjectAccessReview on its non-resource path and verb
 * (`get /metrics`); both answers are cached briefly. /healthz and /readyz stay open for probes.
 */
import { createHash } from 'node:crypto';
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { generate } from 'selfsigned';
import { silentLogger, type Logger } from '../telemetry/log.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export type Authenticated = { ok: true; user: UserInfo } | { ok: false; reason: string };
export interface Authorized {
  allowed: boolean;
  reason?: string;
}

/** The two questions asked of the API server; rejects only when it cannot answer (the request then gets 500, uncached). */
export interface AccessReviewer {
  authenticate(token: string): Promise<Authenticated>;
  authorize(user: UserInfo, path: string, verb: string): Promise<Authorized>;
}

/** TokenReview + SubjectAccessReview through the scheduler's own credentials (it needs `system:auth-delegator`). */
export function kubeAccessReviewer(kc: KubeConfig): AccessReviewer {
  const authn = kc.makeApiClient(AuthenticationV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  return {
    async authenticate(token) {
      const r = await authn.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
      const s = r.status;
      if (!s?.authenticated || !s.user?.username) return { ok: false, reason: s?.error || 'token not authenticated' };
      return { ok: true, user: { username: s.user.username, uid: s.user.uid, groups: s.user.groups, extra: s.user.extra } };
    },
    async authorize(user, path, verb) {
      const r = await authz.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: { user: user.username, uid: user.uid, groups: user.groups, extra: user.extra, nonResourceAttributes: { path, verb } },
        },
      });
      return { allowed: r.status?.allowed === true, reason: r.status?.reason };
    },
  };
}

/** Paths answered without authentication (probes), as kube-scheduler's `--authorization-always-allow-paths`. */
export const ALWAYS_ALLOW_PATHS: readonly string[] = ['/healthz', '/readyz'];

export interface DelegatedAuthOptions {
  reviewer: AccessReviewer;
  /** How long an answer (allowed or denied) is reused; kube-scheduler's default is 10 s. */
  cacheTtlMs: number;
  alwaysAllowPaths?: readonly string[];
  now?: () => number;
  log?: Logger;
}

/** Most cached answers kept; when full the cache starts over (bounded memory whatever callers send). */
const MAX_CACHE_ENTRIES = 4096;

class TtlCache<V> {
  private readonly m = new Map<string, { at: number; v: V }>();
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}
  get(k: string): V | undefined {
    const e = this.m.get(k);
    if (!e) return undefined;
    if (this.now() - e.at >= this.ttlMs) {
      this.m.delete(k);
      return undefined;
    }
    return e.v;
  }
  set(k: string, v: V): void {
    if (this.m.size >= MAX_CACHE_ENTRIES) this.m.clear();
    this.m.set(k, { at: this.now(), v });
  }
}

const VERBS: Record<string, string> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

function status(res: Response, code: 401 | 403 | 500, reason: string, message: string): void {
  if (code === 401) res.set('WWW-Authenticate', 'Bearer realm="kube-mesos"');
  res.status(code).json({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
}

/** Express middleware: 401 without a valid token, 403 when the user may not `verb` the path, else the route runs. */
export function delegatedAuth(opts: DelegatedAuthOptions): RequestHandler {
  const now = opts.now ?? Date.now;
  const open = new Set(opts.alwaysAllowPaths ?? ALWAYS_ALLOW_PATHS);
  const log = opts.log ?? silentLogger();
  const authnCache = new TtlCache<Authenticated>(opts.cacheTtlMs, now);
  const authzCache = new TtlCache<Authorized>(opts.cacheTtlMs, now);
  return async (req: Request, res: Response, next: NextFunction) => {
    if (open.has(req.path)) return next();
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!m) return status(res, 401, 'Unauthorized', 'Unauthorized: a Kubernetes Bearer token is required');
    const verb = VERBS[req.method] ?? req.method.toLowerCase();
    try {
      const tokenKey = createHash('sha256').update(m[1]).digest('hex');
      let who = authnCache.get(tokenKey);
      if (!who) {
        who = await opts.reviewer.authenticate(m[1]);
        authnCache.set(tokenKey, who);
      }
      if (!who.ok) return status(res, 401, 'Unauthorized', `Unauthorized: ${who.reason}`);
      const u = who.user;
      const authzKey = JSON.stringify([u.username, u.uid, u.groups, verb, req.path]);
      let may = authzCache.get(authzKey);
      if (!may) {
        may = await opts.reviewer.authorize(u, req.path, verb);
        authzCache.set(authzKey, may);
      }
      if (!may.allowed) {
        return status(res, 403, 'Forbidden', `forbidden: User "${u.username}" cannot ${verb} path "${req.path}"${may.reason ? `: ${may.reason}` : ''}`);
      }
      return next();
    } catch (err) {
      log.warn({ err, path: req.path }, 'delegated authentication/authorization failed');
      return status(res, 500, 'InternalError', 'authentication or authorization could not be checked with the API server');
    }
  };
}

export interface ServingCertificate {
  cert: string;
  key: string;
  selfSigned: boolean;
}

/**
 * A self-signed serving certificate for `hosts` (DNS names and IPs), valid one year, made at start when none is
 * configured, as kube-scheduler does for its secure port.
 */
export async function selfSignedCertificate(hosts: readonly string[]): Promise<ServingCertificate> {
  const isIp = (h: string): boolean => /^[\d.]+$/.test(h) || h.includes(':');
  const notAfterDate = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: `kube-mesos@${Math.floor(Date.now() / 1000)}` }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: hosts.map((h) => (isIp(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h })) },
    ],
  });
  return { cert: pems.cert, key: pems.private, selfSigned: true };
}
