import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One flag of a command: parsed by node:util parseArgs, documented in --help. */
export interface Flag {
  type: 'string' | 'boolean';
  description: string;
  default?: string | boolean;
  multiple?: boolean;
  short?: string;
  /** Placeholder shown in --help, e.g. `<dir>`. */
  value?: string;
}

export interface Command<F extends Record<string, Flag> = Record<string, Flag>> {
  name: string;
  summary: string;
  /** Extra text printed after the flags in --help. */
  details?: string;
  flags: F;
  /** Sub-commands' names, if any (e.g. control-plane install|start). */
  positionals?: string[];
  run(args: ParsedArgs, io: CommandIO): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** What a command may touch of the process; only cli/ sees process.env and argv. */
export interface CommandIO {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
}

/** Bad command-line input: printed with the command's usage hint, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A start-up failure the user can fix (no credentials, an unreachable server, a bad config file): printed as is, one line
 * per problem naming the cause and the fix, no stack trace; exit code 1 (2 for configuration errors, as for usage).
 */
export class StartupError extends Error {
  override name = 'StartupError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, f] of Object.entries(cmd.flags)) {
    // parseArgs rejects explicit `undefined` for short/multiple, so only pass what is set.
    options[name] = { type: f.type, ...(f.multiple !== undefined ? { multiple: f.multiple } : {}), ...(f.short !== undefined ? { short: f.short } : {}) };
  }
  options.help = { type: 'boolean', short: 'h' };
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    for (const [name, f] of Object.entries(cmd.flags)) {
      if (values[name] === undefined && f.default !== undefined) (values as Record<string, unknown>)[name] = f.default;
    }
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function helpText(cmd: Command): string {
  const lines = [`Usage: kube-mesos ${cmd.name}${cmd.positionals ? ` <${cmd.positionals.join('|')}>` : ''} [flags]`, '', cmd.summary, '', 'Flags:'];
  const rows = Object.entries(cmd.flags).map(([name, f]) => {
    const left = `  --${name}${f.type === 'string' ? ` ${f.value ?? '<value>'}` : ''}`;
    const def = f.default !== undefined && f.default !== false ? ` (default: ${String(f.default)})` : '';
    return [left, `${f.description}${def}`];
  });
  rows.push(['  -h, --help', 'Show this help']);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  for (const [l, r] of rows) lines.push(l.padEnd(width) + r);
  if (cmd.details) lines.push('', cmd.details);
  return lines.join('\n') + '\n';
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function intFlag(args: ParsedArgs, name: string, min = 0): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}, got "${v}"`);
  return Number(v);
}
