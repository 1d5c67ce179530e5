// A real, single-node ZooKeeper for tests, from Debian's `zookeeper` package (apt-get install zookeeper), on a free
// loopback port with its own data dir. `restart()` keeps port and data, as an operator restarting the server would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ZOOKEEPER_JAR = process.env.KUBE_MESOS_ZOOKEEPER_JAR ?? '/usr/share/java/zookeeper.jar';
const JAVA = process.env.JAVA ?? 'java';
// Debian's libslf4j-java binding, when present, makes the server log to its log file instead of nowhere.
const SLF4J_SIMPLE = '/usr/share/java/slf4j-simple.jar';

export interface TestZooKeeper {
  host: string;
  port: number;
  /** `127.0.0.1:port` */
  connectString: string;
  /** `zk://127.0.0.1:port<path>` */
  url(path: string): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the JVM has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data dir; resolves when it answers. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** stop() and delete the data dir. */
  destroy(): Promise<void>;
  /** The server's log so far (for failure messages). */
  logTail(lines?: number): string;
}

/** Why ZooKeeper cannot run here, or undefined when it can. */
export function zookeeperMissing(): string | undefined {
  if (!existsSync(ZOOKEEPER_JAR)) return `${ZOOKEEPER_JAR} not found: install Debian's ZooKeeper (apt-get install -y --no-install-recommends zookeeper)`;
  return undefined;
}

export interface StartZooKeeperOptions {
  /** ZooKeeper's tick; sessions may last 2..240 ticks. Default 250 ms, so tests can use 1 s sessions (and up to 60 s). */
  tickTimeMs?: number;
  readyTimeoutMs?: number;
}

export async function startZooKeeper(opts: StartZooKeeperOptions = {}): Promise<TestZooKeeper> {
  const missing = zookeeperMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'kube-mesos-zk-'));
  const port = await freePort();
  const tick = opts.tickTimeMs ?? 250;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(
    cfg,
    [
      `tickTime=${tick}`,
      `dataDir=${join(dir, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      `minSessionTimeout=${2 * tick}`,
      `maxSessionTimeout=${240 * tick}`,
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,srvr',
      'maxClientCnxns=0',
      '',
    ].join('\n'),
  );
  const logPath = join(dir, 'zookeeper.log');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    if (child) return;
    const fd = openSync(logPath, 'a');
    const c = spawn(JAVA, ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', existsSync(SLF4J_SIMPLE) ? `${ZOOKEEPER_JAR}:${SLF4J_SIMPLE}` : ZOOKEEPER_JAR, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], {
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child = c;
    // A test worker that dies must not leave a JVM behind.
    const reap = (): void => {
      c.kill('SIGKILL');
    };
    process.once('exit', reap);
    c.once('exit', () => process.off('exit', reap));
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    void exited.then(() => {
      if (child === c) child = undefined;
    });
    const deadline = Date.now() + readyTimeoutMs;
    while (!(await ruok(port))) {
      if (!child) throw new Error(`ZooKeeper exited during start-up; log:\n${tail(logPath, 30)}`);
      if (Date.now() > deadline) throw new Error(`ZooKeeper did not answer ruok on 127.0.0.1:${port} within ${readyTimeoutMs} ms; log:\n${tail(logPath, 30)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const stop = async (): Promise<void> => {
    const c = child;
    if (!c) return;
    c.kill('SIGTERM');
    const killer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
    child = undefined;
  };

  try {
    await start();
  } catch (err) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    host: '127.0.0.1',
    port,
    connectString: `127.0.0.1:${port}`,
    url: (path) => `zk://127.0.0.1:${port}${path}`,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    logTail: (lines = 30) => tail(logPath, lines),
  };
}

/** True when the server answers the `ruok` four-letter word with `imok`. */
export function ruok(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let got = '';
    const s = connect({ host, port }, () => s.write('ruok'));
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('imok')) done(true);
    });
    s.on('error', () => done(false));
    s.on('close', () => done(got.includes('imok')));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
