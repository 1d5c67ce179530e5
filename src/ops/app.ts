/**
 * The ops HTTP app: health, readiness, metrics, debug state and the dashboard's static files. No business logic: every
 * answer comes from a provider the composition root passes in.
 */
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../telemetry/log.js';

export interface Readiness {
  ready: boolean;
  /** One entry per condition; `true` passes, `false` or a string (why not) fails. */
  checks: Record<string, boolean | string>;
}

export interface OpsDeps {
  /** Liveness: false only when the process should be restarted (e.g. its main loop is stuck). */
  health(): boolean;
  /** Ready = subscribed to Mesos, informers synced, and leader or standby as configured. */
  readiness(): Readiness;
  registry: Registry;
  /** A JSON-able view of agents, offers held, kubelets, queue; Maps, Sets and bigints are converted. */
  debugState(): unknown;
  /** Folder served at `/`; defaults to the `public/` folder beside this module (copied to dist by the build). */
  publicDir?: string;
  /**
   * Guards everything but /healthz and /readyz (metrics, debug state, the dashboard and its API), e.g. delegatedAuth();
   * absent = open (only for a loopback listener, see ops.secure).
   */
  auth?: express.RequestHandler;
  /** Extra routes (the dashboard's API, the sandbox's fault buttons), mounted before the static files. */
  routes?: express.Router;
  log?: Logger;
}

export const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('./public', import.meta.url));

/** JSON.stringify replacer for the shapes in-memory state has: Map → object, Set → array, bigint → string, Error → message. */
export function stateReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), v as unknown]));
  if (value instanceof Set) return [...value];
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

function failing(checks: Record<string, boolean | string>): Record<string, string> {
  return Object.fromEntries(Object.entries(checks).filter(([, v]) => v !== true).map(([k, v]) => [k, v === false ? 'failed' : String(v)]));
}

export function createOpsApp(deps: OpsDeps): express.Application {
  const log = deps.log ?? silentLogger();
  const app = express();
  app.disable('x-powered-by');
  app.set('json replacer', stateReplacer);

  app.get('/healthz', (_req, res) => {
    const ok = deps.health();
    res.status(ok ? 200 : 503).type('text/plain').send(ok ? 'ok\n' : 'unhealthy\n');
  });

  app.get('/readyz', (_req, res) => {
    const r = deps.readiness();
    // A check that fails makes the answer not ready even if the provider's summary says otherwise.
    const failed = failing(r.checks);
    const ready = r.ready && Object.keys(failed).length === 0;
    res.status(ready ? 200 : 503).json(ready ? { ready, checks: r.checks } : { ready, checks: r.checks, failing: failed });
  });

  if (deps.auth) app.use(deps.auth);

  app.get('/metrics', async (_req, res) => {
    const text = await deps.registry.metrics();
    res.status(200).type(deps.registry.contentType).send(text);
  });

  app.get('/debug/state', (_req, res) => {
    res.status(200).json(deps.debugState());
  });

  if (deps.routes) app.use(deps.routes);
  app.use(express.static(deps.publicDir ?? DEFAULT_PUBLIC_DIR, { index: 'index.html', fallthrough: true }));

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `not found: ${req.method} ${req.path}` });
  });

  // A provider that throws is reported, never crashes the process; express 5 routes rejected promises here too.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    log.error({ err, path: req.path }, 'ops request failed');
    const status = req.path === '/healthz' || req.path === '/readyz' ? 503 : 500;
    if (res.headersSent) return;
    res.status(status).json({ error: err instanceof Error ? err.message : String(err) });
  });

  return app;
}
