// Start-up failures a user can cause, run through the built CLI (`npm run build` first) as a newcomer would meet them:
// each is one line naming the cause and the fix, a non-zero exit, and no stack trace.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = join(root, 'dist/cli/main.js');
let dir: string;
let home: string;
let fakeApi: http.Server;
let fakeApiUrl: string;

interface Run {
  code: number | null;
  stderr: string;
  stdout: string;
}

function scheduler(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, 'scheduler', ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.on('close', (code) => resolve({ code, stderr, stdout }));
  });
}

/** The lines a user reads: the error lines, without the JSON log lines the scheduler writes before failing. */
function errorLines(r: Run): string[] {
  return r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
}

function expectOneClearLine(r: Run, exitCode: number, ...parts: string[]): void {
  expect([r.code, errorLines(r)]).toEqual([exitCode, [expect.stringMatching(/^kube-mesos scheduler: /)]]);
  for (const p of parts) expect(errorLines(r)[0]).toContain(p);
  expect(r.stderr).not.toMatch(/\n\s+at |TypeError|Invalid URL/);
}

function kubeconfig(name: string, server: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  return path;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  if (!existsSync(main)) throw new Error('dist/ is missing: run `npm run build` first (this test runs the built CLI)');
  dir = mkdtempSync(join(tmpdir(), 'kube-mesos-startup-'));
  home = join(dir, 'home');
  mkdirSync(home);
  // an API server stand-in that answers /version: enough to get past the API server check to the Mesos one
  fakeApi = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"major":"1","minor":"20"}'));
  await new Promise<void>((r) => fakeApi.listen(0, '127.0.0.1', r));
  fakeApiUrl = `http://127.0.0.1:${(fakeApi.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => fakeApi?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kube-mesos scheduler start-up failures', () => {
  it('no kubeconfig anywhere and no in-cluster environment: names every place it looked', async () => {
    const r = await scheduler([]);
    expectOneClearLine(r, 1, 'no Kubernetes credentials found', '--kubeconfig', '$KUBECONFIG is not set', `${home}/.kube/config does not exist`, 'in-cluster service account', 'Fix:');
  });

  it('a --kubeconfig that does not exist', async () => {
    const r = await scheduler(['--kubeconfig', join(dir, 'missing.yaml')]);
    expectOneClearLine(r, 1, `kubeconfig ${join(dir, 'missing.yaml')} (from --kubeconfig): cannot read it: no such file`, 'Fix:');
  });

  it('KUBECONFIG naming a file that is not a kubeconfig', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'clusters: [oops\n');
    const r = await scheduler([], { KUBECONFIG: bad });
    expectOneClearLine(r, 1, `kubeconfig ${bad} (from KUBECONFIG): not a valid kubeconfig`, 'Fix:');
  });

  it('an unreachable API server', async () => {
    const port = await closedPort();
    const r = await scheduler(['--kubeconfig', kubeconfig('unreachable.yaml', `http://127.0.0.1:${port}`)]);
    expectOneClearLine(r, 1, `cannot reach the Kubernetes API server at http://127.0.0.1:${port}`, 'ECONNREFUSED', 'Fix: check that the API server is running');
  }, 30_000);

  it('an unreachable Mesos master', async () => {
    const port = await closedPort();
    const r = await scheduler(['--kubeconfig', kubeconfig('ok.yaml', fakeApiUrl), '--master', `http://127.0.0.1:${port}`]);
    expectOneClearLine(r, 1, `cannot reach any Mesos master: http://127.0.0.1:${port} (`, 'ECONNREFUSED', 'Fix: check mesos.masters (--master)');
  }, 30_000);

  it('a config file with an unknown key: one line per problem, naming the key and what is allowed (exit 2)', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'mesos:\n  mastrs: [http://m:5050]\npool:\n  idleTimeout: 10\n');
    const r = await scheduler(['--config', file]);
    expect(r.code).toBe(2);
    expect(errorLines(r)).toEqual([
      expect.stringMatching(/^kube-mesos scheduler: config: mesos\.mastrs: unknown key \(did you mean mesos\.masters\?/),
      'kube-mesos scheduler: config: pool.idleTimeout: expected a duration such as 15s, 5m or 1h30m, got 10',
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a config file that does not exist (exit 2)', async () => {
    const r = await scheduler(['--config', join(dir, 'nope.yaml')]);
    expectOneClearLine(r, 2, `cannot read the config file --config ${join(dir, 'nope.yaml')}: no such file`, 'Fix:');
  });

  it('a mesos.secretFile that cannot be read', async () => {
    const r = await scheduler(['--set', 'mesos.principal=fw', '--set', `mesos.secretFile=${join(dir, 'secret')}`]);
    expectOneClearLine(r, 1, `mesos.secretFile ${join(dir, 'secret')}: cannot read it: no such file`, 'Fix:');
  });
});
