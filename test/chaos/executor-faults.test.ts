// Chaos on the executor and status-update path, on one small sandbox (2 agents, one zone). The safety invariant
// (nothing runs twice) is sampled continuously from the first fault to the end of the file and must hold at every
// sample; each scenario then waits for the liveness invariants (nothing lost, no orphan) to hold again.
//   executor SIGKILL: `kill -9` of a kubelet executor process (as test/e2e/executor-loss.test.ts does) → its pods are
//   replaced after failover-after, each once; the dead executor's tasks end; no orphan.
import { processesIn, stateExecutors } from '../support/executors.js';
import type { InvariantInput } from '../support/invariants.js';
import { SafetyMonitor, checkInvariants, formatFigures, waitForInvariants } from '../support/invariants.js';
import { startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { plainDeployment, sampler, seconds } from './chaos.js';

const FAILOVER_AFTER_S = 5;
const ENDED = ['TASK_KILLED', 'TASK_GONE', 'TASK_LOST', 'TASK_FAILED', 'TASK_FINISHED', 'TASK_DROPPED', 'TASK_ERROR'];
let t: TestSandbox;
let sample: () => Promise<InvariantInput>;
let monitor: SafetyMonitor | undefined;
/** Every pod uid seen in any sample: a pod replaced twice (a double action) shows up as one uid too many. */
const uidsSeen = new Set<string>();

beforeAll(async () => {
  t = await startTestSandbox('chaos-exec', { agents: 2, zones: ['a'] });
  await t.kubectl(['apply', '-f', '-'], plainDeployment('web', t.schedulerName, 4, { 'kube-mesos.io/failover-after': `${FAILOVER_AFTER_S}s` }));
  const base = sampler(t.sb.mesosUrl, t.ns.name);
  sample = async () => {
    const s = await base();
    for (const p of s.pods) uidsSeen.add(p.metadata.uid);
    return s;
  };
  await waitForInvariants(sample, { sinceMs: Date.now(), timeoutMs: 120_000 });
}, 240_000);

afterAll(async () => {
  await monitor?.stop();
  await t?.stop();
}, 60_000);

/** Starts the continuous safety sampling at the first fault of the file. */
function monitorFromNow(): SafetyMonitor {
  monitor ??= new SafetyMonitor(sample, 250);
  return monitor;
}

/** The executor hosting the most Running pods, its process, and those pods' uids and task ids. */
async function busiestExecutor(): Promise<{ executorId: string; pid: number; uids: Set<string>; tasks: Set<string> }> {
  const s = await sample();
  const byExecutor = new Map<string, InvariantInput['pods'][number][]>();
  for (const p of s.pods) {
    const e = p.metadata.annotations?.['kube-mesos.io/executor-id'];
    if (e && p.status.phase === 'Running' && !p.metadata.deletionTimestamp) byExecutor.set(e, [...(byExecutor.get(e) ?? []), p]);
  }
  const [executorId, pods] = [...byExecutor.entries()].sort((x, y) => y[1].length - x[1].length)[0];
  const exec = (await stateExecutors(t)).find((e) => e.id === executorId);
  if (!exec) throw new Error(`executor ${executorId} is not in the emulator's /state`);
  const proc = processesIn(exec.directory).find((p) => p.cmdline.includes('executor'));
  if (!proc) throw new Error(`no executor process runs in ${exec.directory}`);
  return { executorId, pid: proc.pid, uids: new Set(pods.map((p) => p.metadata.uid)), tasks: new Set(pods.map((p) => p.metadata.annotations!['kube-mesos.io/task-id'])) };
}

it('executor SIGKILL: its pods are replaced once, after failover-after; its tasks end; nothing runs twice at any sample', async () => {
  const before = await sample();
  const uidsBefore = uidsSeen.size;
  const victim = await busiestExecutor();
  const m = monitorFromNow();
  const killedAt = Date.now();
  process.kill(victim.pid, 'SIGKILL');
  const recovered = await waitForInvariants(sample, {
    sinceMs: killedAt,
    timeoutMs: 90_000,
    requireReachable: true,
    extra: (s) => {
      const old = s.pods.filter((p) => victim.uids.has(p.metadata.uid));
      if (old.length > 0) return `${old.length} pods of the killed executor not replaced yet (${old.map((p) => `${p.metadata.name} ${p.status.phase}${p.metadata.deletionTimestamp ? ' deleting' : ''}`).join(', ')})`;
      const live = s.tasks.filter((x) => victim.tasks.has(x.id) && !ENDED.includes(x.state));
      return live.length > 0 ? `${live.length} tasks of the killed executor not ended (${live.map((x) => `${x.id} ${x.state}`).join(', ')})` : undefined;
    },
  });
  const final = checkInvariants(await sample());
  const replacements = uidsSeen.size - uidsBefore;
  console.log(
    formatFigures('executor-sigkill', final, {
      pods: before.pods.length,
      executorPods: victim.uids.size,
      replacements,
      recoverS: seconds(recovered.recoveredMs),
      failoverAfterS: FAILOVER_AFTER_S,
      safetySamples: m.samples,
      violations: m.violations.length,
    }),
  );
  expect(m.violations).toEqual([]);
  expect(final.holds).toBe(true);
  // not replaced before failover-after (the pods' own grace), and each pod replaced exactly once
  expect(recovered.recoveredMs).toBeGreaterThanOrEqual(FAILOVER_AFTER_S * 1000);
  expect(replacements).toBe(victim.uids.size);
}, 150_000);

it('the safety invariant held at every sample from the first fault to the end', async () => {
  expect(monitor).toBeDefined();
  const r = await monitor!.stop();
  monitor = undefined;
  console.log(`chaos executor-faults safety: samples=${r.samples} violations=${r.violations.length}`);
  expect(r.samples).toBeGreaterThan(10);
  expect(r.violations).toEqual([]);
});
