import type { V1Pod } from '@kubernetes/client-node';
import type { Offer, Resource } from '../mesos/types.js';
import type { PodSpecView } from '../placement/types.js';
import { agentInfoFromOffer } from './agent-info.js';
import { buildExecutorInfo, buildTaskInfo, carveTaskResources, podOfTaskId, taskIdFor, type ExecutorConfig } from './launch.js';

const alloc = { allocation_info: { role: 'prod' } };
const scalar = (name: string, value: number, extra: Partial<Resource> = {}): Resource => ({ name, type: 'SCALAR', scalar: { value }, ...alloc, ...extra });
const ports = (begin: number, end: number, extra: Partial<Resource> = {}): Resource => ({ name: 'ports', type: 'RANGES', ranges: { range: [{ begin, end }] }, ...alloc, ...extra });
const offer = (id: string, resources: Resource[]): Offer => ({ id: { value: id }, framework_id: { value: 'f' }, agent_id: { value: 'a1' }, hostname: 'h1', resources });

const exec: ExecutorConfig = { command: 'kube-mesos executor', cpus: 0.25, mem: 128, kubeconfigPath: '/k', kubeletMode: 'hollow', maxPods: 110 };

describe('carveTaskResources', () => {
  it('takes scalars across offers of the wanted role, keeping allocation info', () => {
    const c = carveTaskResources.start([offer('o1', [scalar('cpus', 1), scalar('mem', 512)]), offer('o2', [scalar('cpus', 2), scalar('mem', 2048)])]);
    const r = carveTaskResources.take(c, { role: '*', res: { cpus: 1.5, mem: 1024, disk: 0 }, hostPorts: [] });
    expect(r).toEqual({ ok: true, resources: [scalar('cpus', 1.5), scalar('mem', 1024)] });
    const again = carveTaskResources.take(c, { role: '*', res: { cpus: 1.5, mem: 1024, disk: 0 }, hostPorts: [] });
    expect(again).toEqual({ ok: true, resources: [scalar('cpus', 1.5), scalar('mem', 1024)] });
    expect(carveTaskResources.take(c, { role: '*', res: { cpus: 0.1, mem: 0, disk: 0 }, hostPorts: [] })).toEqual({ ok: false, reason: 'offers lack cpus for role *' });
  });

  it('uses only resources reserved for the placement role', () => {
    const reserved = { reservations: [{ type: 'DYNAMIC' as const, role: 'prod' }] };
    const c = carveTaskResources.start([offer('o1', [scalar('cpus', 1), scalar('cpus', 2, reserved)])]);
    expect(carveTaskResources.take(c, { role: 'prod', res: { cpus: 2, mem: 0, disk: 0 }, hostPorts: [] })).toEqual({ ok: true, resources: [scalar('cpus', 2, reserved)] });
  });

  it('takes specific host ports and merges them into one ports resource', () => {
    const c = carveTaskResources.start([offer('o1', [ports(31000, 31010)])]);
    const r = carveTaskResources.take(c, { role: '*', res: { cpus: 0, mem: 0, disk: 0 }, hostPorts: [31000, 31005] });
    expect(r).toEqual({ ok: true, resources: [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31000 }, { begin: 31005, end: 31005 }] }, ...alloc }] });
    expect(carveTaskResources.take(c, { role: '*', res: { cpus: 0, mem: 0, disk: 0 }, hostPorts: [31005] })).toEqual({ ok: false, reason: 'offers lack ports for role *' });
    expect(carveTaskResources.take(c, { role: '*', res: { cpus: 0, mem: 0, disk: 0 }, hostPorts: [31004] }).ok).toBe(true);
  });

  it('charges a new executor before the pods', () => {
    const offers = [offer('o1', [scalar('cpus', 1), scalar('mem', 256)])];
    const info = agentInfoFromOffer(offers[0]);
    const executor = buildExecutorInfo({ agent: info, executorId: 'e1', frameworkId: 'f', config: exec, role: '*', offers });
    const c = carveTaskResources.start(offers, executor);
    expect(carveTaskResources.take(c, { role: '*', res: { cpus: 0.75, mem: 128, disk: 0 }, hostPorts: [] }).ok).toBe(true);
    expect(carveTaskResources.take(c, { role: '*', res: { cpus: 0.01, mem: 0, disk: 0 }, hostPorts: [] }).ok).toBe(false);
  });
});

