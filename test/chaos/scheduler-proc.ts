// A real `kube-mesos scheduler` process for chaos scenarios that restart it (from the sources, as the in-process
// schedulers of the other scenarios run): its pino lines parsed as they come, written to a file when it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/sandbox.js';

export interface SchedulerProc {
  name: string;
  child: ChildProcess;
  lines: { msg?: string; [k: string]: unknown }[];
  exited: Promise<number | null>;
  has(msg: string): boolean;
  count(msg: string): number;
  /** SIGKILL, and wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface SchedulerProcOptions {
  name: string;
  masterUrl: string;
  kubeconfig: string;
  namespace: string;
  /** `--set` overrides (key=value). */
  set: string[];
  /** Where the log goes on exit. */
  logDir: string;
  leaderElect?: boolean;
  /** Another main.ts (a patched copy, to try a fix); default src/cli/main.ts. */
  main?: string;
}

export function startSchedulerProc(o: SchedulerProcOptions): SchedulerProc {
  const args = ['--import', 'tsx', o.main ?? join(ROOT, 'src/cli/main.ts'), 'scheduler', '--master', o.masterUrl, '--kubeconfig', o.kubeconfig, '--namespace', o.namespace, '--listen', '127.0.0.1:0', '--log-level', 'info'];
  if (o.leaderElect) args.push('--leader-elect');
  const child = spawn(process.execPath, [...args, ...o.set.flatMap((s) => ['--set', s])], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const p: SchedulerProc = {
    name: o.name,
    child,
    lines: [],
    exited,
    has: (msg) => p.lines.some((l) => l.msg === msg),
    count: (msg) => p.lines.filter((l) => l.msg === msg).length,
    async kill9() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (alive()) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
  // pino writes JSON lines to stderr; anything else (a crash) is kept as text.
  let buf = '';
  child.stdout!.resume();
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        p.lines.push(JSON.parse(line) as SchedulerProc['lines'][number]);
      } catch {
        p.lines.push({ msg: line });
      }
    }
  });
  child.on('exit', () => writeFileSync(join(o.logDir, `${o.name}.jsonl`), p.lines.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  void exited.then((code) => {
    if (code !== null && code !== 0) console.warn(`scheduler ${o.name} exited ${code}:\n${p.lines.slice(-20).map((l) => JSON.stringify(l)).join('\n')}`);
  });
  return p;
}
