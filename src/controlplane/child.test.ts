import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, type ExitInfo } from './child.js';
import { until } from '../../test/support/until.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};


describe('ManagedProcess', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'child-test-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('logs to its file and stops the whole process group with SIGTERM', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const p = new ManagedProcess({ name: 'sh', cmd: 'sh', args: ['-c', `echo hello; sleep 300 & echo $! > ${pidFile}; wait`], logFile: join(dir, 'sh.log') });
    const unexpected: ExitInfo[] = [];
    p.onUnexpectedExit = (i) => unexpected.push(i);
    p.start();
    expect(p.running).toBe(true);
    await until(async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim() !== '', 'the grandchild pid');
    const grandchild = Number((await readFile(pidFile, 'utf8')).trim());
    expect(alive(grandchild)).toBe(true);
    await p.stop();
    expect(p.running).toBe(false);
    expect((await p.exited()).signal).toBe('SIGTERM');
    await until(() => !alive(grandchild), 'the grandchild to die');
    expect(unexpected).toEqual([]);
    expect(await readFile(join(dir, 'sh.log'), 'utf8')).toMatch(/=== .* starting: sh -c[^\n]*\nhello\n/);
  });

  it('SIGKILLs a child that ignores SIGTERM after the grace period', async () => {
    const p = new ManagedProcess({ name: 'stubborn', cmd: 'sh', args: ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done'], logFile: join(dir, 's.log') }, { graceMs: 300 });
    p.start();
    await until(async () => (await readFile(join(dir, 's.log'), 'utf8')).includes('\nready\n'), 'the trap to be set');
    const t0 = Date.now();
    await p.stop();
    expect((await p.exited()).signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('reports an exit nobody asked for, and can be started again', async () => {
    const p = new ManagedProcess({ name: 'short', cmd: 'sh', args: ['-c', 'exit 3'], logFile: join(dir, 'x.log') });
    const seen = new Promise<ExitInfo>((resolve) => (p.onUnexpectedExit = resolve));
    p.start();
    expect(await seen).toEqual({ code: 3, signal: null });
    expect(p.running).toBe(false);
    p.onUnexpectedExit = undefined;
    p.start();
    expect((await p.exited()).code).toBe(3);
  });

  it('kill() is a SIGKILL and does not count as unexpected', async () => {
    const p = new ManagedProcess({ name: 'sleep', cmd: 'sleep', args: ['300'], logFile: join(dir, 'k.log') });
    let unexpected = 0;
    p.onUnexpectedExit = () => unexpected++;
    p.start();
    const pid = p.pid!;
    await p.kill();
    expect((await p.exited()).signal).toBe('SIGKILL');
    expect(alive(pid)).toBe(false);
    expect(unexpected).toBe(0);
  });

  it('a missing binary exits with 127', async () => {
    const p = new ManagedProcess({ name: 'nope', cmd: join(dir, 'no-such-binary'), args: [], logFile: join(dir, 'n.log') });
    p.start();
    expect((await p.exited()).code).toBe(127);
  });

  it('refuses a second start while running', async () => {
    const p = new ManagedProcess({ name: 'sleep', cmd: 'sleep', args: ['300'], logFile: join(dir, 'd.log') });
    p.start();
    expect(() => p.start()).toThrow(/already running/);
    await p.stop();
  });

  it('dies with its parent even when the parent is SIGKILLed (no orphans)', async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'test/support/orphan-fixture.ts'), join(dir, 'o.log')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const childPid = await new Promise<number>((resolve, reject) => {
      parent.stdout.setEncoding('utf8').on('data', (d: string) => resolve(Number(d.trim())));
      parent.on('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
    });
    expect(alive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    await until(() => !alive(childPid), 'the orphaned child to be killed');
  }, 30_000);
});
