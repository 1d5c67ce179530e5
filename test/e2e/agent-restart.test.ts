// An agent process restart (issue 15), both ways. With checkpointing (mesos.checkpoint, the default) the agent recovers
// its executors: the kubelet executor re-subscribes and its pods keep running, nothing is replaced. Without it, the agent
// shuts the executors down: the pods are handled as an executor loss (replaced after failover-after, fresh executor).
import { waitFor } from '../support/kube.js';
import { listPods, startTestSandbox, type PodJson, type TestSandbox } from '../support/sandbox.js';

const deployment = (t: TestSandbox, name: string, replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name} }
      annotations: { kube-mesos.io/failover-after: 3s }
    spec:
      schedulerName: ${t.schedulerName}
      containers:
      - name: c
        image: nginx
        resources: { requests: { cpu: 100m, memory: 64Mi } }
`;

const running = async (t: TestSandbox, app: string, n: number) =>
  waitFor(
    async () => {
      const pods = (await listPods(t, `app=${app}`)).filter((p) => !p.metadata.deletionTimestamp);
      return pods.length === n && pods.every((p) => p.status.phase === 'Running') && pods;
    },
    { timeoutMs: 90_000, what: `${n} ${app} pods Running` },
  );

const restart = async (t: TestSandbox, agentId: string) => {
  const r = await fetch(`${t.sb.mesosUrl}/emulator/agents/${agentId}/restart`, { method: 'POST' });
  expect(r.status).toBe(200);
};

describe('with checkpointing', () => {
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox('e2e-restart-ckpt', { agents: 1, zones: ['a'] });
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  }, 60_000);

  it('the executor re-subscribes; its pods keep running past their failover-after and the executor takes new pods', async () => {
    await t.kubectl(['apply', '-f', '-'], deployment(t, 'web', 2));
    const before = await running(t, 'web', 2);
    const agentId = before[0].metadata.annotations!['kube-mesos.io/agent-id'];
    const executorId = before[0].metadata.annotations!['kube-mesos.io/executor-id'];
    const restartedAt = Date.now();
    await restart(t, agentId);
    // a new pod reaches the same executor through its new subscription: proof it re-subscribed
    await t.kubectl(['apply', '-f', '-'], deployment(t, 'probe', 1));
    const [probe] = await running(t, 'probe', 1);
    expect(probe.metadata.annotations?.['kube-mesos.io/executor-id']).toBe(executorId);
    // sampled until well past failover-after (3 s): the same two pods, Running, at every sample
    const same = (pods: PodJson[]) => pods.length === 2 && pods.every((p) => before.some((b) => b.metadata.uid === p.metadata.uid) && p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
    await waitFor(
      async () => {
        const pods = await listPods(t, 'app=web');
        if (!same(pods)) throw new Error(`pods changed after the agent restart: ${JSON.stringify(pods.map((p) => [p.metadata.name, p.status.phase]))}`);
        return Date.now() - restartedAt > 8_000;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: '8 s after the restart' },
    );
    const events = t.sb.scheduler.core.dashboardState().events as { reason: string }[];
    expect(events.filter((e) => e.reason === 'ExecutorLost')).toEqual([]);
  }, 240_000);
});

describe('without checkpointing', () => {
  let t: TestSandbox;
  beforeAll(async () => {
    t = await startTestSandbox('e2e-restart-nockpt', { agents: 1, zones: ['a'], set: [['mesos.checkpoint', 'false']] });
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  }, 60_000);

  it('the executor is shut down with the agent: its pods are replaced after failover-after under a fresh executor', async () => {
    await t.kubectl(['apply', '-f', '-'], deployment(t, 'web', 2));
    const before = await running(t, 'web', 2);
    const agentId = before[0].metadata.annotations!['kube-mesos.io/agent-id'];
    const executorId = before[0].metadata.annotations!['kube-mesos.io/executor-id'];
    await restart(t, agentId);
    const after = await waitFor(
      async () => {
        const pods = (await listPods(t, 'app=web')).filter((p) => !p.metadata.deletionTimestamp);
        return pods.length === 2 && pods.every((p) => p.status.phase === 'Running' && !before.some((b) => b.metadata.uid === p.metadata.uid)) && pods;
      },
      { timeoutMs: 90_000, what: '2 new web pods Running' },
    );
    for (const p of after) expect(p.metadata.annotations?.['kube-mesos.io/executor-id']).not.toBe(executorId);
    const events = t.sb.scheduler.core.dashboardState().events as { reason: string }[];
    expect(events.some((e) => e.reason === 'ExecutorLost')).toBe(true);
  }, 240_000);
});
