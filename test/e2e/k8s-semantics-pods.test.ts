// kube-mesos as a Kubernetes scheduler users can trust (issue 22), pod side: pods it did not place (spec.nodeName, a
// DaemonSet) become Mesos tasks sized by their requests; GPUs go only where Mesos offers them and travel in the task;
// a high-priority pod preempts a low one, and the low one's replacement waits with kube-scheduler's message.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { kubectl, waitFor } from '../support/kube.js';
import { listPods, mesosTasks, startTestSandbox, type PodJson, type TestSandbox } from '../support/sandbox.js';

// Each step waits on real controllers (taint manager, ReplicaSets, the kubelet's status) and on Mesos offers.
jest.setTimeout(180_000);

let t: TestSandbox;
let nodes: string[] = [];
const AGENTS = 3;
const suffix = randomBytes(3).toString('hex');

const pods = (selector: string) => listPods(t, selector);
const k = (args: string[], input?: string) =>
  kubectl(args, { kubeconfig: t.kubeconfig, input }).then((r) => {
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  });

const taskOf = async (p: PodJson) => (await mesosTasks(t)).find((x) => x.name === `pod ${t.ns.name}/${p.metadata.name}` || x.id === p.metadata.annotations?.['kube-mesos.io/task-id']);

async function running(selector: string, n: number, what: string, timeoutMs = 90_000): Promise<PodJson[]> {
  return waitFor(
    async () => {
      const list = (await pods(selector)).filter((p) => !p.metadata.deletionTimestamp);
      return list.length === n && list.every((p) => p.status.phase === 'Running') && list;
    },
    { timeoutMs, what },
  );
}

function podSpec(o: { name: string; labels?: Record<string, string>; spec: Record<string, unknown>; cpu?: string; limits?: Record<string, string> }): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, labels: { app: o.name, ...o.labels } },
    spec: {
      terminationGracePeriodSeconds: 0,
      ...o.spec,
      containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: o.cpu ?? '100m', memory: '64Mi' }, ...(o.limits ? { limits: o.limits } : {}) } }],
    },
  });
}

beforeAll(async () => {
  t = await startTestSandbox('e2e-k8s-pods', { agents: AGENTS });
  const warm = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'warm' },
    spec: {
      replicas: AGENTS,
      selector: { matchLabels: { app: 'warm' } },
      template: {
        metadata: { labels: { app: 'warm' } },
        spec: {
          schedulerName: t.schedulerName,
          terminationGracePeriodSeconds: 0,
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'warm' } } }] } },
          containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
        },
      },
    },
  };
  await t.kubectl(['apply', '-f', '-'], JSON.stringify(warm));
  nodes = (await running('app=warm', AGENTS, 'a warm pod on every agent', 120_000)).map((p) => p.spec.nodeName!).sort();
  await waitFor(async () => (await k(['get', 'nodes', ...nodes, '-o', 'name'])).trim().split('\n').length === AGENTS, { what: 'the warm Nodes registered' });
  // This sandbox's Nodes, for the DaemonSet's nodeSelector (the control plane is shared with other suites).
  for (const n of nodes) await k(['label', 'node', n, `e2e-sandbox=${suffix}`]);
}, 180_000);

afterAll(async () => {
  await kubectl(['delete', 'priorityclass', `low-${suffix}`, `high-${suffix}`], { kubeconfig: t?.kubeconfig, allowFailure: true });
  await t?.stop();
}, 60_000);

describe('pods kube-mesos did not place', () => {
  it('a pod created with spec.nodeName (default scheduler) becomes a Mesos task sized by its requests', async () => {
    await t.kubectl(['apply', '-f', '-'], podSpec({ name: 'pinned', cpu: '300m', spec: { nodeName: nodes[0] } }));
    const [p] = await running('app=pinned', 1, 'the pinned pod Running');
    const task = await waitFor(async () => {
      const x = await taskOf((await pods('app=pinned'))[0] ?? p);
      return x?.state === 'TASK_RUNNING' && x;
    }, { timeoutMs: 60_000, what: "the pinned pod's task TASK_RUNNING" });
    expect(task.resources).toMatchObject({ cpus: 0.3, mem: 64 });
    const agentHost = (await (await fetch(`${t.sb.mesosUrl}/state`)).json()) as { slaves: { id: string; hostname: string }[] };
    expect(agentHost.slaves.find((s) => s.id === (task.agent_id ?? task.slave_id))?.hostname).toBe(nodes[0]);
  });

  it("a DaemonSet's pods are all tasks, one per Node", async () => {
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agentd' },
      spec: {
        selector: { matchLabels: { app: 'agentd' } },
        template: {
          metadata: { labels: { app: 'agentd' } },
          spec: {
            schedulerName: t.schedulerName,
            nodeSelector: { 'e2e-sandbox': suffix },
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '50m', memory: '32Mi' } } }],
          },
        },
      },
    };
    await t.kubectl(['apply', '-f', '-'], JSON.stringify(ds));
    const list = await running('app=agentd', AGENTS, `${AGENTS} DaemonSet pods Running`);
    expect(list.map((p) => p.spec.nodeName).sort()).toEqual(nodes);
    for (const p of list) {
      const task = await waitFor(async () => {
        const x = await taskOf(p);
        return x?.state === 'TASK_RUNNING' && x;
      }, { what: `the task of ${p.metadata.name}` });
      expect(task.resources).toMatchObject({ cpus: 0.05, mem: 32 });
    }
  });
});

