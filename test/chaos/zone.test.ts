// Chaos: a whole zone fails and recovers. Its pods are replaced in the healthy zones after failover-after (the bare
// pod with reschedule-on-loss too); when the zone returns its old tasks end and nothing runs twice.
import { SafetyMonitor, checkInvariants, formatFigures, waitForInvariants } from '../support/invariants.js';
import { waitFor } from '../support/kube.js';
import { nodeZones, spreadDeployment, startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { activeTasks, barePod, fault, mesosState, sampler, seconds } from './chaos.js';

let t: TestSandbox;
let monitor: SafetyMonitor | undefined;

beforeAll(async () => {
  t = await startTestSandbox('chaos-zone', { agents: 9, emulator: { agentUnreachableTimeoutMs: 2000 } });
}, 120_000);

afterAll(async () => {
  await monitor?.stop();
  await t?.stop();
}, 60_000);

it('zone failure and recovery: Deployment pods replaced no sooner than failover-after (10 s) and within 60 s, bare pods wait for GONE, nothing lost, nothing twice, no orphans', async () => {
  const failoverAfter = { 'kube-mesos.io/failover-after': '10s' };
  await t.kubectl(['apply', '-f', '-'], spreadDeployment('web', t.schedulerName, 30, { annotations: failoverAfter }));
  for (const i of [1, 2, 3]) {
    await t.kubectl(['apply', '-f', '-'], barePod(`solo-${i}`, t.schedulerName, { app: 'solo' }, { ...failoverAfter, 'kube-mesos.io/reschedule-on-loss': 'true' }));
  }
  const sample = sampler(t.sb.mesosUrl, t.ns.name, [{ namespace: t.ns.name, name: 'solo (bare pods)', replicas: 3, matchLabels: { app: 'solo' } }]);
  const baseline = await waitForInvariants(sample, { sinceMs: Date.now(), timeoutMs: 120_000 });
  expect(baseline.report.holds).toBe(true);

  const zones = await nodeZones(t);
  const before = await sample();
  const inB = before.pods.filter((p) => zones.get(p.spec.nodeName ?? '') === 'b');
  expect(inB.length).toBeGreaterThanOrEqual(10); // 10 of the spread Deployment, maybe some bare pods
  const oldTasks = new Set(inB.map((p) => p.metadata.annotations!['kube-mesos.io/task-id']));
  // Deployment pods are replaced after failover-after (graceful delete: two copies are tolerable for a ReplicaSet);
  // bare pods wait for TASK_GONE, which an unreachable zone never sends (issue #16 item 3).
  const isSolo = (p: { metadata: { labels?: Record<string, string> } }) => p.metadata.labels?.app === 'solo';
  const oldUids = new Set(inB.filter((p) => !isSolo(p)).map((p) => p.metadata.uid));
  const soloUidsInB = new Set(inB.filter(isSolo).map((p) => p.metadata.uid));

  // "Nothing twice", every 250 ms from the fault to the end, required at every sample.
  monitor = new SafetyMonitor(sample, 250);
  const failedAt = Date.now();
  await fault(t.sb.mesosUrl, 'zones/b/fail');
  let replacedAt: number | undefined;
  let createdAt: number | undefined;
  let boundAt: number | undefined;
  let unreachableSeen = 0;
  const failed = await waitForInvariants(sample, {
    sinceMs: failedAt,
    timeoutMs: 90_000,
    extra: (input) => {
      unreachableSeen = Math.max(unreachableSeen, input.tasks.filter((x) => x.state === 'TASK_UNREACHABLE').length);
      if (replacedAt === undefined && !input.pods.some((p) => oldUids.has(p.metadata.uid) && !p.metadata.deletionTimestamp)) replacedAt = Date.now();
      if (createdAt === undefined && replacedAt !== undefined && input.pods.filter((p) => !p.metadata.deletionTimestamp).length >= 33) createdAt = Date.now();
      if (boundAt === undefined && createdAt !== undefined && input.pods.every((p) => p.spec.nodeName)) boundAt = Date.now();
      const stillInB = input.pods.filter((p) => !isSolo(p) && !p.metadata.deletionTimestamp && p.status.phase === 'Running' && zones.get(p.spec.nodeName ?? '') === 'b');
      return stillInB.length > 0 ? `${stillInB.length} Deployment pods still Running in zone b and not being replaced` : undefined;
    },
  });
  const afterFail = await sample();
  expect(afterFail.pods.some((p) => oldUids.has(p.metadata.uid) && !p.metadata.deletionTimestamp)).toBe(false);
  // Never two copies of a bare pod: while its task is only unreachable it is neither deleted nor re-created.
  for (const p of afterFail.pods.filter((x) => soloUidsInB.has(x.metadata.uid))) expect(p.metadata.deletionTimestamp).toBeUndefined();
  expect(afterFail.pods.filter(isSolo)).toHaveLength(3);

  const recoveredAt = Date.now();
  await fault(t.sb.mesosUrl, 'zones/b/recover');
  const back = await waitForInvariants(sample, {
    sinceMs: recoveredAt,
    timeoutMs: 60_000,
    requireReachable: true,
    extra: (input) => {
      const live = input.tasks.filter((x) => oldTasks.has(x.id) && !['TASK_KILLED', 'TASK_GONE', 'TASK_LOST', 'TASK_FAILED', 'TASK_FINISHED'].includes(x.state));
      return live.length > 0 ? `${live.length} tasks of the replaced pods still active (${live[0].id} ${live[0].state})` : undefined;
    },
  });
  // Zone b takes pods again once it is healthy: a new pod may land there.
  await t.kubectl(['scale', 'deployment/web', '--replicas=33']);
  const scaled = await waitForInvariants(sample, { sinceMs: Date.now(), timeoutMs: 60_000 });
  const final = checkInvariants(await sample());
  const state = await mesosState(t.sb.mesosUrl);
  const safety = await monitor.stop();
  monitor = undefined;
  expect(safety.violations).toEqual([]);
  expect(safety.samples).toBeGreaterThan(0);
  console.log(
    formatFigures('zone-failure', final, {
      pods: 36,
      replacedPods: inB.length,
      unreachableTasks: unreachableSeen,
      oldPodsGoneS: seconds((replacedAt ?? NaN) - failedAt),
      replacementsCreatedS: seconds((createdAt ?? NaN) - failedAt),
      boundS: seconds((boundAt ?? NaN) - failedAt),
      replaceS: seconds(failed.recoveredMs),
      failoverAfterS: 10,
      recoverCleanS: seconds(back.recoveredMs),
      scaleAfterS: seconds(scaled.recoveredMs),
      activeTasks: activeTasks(state).length,
      safetySamples: safety.samples,
    }),
  );
  expect(final).toMatchObject({ podsLost: 0, podsRunningTwice: 0, orphanTasks: 0, orphanPods: 0, unreachableTasks: 0, holds: true });
  expect(replacedAt! - failedAt).toBeGreaterThanOrEqual(10_000); // the lost pods were not given up before failover-after
  expect(failed.recoveredMs).toBeLessThan(60_000);
  await waitFor(async () => activeTasks(await mesosState(t.sb.mesosUrl)).length === 36, { what: '36 active tasks, one per pod' });
}, 400_000);
