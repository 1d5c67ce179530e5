#!/usr/bin/env node
import { helpText, parseCommandArgs, StartupError, UsageError, type Command } from './command.js';

/** Commands load lazily so `kube-mesos executor` does not pay for the emulator, and so on. */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  scheduler: { summary: 'Run the framework: Mesos scheduler + Kubernetes pod scheduler', load: async () => (await import('./scheduler.js')).command },
  executor: { summary: 'Run the kubelet executor (started by a Mesos agent)', load: async () => (await import('./executor.js')).command },
  'hollow-kubelet': { summary: 'Run a kubelet stand-in for tests and the sandbox', load: async () => (await import('./hollow-kubelet.js')).command },
  'mesos-emulator': { summary: 'Run a protocol-faithful Mesos master + agents with fault injection', load: async () => (await import('./mesos-emulator.js')).command },
  'control-plane': { summary: 'Install or start a real etcd + kube-apiserver + kube-controller-manager on loopback', load: async () => (await import('./control-plane.js')).command },
  sandbox: { summary: 'Run everything on one machine: control plane, emulated Mesos, hollow kubelets, scheduler', load: async () => (await import('./sandbox.js')).command },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length)) + 4;
  return [
    'Usage: kube-mesos <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    "Run 'kube-mesos <command> --help' for a command's flags.",
    '',
  ].join('\n');
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`kube-mesos: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const cmd = await entry.load();
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130); // second Ctrl-C: leave now
    controller.abort(new Error(`received ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const args = parseCommandArgs(cmd, rest);
    if (args.values.help) {
      process.stdout.write(helpText(cmd));
      return 0;
    }
    if (cmd.positionals && (args.positionals.length === 0 || !cmd.positionals.includes(args.positionals[0]))) {
      throw new UsageError(`expected one of: ${cmd.positionals.join(', ')}`);
    }
    return await cmd.run(args, { env, stdout: process.stdout, stderr: process.stderr, signal: controller.signal });
  } catch (err) {
    if (err instanceof StartupError) {
      for (const line of err.message.split('\n')) process.stderr.write(`kube-mesos ${name}: ${line}\n`);
      return err.exitCode;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`kube-mesos ${name}: ${err.message}\nRun 'kube-mesos ${name} --help' for usage.\n`);
      return 2;
    }
    process.stderr.write(`kube-mesos ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kube-mesos: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
