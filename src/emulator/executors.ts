import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import { CgroupContainer, containerSize, weighParent } from './cgroups.js';
import type { ExecutorHandle, ExecutorSink } from './agent.js';
import { type Fetcher, fetchUris } from './fetcher.js';
import type { ExecutorTransport } from '../mesos/executor-transport.js';
import type { CommandInfo, ExecutorCall, ExecutorEvent, ExecutorInfo } from './proto-types.js';


/** An executor run inside the emulator process (`--executor-mode inprocess`): resolves when the executor exits. */
export type ExecutorFactory = (ctx: { env: Record<string, string>; transport: ExecutorTransport; signal: AbortSignal }) => Promise<void>;

export type CallOutcome = { status: 200 | 202 } | { status: 400 | 403 | 404 | 409; message: string };

/** The agent side of the executor API, implemented by the Master; the token picks the executor (container). */
export interface ExecutorEndpoint {
  executorSubscribe(token: string | undefined, call: ExecutorCall, sink: ExecutorSink): CallOutcome;
  executorCall(token: string | undefined, call: ExecutorCall): CallOutcome;
  executorStreamClosed(sink: ExecutorSink): void;
}

export interface LaunchSpec {
  agentId: string;
  frameworkId: string;
  executorId: string;
  info: ExecutorInfo;
  env: Record<string, string>;
  directory: string;
  token: string;
}

export interface ExitStatus {
  /** Exit code (0 success), null when killed by a signal. */
  code: number | null;
  signal?: string | null;
  error?: string;
  /** The container never started (e.g. a URI could not be fetched): the agent's REASON_CONTAINER_LAUNCH_FAILED. */
  launchFailed?: boolean;
}

export interface ExecutorLauncher {
  launch(spec: LaunchSpec, exited: (status: ExitStatus) => void): ExecutorHandle;
  /** Runs a command task's command (the agent's command executor); without it command tasks are simulated. */
  runCommand?(spec: LaunchSpec, command: CommandInfo, exited: (status: ExitStatus) => void): ExecutorHandle;
  /** Resolves when every executor it killed is completely gone (its container destroyed). */
  close?(): Promise<void>;
}

export class CallError extends Error {
  override name = 'CallError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`${status}: ${message}`);
  }
}

/** In-process executor transport (the ExecutorClient runs on it unchanged): events arrive asynchronously and in order. */
export class InProcessExecutorTransport implements ExecutorTransport {
  private sink?: ExecutorSink;
  private closing = false;

  constructor(
    private readonly endpoint: ExecutorEndpoint,
    private readonly token: string,
  ) {}

  async subscribe(call: ExecutorCall, onEvent: (ev: ExecutorEvent) => void, onClose: (err?: Error) => void): Promise<void> {
    this.closeSink();
    let open = true;
    const sink: ExecutorSink = {
      send: (ev) => {
        if (open) queueMicrotask(() => open && onEvent(ev));
      },
      close: () => {
        if (!open) return;
        open = false;
        // Closed by the agent side (executor terminated, agent down): the stream ended with a reason.
        const why = this.closing ? undefined : new Error('agent closed the executor stream');
        queueMicrotask(() => onClose(why));
      },
    };
    const r = this.endpoint.executorSubscribe(this.token, call, sink);
    if (r.status !== 200) {
      open = false;
      throw new CallError(r.status, 'message' in r ? r.message : '');
    }
    this.sink = sink;
  }

  async call(call: ExecutorCall): Promise<void> {
    const r = this.endpoint.executorCall(this.token, call);
    if (r.status !== 202) throw new CallError(r.status, 'message' in r ? r.message : '');
  }

  close(): void {
    this.closeSink();
  }

  private closeSink(): void {
    const s = this.sink;
    this.sink = undefined;
    if (s) {
      this.endpoint.executorStreamClosed(s);
      this.closing = true;
      s.close();
      this.closing = false;
    }
  }
}

/** Runs an ExecutorFactory per executor; kill() aborts its signal and reports the exit at once, as SIGKILL would. */
export class InProcessLauncher implements ExecutorLauncher {
  constructor(
    private readonly factory: ExecutorFactory,
    private readonly endpoint: () => ExecutorEndpoint,
  ) {}

