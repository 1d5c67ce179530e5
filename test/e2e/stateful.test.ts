// Stateful pods on Mesos volumes (issue 17, docs/stateful.md), with hollow kubelets: a StatefulSet with a
// volumeClaimTemplate of the Mesos volume class over 3 zones gets 3 volumes on 3 agents (RESERVE + CREATE, a
// PersistentVolume at the agent's volume directory, bound by the PV controller); a deleted pod comes back on its agent
// to its data; scaling to 0 and deleting the claims leaves no reservation and no volume in the emulator.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { kubectl, waitFor } from '../support/kube.js';
import { listPods, nodeZones, startTestSandbox, type PodJson, type TestSandbox } from '../support/sandbox.js';

const ROLE = 'kube-mesos';

interface Pvc {
  metadata: { name: string; uid: string };
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
    t = await startTestSandbox('e2e-stateful', { agents: 3, zones: ['a', 'b', 'c'], set: [['mesos.roles', `${ROLE},*`]] });
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
  const running = (n: number, not: PodJson[] = []) =>
    waitFor(
      async () => {
        const pods = (await listPods(t, 'app=db')).filter((p) => !p.metadata.deletionTimestamp);
        return pods.length === n && pods.every((p) => p.status.phase === 'Running' && !not.some((o) => o.metadata.uid === p.metadata.uid)) && pods;
      },
      { timeoutMs: 120_000, what: `${n} db pods Running`, describe: async () => JSON.stringify((await listPods(t, 'app=db')).map((p) => [p.metadata.name, p.status.phase, p.spec.nodeName, p.status.conditions?.find((c) => c.type === 'PodScheduled')?.message])) },
    );

  it('3 replicas → 3 volumes on 3 agents in 3 zones; a deleted pod comes back to its data; scale to 0 + delete claims → nothing left', async () => {
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
    const firstRunningMs = Date.now() - started;
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
    console.log(JSON.stringify({ test: 'stateful e2e', firstThreeRunningWithNewVolumesMs: firstRunningMs, totalMs: Date.now() - started }));
  }, 360_000);
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

function statefulSet(t: TestSandbox, cls: string, replicas: number): string {
  return `
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
  replicas: ${replicas}
  podManagementPolicy: Parallel
  selector: { matchLabels: { app: db } }
  template:
    metadata:
      labels: { app: db }
    spec:
      schedulerName: ${t.schedulerName}
      terminationGracePeriodSeconds: 2
      topologySpreadConstraints:
      - { maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: { matchLabels: { app: db } } }
      containers:
      - name: db
        image: busybox
        resources: { requests: { cpu: 100m, memory: 64Mi } }
        volumeMounts: [{ name: data, mountPath: /data }]
  volumeClaimTemplates:
  - metadata: { name: data }
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: ${cls}
      resources: { requests: { storage: 64Mi } }
`;
}