describe('TaskInfo and ExecutorInfo', () => {
  const offers = [offer('o1', [scalar('cpus', 4), scalar('mem', 4096)])];
  const info = agentInfoFromOffer({ ...offers[0], domain: { fault_domain: { region: { name: 'r1' }, zone: { name: 'a' } } } });
  const executor = buildExecutorInfo({ agent: info, executorId: 'kubelet.a1.1', frameworkId: 'fw', config: exec, role: '*', offers });

  it('carries the delivery: fetcher URIs on the command, the container for image delivery; none without', () => {
    const uris = [{ value: 'http://s/artifacts/0123456789abcdef/b.tgz', extract: true, executable: false, cache: true }];
    const fetched = buildExecutorInfo({ agent: info, executorId: 'e', frameworkId: 'fw', config: { ...exec, command: 'exec "$MESOS_SANDBOX/kube-mesos/bin/kube-mesos" executor', uris }, role: '*', offers });
    expect(fetched.command).toMatchObject({ shell: true, value: 'exec "$MESOS_SANDBOX/kube-mesos/bin/kube-mesos" executor', uris });
    expect(fetched.container).toBeUndefined();
    const container = { type: 'MESOS' as const, mesos: { image: { type: 'DOCKER' as const, docker: { name: 'reg/kube-mesos:1' } } } };
    expect(buildExecutorInfo({ agent: info, executorId: 'e', frameworkId: 'fw', config: { ...exec, container }, role: '*', offers }).container).toEqual(container);
    expect(executor.command!.uris).toBeUndefined();
    // rebuilt the same way (after a restart) it is the same ExecutorInfo, as Mesos requires for a running executor
    expect(buildExecutorInfo({ agent: info, executorId: 'e', frameworkId: 'fw', config: { ...exec, uris }, role: '*', offers })).toEqual(buildExecutorInfo({ agent: info, executorId: 'e', frameworkId: 'fw', config: { ...exec, uris }, role: '*', offers }));
  });

  it('gives the executor its node identity through the environment', () => {
    const env = Object.fromEntries(executor.command!.environment!.variables!.map((v) => [v.name, v.value]));
    expect(env.KUBE_MESOS_NODE_NAME).toBe('h1');
    expect(JSON.parse(env.KUBE_MESOS_NODE_LABELS!)).toMatchObject({ 'topology.kubernetes.io/zone': 'a', 'kube-mesos.io/agent-id': 'a1' });
    expect(env.KUBE_MESOS_KUBECONFIG).toBe('/k');
    expect(JSON.parse(env.KUBE_MESOS_NODE_CAPACITY!)).toEqual({ pods: '110' });
    expect(executor.resources).toEqual([scalar('cpus', 0.25), scalar('mem', 128)]);
    expect(executor.framework_id).toEqual({ value: 'fw' });
  });

  it('builds the same ExecutorInfo from different offers of the agent (a new leader must match the running executor)', () => {
    const later = [offer('o9', [scalar('cpus', 1.5), scalar('mem', 512)])];
    expect(buildExecutorInfo({ agent: info, executorId: 'kubelet.a1.1', frameworkId: 'fw', config: exec, role: '*', offers: later })).toEqual(executor);
  });

  it('describes one pod per task: labels, kill policy, limits', () => {
    const pod: V1Pod = { metadata: { namespace: 'ns', name: 'web-1', uid: 'u1' }, spec: { containers: [], terminationGracePeriodSeconds: 10 } };
    const view = { key: 'ns/web-1', namespace: 'ns', name: 'web-1', uid: 'u1', limits: { cpus: 1, mem: 512 } } as unknown as PodSpecView;
    const t = buildTaskInfo({ taskId: 't1', agentId: 'a1', pod, view, resources: [scalar('cpus', 0.5)], executor });
    expect(t).toMatchObject({
      name: 'pod ns/web-1',
      task_id: { value: 't1' },
      agent_id: { value: 'a1' },
      executor: { executor_id: { value: 'kubelet.a1.1' } },
      kill_policy: { grace_period: { nanoseconds: 10e9 } },
      limits: { cpus: { value: 1 }, mem: { value: 512 } },
    });
    expect(t.labels!.labels).toEqual([
      { key: 'kube-mesos.io/pod-namespace', value: 'ns' },
      { key: 'kube-mesos.io/pod-name', value: 'web-1' },
      { key: 'kube-mesos.io/pod-uid', value: 'u1' },
    ]);
  });
});

describe('taskIdFor', () => {
  it('names the pod and ends in six hex digits, across refills of its entropy buffer; the pod reads back from it', () => {
    const pod = { namespace: 'ns', name: 'web.v2-0', uid: 'abcdef12-3456-7890-abcd-ef1234567890' };
    const ids = Array.from({ length: 1000 }, () => taskIdFor(pod));
    for (const id of ids) expect(id).toMatch(/^ns\.web\.v2-0\.abcdef12-[0-9a-f]{6}$/);
    // 1000 ids take three refills of 342: not all the same suffix (a stuck buffer would repeat one)
    expect(new Set(ids.map((id) => id.slice(-6))).size).toBeGreaterThan(900);
    expect(podOfTaskId(ids[999])).toEqual({ namespace: 'ns', name: 'web.v2-0', uidPrefix: 'abcdef12' });
  });
});