  launch(spec: LaunchSpec, exited: (status: ExitStatus) => void): ExecutorHandle {
    const ac = new AbortController();
    const transport = new InProcessExecutorTransport(this.endpoint(), spec.token);
    let done = false;
    const finish = (s: ExitStatus) => {
      if (done) return;
      done = true;
      transport.close();
      exited(s);
    };
    let run: Promise<void>;
    try {
      run = this.factory({ env: spec.env, transport, signal: ac.signal });
    } catch (err) {
      run = Promise.reject(err);
    }
    run.then(
      () => finish({ code: 0 }),
      (err: unknown) => finish({ code: 1, error: err instanceof Error ? err.message : String(err) }),
    );
    return {
      kill: () => {
        ac.abort(new Error('executor killed'));
        finish({ code: null, signal: 'SIGKILL' });
      },
    };
  }
}

export interface ProcessLauncherOptions {
  /**
   * Mesos' `--isolation=cgroups/cpu,cgroups/mem`: each executor runs in a cgroup v1 container `<root>/<container id>`
   * sized to its and its tasks' resources, destroyed (every process killed, cgroups removed) when it ends. Absent: the
   * executor only gets its own process group.
   */
  cgroups?: { root: string; mount?: string };
  /** Each agent's fetcher (its own cache, as each real agent has): CommandInfo.uris are fetched before the command runs. */
  fetcherFor?: (agentId: string) => Fetcher;
  /** Problems that do not stop an executor (a limit the kernel refused, a container that would not go). */
  warn?: (message: string, detail?: Record<string, unknown>) => void;
}

/**
 * Spawns the ExecutorInfo's command as a real agent does: its container (when isolated) made first, the command's URIs
 * fetched into its sandbox, then shell or argv form, in its sandbox, with the agent's environment.
 */
export class ProcessLauncher implements ExecutorLauncher {
  private readonly destroying = new Set<Promise<unknown>>();
  private readonly live = new Set<CgroupContainer>();

  constructor(private readonly opts: ProcessLauncherOptions = {}) {
    if (opts.cgroups && !/^\/[A-Za-z0-9._/-]+$/.test(opts.cgroups.root)) throw new TypeError(`ProcessLauncher: cgroups root "${opts.cgroups.root}" must be an absolute cgroup path`);
  }

  launch(spec: LaunchSpec, exited: (status: ExitStatus) => void): ExecutorHandle {
    return this.spawn(spec, spec.info.command, exited);
  }

  runCommand(spec: LaunchSpec, command: CommandInfo, exited: (status: ExitStatus) => void): ExecutorHandle {
    return this.spawn(spec, command, exited);
  }

  /** Resolves once every container being destroyed is gone (the emulator's stop() waits for it). */
  async close(): Promise<void> {
    while (this.destroying.size > 0) await Promise.allSettled([...this.destroying]);
  }

