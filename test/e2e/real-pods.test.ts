// Real pods end to end: kubectl → kube-mesos → Mesos tasks on emulated agents whose executors (in cgroup containers
// sized to what Mesos allocated) run real kubelets on containerd. Containers really run: their output is in
// `kubectl logs`, their pod IPs answer HTTP from the host, `kubectl exec` works, a memory hog is OOM-killed, and nothing
// is left on the host after a Deployment is deleted or an agent fails.
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { imageRef } from '../../src/controlplane/node-artifacts.js';
import { mountedHierarchies } from '../../src/emulator/cgroups.js';
import { processAlive } from '../../src/executor/node-host.js';
import { kubectl, waitFor } from '../support/kube.js';
import { hostInventory, inSubnet24, nodeRuntime, startRealSandbox, type NodeRuntimeView } from '../support/real-nodes.js';
import { listPods, mesosTasks, nodeZones, type PodJson, type TestSandbox } from '../support/sandbox.js';

jest.setTimeout(240_000);

let t: TestSandbox;
const t0 = Date.now();

beforeAll(async () => {
  t = await startRealSandbox('real-pods', {
    // Lost pods are replaced 5 s after their agent is marked unreachable (3 s after it failed).
    agentUnreachableTimeoutMs: 3000,
    set: [['failover.defaultFailoverAfter', '5s']],
  });
}, 120_000);

