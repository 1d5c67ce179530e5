// Chaos: kube-apiserver stops for a while and comes back (etcd keeps running). Running tasks keep running through the
// outage; pods submitted during it (kubectl retries until the API answers) are scheduled once it is back.
import { SafetyMonitor, checkInvariants, formatFigures, waitForInvariants } from '../support/invariants.js';
import { apiserverControl, withApiserverDisruption } from '../support/kube.js';
import { startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { activeTasks, barePod, completedTasks, mesosState, plainDeployment, sampler, seconds } from './chaos.js';

const OUTAGE_MS = 10_000;
let t: TestSandbox;
let monitor: SafetyMonitor | undefined;

beforeAll(async () => {
  t = await startTestSandbox('chaos-api', { agents: 6 });
}, 120_000);

afterAll(async () => {
  await monitor?.stop();
  await t?.stop();
}, 60_000);

it('keeps running tasks through an API outage and schedules the pods submitted during it', async () => {
  await t.kubectl(['apply', '-f', '-'], plainDeployment('web', t.schedulerName, 20));
  const late = { namespace: t.ns.name, name: 'late (bare pods)', replicas: 5, matchLabels: { app: 'late' } };
  const sample = sampler(t.sb.mesosUrl, t.ns.name);
  await waitForInvariants(sample, { sinceMs: Date.now(), timeoutMs: 120_000 });
  const running = new Set(activeTasks(await mesosState(t.sb.mesosUrl)).map((x) => x.id));
  expect(running.size).toBe(20);

  const api = apiserverControl();
  // "Nothing twice", every 250 ms from the fault to the end (no sample while the API is down: a pod list is needed).
  monitor = new SafetyMonitor(sampler(t.sb.mesosUrl, t.ns.name, [late]), 250);
  const figures = await withApiserverDisruption(async () => {
    const stoppedAt = Date.now();
    await api.stop();
    // Submitted while the API is down: kubectl retries "connection refused" until it answers.
    const submitted = Promise.all([
      t.kubectl(['scale', 'deployment/web', '--replicas=25']),
      t.kubectl(['apply', '-f', '-'], [1, 2, 3, 4, 5].map((i) => barePod(`late-${i}`, t.schedulerName, { app: 'late' })).join('\n---\n')),
    ]);
    // Throughout the outage every task stays RUNNING in Mesos: nothing is killed because Kubernetes went away.
    let outageSamples = 0;
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      const tasks = activeTasks(await mesosState(t.sb.mesosUrl));
      expect(tasks.filter((x) => running.has(x.id) && x.state === 'TASK_RUNNING')).toHaveLength(running.size);
      outageSamples++;
      await new Promise((r) => setTimeout(r, 500));
    }
    await api.start();
    const upAt = Date.now();
    await submitted;
    const caughtUp = await waitForInvariants(sampler(t.sb.mesosUrl, t.ns.name, [late]), { sinceMs: upAt, timeoutMs: 120_000 });
    return { outageS: seconds(upAt - stoppedAt), outageSamples, catchUpS: seconds(caughtUp.recoveredMs) };
  }, 300_000);

  const state = await mesosState(t.sb.mesosUrl);
  const final = checkInvariants(await sampler(t.sb.mesosUrl, t.ns.name, [late])());
  const ended = completedTasks(state).filter((x) => running.has(x.id));
  const safety = await monitor.stop();
  monitor = undefined;
  console.log(formatFigures('apiserver-restart', final, { pods: 30, ...figures, oldTasksEnded: ended.length, safetySamples: safety.samples }));
  expect(safety.violations).toEqual([]);
  expect(safety.samples).toBeGreaterThan(0);
  expect(final.holds).toBe(true);
  expect(ended).toEqual([]);
  expect(activeTasks(state).filter((x) => x.state === 'TASK_RUNNING')).toHaveLength(30);
}, 400_000);