describe('priority and preemption', () => {
  it('a high-priority pod preempts a low one; the low one\u2019s replacement waits with a clear message', async () => {
    await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: `low-${suffix}` }, value: 100 }));
    await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: `high-${suffix}` }, value: 1000 }));
    const low = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'low' },
      spec: {
        replicas: AGENTS,
        selector: { matchLabels: { app: 'low' } },
        template: {
          metadata: { labels: { app: 'low' } },
          spec: {
            schedulerName: t.schedulerName,
            priorityClassName: `low-${suffix}`,
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '3', memory: '64Mi' } } }],
          },
        },
      },
    };
    await t.kubectl(['apply', '-f', '-'], JSON.stringify(low));
    const lows = await running('app=low', AGENTS, 'a low-priority pod on every agent');
    await t.kubectl(['apply', '-f', '-'], podSpec({ name: 'high', cpu: '3', spec: { schedulerName: t.schedulerName, priorityClassName: `high-${suffix}` } }));
    const [high] = await running('app=high', 1, 'the high-priority pod Running', 120_000);
    expect((high.status as { nominatedNodeName?: string }).nominatedNodeName).toBe(high.spec.nodeName);
    // The victim was the low pod on that node; it got a Preempted event.
    const victim = lows.find((p) => p.spec.nodeName === high.spec.nodeName)!;
    const ev = await waitFor(async () => {
      const out = await t.kubectl(['get', 'events', '--field-selector', `reason=Preempted,involvedObject.name=${victim.metadata.name}`, '-o', 'json']);
      return (JSON.parse(out) as { items: { message: string }[] }).items[0];
    }, { what: 'a Preempted event on the victim' });
    expect(ev.message).toBe(`Preempted by ${t.ns.name}/high on node ${high.spec.nodeName}`);
    // Its ReplicaSet's replacement has nowhere to go, and says why in kube-scheduler's words.
    const replacement = await waitFor(async () => (await pods('app=low')).find((p) => !lows.some((l) => l.metadata.uid === p.metadata.uid) && !p.metadata.deletionTimestamp), {
      what: 'the replacement low pod',
    });
    const cond = await waitFor(
      async () => (await pods('app=low')).find((p) => p.metadata.uid === replacement.metadata.uid)?.status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False'),
      { timeoutMs: 60_000, what: 'the replacement reported unschedulable' },
    );
    expect(cond.message).toMatch(new RegExp(`^0/${AGENTS} nodes are available: ${AGENTS} Insufficient cpu\\.$`));
  });
});

describe('GPUs', () => {
  it('a GPU pod lands only on the GPU agent, with gpus in its task', async () => {
    const res = await fetch(`${t.sb.mesosUrl}/emulator/agents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1, zone: 'b', resources: 'cpus:4;mem:8192;disk:10000;ports:[31000-31100];gpus:2' }),
    });
    const gpuHost = ((await res.json()) as { agents: { hostname: string }[] }).agents[0].hostname;
    await t.kubectl(['apply', '-f', '-'], podSpec({ name: 'trainer', spec: { schedulerName: t.schedulerName }, limits: { 'nvidia.com/gpu': '1' } }));
    const [p] = await running('app=trainer', 1, 'the GPU pod Running');
    expect(p.spec.nodeName).toBe(gpuHost);
    const task = await waitFor(async () => {
      const x = await taskOf(p);
      return x?.state === 'TASK_RUNNING' && x;
    }, { what: "the GPU pod's task" });
    expect(task.resources).toMatchObject({ gpus: 1 });
    // Its Node advertises the agent's GPUs, as a kubelet with the device plugin would.
    const alloc = JSON.parse(await k(['get', 'node', gpuHost, '-o', 'jsonpath={.status.allocatable}'])) as Record<string, string>;
    expect(alloc).toMatchObject({ 'nvidia.com/gpu': '2', 'ephemeral-storage': '10000Mi' });
  });
});
