// kube-mesos as a Kubernetes scheduler users can trust (issue 22), Node side: what users do to Nodes with kubectl —
// cordon, taints (NoSchedule, NoExecute, PreferNoSchedule), labels, Node-advertised extended resources, preferAvoidPods —
// is honoured as kube-scheduler honours it, in its words; and a cold agent (no kubelet yet) already has the labels its
// Node will have.
import { jest } from '@jest/globals';
import { kubectl, waitFor } from '../support/kube.js';
import { listPods, mesosTasks, startTestSandbox, type PodJson, type TestSandbox } from '../support/sandbox.js';

// Each step waits on real controllers (taint manager, ReplicaSets, the kubelet's status) and on Mesos offers.
jest.setTimeout(180_000);

let t: TestSandbox;
/** The warm agents' Node names, sorted: one kubelet each. */
let nodes: string[] = [];
const AGENTS = 6;

const pods = (selector: string) => listPods(t, selector);
const k = (args: string[]) => kubectl(args, { kubeconfig: t.kubeconfig }).then((r) => {
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
});

function pod(name: string, o: { nodeSelector?: Record<string, string>; tolerations?: object[]; requests?: Record<string, string>; labels?: Record<string, string> } = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name, ...o.labels } },
    spec: {
      schedulerName: t.schedulerName,
      terminationGracePeriodSeconds: 0,
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m', memory: '64Mi', ...o.requests }, ...(o.requests && Object.keys(o.requests).some((r) => r.includes('/')) ? { limits: Object.fromEntries(Object.entries(o.requests).filter(([r]) => r.includes('/'))) } : {}) } }],
    },
  });
}

function deployment(name: string, replicas: number, extra: { antiAffinity?: boolean } = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          schedulerName: t.schedulerName,
          terminationGracePeriodSeconds: 0,
          ...(extra.antiAffinity
            ? { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: name } } }] } } }
            : {}),
          containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
        },
      },
    },
  });
}

async function running(selector: string, n: number, what: string, timeoutMs = 90_000): Promise<PodJson[]> {
  return waitFor(
    async () => {
      const list = (await pods(selector)).filter((p) => !p.metadata.deletionTimestamp);
      return list.length === n && list.every((p) => p.status.phase === 'Running') && list;
    },
    { timeoutMs, what },
  );
}

/** The pod's PodScheduled=False message, once kube-mesos reported one matching `re`. */
async function unschedulable(name: string, re: RegExp): Promise<string> {
  return waitFor(
    async () => {
      const c = (await pods(`app=${name}`))[0]?.status.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False');
      return c?.message !== undefined && re.test(c.message) && c.message;
    },
    { timeoutMs: 60_000, what: `pod ${name} reported unschedulable matching ${re}` },
  );
}

beforeAll(async () => {
  t = await startTestSandbox('e2e-k8s-sem', { agents: AGENTS });
  // One kubelet (and so one Node) per agent, kept alive by one pod each.
  await t.kubectl(['apply', '-f', '-'], deployment('warm', AGENTS, { antiAffinity: true }));
  const warm = await running('app=warm', AGENTS, `${AGENTS} warm pods Running, one per agent`, 120_000);
  nodes = warm.map((p) => p.spec.nodeName!).sort();
  expect(new Set(nodes).size).toBe(AGENTS);
  await waitFor(async () => (await k(['get', 'nodes', ...nodes, '-o', 'name'])).trim().split('\n').length === AGENTS, { what: 'the warm Nodes registered' });
}, 180_000);

afterAll(async () => {
  await t?.stop();
}, 60_000);

