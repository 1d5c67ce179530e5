// Chaos: an agent is partitioned from the master and comes back. Back before failover-after: its pods are NOT
// replaced, their tasks simply run on. Back after failover-after: its pods were replaced, and the old tasks are killed
// on return, so nothing runs twice. The safety invariant is sampled from the first partition to the end of the file
// and must hold at every sample.
import type { InvariantInput } from '../support/invariants.js';
import { SafetyMonitor, formatFigures, checkInvariants, waitForInvariants } from '../support/invariants.js';
import { waitFor } from '../support/kube.js';
import { startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { completedTasks, fault, mesosState, plainDeployment, sampler, seconds } from './chaos.js';

const FAILOVER_AFTER_S = 12;
const TERMINAL = ['TASK_KILLED', 'TASK_GONE', 'TASK_LOST', 'TASK_FAILED', 'TASK_FINISHED'];
let t: TestSandbox;
let sample: () => Promise<InvariantInput>;
let monitor: SafetyMonitor | undefined;

beforeAll(async () => {
  t = await startTestSandbox('chaos-part', { agents: 6, emulator: { agentUnreachableTimeoutMs: 2000 } });
  await t.kubectl(['apply', '-f', '-'], plainDeployment('web', t.schedulerName, 18, { 'kube-mesos.io/failover-after': `${FAILOVER_AFTER_S}s` }));
  sample = sampler(t.sb.mesosUrl, t.ns.name);
  await waitForInvariants(sample, { sinceMs: Date.now(), timeoutMs: 120_000 });
}, 240_000);

afterAll(async () => {
  await monitor?.stop();
  await t?.stop();
}, 60_000);

/** The agent running the most pods (not `except`), with those pods' uids and task ids. */
async function busiestAgent(except?: string): Promise<{ agentId: string; uids: Set<string>; tasks: Set<string> }> {
  const s = await sample();
  const byAgent = new Map<string, typeof s.pods[number][]>();
  for (const p of s.pods) {
    const a = p.metadata.annotations?.['kube-mesos.io/agent-id'];
    if (a && a !== except && p.status.phase === 'Running') byAgent.set(a, [...(byAgent.get(a) ?? []), p]);
  }
  const [agentId, pods] = [...byAgent.entries()].sort((x, y) => y[1].length - x[1].length)[0];
  return { agentId, uids: new Set(pods.map((p) => p.metadata.uid)), tasks: new Set(pods.map((p) => p.metadata.annotations!['kube-mesos.io/task-id'])) };
}

async function tasksUnreachable(ids: Set<string>): Promise<void> {
  await waitFor(async () => (await sample()).tasks.filter((x) => ids.has(x.id) && x.state === 'TASK_UNREACHABLE').length === ids.size, {
    timeoutMs: 30_000,
    what: 'the partitioned agent\'s tasks to be TASK_UNREACHABLE',
  });
}

it('an agent back before failover-after keeps its pods: nothing replaced, the same tasks run on', async () => {
  const all = new Set((await sample()).pods.map((p) => p.metadata.uid));
  const a = await busiestAgent();
  monitor = new SafetyMonitor(sample, 250);
  const partitionedAt = Date.now();
  await fault(t.sb.mesosUrl, `agents/${a.agentId}/partition`);
  await tasksUnreachable(a.tasks);
  const unreachableAfter = Date.now() - partitionedAt;
  await fault(t.sb.mesosUrl, `agents/${a.agentId}/recover`);
  const back = await waitForInvariants(sample, { sinceMs: partitionedAt, timeoutMs: 30_000, requireReachable: true });
  // Stay past the moment the pods would have been replaced: every pod is still the same one, on the same task.
  const until = partitionedAt + (FAILOVER_AFTER_S + 8) * 1000;
  let checks = 0;
  while (Date.now() < until) {
    const s = await sample();
    const r = checkInvariants(s);
    expect(r.details).toEqual([]);
    expect(new Set(s.pods.map((p) => p.metadata.uid))).toEqual(all);
    expect(s.tasks.filter((x) => a.tasks.has(x.id)).map((x) => x.state)).toEqual([...a.tasks].map(() => 'TASK_RUNNING'));
    checks++;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const final = checkInvariants(await sample());
  console.log(formatFigures('partition-short', final, { agentPods: a.uids.size, unreachableAfterS: seconds(unreachableAfter), recoverS: seconds(back.recoveredMs), replaced: 0, checksAfter: checks }));
  expect(final.holds).toBe(true);
}, 120_000);

it('an agent back after failover-after finds its pods replaced, and its old tasks are killed', async () => {
  const b = await busiestAgent();
  const partitionedAt = Date.now();
  await fault(t.sb.mesosUrl, `agents/${b.agentId}/partition`);
  await tasksUnreachable(b.tasks);
  const replaced = await waitForInvariants(sample, {
    sinceMs: partitionedAt,
    timeoutMs: 60_000,
    extra: (s) => {
      const old = s.pods.filter((p) => b.uids.has(p.metadata.uid));
      return old.length > 0 ? `${old.length} pods of the partitioned agent not replaced yet` : undefined;
    },
  });
  expect(replaced.recoveredMs).toBeGreaterThanOrEqual(FAILOVER_AFTER_S * 1000);

  const returnedAt = Date.now();
  await fault(t.sb.mesosUrl, `agents/${b.agentId}/recover`);
  const clean = await waitForInvariants(sample, {
    sinceMs: returnedAt,
    timeoutMs: 60_000,
    requireReachable: true,
    extra: (s) => {
      const live = s.tasks.filter((x) => b.tasks.has(x.id) && !TERMINAL.includes(x.state));
      return live.length > 0 ? `${live.length} old tasks still active (${live[0].id} ${live[0].state})` : undefined;
    },
  });
  const done = completedTasks(await mesosState(t.sb.mesosUrl)).filter((x) => b.tasks.has(x.id));
  const final = checkInvariants(await sample());
  console.log(
    formatFigures('partition-long', final, {
      agentPods: b.uids.size,
      failoverAfterS: FAILOVER_AFTER_S,
      replaceS: seconds(replaced.recoveredMs),
      oldTasksEndedS: seconds(clean.recoveredMs),
      oldTaskStates: [...new Set(done.map((x) => x.state))].join('+') || 'none',
    }),
  );
  expect(final.holds).toBe(true);
  expect(done.map((x) => x.id).sort()).toEqual([...b.tasks].sort());
  expect(done.every((x) => x.state === 'TASK_KILLED')).toBe(true);
}, 180_000);

it('the safety invariant held at every sample from the first partition to the end', async () => {
  expect(monitor).toBeDefined();
  const r = await monitor!.stop();
  monitor = undefined;
  console.log(`chaos partition safety: samples=${r.samples} violations=${r.violations.length}`);
  expect(r.samples).toBeGreaterThan(10);
  expect(r.violations).toEqual([]);
});
