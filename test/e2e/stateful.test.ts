// Stateful pods on Mesos volumes (issue 17, docs/stateful.md), with hollow kubelets: a StatefulSet with a
// volumeClaimTemplate of the Mesos volume class over 3 zones gets 3 volumes on 3 agents (RESERVE + CREATE, a
// PersistentVolume at the agent's volume directory, bound by the PV controller); a deleted pod comes back on its agent
// to its data; scaling to 0 and deleting the claims leaves no reservation and no volume in the emulator.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { kubectl, waitFor } from '../support/kube.js';
import { listPods, mesosTasks, nodeZones, ROOT, startTestSandbox, type PodJson, type TestSandbox } from '../support/sandbox.js';
import { silentLogger } from '../../src/telemetry/log.js';
import { fault } from '../chaos/chaos.js';
import { startSchedulerService, type SchedulerService } from '../../src/scheduler/service.js';
import { KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';

const ROLE = 'kube-mesos';

interface Pvc {
  metadata: { name: string; uid: string; annotations?: Record<string, string> };
  spec: { volumeName?: string };
  status: { phase?: string };
}
interface Pv {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { local?: { path: string }; claimRef?: { name: string; namespace: string }; nodeAffinity?: unknown };
  status: { phase?: string };
}
interface StateAgent {
  id: string;
  reserved_resources_full?: Record<string, { name: string; disk?: { persistence?: { id: string } } }[]>;
}

describe('a StatefulSet on Mesos volumes', () => {
  let t: TestSandbox;
  const cls = `mesos-volume-${randomBytes(3).toString('hex')}`;
  beforeAll(async () => {
    t = await startTestSandbox('e2e-stateful', { agents: 3, zones: ['a', 'b', 'c'], set: [['mesos.roles', `${ROLE},*`]], emulator: { agentUnreachableTimeoutMs: 2000 } });
    await t.kubectl(['apply', '-f', '-'], storageClass(cls));
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
    await kubectl(['delete', 'storageclass', cls, '--ignore-not-found', '--wait=false'], { kubeconfig: t?.kubeconfig });
  }, 60_000);

  const claims = async () => (JSON.parse(await t.kubectl(['get', 'pvc', '-o', 'json'])) as { items: Pvc[] }).items;
  const volumes = async () => {
    const r = await kubectl(['get', 'pv', '-o', 'json'], { kubeconfig: t.kubeconfig });
    return (JSON.parse(r.stdout) as { items: Pv[] }).items.filter((v) => v.spec.claimRef?.namespace === t.ns.name);
  };
  const agents = async () => ((await (await fetch(`${t.sb.mesosUrl}/state`)).json()) as { slaves: StateAgent[] }).slaves;
  const running = (n: number, not: PodJson[] = [], app = 'db') =>
    waitFor(
      async () => {
        const pods = (await listPods(t, `app=${app}`)).filter((p) => !p.metadata.deletionTimestamp);
        return pods.length === n && pods.every((p) => p.status.phase === 'Running' && !not.some((o) => o.metadata.uid === p.metadata.uid)) && pods;
      },
      { timeoutMs: 120_000, what: `${n} ${app} pods Running`, describe: async () => JSON.stringify((await listPods(t, `app=${app}`)).map((p) => [p.metadata.name, p.status.phase, p.spec.nodeName, p.status.conditions?.find((c) => c.type === 'PodScheduled')?.message])) },
    );
  /** Applies a StatefulSet and returns how long until all its pods ran. */
  const timeToRunning = async (yaml: string, app: string, n: number) => {
    const t0 = Date.now();
    await t.kubectl(['apply', '-f', '-'], yaml);
    await running(n, [], app);
    return Date.now() - t0;
  };
  const gone = (app: string) => waitFor(async () => (await listPods(t, `app=${app}`)).length === 0, { timeoutMs: 60_000, what: `no ${app} pods` });

  it('3 replicas → 3 volumes on 3 agents in 3 zones; a deleted pod comes back to its data; scale to 0 + delete claims → nothing left', async () => {
    // figures: 3 pods without volumes on new kubelets (cold), then with new volumes and without, on running kubelets
    const coldPlainMs = await timeToRunning(statefulSet(t, undefined, 3, 'plain'), 'plain', 3);
    await t.kubectl(['delete', 'statefulset', 'plain']);
    await gone('plain');
    const started = Date.now();
    await t.kubectl(['apply', '-f', '-'], statefulSet(t, cls, 3));
    const pods = await running(3);
    const bound = await waitFor(
      async () => {
        const cs = await claims();
        return cs.length === 3 && cs.every((c) => c.status.phase === 'Bound') && cs;
      },
      { timeoutMs: 60_000, what: '3 claims Bound', describe: async () => JSON.stringify((await claims()).map((c) => [c.metadata.name, c.status.phase])) },
    );
    const withVolumesMs = Date.now() - started;
    const warmPlainMs = await timeToRunning(statefulSet(t, undefined, 3, 'plain2'), 'plain2', 3);
    await t.kubectl(['delete', 'statefulset', 'plain2']);
    const pvs = await volumes();
    expect(pvs).toHaveLength(3);
    // one volume per agent, each PV a local volume at that agent's volume directory, pinned to that agent's Node
    const agentOf = new Map<string, string>();
    for (const pv of pvs) {
      const agentId = pv.metadata.annotations!['kube-mesos.io/volume-agent-id'];
      const claim = bound.find((c) => c.metadata.name === pv.spec.claimRef!.name)!;
      expect(pv.spec.local!.path).toMatch(new RegExp(`/slaves/${agentId}/volumes/roles/${ROLE}/kube-mesos-${claim.metadata.uid}$`));
      expect(existsSync(pv.spec.local!.path)).toBe(true);
      expect(claim.spec.volumeName).toBe(pv.metadata.name);
      expect(claim.metadata.annotations?.['volume.kubernetes.io/selected-node']).toBe(pods.find((p) => `data-${p.metadata.name}` === claim.metadata.name)!.spec.nodeName);
      agentOf.set(claim.metadata.name, agentId);
    }
    expect(new Set(agentOf.values()).size).toBe(3);
    for (const p of pods) {
      const agentId = agentOf.get(`data-${p.metadata.name}`);
      expect(p.metadata.annotations!['kube-mesos.io/agent-id']).toBe(agentId);
    }
    const zoneOf = await nodeZones(t);
    expect(new Set(pods.map((p) => zoneOf.get(p.spec.nodeName!))).size).toBe(3);
    // the reservations and volumes, as the master shows them
    const reserved = (await agents()).flatMap((a) => (a.reserved_resources_full?.[ROLE] ?? []).filter((r) => r.disk?.persistence).map((r) => `${a.id} ${r.disk!.persistence!.id}`));
    expect(reserved.sort()).toEqual(bound.map((c) => `${agentOf.get(c.metadata.name)} kube-mesos-${c.metadata.uid}`).sort());

    // each pod "writes a file" (hollow kubelets: the test writes into the directory its PV names)
    const pathOf = new Map(pvs.map((pv) => [pv.spec.claimRef!.name, pv.spec.local!.path]));
    for (const p of pods) writeFileSync(`${pathOf.get(`data-${p.metadata.name}`)}/hello`, p.metadata.name);

    // a deleted pod comes back on the same agent, with its file
    const victim = pods.find((p) => p.metadata.name === 'db-1')!;
    await t.kubectl(['delete', 'pod', 'db-1', '--wait=false']);
    const after = await running(3, [victim]).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; the old pod: ${JSON.stringify((await listPods(t, 'app=db')).filter((p) => p.metadata.name === 'db-1'))}`);
    });
    const back = after.find((p) => p.metadata.name === 'db-1')!;
    expect(back.metadata.annotations!['kube-mesos.io/agent-id']).toBe(victim.metadata.annotations!['kube-mesos.io/agent-id']);
    expect(back.spec.nodeName).toBe(victim.spec.nodeName);
    expect(readFileSync(`${pathOf.get('data-db-1')}/hello`, 'utf8')).toBe('db-1');

    // scale to 0, delete the claims: DESTROY + UNRESERVE, the PVs deleted, nothing reserved, no directory left
    await t.kubectl(['scale', 'statefulset', 'db', '--replicas=0']);
    await waitFor(async () => (await listPods(t, 'app=db')).length === 0, { timeoutMs: 60_000, what: 'no db pods' });
    await t.kubectl(['delete', 'pvc', '--all', '--wait=false']);
    await waitFor(
      async () => {
        const left = (await agents()).flatMap((a) => Object.entries(a.reserved_resources_full ?? {}).flatMap(([role, rs]) => rs.map((r) => `${a.id} ${role} ${r.name} ${r.disk?.persistence?.id ?? ''}`)));
        const pvLeft = await volumes();
        const dirs = [...pathOf.values()].filter((d) => existsSync(d));
        return left.length === 0 && pvLeft.length === 0 && dirs.length === 0;
      },
      {
        timeoutMs: 90_000,
        what: 'no reservation, no volume, no PersistentVolume',
        describe: async () => JSON.stringify({ reserved: (await agents()).map((a) => [a.id, a.reserved_resources_full]), pvs: (await volumes()).map((v) => [v.metadata.name, v.status.phase]) }),
      },
    );
    console.log(JSON.stringify({ test: 'stateful e2e: 3 pods to Running (ms)', coldKubeletsNoVolumes: coldPlainMs, newVolumes: withVolumesMs, noVolumes: warmPlainMs, totalMs: Date.now() - started }));
  }, 360_000);

  it('its agent partitioned: the pod waits for TASK_GONE past failover-after, never a second copy; back, the same task runs on', async () => {
    await t.kubectl(['apply', '-f', '-'], statefulSet(t, cls, 1, 'solo'));
    const [pod] = await running(1, [], 'solo');
    const agentId = pod.metadata.annotations!['kube-mesos.io/agent-id'];
    const taskId = pod.metadata.annotations!['kube-mesos.io/task-id'];
    const copies = async () => (await mesosTasks(t)).filter((x) => x.name === `pod ${t.ns.name}/solo-0`);
    const partitionedAt = Date.now();
    await fault(t.sb.mesosUrl, `agents/${agentId}/partition`);
    await waitFor(async () => (await copies()).some((x) => x.id === taskId && x.state === 'TASK_UNREACHABLE'), { timeoutMs: 30_000, what: 'solo-0\'s task TASK_UNREACHABLE', describe: async () => JSON.stringify(await copies()) });
    // sampled every second well past failover-after (2 s): one task, the same pod, waiting for GONE
    let samples = 0;
    let waiting = false;
    while (Date.now() - partitionedAt < 12_000 || samples < 5) {
      const tasks = await copies();
      expect(tasks.map((x) => x.id)).toEqual([taskId]);
      const pods = await listPods(t, 'app=solo');
      expect(pods.map((p) => p.metadata.uid)).toEqual([pod.metadata.uid]);
      waiting ||= pods[0].status.conditions?.some((c) => c.type === 'kube-mesos.io/TaskUnreachable' && c.reason === 'WaitingForTaskGone') ?? false;
      samples++;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(waiting).toBe(true);
    await fault(t.sb.mesosUrl, `agents/${agentId}/recover`);
    await waitFor(async () => (await copies()).every((x) => x.id === taskId && x.state === 'TASK_RUNNING') && (await copies()).length === 1, { timeoutMs: 30_000, what: 'the same task RUNNING again', describe: async () => JSON.stringify(await copies()) });
    const [after] = await running(1, [], 'solo');
    expect(after.metadata.uid).toBe(pod.metadata.uid);
  }, 120_000);
});

describe('after a scheduler restart', () => {
  let t: TestSandbox;
  let second: SchedulerService | undefined;
  const cls = `mesos-volume-${randomBytes(3).toString('hex')}`;
  beforeAll(async () => {
    t = await startTestSandbox('e2e-stateful-restart', { agents: 1, zones: ['a'], set: [['mesos.roles', `${ROLE},*`]] });
    await t.kubectl(['apply', '-f', '-'], storageClass(cls));
  }, 180_000);
  afterAll(async () => {
    await second?.stop();
    await t?.stop();
    await kubectl(['delete', 'storageclass', cls, '--ignore-not-found', '--wait=false'], { kubeconfig: t?.kubeconfig });
  }, 60_000);

  it('a volume whose PV was deleted while the scheduler was down is destroyed and unreserved by the next one', async () => {
    await t.kubectl(['apply', '-f', '-'], statefulSet(t, cls, 1, 'kept'));
    await waitFor(async () => (await listPods(t, 'app=kept')).some((p) => p.status.phase === 'Running'), { timeoutMs: 120_000, what: 'kept-0 Running' });
    const pv = await waitFor(async () => (JSON.parse((await kubectl(['get', 'pv', '-o', 'json'], { kubeconfig: t.kubeconfig })).stdout) as { items: Pv[] }).items.find((v) => v.spec.claimRef?.namespace === t.ns.name), { timeoutMs: 30_000, what: 'the PV' });
    const dir = pv.spec.local!.path;
    await t.kubectl(['scale', 'statefulset', 'kept', '--replicas=0']);
    await waitFor(async () => (await listPods(t, 'app=kept')).length === 0, { timeoutMs: 60_000, what: 'no kept pods' });
    const frameworkId = t.sb.scheduler.core.debugState().frameworkId!;
    await t.sb.scheduler.stop();
    // while no scheduler runs: the claim and its PV go (the PV controller only releases it; we delete it by hand)
    await t.kubectl(['delete', 'pvc', '--all']);
    const del = await kubectl(['delete', 'pv', pv.metadata.name, '--wait=true', '--timeout=60s'], { kubeconfig: t.kubeconfig });
    expect(del.code).toBe(0);
    const reserved = async () => ((await (await fetch(`${t.sb.mesosUrl}/state`)).json()) as { slaves: StateAgent[] }).slaves.flatMap((a) => a.reserved_resources_full?.[ROLE] ?? []);
    expect((await reserved()).length).toBeGreaterThan(0);
    expect(existsSync(dir)).toBe(true);
    const kc = new KubeConfig();
    kc.loadFromFile(t.sb.kubeconfigPath);
    second = await startSchedulerService({
      config: t.sb.config,
      kubeconfig: kc,
      log: silentLogger(),
      executorCommand: `'${process.execPath}' '${join(ROOT, 'dist/cli/main.js')}' executor`,
      executorKubeconfig: t.sb.kubeconfigPath,
      frameworkId,
    });
    await waitFor(async () => (await reserved()).length === 0 && !existsSync(dir), { timeoutMs: 60_000, what: 'the orphan volume destroyed and unreserved', describe: async () => JSON.stringify(await reserved()) });
  }, 240_000);
});

function storageClass(name: string): string {
  return `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: ${name} }
provisioner: kube-mesos.io/mesos-volume
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
`;
}

/** A StatefulSet `app` (pods labelled app=<app>); with `cls`, a volumeClaimTemplate `data` of that class. */
function statefulSet(t: TestSandbox, cls: string | undefined, replicas: number, app = 'db'): string {
  return `
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: ${app} }
spec:
  serviceName: ${app}
  replicas: ${replicas}
  podManagementPolicy: Parallel
  selector: { matchLabels: { app: ${app} } }
  template:
    metadata:
      labels: { app: ${app} }
      annotations: { kube-mesos.io/failover-after: 2s }
    spec:
      schedulerName: ${t.schedulerName}
      terminationGracePeriodSeconds: 2
      topologySpreadConstraints:
      - { maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: { matchLabels: { app: ${app} } } }
      containers:
      - name: db
        image: busybox
        resources: { requests: { cpu: 100m, memory: 64Mi } }
${cls ? '        volumeMounts: [{ name: data, mountPath: /data }]' : ''}
${cls ? claimTemplate(cls) : ''}`;
}

function claimTemplate(cls: string): string {
  return `  volumeClaimTemplates:
  - metadata: { name: data }
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: ${cls}
      resources: { requests: { storage: 64Mi } }`;
}
