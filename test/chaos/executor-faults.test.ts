// Chaos on the executor and status-update path, on one small sandbox (2 agents, one zone). The safety invariant
// (nothing runs twice) is sampled continuously from the first fault to the end of the file and must hold at every
// sample; each scenario then waits for the liveness invariants (nothing lost, no orphan) to hold again.
//   executor SIGKILL: `kill -9` of a kubelet executor process (as test/e2e/executor-loss.test.ts does) → its pods are
//   replaced after failover-after, each once; the dead executor's tasks end; no orphan.
//   duplicate status updates: the emulator sends every update twice with the same uuid (as when an acknowledgement
//   is lost) through a scale-up and another executor kill → each acted on once: one Scheduled per pod, each lost pod
//   replaced once.
//   ACCEPT lost: the master applies an ACCEPT but its answer is lost; then an ACCEPT is lost before the master sees
//   it → no pod launched twice (one task per pod, ever), the lost offers are not left outstanding, every pod placed.
import { processesIn, stateExecutors } from '../support/executors.js';
import type { InvariantInput } from '../support/invariants.js';
import { SafetyMonitor, checkInvariants, formatFigures, waitForInvariants } from '../support/invariants.js';
import { waitFor } from '../support/kube.js';
import { startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { completedTasks, fault, mesosState, plainDeployment, sampler, seconds } from './chaos.js';
import { podOfTaskId } from '../../src/scheduler/launch.js';

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

/** Kills the busiest executor and waits until its pods are replaced and its tasks ended; returns the figures. */
async function killExecutorAndRecover(): Promise<{ executorPods: number; replacements: number; recoverS: number }> {
  const uidsBefore = uidsSeen.size;
  const victim = await busiestExecutor();
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
  return { executorPods: victim.uids.size, replacements: uidsSeen.size - uidsBefore, recoverS: seconds(recovered.recoveredMs) };
}

/** Scales web to `n` and waits for n Running pods with every invariant holding. */
async function scaleTo(n: number, extra?: (s: InvariantInput) => string | undefined): Promise<number> {
  const at = Date.now();
  await t.kubectl(['scale', 'deployment/web', `--replicas=${n}`]);
  const r = await waitForInvariants(sample, {
    sinceMs: at,
    timeoutMs: 90_000,
    requireReachable: true,
    extra: (s) => {
      const running = s.pods.filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp).length;
      return running !== n ? `${running}/${n} pods Running` : extra?.(s);
    },
  });
  return seconds(r.recoveredMs);
}

interface FaultsView {
  accept: unknown;
  duplicateUpdates: boolean;
  acceptsLost: number;
  updatesDuplicated: number;
  lostRequestOffers: string[];
}

async function faultsView(): Promise<FaultsView> {
  return (await (await fetch(`${t.sb.mesosUrl}/emulator/faults`)).json()) as FaultsView;
}

/** The scheduler's own 'Scheduled' notes (written once per pod, on its task's first confirmation), by pod key. */
function scheduledNotes(): Map<string, number> {
  const n = new Map<string, number>();
  for (const e of t.sb.scheduler.core.dashboardState().events ?? []) if (e.reason === 'Scheduled') n.set(e.object, (n.get(e.object) ?? 0) + 1);
  return n;
}

it('duplicate status updates: each is acted on once (one Scheduled per pod, lost pods replaced once); safety at every sample', async () => {
  const m = monitorFromNow();
  await fault(t.sb.mesosUrl, 'faults', { duplicateUpdates: true });
  try {
    const scaleS = await scaleTo(6);
    const loss = await killExecutorAndRecover();
    const final = await sample();
    const notes = scheduledNotes();
    const view = await faultsView();
    console.log(formatFigures('duplicate-updates', checkInvariants(final), { pods: final.pods.length, updatesDuplicated: view.updatesDuplicated, scaleS, ...loss, safetySamples: m.samples }));
    expect(view.updatesDuplicated).toBeGreaterThan(4);
    expect(loss.replacements).toBe(loss.executorPods);
    const twice = [...notes].filter(([, c]) => c > 1);
    expect(twice).toEqual([]);
    // every Running pod was noted Scheduled (so the check above saw its confirmations)
    const keys = final.pods.filter((p) => p.status.phase === 'Running').map((p) => `${t.ns.name}/${p.metadata.name}`);
    expect(keys.filter((k) => !notes.has(k))).toEqual([]);
    expect(m.violations).toEqual([]);
  } finally {
    await fault(t.sb.mesosUrl, 'faults', { duplicateUpdates: false });
  }
}, 200_000);

it('ACCEPT lost (its answer, then the call itself): no pod launched twice, the lost offers come back, every pod placed once', async () => {
  const m = monitorFromNow();
  const before = new Set((await sample()).pods.map((p) => p.metadata.name));
  // The master applies the ACCEPT; the scheduler never hears back (the connection drops).
  await fault(t.sb.mesosUrl, 'faults', { accept: { mode: 'lose-response', count: 1 } });
  const responseLostS = await scaleTo(8);
  expect((await faultsView()).acceptsLost).toBeGreaterThanOrEqual(1);
  // The ACCEPT never reaches the master: its offers must not stay outstanding (declined, or used later).
  await fault(t.sb.mesosUrl, 'faults', { accept: { mode: 'lose-request', count: 1 } });
  const lostBefore = (await faultsView()).lostRequestOffers.length;
  const requestLostS = await scaleTo(10, () => undefined);
  const view = await faultsView();
  expect(view.lostRequestOffers.length).toBeGreaterThan(lostBefore);
  const lost = new Set(view.lostRequestOffers.slice(lostBefore));
  const outstanding = await waitFor(
    async () => {
      const st = (await (await fetch(`${t.sb.mesosUrl}/state`)).json()) as { frameworks: { offers?: { id: string }[] }[] };
      const still = st.frameworks.flatMap((f) => f.offers ?? []).filter((o) => lost.has(o.id));
      return still.length === 0 ? [] : undefined;
    },
    { timeoutMs: 30_000, what: `the lost ACCEPT's offers (${[...lost].join(', ')}) to be declined` },
  );
  expect(outstanding).toEqual([]);
  // One task per new pod, ever (active or completed): nothing was launched twice.
  const last = await sample();
  const added = new Set(last.pods.map((p) => p.metadata.name).filter((n) => !before.has(n)));
  const state = await mesosState(t.sb.mesosUrl);
  const perPod = new Map<string, string[]>();
  for (const x of [...state.frameworks.flatMap((f) => [...f.tasks, ...(f.unreachable_tasks ?? [])]), ...completedTasks(state)]) {
    const ref = podOfTaskId(x.id);
    if (ref && added.has(ref.name)) perPod.set(ref.name, [...(perPod.get(ref.name) ?? []), `${x.id} ${x.state}`]);
  }
  const final = checkInvariants(last);
  console.log(formatFigures('accept-lost', final, { pods: 10, newPods: perPod.size, responseLostS, requestLostS, acceptsLost: view.acceptsLost, safetySamples: m.samples }));
  expect([...perPod].filter(([, ids]) => ids.length > 1)).toEqual([]);
  expect(perPod.size).toBe(4);
  expect(m.violations).toEqual([]);
}, 240_000);

it('the safety invariant held at every sample from the first fault to the end', async () => {
  expect(monitor).toBeDefined();
  const r = await monitor!.stop();
  monitor = undefined;
  console.log(`chaos executor-faults safety: samples=${r.samples} violations=${r.violations.length}`);
  expect(r.samples).toBeGreaterThan(10);
  expect(r.violations).toEqual([]);
});
