// The invariant checker's pure core (test/support/invariants.ts): one sample in, counts out. It lives here rather than
// beside the checker because jest.config.js matches no test under test/support/.
import { checkInvariants, formatFigures, waitForInvariants, type DeploymentInput, type InvariantInput, type PodInput, type TaskInput } from '../support/invariants.js';

const NS = 'chaos';

function pod(name: string, o: { uid?: string; task?: string; node?: string; phase?: string; deleting?: boolean; app?: string } = {}): PodInput {
  return {
    metadata: {
      namespace: NS,
      name,
      uid: o.uid ?? `${name.replace(/[^a-f0-9]/g, '').padEnd(8, '0').slice(0, 8)}-0000-0000-0000-000000000000`,
      labels: { app: o.app ?? 'web' },
      annotations: o.task ? { 'kube-mesos.io/task-id': o.task } : {},
      ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: o.node ? { nodeName: o.node } : {},
    status: { phase: o.phase ?? (o.node ? 'Running' : 'Pending') },
  };
}

/** A task id as the scheduler makes it: namespace.name.<uid prefix>-<random>. */
function tid(name: string, uidPrefix: string, rnd = 'aaaaaa'): string {
  return `${NS}.${name}.${uidPrefix}-${rnd}`;
}

function task(id: string, state = 'TASK_RUNNING', agent = 'S1'): TaskInput {
  return { id, state, agent_id: agent, slave_id: agent };
}

const web2: DeploymentInput = { namespace: NS, name: 'web', replicas: 2, matchLabels: { app: 'web' } };
const a = tid('web-a', 'aaaaaaaa');
const b = tid('web-b', 'bbbbbbbb');
const healthy: InvariantInput = {
  pods: [pod('web-a', { uid: 'aaaaaaaa-1', task: a, node: 'n1' }), pod('web-b', { uid: 'bbbbbbbb-1', task: b, node: 'n2' })],
  tasks: [task(a), task(b, 'TASK_RUNNING', 'S2')],
  deployments: [web2],
};

type Counts = { podsLost: number; podsRunningTwice: number; orphanTasks: number; orphanPods: number; unreachableTasks: number; holds: boolean };
const ok: Counts = { podsLost: 0, podsRunningTwice: 0, orphanTasks: 0, orphanPods: 0, unreachableTasks: 0, holds: true };

describe('checkInvariants', () => {
  it.each<[string, InvariantInput, Counts]>([
    ['a healthy Deployment', healthy, ok],
    ['a pod Pending (not yet replaced) counts as lost', { ...healthy, pods: [healthy.pods[0], pod('web-c')], tasks: [task(a)] }, { ...ok, podsLost: 1, holds: false }],
    ['a deleting pod does not count towards replicas', { ...healthy, pods: [healthy.pods[0], { ...pod('web-b', { uid: 'bbbbbbbb-1', task: b, node: 'n2', deleting: true }) }] }, { ...ok, podsLost: 1, holds: false }],
    ['more Running pods than replicas is not a loss', { ...healthy, deployments: [{ ...web2, replicas: 1 }] }, ok],
    ['a pod of another app does not count', { ...healthy, pods: [healthy.pods[0], pod('x', { uid: 'bbbbbbbb-1', task: b, node: 'n2', app: 'other' })] }, { ...ok, podsLost: 1, holds: false }],
    [
      'a live task nobody names is an orphan (the task of a replaced pod came back)',
      { ...healthy, tasks: [...healthy.tasks, task(tid('web-old', 'cccccccc'), 'TASK_RUNNING', 'S3')] },
      { ...ok, orphanTasks: 1, holds: false },
    ],
    ['a killed task of a replaced pod is not an orphan', { ...healthy, tasks: [...healthy.tasks, task(tid('web-old', 'cccccccc'), 'TASK_KILLED', 'S3')] }, ok],
    [
      'an unreachable task of a replaced pod is out of reach, not an orphan',
      { ...healthy, tasks: [...healthy.tasks, task(tid('web-old', 'cccccccc'), 'TASK_UNREACHABLE', 'S3')] },
      { ...ok, unreachableTasks: 1 },
    ],
    [
      'a bound pod whose own task is unreachable waits for GONE: out of reach, not an orphan pod',
      { ...healthy, tasks: [task(a), task(b, 'TASK_UNREACHABLE', 'S2')] },
      { ...ok, unreachableTasks: 1 },
    ],
    [
      'a bound pod whose task is gone is an orphan pod',
      { ...healthy, tasks: [task(a), task(b, 'TASK_GONE', 'S2')] },
      { ...ok, orphanPods: 1, holds: false },
    ],
    [
      'a task launched for a pod not yet annotated is claimed by its id',
      { ...healthy, pods: [healthy.pods[0], pod('web-b', { uid: 'bbbbbbbb-1' })], tasks: [task(a), task(b, 'TASK_STAGING')] },
      { ...ok, podsLost: 1, holds: false },
    ],
    [
      'a task whose id names the pod but an older uid is an orphan',
      { ...healthy, pods: [healthy.pods[0], pod('web-b', { uid: 'dddddddd-1' })], tasks: [task(a), task(b)], deployments: [] },
      { ...ok, orphanTasks: 1, holds: false },
    ],
    [
      'a bare pod re-created while its old task still runs runs twice',
      {
        pods: [pod('solo', { uid: 'eeeeeeee-2', task: tid('solo', 'eeeeeeee', 'new000'), node: 'n2' })],
        tasks: [task(tid('solo', 'eeeeeeee', 'new000'), 'TASK_RUNNING', 'S2'), task(tid('solo', 'eeeeeeee', 'old000'), 'TASK_RUNNING', 'S1')],
        deployments: [],
      },
      { ...ok, podsRunningTwice: 1, orphanTasks: 1, holds: false },
    ],
    [
      'a re-created pod Running while the unreachable task of its earlier object (same name, other uid) may still run runs twice',
      {
        pods: [pod('db-0', { uid: 'ffffffff-2', task: tid('db-0', 'ffffffff', 'new000'), node: 'n2' })],
        tasks: [task(tid('db-0', 'ffffffff', 'new000'), 'TASK_RUNNING', 'S2'), task(tid('db-0', 'eeeeeeee', 'old000'), 'TASK_UNREACHABLE', 'S1')],
        deployments: [],
      },
      { ...ok, podsRunningTwice: 1, unreachableTasks: 1, holds: false },
    ],
    [
      'the earlier object\'s task alone (new pod not yet Running elsewhere) is not twice',
      {
        pods: [pod('db-0', { uid: 'ffffffff-2', phase: 'Pending' })],
        tasks: [task(tid('db-0', 'eeeeeeee', 'old000'), 'TASK_UNREACHABLE', 'S1')],
        deployments: [],
      },
      { ...ok, unreachableTasks: 1 },
    ],
    ['a bound pod whose task ended is an orphan pod', { ...healthy, tasks: [task(a), task(b, 'TASK_FAILED')] }, { ...ok, orphanPods: 1, holds: false }],
    ['a bound pod without a task-id annotation is an orphan pod', { ...healthy, pods: [healthy.pods[0], pod('web-b', { uid: 'bbbbbbbb-1', node: 'n2' })] }, { ...ok, orphanPods: 1, holds: false }],
    ['a finished pod needs no task', { ...healthy, pods: [...healthy.pods, pod('job', { node: 'n1', phase: 'Succeeded', task: 'gone', app: 'job' })] }, ok],
  ])('%s', (_name, input, want) => {
    const r = checkInvariants(input);
    const { details, ...counts } = r;
    expect(counts).toEqual(want);
    expect(details.length > 0).toBe(!want.holds);
  });

  it('names each violation in its details', () => {
    const r = checkInvariants({ ...healthy, tasks: [task(a), task(b, 'TASK_LOST'), task(tid('zz', 'cccccccc'), 'TASK_RUNNING', 'S9')] });
    expect(r.details).toEqual([`orphan task ${tid('zz', 'cccccccc')} (TASK_RUNNING) on agent S9`, `orphan pod ${NS}/web-b on n2: task ${b} TASK_LOST`]);
  });

  it('prints one line of figures', () => {
    expect(formatFigures('zone', checkInvariants(healthy), { recoverS: 21.04, pods: 30 })).toBe('chaos zone: lost=0 twice=0 orphanTasks=0 orphanPods=0 unreachable=0 recoverS=21.0 pods=30');
  });
});

describe('waitForInvariants', () => {
  const broken: InvariantInput = { ...healthy, tasks: [task(a)] };

  it('measures from the fault to the first of the stable holding samples', async () => {
    let t = 1000;
    const seq = [broken, healthy, broken, healthy, healthy, healthy];
    let i = 0;
    const sample = async () => {
      t += 100;
      return seq[Math.min(i++, seq.length - 1)];
    };
    const r = await waitForInvariants(sample, { sinceMs: 1000, timeoutMs: 60_000, intervalMs: 0, now: () => t });
    // samples at 1100 (broken) 1200 (ok) 1300 (broken) 1400 (ok) 1500 (ok): the stable streak starts at 1400
    expect(r.recoveredMs).toBe(400);
    expect(r.samples).toBe(5);
  });

  it('counts sampling errors and extra conditions as not holding, and fails with the details after the timeout', async () => {
    let t = 0;
    let i = 0;
    const sample = async () => {
      t += 100;
      if (i++ === 0) throw new Error('connection refused');
      return healthy;
    };
    await expect(
      waitForInvariants(sample, { sinceMs: 0, timeoutMs: 1000, intervalMs: 0, now: () => t, extra: () => 'old task still running' }),
    ).rejects.toThrow(/did not hold within 1 s .*\n {2}old task still running/);
  });

  it('fails at once on a sample where a pod runs twice, even if the next samples are clean (safety, not eventual)', async () => {
    let t = 0;
    let i = 0;
    const twice: InvariantInput = { ...healthy, tasks: [...healthy.tasks, task(tid('web-a', 'aaaaaaaa', 'old000'), 'TASK_UNREACHABLE', 'S9')] };
    const sample = async () => {
      t += 100;
      return i++ === 1 ? twice : healthy;
    };
    await expect(waitForInvariants(sample, { sinceMs: 0, timeoutMs: 10_000, intervalMs: 0, stableSamples: 5, now: () => t })).rejects.toThrow(/safety violated: pod chaos\/web-a runs twice/);
  });

  it('with requireReachable, waits until no task is unreachable', async () => {
    let t = 0;
    let i = 0;
    const withUnreachable = { ...healthy, tasks: [...healthy.tasks, task(tid('old', 'cccccccc'), 'TASK_UNREACHABLE')] };
    const sample = async () => {
      t += 100;
      return i++ < 3 ? withUnreachable : healthy;
    };
    const r = await waitForInvariants(sample, { sinceMs: 0, timeoutMs: 10_000, intervalMs: 0, requireReachable: true, now: () => t });
    expect(r.recoveredMs).toBe(400);
    expect(r.samples).toBe(5);
    expect(r.report.unreachableTasks).toBe(0);
  });
});
