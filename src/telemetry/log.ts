import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths redacted from every log line: credentials never reach the logs. */
export const REDACT_PATHS = [
  'secret',
  'password',
  'token',
  'authorization',
  '*.secret',
  '*.password',
  '*.token',
  '*.authorization',
  'credentials',
  '*.credentials',
  '*.*.secret',
  '*.*.token',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  '*.keyData',
  '*.clientKeyData',
];

export interface LogOptions {
  level?: string;
  /** Where lines go; defaults to stderr so stdout stays free for command output. */
  destination?: NodeJS.WritableStream;
  name?: string;
}

/** The root logger; components take `root.child({ component: 'offers' })`. */
export function createLogger(opts: LogOptions = {}): Logger {
  const options: LoggerOptions = {
    name: opts.name ?? 'kube-mesos',
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
  };
  return pino(options, (opts.destination ?? process.stderr) as pino.DestinationStream);
}

/** A logger that drops everything: the default for library code under test. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
