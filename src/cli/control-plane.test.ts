import { describe, expect, it } from '@jest/globals';
import { cacheDirFrom, command } from './control-plane.js';
import { parseCommandArgs, UsageError } from './command.js';
import { PassThrough } from 'node:stream';

describe('cacheDirFrom', () => {
  it.each([
    ['/x/flag', { KUBE_MESOS_CACHE: '/x/env', HOME: '/home/u' }, '/x/flag'],
    [undefined, { KUBE_MESOS_CACHE: '/x/env', HOME: '/home/u' }, '/x/env'],
    [undefined, { XDG_CACHE_HOME: '/xdg', HOME: '/home/u' }, '/xdg/kube-mesos'],
    [undefined, { HOME: '/home/u' }, '/home/u/.cache/kube-mesos'],
  ])('flag %s, env %p → %s', (flag, env, want) => {
    expect(cacheDirFrom(flag, env)).toBe(want);
  });
});

describe('control-plane command', () => {
  it('parses its flags', () => {
    const args = parseCommandArgs(command, ['start', '--dir', '/d', '--ephemeral', '--cache-dir', '/c']);
    expect(args.positionals).toEqual(['start']);
    expect(args.values).toMatchObject({ dir: '/d', ephemeral: true, 'cache-dir': '/c' });
  });

  it('start without --dir or --ephemeral is a usage error', async () => {
    const io = { env: {}, stdout: new PassThrough(), stderr: new PassThrough(), signal: new AbortController().signal };
    await expect(command.run(parseCommandArgs(command, ['start']), io)).rejects.toBeInstanceOf(UsageError);
  });

  it('start without an installed control plane says how to install it', async () => {
    const stderr = new PassThrough();
    const io = { env: {}, stdout: new PassThrough(), stderr, signal: new AbortController().signal };
    const code = await command.run(parseCommandArgs(command, ['start', '--ephemeral', '--cache-dir', '/nonexistent/cache']), io);
    expect(code).toBe(1);
    expect(String(stderr.read())).toMatch(/not installed in \/nonexistent\/cache: run `kube-mesos control-plane install` first/);
  });
});
