// The test suite's control plane, in a process of its own (started by global-setup.ts with `node --import tsx`):
// Jest loads global setup as CommonJS without the `.js`→`.ts` mapping, and a separate process keeps the
// apiserver control endpoint answering even when tests run in band. It stops everything when its stdin
// closes (Jest died), on SIGTERM/SIGINT, or on POST /shutdown.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installControlPlane } from '../../src/controlplane/install.js';
import { readInstalled } from '../../src/controlplane/paths.js';
import { startControlPlane, type ControlPlane } from '../../src/controlplane/controlplane.js';
import { createLogger } from '../../src/telemetry/log.js';

/** What the daemon publishes in `<stateDir>/controlplane.json` for tests to find. */
export interface TestControlPlaneInfo {
  server: string;
  kubeconfigPath: string;
  token: string;
  caFile: string;
  dir: string;
  logsDir: string;
  /** http://127.0.0.1:<port>: POST /apiserver/{stop,start,kill}, GET /apiserver. */
  controlUrl: string;
  daemonPid: number;
}

const { values } = parseArgs({ options: { 'state-dir': { type: 'string' }, 'cache-dir': { type: 'string' } } });
const stateDir = values['state-dir'];
const cacheDir = values['cache-dir'];
if (!stateDir || !cacheDir) {
  process.stderr.write('usage: controlplane-daemon --state-dir <dir> --cache-dir <dir>\n');
  process.exit(2);
}
const log = createLogger({ level: 'warn', name: 'test-control-plane' });
const say = (line: string) => process.stderr.write(`[control plane] ${line}\n`);

async function main(): Promise<void> {
  if (!(await readInstalled(cacheDir!))) {
    say(`not installed in ${cacheDir}: installing (Debian packages + a Kubernetes build; several minutes, once)`);
    await installControlPlane({ cacheDir: cacheDir!, progress: say, log });
  }
  const t0 = Date.now();
  const cp = await startControlPlane({ dir: join(stateDir!, 'cp'), cacheDir: cacheDir!, ephemeral: true, log });
  void cp.failure.then((e) => say(`FAILED: ${e.message}`));

  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const next = queue.then(op, op);
    queue = next.catch(() => {});
    return next;
  };
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (why: string) =>
    (shuttingDown ??= (async () => {
      log.info({ why }, 'shutting down');
      await cp.stop().catch((err: unknown) => say(`stop failed: ${String(err)}`));
      await rm(stateDir!, { recursive: true, force: true });
      srv.close();
      process.exit(0);
    })());

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const status = () => ({ running: cp.apiserver.running, pid: cp.apiserver.pid });
    const ops: Record<string, (c: ControlPlane) => Promise<void>> = {
      'POST /apiserver/stop': (c) => c.apiserver.stop(),
      'POST /apiserver/start': (c) => c.apiserver.start(),
      'POST /apiserver/kill': (c) => c.apiserver.kill(),
    };
    const key = `${req.method} ${req.url}`;
    try {
      if (key === 'GET /apiserver') return reply(200, status());
      if (key === 'POST /shutdown') {
        reply(200, {});
        return void shutdown('POST /shutdown');
      }
      const op = ops[key];
      if (!op) return reply(404, { error: `no route ${key}` });
      await serial(() => op(cp));
      reply(200, status());
    } catch (err) {
      reply(500, { error: err instanceof Error ? err.message : String(err) });
    }
  };
  const srv = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  const info: TestControlPlaneInfo = {
    server: cp.server,
    kubeconfigPath: cp.kubeconfigPath,
    token: cp.token,
    caFile: cp.caFile,
    dir: cp.dir,
    logsDir: cp.logsDir,
    controlUrl: `http://127.0.0.1:${port}`,
    daemonPid: process.pid,
  };
  const infoPath = join(stateDir!, 'controlplane.json');
  await writeFile(infoPath, JSON.stringify(info, null, 2) + '\n');
  say(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${cp.server} (logs: ${cp.logsDir})`);
  process.stdout.write(`READY ${infoPath}\n`);

  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.stdin.on('end', () => void shutdown('parent closed stdin'));
  process.stdin.on('error', () => void shutdown('stdin error'));
  process.stdin.resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`[control plane] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
