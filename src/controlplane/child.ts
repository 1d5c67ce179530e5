import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import type { Logger } from '../telemetry/log.js';
import { silentLogger } from '../telemetry/log.js';

export interface ChildSpec {
  /** Component name used in logs and errors, e.g. "kube-apiserver". */
  name: string;
  cmd: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Process groups still alive; killed synchronously if this process exits without stopping them. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

let setprivPath: string | null | undefined;
/** util-linux setpriv sets PR_SET_PDEATHSIG then execs: the child dies with us even if we are SIGKILLed. */
function setpriv(): string | null {
  if (setprivPath === undefined) {
    setprivPath = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;
    if (setprivPath && spawnSync(setprivPath, ['--pdeathsig', 'KILL', '--', 'true']).status !== 0) setprivPath = null;
  }
  return setprivPath;
}

/**
 * One long-running child in its own process group. It cannot outlive us: the group is killed on our exit,
 * and the child itself gets SIGKILL from the kernel if we die (setpriv --pdeathsig).
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<ExitInfo> | undefined;
  private stopping = false;
  private readonly log: Logger;

  /** Called when the child exits while nobody asked it to (not through stop()/kill()). */
  onUnexpectedExit: ((info: ExitInfo) => void) | undefined;

  constructor(
    readonly spec: ChildSpec,
    opts: { log?: Logger; graceMs?: number } = {},
  ) {
    if (!spec.name || !spec.cmd) throw new Error('ManagedProcess: name and cmd are required');
    this.log = (opts.log ?? silentLogger()).child({ component: spec.name });
    this.graceMs = opts.graceMs ?? 10_000;
  }

  readonly graceMs: number;

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when the current run exits (immediately if not running). */
  exited(): Promise<ExitInfo> {
    return this.exit ?? Promise.resolve({ code: null, signal: null });
  }

  start(): void {
    if (this.running) throw new Error(`${this.spec.name} is already running (pid ${this.child?.pid})`);
    installExitHook();
    const fd = openSync(this.spec.logFile, 'a');
    writeSync(fd, `\n=== ${new Date().toISOString()} starting: ${this.spec.cmd} ${this.spec.args.join(' ')}\n`);
    const sp = setpriv();
    const [cmd, args] = sp ? [sp, ['--pdeathsig', 'KILL', '--', this.spec.cmd, ...this.spec.args]] : [this.spec.cmd, this.spec.args];
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { cwd: this.spec.cwd, env: this.spec.env ?? process.env, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.stopping = false;
    const pid = child.pid;
    if (pid !== undefined) liveGroups.add(pid);
    this.exit = new Promise<ExitInfo>((resolve) => {
      let done = false;
      const finish = (info: ExitInfo) => {
        if (done) return;
        done = true;
        if (pid !== undefined) liveGroups.delete(pid);
        this.log.info({ pid, ...info }, 'exited');
        if (!this.stopping) this.onUnexpectedExit?.(info);
        resolve(info);
      };
      child.on('error', (err) => {
        this.log.error({ err }, 'failed to spawn');
        finish({ code: 127, signal: null });
      });
      child.on('exit', (code, signal) => finish({ code, signal }));
    });
    this.log.info({ pid, logFile: this.spec.logFile }, 'started');
  }

  /** SIGTERM to the group, SIGKILL after the grace period; resolves once the child has exited. Idempotent. */
  async stop(graceMs = this.graceMs): Promise<void> {
    if (!this.running) return this.exited().then(() => undefined);
    this.stopping = true;
    this.signalGroup('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.log.warn({ graceMs }, 'did not stop in time; SIGKILL');
        this.signalGroup('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited(), killed]);
    clearTimeout(timer);
    await this.exited();
  }

  /** SIGKILL the group (a crash, as far as the child can tell); resolves once it has exited. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.signalGroup('SIGKILL');
    await this.exited();
  }

  private signalGroup(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        this.child?.kill(sig);
      } catch {
        // already gone
      }
    }
  }
}
