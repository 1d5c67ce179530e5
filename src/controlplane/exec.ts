import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Append the command line and its combined output here. */
  logFile?: string;
  /** Called for every complete output line (stdout and stderr). */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export interface RunResult {
  code: number;
  /** Combined stdout+stderr, the last 64 KiB only. */
  output: string;
}

/** Runs one command to completion; a non-zero exit is a result, not an exception (a missing binary is code 127). */
export type Runner = (cmd: string, args: string[], opts?: RunOptions) => Promise<RunResult>;

const KEEP = 64 * 1024;

export const run: Runner = (cmd, args, opts = {}) =>
  new Promise((resolve) => {
    let log: WriteStream | undefined;
    if (opts.logFile) {
      log = createWriteStream(opts.logFile, { flags: 'a' });
      log.write(`\n$ ${[cmd, ...args].join(' ')}\n`);
    }
    let output = '';
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log?.write(chunk);
      output = (output + text).slice(-KEEP);
      if (opts.onLine) {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) opts.onLine(l);
      }
    };
    const finish = (code: number, extra = '') => {
      if (partial && opts.onLine) opts.onLine(partial);
      output = (output + extra).slice(-KEEP);
      if (log) {
        if (extra) log.write(extra);
        log.end(() => resolve({ code, output }));
      } else resolve({ code, output });
    };
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let settled = false;
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      finish(err.code === 'ENOENT' ? 127 : 1, `${cmd}: ${err.message}\n`);
    });
    child.on('close', (code, sig) => {
      if (settled) return;
      settled = true;
      finish(code ?? 128, sig ? `${cmd}: killed by ${sig}\n` : '');
    });
  });

/** The last `n` non-empty lines of some output, for error messages. */
export function tail(output: string, n = 15): string {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}
