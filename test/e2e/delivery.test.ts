// Executor delivery through the Mesos fetcher (issue 15): with delivery.mode fetch the scheduler serves the executor
// bundle from its own artifact server, each emulated agent's fetcher downloads it into the executor's sandbox, and the
// executor runs from there, not from this repository. A bundle URL that cannot be fetched fails the launch with the
// fetcher's error, visible on the pod (kubectl describe) and in the scheduler's events, and the pod waits.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/kube.js';
import { processesIn, stateExecutors } from '../support/executors.js';
import { listPods, ROOT, spreadDeployment, startTestSandbox, type TestSandbox } from '../support/sandbox.js';

let bundleDir: string;
let bundle: string;

beforeAll(() => {
  bundleDir = mkdtempSync(join(tmpdir(), 'e2e-bundle-'));
  // Without node: the emulated agents are this machine, which has one; the bundle with node is the same plus 36 MB.
  const out = JSON.parse(execFileSync(process.execPath, ['scripts/bundle-executor.mjs', '--no-node', '--out', bundleDir], { cwd: ROOT, encoding: 'utf8' })) as { bundle: string };
  bundle = out.bundle;
}, 120_000);

afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

describe('delivery.mode fetch, served by the scheduler', () => {
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox('e2e-deliv', {
      agents: 3,
      zones: ['a', 'b', 'c'],
      set: [
        ['delivery.mode', 'fetch'],
        ['delivery.serve.listen', '127.0.0.1:0'],
        ['delivery.serve.bundlePath', bundle],
      ],
    });
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  }, 60_000);

  it('pods run under executors fetched into their sandboxes; no executor process references the repository', async () => {
    await t.kubectl(['apply', '-f', '-'], spreadDeployment('web', t.schedulerName, 3));
    await waitFor(
      async () => {
        const pods = await listPods(t, 'app=web');
        return pods.length === 3 && pods.every((p) => p.status.phase === 'Running') && pods;
      },
      { timeoutMs: 120_000, what: '3 web pods Running' },
    );
    const executors = (await stateExecutors(t)).filter((e) => e.state === 'subscribed');
    expect(executors).toHaveLength(3);
    for (const e of executors) {
      // the fetched bundle (kept, as the fetcher keeps archives) and what it unpacked
      const tgz = readFileSync(join(e.directory, 'stderr'), 'utf8');
      expect(tgz).toMatch(/fetcher: Fetched 'http:\/\/127\.0\.0\.1:\d+\/artifacts\/[0-9a-f]{16}\/kube-mesos-executor-linux-x64\.tgz'/);
      expect(existsSync(join(e.directory, 'kube-mesos-executor-linux-x64.tgz'))).toBe(true);
      expect(existsSync(join(e.directory, 'kube-mesos', 'bin', 'kube-mesos'))).toBe(true);
      expect(existsSync(join(e.directory, 'kube-mesos', 'lib', 'kube-mesos.mjs'))).toBe(true);
      const procs = processesIn(e.directory);
      expect(procs.length).toBeGreaterThan(0);
      const node = procs.find((p) => p.cmdline.some((a) => a.endsWith('kube-mesos.mjs')));
      // the bundle's wrapper runs node on the fetched file: `<sandbox>/kube-mesos/bin/../lib/kube-mesos.mjs executor`
      expect(node?.cmdline.slice(-2)).toEqual([`${e.directory}/kube-mesos/bin/../lib/kube-mesos.mjs`, 'executor']);
      for (const p of procs) expect(p.cmdline.join(' ')).not.toContain(ROOT);
    }
    // one download per agent: the artifact server saw exactly one request per executor
    const served = t.sb.delivery?.server?.stats();
    expect(served?.requests).toBe(3);
  }, 180_000);
});

describe('a bundle URL that cannot be fetched', () => {
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox('e2e-delivfail', {
      agents: 1,
      zones: ['a'],
      set: [
        ['delivery.mode', 'fetch'],
        ['delivery.executorBundleUrl', 'http://127.0.0.1:9/kube-mesos-executor.tgz'],
      ],
    });
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  }, 60_000);

  it('fails the launch with the fetch error on the pod and in the scheduler events; the pod waits unbound', async () => {
    await t.kubectl(['run', 'lonely', '--image=nginx', '--restart=Never', `--overrides={"spec":{"schedulerName":"${t.schedulerName}"}}`]);
    const described = await waitFor(
      async () => {
        const d = await t.kubectl(['describe', 'pod', 'lonely']);
        return /FailedLaunch/.test(d) && d;
      },
      { timeoutMs: 60_000, what: 'a FailedLaunch event on the pod' },
    );
    expect(described).toMatch(/TASK_FAILED \(REASON_CONTAINER_LAUNCH_FAILED\): Failed to launch container: Failed to fetch all URIs for container '[0-9a-f-]+': Failed to fetch 'http:\/\/127\.0\.0\.1:9\/kube-mesos-executor\.tgz': ECONNREFUSED/);
    const pod = (await listPods(t, 'run=lonely'))[0];
    expect(pod.spec.nodeName).toBeUndefined();
    expect(pod.status.phase).toBe('Pending');
    const events = t.sb.scheduler.core.dashboardState().events as { reason: string; message: string }[];
    expect(events.some((e) => e.reason === 'FailedLaunch' && /Failed to fetch all URIs/.test(e.message))).toBe(true);
  }, 120_000);
});