describe('Nodes are an input', () => {
  it('cordon: no new pod lands there; uncordon: pods land there again', async () => {
    const cordoned = nodes[0];
    await k(['cordon', cordoned]);
    // A probe pinned to the Node proves the scheduler saw the cordon, in kube-scheduler's words.
    await t.kubectl(['apply', '-f', '-'], pod('probe-cordon', { nodeSelector: { 'kubernetes.io/hostname': cordoned } }));
    expect(await unschedulable('probe-cordon', /node\(s\) were unschedulable/)).toBe(`0/${AGENTS} nodes are available: 1 node(s) were unschedulable, ${AGENTS - 1} node(s) didn't match Pod's node affinity.`);
    await t.kubectl(['apply', '-f', '-'], deployment('cordon', 10));
    const first = await running('app=cordon', 10, '10 pods Running while cordoned');
    expect(first.filter((p) => p.spec.nodeName === cordoned)).toEqual([]);

    await k(['uncordon', cordoned]);
    const [probe] = await running('app=probe-cordon', 1, 'the probe Running after uncordon');
    expect(probe.spec.nodeName).toBe(cordoned); // a pod lands there again
    // More pods still run after the uncordon. Where spreading puts them is scored among the agents offered in that cycle
    // (docs/scheduling.md): the uncordoned agent's rest may still be refused after the probe's launch, so it is not asserted.
    await t.kubectl(['scale', 'deployment', 'cordon', '--replicas=20']);
    await running('app=cordon', 20, '20 pods Running after uncordon');
    await t.kubectl(['delete', 'deployment', 'cordon', '--wait=false']);
    await t.kubectl(['delete', 'pod', 'probe-cordon', '--wait=false']);
  });

  it('NoSchedule taint keeps a pod off; a toleration lets it through', async () => {
    const tainted = nodes[1];
    await k(['taint', 'node', tainted, 'dedicated=x:NoSchedule']);
    await t.kubectl(['apply', '-f', '-'], pod('untolerant', { nodeSelector: { 'kubernetes.io/hostname': tainted } }));
    expect(await unschedulable('untolerant', /had taint/)).toBe(
      `0/${AGENTS} nodes are available: 1 node(s) had taint {dedicated: x}, that the pod didn't tolerate, ${AGENTS - 1} node(s) didn't match Pod's node affinity.`,
    );
    await t.kubectl(['apply', '-f', '-'], pod('tolerant', { nodeSelector: { 'kubernetes.io/hostname': tainted }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'x', effect: 'NoSchedule' }] }));
    const [p] = await running('app=tolerant', 1, 'the tolerating pod Running');
    expect(p.spec.nodeName).toBe(tainted);
    expect((await pods('app=untolerant'))[0].status.phase).toBe('Pending');
    await k(['taint', 'node', tainted, 'dedicated-']);
    await running('app=untolerant', 1, 'the untolerating pod Running once the taint is gone');
    await t.kubectl(['delete', 'pod', 'untolerant', 'tolerant', '--wait=false']);
  });

  it('NoExecute taint evicts at once what does not tolerate it, and after tolerationSeconds what does', async () => {
    const tainted = nodes[2];
    const sel = { 'kubernetes.io/hostname': tainted };
    // 20 s: room for the taint manager to evict go-now first on a loaded 2-core machine (5 s was not).
    await t.kubectl(['apply', '-f', '-'], pod('go-now', { nodeSelector: sel }));
    await t.kubectl(['apply', '-f', '-'], pod('stay-20s', { nodeSelector: sel, tolerations: [{ key: 'evict', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 20 }] }));
    const [stay] = await running('app=stay-20s', 1, 'stay-20s Running');
    await running('app=go-now', 1, 'go-now Running');
    const stayTask = stay.metadata.annotations!['kube-mesos.io/task-id'];
    await k(['taint', 'node', tainted, 'evict=now:NoExecute']);
    try {
      await waitFor(async () => (await pods('app=go-now')).length === 0, { timeoutMs: 60_000, what: 'go-now evicted' });
      // The tolerating pod outlived the one that did not tolerate the taint …
      expect((await pods('app=stay-20s')).length).toBe(1);
      // … and goes once its tolerationSeconds are over, its task killed.
      await waitFor(async () => (await pods('app=stay-20s')).length === 0, { timeoutMs: 90_000, what: 'stay-20s evicted after its tolerationSeconds' });
      await waitFor(async () => !(await mesosTasks(t)).some((x) => x.id === stayTask), { what: "stay-20s's task gone" });
      expect((await mesosTasks(t, 'completed')).find((x) => x.id === stayTask)?.state).toBe('TASK_KILLED');
      // No new pod lands there while the taint stands (the warm pod's replacement waits).
      await t.kubectl(['apply', '-f', '-'], pod('probe-noexec', { nodeSelector: sel }));
      await unschedulable('probe-noexec', /had taint \{evict: now\}, that the pod didn't tolerate/);
    } finally {
      // Later tests use this Node: the taint goes even when an assertion failed.
      await k(['taint', 'node', tainted, 'evict-']);
    }
    await running('app=probe-noexec', 1, 'the probe Running once the NoExecute taint is gone');
    await running('app=warm', AGENTS, 'the warm pods all Running again');
    await t.kubectl(['delete', 'pod', 'probe-noexec', '--wait=false']);
  });

  it('kubectl label node + nodeSelector lands the pod there', async () => {
    await k(['label', 'node', nodes[3], 'disk=ssd']);
    await t.kubectl(['apply', '-f', '-'], pod('wants-ssd', { nodeSelector: { disk: 'ssd' } }));
    const [p] = await running('app=wants-ssd', 1, 'wants-ssd Running');
    expect(p.spec.nodeName).toBe(nodes[3]);
    await t.kubectl(['delete', 'pod', 'wants-ssd', '--wait=false']);
  });

  it('nodeSelector kubernetes.io/os: linux works on a cold agent (no kubelet, no Node yet)', async () => {
    const res = await fetch(`${t.sb.mesosUrl}/emulator/agents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: 1, zone: 'a' }) });
    const { agents } = (await res.json()) as { agents: { id: string; hostname: string }[] };
    const cold = agents[0].hostname;
    expect((await kubectl(['get', 'node', cold], { kubeconfig: t.kubeconfig, allowFailure: true })).code).not.toBe(0);
    await t.kubectl(['apply', '-f', '-'], pod('linux-cold', { nodeSelector: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': cold } }));
    const [p] = await running('app=linux-cold', 1, 'linux-cold Running on the new agent');
    expect(p.spec.nodeName).toBe(cold);
    const labels = JSON.parse(await k(['get', 'node', cold, '-o', 'jsonpath={.metadata.labels}'])) as Record<string, string>;
    expect(labels).toMatchObject({ 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' });
    nodes.push(cold); // it keeps its kubelet while linux-cold runs
  });

  it('PreferNoSchedule taints steer pods to the one Node they tolerate', async () => {
    const all = nodes.slice();
    for (const [i, n] of all.entries()) await k(['taint', 'node', n, `team=t${i}:PreferNoSchedule`]);
    const wanted = all[4];
    const tol = [{ key: 'team', operator: 'Equal', value: 't4', effect: 'PreferNoSchedule' }];
    // One by one: a pod that comes while the tolerated agent's rest is still with Mesos (refused for
    // refuseSeconds.waiting after the previous launch) waits for it (placement.preferenceWait) instead of taking the
    // agents offered at the time.
    for (const n of ['steer-1', 'steer-2', 'steer-3']) await t.kubectl(['apply', '-f', '-'], pod(n, { tolerations: tol, labels: { group: 'steer' } }));
    const placed = await running('group=steer', 3, 'three steered pods Running');
    expect(placed.map((p) => p.spec.nodeName)).toEqual([wanted, wanted, wanted]);
    for (const n of all) await k(['taint', 'node', n, 'team-']);
    await t.kubectl(['delete', 'pod', '-l', 'group=steer', '--wait=false']);
  });

  it('preferAvoidPods: a Node that names a ReplicaSet gets none of its pods while others have room', async () => {
    await t.kubectl(['apply', '-f', '-'], deployment('avoid', 0));
    const rs = await waitFor(async () => {
      const list = JSON.parse(await t.kubectl(['get', 'rs', '-l', 'app=avoid', '-o', 'json'])) as { items: { metadata: { uid: string; name: string } }[] };
      return list.items[0]?.metadata;
    }, { what: 'the ReplicaSet of Deployment avoid' });
    const avoided = nodes[5];
    const ann = JSON.stringify({ preferAvoidPods: [{ podSignature: { podController: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.name, uid: rs.uid, controller: true } }, reason: 'e2e' }] });
    await k(['annotate', 'node', avoided, `scheduler.alpha.kubernetes.io/preferAvoidPods=${ann}`]);
    await t.kubectl(['scale', 'deployment', 'avoid', '--replicas=8']);
    const placed = await running('app=avoid', 8, '8 avoid pods Running');
    expect(placed.filter((p) => p.spec.nodeName === avoided)).toEqual([]);
    await k(['annotate', 'node', avoided, 'scheduler.alpha.kubernetes.io/preferAvoidPods-']);
    await t.kubectl(['delete', 'deployment', 'avoid', '--wait=false']);
  });

  it('a Node patched with example.com/widget: 3 takes three one-widget pods; the fourth waits with Insufficient example.com/widget', async () => {
    const n = nodes[0];
    await k(['patch', 'node', n, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { capacity: { 'example.com/widget': '3' } } })]);
    // The kubelet copies it to allocatable at its next status update.
    await waitFor(async () => (await k(['get', 'node', n, '-o', 'jsonpath={.status.allocatable.example\\.com/widget}'])).trim() === '3', {
      timeoutMs: 120_000,
      what: 'example.com/widget: 3 in the Node allocatable',
    });
    for (const i of [1, 2, 3, 4]) await t.kubectl(['apply', '-f', '-'], pod(`widget-${i}`, { requests: { 'example.com/widget': '1' }, labels: { group: 'widget' } }));
    const three = await waitFor(async () => {
      const list = await pods('group=widget');
      const run = list.filter((p) => p.status.phase === 'Running');
      return run.length === 3 && run;
    }, { timeoutMs: 60_000, what: 'three widget pods Running' });
    expect(three.map((p) => p.spec.nodeName)).toEqual([n, n, n]);
    const waiting = (await pods('group=widget')).find((p) => p.status.phase !== 'Running')!;
    const msg = await unschedulable(waiting.metadata.labels!.app, /Insufficient example\.com\/widget/);
    // Every agent lacks a widget (agents whose offers are out at that moment say so too).
    expect(msg).toMatch(new RegExp(`^0/${nodes.length} nodes are available: (.*, )?${nodes.length} Insufficient example\\.com/widget[,.]`));
  });
});