  private spawn(spec: LaunchSpec, cmd: CommandInfo | undefined, exited: (status: ExitStatus) => void): ExecutorHandle {
    let done = false;
    const finish = (s: ExitStatus) => {
      if (done) return;
      done = true;
      exited(s);
    };
    if (!cmd?.value) {
      queueMicrotask(() => finish({ code: 1, error: 'CommandInfo has no value' }));
      return { kill: () => undefined };
    }
    let container: CgroupContainer | undefined;
    try {
      mkdirSync(spec.directory, { recursive: true });
      if (this.opts.cgroups) {
        // The run directory's name is the container id, as on a Mesos agent.
        container = new CgroupContainer({ path: `${this.opts.cgroups.root}/${basename(spec.directory)}`, mount: this.opts.cgroups.mount, warn: this.opts.warn });
        container.create(containerSize(spec.info.resources, []));
        this.live.add(container);
        this.weigh();
      }
    } catch (err) {
      const c = container;
      if (c) this.track(c.destroy(1000));
      queueMicrotask(() => finish({ code: 1, error: `cannot create the container: ${(err as Error).message}` }));
      return { kill: () => undefined };
    }
    // Killed while fetching: the fetch is aborted and the container destroyed, as the agent's destroy() does.
    const fetching = new AbortController();
    let killChild: (() => void) | undefined;
    const fail = (s: ExitStatus) => {
      const c = container;
      container = undefined;
      if (!c) return finish(s);
      this.track(c.destroy(1000).then(() => finish(s), () => finish(s)).finally(() => {
        this.live.delete(c);
        this.weigh();
      }));
    };
    const start = async () => {
      const failure = await fetchUris(this.opts.fetcherFor?.(spec.agentId), spec, cmd, fetching.signal);
      if (done) return;
      if (failure) return fail({ code: 1, error: failure, launchFailed: true });
      killChild = this.spawnChild(spec, cmd, () => container, (c) => (container = c), finish);
    };
    start().catch((err: unknown) => fail({ code: 1, error: err instanceof Error ? err.message : String(err), launchFailed: true }));
    return {
      kill: () => {
        if (killChild) return killChild();
        fetching.abort();
        fail({ code: null, signal: 'SIGKILL' });
      },
      update: container
        ? (holding) => {
            container?.resize(containerSize(holding.executor, holding.tasks));
            this.weigh();
          }
        : undefined,
    };
  }

  private spawnChild(
    spec: LaunchSpec,
    cmd: CommandInfo,
    getContainer: () => CgroupContainer | undefined,
    setContainer: (c: CgroupContainer | undefined) => void,
    finish: (s: ExitStatus) => void,
  ): () => void {
    const container = getContainer();
    const shell = cmd.shell !== false;
    const args = cmd.arguments ?? [];
    // The starting shell joins the container before it runs anything, so nothing the executor forks escapes it.
    const join = container ? `${container.joinScript()} || exit 125\n` : '';
    // Its own process group, so a kill reaches the whole tree as the agent's containerizer does (a shell such as dash
    // does not exec its last command, and killing only the shell would orphan the executor).
    const opts = { cwd: spec.directory, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], detached: true };
    const child = shell
      ? spawn('/bin/sh', ['-c', join + cmd.value], opts)
      : container
        ? spawn('/bin/sh', ['-c', `${join}exec "$0" "$@"`, cmd.value!, ...args.slice(1)], opts)
        : spawn(cmd.value!, args.slice(1), { ...opts, argv0: args[0] });
    // Appended: the fetcher's log comes first in the sandbox's stderr, as on a real agent.
    child.stdout?.pipe(createWriteStream(`${spec.directory}/stdout`, { flags: 'a' }));
    child.stderr?.pipe(createWriteStream(`${spec.directory}/stderr`, { flags: 'a' }));
    const ended = (s: ExitStatus) => {
      const c = getContainer();
      if (!c) return finish(s);
      // As Mesos' containerizer: the executor's end destroys its container, whatever it left running in it.
      setContainer(undefined);
      this.track(
        c.destroy().then(
          () => finish(s),
          () => finish(s),
        ).finally(() => {
          this.live.delete(c);
          this.weigh();
        }),
      );
    };
    child.on('error', (err) => ended({ code: 1, error: err.message }));
    child.on('exit', (code, signal) => ended({ code, signal }));
    const kill = () => {
      getContainer()?.killAll();
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is already gone; make sure the leader is too
      }
    };
    // The emulator going away takes its executors with it, like a host losing power.
    process.once('exit', kill);
    child.once('exit', () => process.off('exit', kill));
    return kill;
  }

  /** The containers' parent weighs what they hold together (see weighParent). */
  private weigh(): void {
    if (!this.opts.cgroups) return;
    const cpus = [...this.live].reduce((sum, c) => sum + c.cpus, 0);
    const problem = weighParent(this.opts.cgroups.root, cpus, this.opts.cgroups.mount);
    if (problem) this.opts.warn?.('cannot weigh the containers\' parent cgroup', { problem });
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined).finally(() => this.destroying.delete(q));
    this.destroying.add(q);
  }
}
