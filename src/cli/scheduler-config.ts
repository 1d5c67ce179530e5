import { readFileSync } from 'node:fs';
import { CONFIG_FLAGS, flagOverrides, loadConfig, type KubeMesosConfig } from '../config/config.js';
import { StartupError, UsageError, type ParsedArgs } from './command.js';

export { CONFIG_FLAGS };

/** Loads the configuration of a command that takes CONFIG_FLAGS: defaults ← --config file ← environment ← flags. */
export function configFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv): KubeMesosConfig {
  const file = typeof args.values.config === 'string' ? args.values.config : undefined;
  let fileText: string | undefined;
  if (file) {
    try {
      fileText = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
      throw new StartupError(`cannot read the config file --config ${file}: ${why}. Fix: pass the path of a readable YAML file (see docs/configuration.md).`, 2);
    }
  }
  const flags = flagOverrides(args.values);
  if (!flags.ok) throw new UsageError(flags.errors.join('\n'));
  const r = loadConfig({ fileText, fileName: file, env, flags: flags.flags });
  // each line names the key, the source and what is allowed
  if (!r.ok) throw new StartupError(r.errors.join('\n'), 2);
  return r.config;
}

/** The shell command that starts this same program as an executor (the default for pool.executorCommand). */
export function selfExecutorCommand(): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `${q(process.execPath)} ${q(process.argv[1])} executor`;
}