afterAll(async () => {
  await t?.stop();
  process.stdout.write(`real-pods suite wall time: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}, 120_000);

interface FullPod extends PodJson {
  status: PodJson['status'] & {
    podIP?: string;
    containerStatuses?: { containerID?: string; state?: { terminated?: { reason?: string; exitCode?: number } } }[];
  };
}

const pods = async (selector: string) => (await listPods(t, selector)) as FullPod[];

const webDeployment = (name: string, replicas: number, extra: { spread?: boolean; annotations?: Record<string, string> } = {}) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name} }
      annotations: ${JSON.stringify(extra.annotations ?? {})}
    spec:
      schedulerName: ${t.schedulerName}
      terminationGracePeriodSeconds: 2
${
  extra.spread
    ? `      topologySpreadConstraints:
      - { maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: { matchLabels: { app: ${name} } } }
`
    : ''
}      containers:
      - name: web
        image: ${imageRef('web')}
        command: ["sh", "-c", "echo serving from $(hostname); exec httpd -f -v -p 8080 -h /www"]
        ports: [{ containerPort: 8080 }]
        readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 2 }
        resources: { requests: { cpu: 50m, memory: 32Mi }, limits: { cpu: 200m, memory: 64Mi } }
`;

/** Waits for exactly `n` pods (not being deleted), all Running and Ready, none on `avoid`. */
async function runningPods(selector: string, n: number, avoid?: string, timeoutMs = 150_000): Promise<FullPod[]> {
  return waitFor(
    async () => {
      const list = (await pods(selector)).filter((p) => !p.metadata.deletionTimestamp && p.spec.nodeName !== avoid);
      const ready = list.filter((p) => p.status.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === n && list.length === n && ready;
    },
    { timeoutMs, intervalMs: 500, what: `${n} pods ${selector} Running and Ready${avoid ? ` off ${avoid}` : ''}` },
  );
}

async function containerPid(view: NodeRuntimeView, pod: FullPod): Promise<number> {
  const id = pod.status.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '');
  const inv = await hostInventory(view.record);
  const task = inv.runningTasks.find((x) => x.id === id);
  if (!task) throw new Error(`container ${id} of ${pod.metadata.name} is not a running task of ${view.node}'s containerd`);
  return task.pid;
}

describe('real pods on real kubelets', () => {
  const views = new Map<string, NodeRuntimeView>();

  it('runs a 6-replica Deployment over 3 zones as real containers: logs, pod IPs from each agent\'s subnet answering HTTP, exec', async () => {
    const applied = Date.now();
    await t.kubectl(['apply', '-f', '-'], webDeployment('web', 6, { spread: true }));
    const running = await runningPods('app=web', 6);
    process.stdout.write(`6 real pods Running and Ready ${((Date.now() - applied) / 1000).toFixed(1)} s after kubectl apply (3 new kubelets)\n`);

    const zones = await nodeZones(t);
    const perZone: Record<string, number> = {};
    for (const p of running) perZone[zones.get(p.spec.nodeName!)!] = (perZone[zones.get(p.spec.nodeName!)!] ?? 0) + 1;
    expect(perZone).toEqual({ a: 2, b: 2, c: 2 });

    for (const p of running) {
      const node = p.spec.nodeName!;
      if (!views.has(node)) views.set(node, await nodeRuntime(t, node));
      const view = views.get(node)!;
      // The container's own output, read by the API server from the kubelet.
      const logs = await waitFor(async () => {
        const out = await t.kubectl(['logs', p.metadata.name]);
        return out.includes(`serving from ${p.metadata.name}`) && out;
      }, { what: `the log line of ${p.metadata.name}` });
      expect(logs).toContain(`serving from ${p.metadata.name}`);
      // Its IP comes from its agent's bridge subnet and answers from the host.
      expect(inSubnet24(p.status.podIP!, view.podCidr)).toBe(true);
      const res = await fetch(`http://${p.status.podIP}:8080/`, { signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(200);
    }
    expect(new Set([...views.values()].map((v) => v.podCidr)).size).toBe(3);
    const tasks = (await mesosTasks(t)).filter((x) => x.state === 'TASK_RUNNING');
    expect(tasks).toHaveLength(6);

    const exec = await t.kubectl(['exec', running[0].metadata.name, '--', 'sh', '-c', 'echo $((6*7)) from $(hostname)']);
    expect(exec.trim()).toBe(`42 from ${running[0].metadata.name}`);

    // The kubelet's own API admits no anonymous caller (the API server above got in with its client certificate).
    const node = JSON.parse((await kubectl(['get', 'node', running[0].spec.nodeName!, '-o', 'json'], { kubeconfig: t.kubeconfig })).stdout) as {
      status: { addresses: { type: string; address: string }[]; daemonEndpoints: { kubeletEndpoint: { Port: number } } };
    };
    const ip = node.status.addresses.find((a) => a.type === 'InternalIP')!.address;
    const anonymous = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ host: ip, port: node.status.daemonEndpoints.kubeletEndpoint.Port, path: '/pods', rejectUnauthorized: false, timeout: 10_000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(anonymous).toBe(401);
  });

  it('nests every container in its agent\'s executor cgroup container', async () => {
    for (const p of await pods('app=web')) {
      const view = views.get(p.spec.nodeName!)!;
      // The executor's container is the emulator's cgroup container for it, sized to what Mesos allocated.
      expect(view.cgroupRoot).toMatch(/^\/kube-mesos-emulator\/[0-9a-f-]+$/);
      const pid = await containerPid(view, p);
      const cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      for (const h of ['memory', 'cpu', 'pids']) {
        const line = cgroups.split('\n').find((l) => l.split(':')[1]?.split(',').includes(h));
        expect(line?.split(':')[2]).toMatch(new RegExp(`^${view.cgroupRoot}/kubepods/`));
      }
    }
  });

  it('OOM-kills a container that exceeds its memory limit and shows it on the pod', async () => {
    await t.kubectl(['apply', '-f', '-'], `
apiVersion: v1
kind: Pod
metadata: { name: hog, labels: { app: hog } }
spec:
  schedulerName: ${t.schedulerName}
  restartPolicy: Never
  containers:
  - name: hog
    image: ${imageRef('busybox')}
    command: ["sh", "-c", "echo growing; x=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; while true; do x=$x$x; done"]
    resources: { requests: { cpu: 50m, memory: 32Mi }, limits: { cpu: 200m, memory: 32Mi } }
`);
    const pod = await waitFor(async () => {
      const p = (await pods('app=hog'))[0];
      return p?.status.containerStatuses?.[0]?.state?.terminated && p;
    }, { timeoutMs: 120_000, intervalMs: 500, what: 'the hog container to terminate' });
    expect(pod.status.phase).toBe('Failed');
    expect(pod.status.containerStatuses![0].state!.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    await waitFor(async () => (await mesosTasks(t, 'completed')).some((x) => x.name.includes('/hog') && x.state === 'TASK_FAILED'), { what: 'the hog task TASK_FAILED' });
    await t.kubectl(['delete', 'pod', 'hog', '--wait=true']);
  });

  it('deleting the Deployment leaves no task, container, shim, pod cgroup or CNI lease', async () => {
    await t.kubectl(['delete', 'deployment', 'web', '--wait=true']);
    await waitFor(async () => (await pods('app=web')).length === 0, { timeoutMs: 90_000, what: 'web pods gone' });
    await waitFor(async () => (await mesosTasks(t)).length === 0, { what: 'no active Mesos task' });
    for (const view of views.values()) {
      const inv = await waitFor(
        async () => {
          const i = await hostInventory(view.record);
          return i.runningTasks.length === 0 && i.shims === 0 && i.podCgroups.length === 0 && i.leases.length === 0 && i;
        },
        { timeoutMs: 60_000, intervalMs: 500, what: `${view.node} to hold no container, shim, pod cgroup or lease` },
      );
      expect(inv).toEqual({ runningTasks: [], shims: 0, podCgroups: [], leases: [] });
    }
  });

  it('failing an agent kills its containers with its executor, and failover runs the pods elsewhere for real', async () => {
    await t.kubectl(['apply', '-f', '-'], webDeployment('survivor', 3, { annotations: { 'kube-mesos.io/failover-after': '2s' } }));
    const before = await runningPods('app=survivor', 3);
    const victimNode = before[0].spec.nodeName!;
    const view = views.get(victimNode) ?? (await nodeRuntime(t, victimNode));
    const victimPods = before.filter((p) => p.spec.nodeName === victimNode).map((p) => p.metadata.name);
    const pids = await Promise.all(before.filter((p) => p.spec.nodeName === victimNode).map((p) => containerPid(view, p)));
    const agent = (await mesosTasks(t)).find((x) => x.name.includes(victimPods[0]))!.slave_id;

    const res = await fetch(`${t.sb.mesosUrl}/emulator/agents/${agent}/fail`, { method: 'POST' });
    expect(res.ok).toBe(true);
    // The executor's container is destroyed: every container process, shim, containerd and the kubelet are gone, and
    // so is every cgroup of the container, the pods' included.
    await waitFor(() => pids.every((p) => !processAlive(p, undefined)), { timeoutMs: 15_000, what: 'the failed agent\'s containers to die' });
    const inv = await waitFor(async () => {
      const i = await hostInventory(view.record);
      return i.runningTasks.length === 0 && i.shims === 0 && i.podCgroups.length === 0 && i;
    }, { timeoutMs: 15_000, what: 'no container, shim or pod cgroup of the failed agent' });
    expect(inv.shims).toBe(0);
    for (const h of mountedHierarchies()) expect(() => readFileSync(`/sys/fs/cgroup/${h}${view.cgroupRoot}/cgroup.procs`)).toThrow();

    // Replacements elsewhere, Running for real.
    const after = await runningPods('app=survivor', 3, victimNode);
    const live = (await pods('app=survivor')).filter((p) => !p.metadata.deletionTimestamp);
    expect(live.filter((p) => p.spec.nodeName === victimNode).map((p) => p.metadata.name)).toEqual([]);
    for (const p of after) {
      const v = views.get(p.spec.nodeName!) ?? (await nodeRuntime(t, p.spec.nodeName!));
      expect(inSubnet24(p.status.podIP!, v.podCidr)).toBe(true);
      expect((await fetch(`http://${p.status.podIP}:8080/`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
    }
  });
});
