// Chaos: the Mesos master fails over (POST /emulator/leader/failover). The scheduler's stream drops, the old address
// answers 307 to the new leader; the scheduler follows it and re-subscribes with the same framework id, reconciles,
// and goes on placing pods. Nothing is lost, killed or launched twice.
import { SafetyMonitor, checkInvariants, formatFigures, waitForInvariants } from '../support/invariants.js';
import { waitFor } from '../support/kube.js';
import { startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { activeTasks, completedTasks, fault, mesosState, plainDeployment, sampler, seconds } from './chaos.js';

let t: TestSandbox;
let monitor: SafetyMonitor | undefined;

beforeAll(async () => {
  t = await startTestSandbox('chaos-leader', { agents: 6 });
}, 120_000);

afterAll(async () => {
  await monitor?.stop();
  await t?.stop();
}, 60_000);

it('follows the new leading master with the same framework id; nothing lost, nothing twice', async () => {
  await t.kubectl(['apply', '-f', '-'], plainDeployment('web', t.schedulerName, 20));
  const sample = sampler(t.sb.mesosUrl, t.ns.name);
  await waitForInvariants(sample, { sinceMs: Date.now(), timeoutMs: 120_000 });
  const before = await mesosState(t.sb.mesosUrl);
  expect(before.frameworks).toHaveLength(1);
  const frameworkId = before.frameworks[0].id;
  const tasksBefore = new Set(activeTasks(before).map((x) => x.id));
  expect(tasksBefore.size).toBe(20);

  // "Nothing twice" is a safety property: sampled every 250 ms from the fault to the end, required at every sample.
  monitor = new SafetyMonitor(sample, 250);
  const failedOverAt = Date.now();
  const { leader, previous } = (await fault(t.sb.mesosUrl, 'leader/failover', { redirectMs: 20_000 })) as { leader: string; previous: string };
  expect(leader).not.toBe(previous);
  // Re-subscribed: the master sees the framework connected again, under the same id.
  await waitFor(async () => {
    const s = await mesosState(t.sb.mesosUrl);
    return s.frameworks.length === 1 && s.frameworks[0].id === frameworkId && s.frameworks[0].active === true;
  }, { timeoutMs: 30_000, intervalMs: 100, what: 'the framework re-subscribed to the new leader with the same id' });
  const resubscribedMs = Date.now() - failedOverAt;
  expect(t.sb.scheduler.core.debugState().frameworkId).toBe(frameworkId);

  // Offers flow from the new leader: a scale-up is placed.
  await t.kubectl(['scale', 'deployment/web', '--replicas=30']);
  const scaled = await waitForInvariants(sample, { sinceMs: failedOverAt, timeoutMs: 90_000, requireReachable: true });
  const after = await mesosState(t.sb.mesosUrl);
  const final = checkInvariants(await sample());
  const killed = completedTasks(after).filter((x) => tasksBefore.has(x.id));
  const safety = await monitor.stop();
  monitor = undefined;
  console.log(
    formatFigures('mesos-leader-failover', final, {
      pods: 30,
      resubscribeS: seconds(resubscribedMs),
      scaledUpS: seconds(scaled.recoveredMs),
      frameworks: after.frameworks.length,
      oldTasksEnded: killed.length,
      safetySamples: safety.samples,
    }),
  );
  expect(safety.violations).toEqual([]);
  expect(safety.samples).toBeGreaterThan(0);
  expect(final.holds).toBe(true);
  expect(after.frameworks.map((f) => f.id)).toEqual([frameworkId]);
  expect(killed).toEqual([]);
  const live = new Set(activeTasks(after).filter((x) => x.state === 'TASK_RUNNING').map((x) => x.id));
  for (const id of tasksBefore) expect(live.has(id)).toBe(true);
  expect(live.size).toBe(30);
}, 300_000);
