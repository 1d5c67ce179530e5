/**
 * Contenders run as child processes so each one's CPU and peak RSS are read from /proc the same way. A Node child gets
 * its options as one JSON argument and reports with JSON lines on stdout; its stderr goes to a log file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Child {
  readonly pid: number;
  /** Resolves with the first JSON line for which `match` is true; rejects if the child exits first or after `timeoutMs`. */
  message<T = Record<string, unknown>>(match: (m: Record<string, unknown>) => boolean, timeoutMs: number): Promise<T>;
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGSTOP / SIGCONT: the process keeps its state and connections but runs no code meanwhile. */
  pause(): void;
  resume(): void;
}

let setprivPath: string | null | undefined;
/** util-linux setpriv: the child gets SIGKILL from the kernel if the bench dies, so no contender outlives a killed run. */
function setpriv(): string | null {
  if (setprivPath === undefined) {
    setprivPath = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;
    if (setprivPath && spawnSync(setprivPath, ['--pdeathsig', 'KILL', '--', 'true']).status !== 0) setprivPath = null;
  }
  return setprivPath;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function startProcess(cmd: string, args: string[], logFile: string, opts: { env?: NodeJS.ProcessEnv } = {}): Child {
  const fd = openSync(logFile, 'a');
  const sp = setpriv();
  // setpriv execs the command, so the pid is the contender's own (what /proc is read for).
  const child = sp ? spawn(sp, ['--pdeathsig', 'KILL', '--', cmd, ...args], { stdio: ['ignore', 'pipe', fd], env: opts.env ?? process.env }) : spawn(cmd, args, { stdio: ['ignore', 'pipe', fd], env: opts.env ?? process.env });
  closeSync(fd);
  live.add(child);
  child.on('exit', () => live.delete(child));
  return wrap(child);
}

/** Runs `bench/lib/<file>` (TypeScript) under this Node with tsx. */
export function startNodeChild(file: string, options: unknown, logFile: string, nodeArgs: string[] = []): Child {
  const path = fileURLToPath(new URL(file, import.meta.url));
  return startProcess(process.execPath, [...nodeArgs, '--import', 'tsx', path, JSON.stringify(options)], logFile);
}

function wrap(child: ChildProcess): Child {
  if (child.pid === undefined) throw new Error('child process did not start');
  const messages: Record<string, unknown>[] = [];
  const waiters = new Set<{ match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }>();
  let buf = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      messages.push(m);
      for (const w of waiters) {
        if (!w.match(m)) continue;
        waiters.delete(w);
        w.resolve(m);
      }
    }
  });
  let alive = true;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => ((alive = false), resolve(code))));
  return {
    pid: child.pid,
    exited,
    message<T>(match: (m: Record<string, unknown>) => boolean, timeoutMs: number): Promise<T> {
      const found = messages.find(match);
      if (found) return Promise.resolve(found as T);
      return new Promise<T>((resolve, reject) => {
        const w = { match, resolve: (m: Record<string, unknown>) => (clearTimeout(timer), resolve(m as T)) };
        const timer = setTimeout(() => (waiters.delete(w), reject(new Error(`child ${child.pid}: no expected message within ${timeoutMs} ms`))), timeoutMs);
        waiters.add(w);
        void exited.then((code) => {
          if (!waiters.has(w)) return;
          waiters.delete(w);
          clearTimeout(timer);
          reject(new Error(`child ${child.pid} exited (${code}) before the expected message`));
        });
      });
    },
    pause() {
      if (alive) child.kill('SIGSTOP');
    },
    resume() {
      if (alive) child.kill('SIGCONT');
    },
    async stop(graceMs = 10_000) {
      if (!alive) return;
      child.kill('SIGCONT'); // a paused process would not act on SIGTERM
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** For child entry points: the JSON options argument, and a way to report. */
export function childOptions<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

export function report(m: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(m)}\n`);
}
