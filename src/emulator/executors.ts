import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
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

/**
 * Spawns the ExecutorInfo's command as a real agent does: the command's URIs fetched into its sandbox first (when a
 * fetcher is given), then shell or argv form, in its sandbox, with the agent's environment.
 */
export class ProcessLauncher implements ExecutorLauncher {
  /** `fetcherFor` gives each agent its own fetcher (and so its own cache), as each real agent has. */
  constructor(private readonly fetcherFor?: (agentId: string) => Fetcher) {}

  launch(spec: LaunchSpec, exited: (status: ExitStatus) => void): ExecutorHandle {
    return this.spawn(spec, spec.info.command, exited);
  }

  runCommand(spec: LaunchSpec, command: CommandInfo, exited: (status: ExitStatus) => void): ExecutorHandle {
    return this.spawn(spec, command, exited);
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
    try {
      mkdirSync(spec.directory, { recursive: true });
    } catch (err) {
      queueMicrotask(() => finish({ code: 1, error: `cannot create sandbox: ${(err as Error).message}` }));
      return { kill: () => undefined };
    }
    // Killed while fetching: the fetch is aborted and the container reported gone, as the agent's destroy() does.
    const fetching = new AbortController();
    let killChild: (() => void) | undefined;
    const start = async () => {
      const failure = await fetchUris(this.fetcherFor?.(spec.agentId), spec, cmd, fetching.signal);
      if (done) return;
      if (failure) return finish({ code: 1, error: failure, launchFailed: true });
      killChild = this.spawnChild(spec, cmd, cmd.value!, finish);
    };
    start().catch((err: unknown) => finish({ code: 1, error: err instanceof Error ? err.message : String(err), launchFailed: true }));
    return {
      kill: () => {
        if (killChild) return killChild();
        fetching.abort();
        finish({ code: null, signal: 'SIGKILL' });
      },
    };
  }

  private spawnChild(spec: LaunchSpec, cmd: CommandInfo, value: string, finish: (s: ExitStatus) => void): () => void {
    const shell = cmd.shell !== false;
    const args = cmd.arguments ?? [];
    // Its own process group, so a kill reaches the whole tree as the agent's containerizer does (a shell such as dash
    // does not exec its last command, and killing only the shell would orphan the executor).
    const child = shell
      ? spawn('/bin/sh', ['-c', value], { cwd: spec.directory, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
      : spawn(value, args.slice(1), { cwd: spec.directory, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], argv0: args[0], detached: true });
    // Appended: the fetcher's log comes first in the sandbox's stderr, as on a real agent.
    child.stdout?.pipe(createWriteStream(`${spec.directory}/stdout`, { flags: 'a' }));
    child.stderr?.pipe(createWriteStream(`${spec.directory}/stderr`, { flags: 'a' }));
    child.on('error', (err) => finish({ code: 1, error: err.message }));
    child.on('exit', (code, signal) => finish({ code, signal }));
    const kill = () => {
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
}
