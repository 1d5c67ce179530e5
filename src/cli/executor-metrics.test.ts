// `kube-mesos executor --metrics-listen` (the built CLI): the real executor process serves its own /metrics (executor, Kubernetes client,
// process metrics and build info). The agent and API server it is pointed at are unreachable: the listener does not wait
// for them, and the executor (checkpointing on) keeps retrying the agent meanwhile.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-mesos-exec-metrics-'));
  writeFileSync(
    join(dir, 'kubeconfig'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'http://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('kube-mesos executor --metrics-listen serves /metrics with executor, client and process metrics', async () => {
  const main = join(root, 'dist/cli/main.js');
  if (!existsSync(main)) throw new Error('dist/ is missing: run `npm run build` first (this test runs the built CLI)');
  const child = spawn(process.execPath, [main, 'executor', '--metrics-listen', '127.0.0.1:0'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      MESOS_AGENT_ENDPOINT: '127.0.0.1:1',
      MESOS_FRAMEWORK_ID: 'fw',
      MESOS_EXECUTOR_ID: 'e',
      // checkpointing on: the executor keeps trying to reach its (absent) agent instead of exiting
      MESOS_CHECKPOINT: '1',
      MESOS_RECOVERY_TIMEOUT: '15mins',
      KUBE_MESOS_NODE_NAME: 'n',
      KUBE_MESOS_NODE_CAPACITY: '{"cpu":"8","memory":"1Gi"}',
      KUBE_MESOS_KUBECONFIG: join(dir, 'kubeconfig'),
      KUBE_MESOS_KUBELET_MODE: 'hollow',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  let stderr = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+\/metrics)"/.exec(stderr);
        if (m) resolve(m[1]);
      });
      child.on('close', () => reject(new Error(`executor exited before serving metrics:\n${stderr}`)));
    });
    const res = await fetch(url).catch((err: unknown) => {
      throw new Error(`${String(err)}; executor log:\n${stderr}`);
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^kube_mesos_build_info\{version="[^"]+",node_version="v\d+[^"]*",platform="[a-z0-9]+\/[a-z0-9]+"\} 1$/m);
    expect(text).toContain('# TYPE kube_mesos_executor_task_updates_total counter');
    expect(text).toContain('# TYPE kube_mesos_rest_client_requests_total counter');
    expect((await fetch(url.replace('/metrics', '/healthz'))).status).toBe(200);
  } finally {
    child.kill('SIGTERM');
    await closed;
  }
}, 90_000);
