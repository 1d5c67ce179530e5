// `kube-mesos mesos-emulator`: --help documents every flag of ARCHITECTURE.md §5; bad flags are usage errors (exit 2).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { command } from '../../src/cli/mesos-emulator.js';
import { helpText, parseCommandArgs, UsageError, type CommandIO } from '../../src/cli/command.js';
import { eventually, rawRequest } from '../../src/emulator/testing.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function io(): CommandIO & { out: string[] } {
  const out: string[] = [];
  const sink = { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream;
  return { env: {}, stdout: sink, stderr: sink, signal: AbortSignal.abort(), out };
}

describe('mesos-emulator command line', () => {
  it.each([
    'listen',
    'agents',
    'zones',
    'region',
    'agent-resources',
    'agent-attributes',
    'allocation-interval',
    'executor-mode',
    'heartbeat-interval',
    'offer-timeout',
    'failover-redirect-duration',
    'agent-unreachable-timeout',
    'executor-module',
  ])('--help documents --%s', (flag) => {
    const help = helpText(command);
    const line = help.split('\n').find((l) => l.trimStart().startsWith(`--${flag} `));
    expect(line).toBeDefined();
    expect(line!.replace(`--${flag}`, '').trim().length).toBeGreaterThan(20);
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--executor-mode', 'docker'], /--executor-mode must be process or inprocess/],
    [['--allocation-interval', '1x'], /--allocation-interval: "1x" is not a duration/],
    [['--allocation-interval', '0s'], /--allocation-interval must be > 0/],
    [['--agents', 'many'], /--agents must be a whole number ≥ 0, got "many"/],
    [['--listen', 'nohost'], /--listen: listen address "nohost" must be host:port/],
    [['--agent-resources', 'cpus:lots', '--listen', '127.0.0.1:0'], /agent resources: "cpus" must be a non-negative number/],
    [['--agent-attributes', 'rack', '--listen', '127.0.0.1:0'], /agent attributes: attribute "rack" is not name:value/],
    [['--executor-module', './x.js'], /--executor-module only applies to --executor-mode inprocess/],
    [['--executor-mode', 'inprocess', '--executor-module', './missing-module.js'], /--executor-module: .*missing-module.js not found/],
  ])('%j is a usage error: %s', async (argv, message) => {
    const run = async () => command.run(parseCommandArgs(command, argv), io());
    await expect(run()).rejects.toThrow(UsageError);
    await expect(run()).rejects.toThrow(message);
  });

  it('the real CLI starts, serves /state, and exits 0 on SIGTERM; a bad flag exits 2 with a clear message', async () => {
    const bad = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'mesos-emulator', '--zones'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let badErr = '';
    bad.stderr.on('data', (d: Buffer) => (badErr += d.toString()));
    const badCode = await new Promise<number | null>((r) => bad.on('exit', r));
    expect(badCode).toBe(2);
    expect(badErr).toContain("Option '--zones <value>' argument missing");

    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'mesos-emulator', '--listen', '127.0.0.1:0', '--agents', '2', '--zones', 'x,y', '--log-level', 'warn'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await eventually(() => /master (http:\/\/[\d.:]+)/.exec(out)?.[1], 30_000, 100);
      const state = JSON.parse((await rawRequest(url, { method: 'GET', path: '/state' })).body) as { slaves: { domain: { fault_domain: { zone: { name: string } } } }[] };
      expect(state.slaves.map((s) => s.domain.fault_domain.zone.name)).toEqual(['x', 'y']);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await new Promise<number | null>((r) => child.on('exit', r))).toBe(0);
  });
});
