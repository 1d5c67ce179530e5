// Mesos volumes through the framework core: a new claim's RESERVE + CREATE + LAUNCH and its PersistentVolume, a bound
// claim pinned to its agent and its offered volume, and reclaim of volumes whose PersistentVolume is gone or released.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import type { Offer, Resource } from '../mesos/types.js';
import { ANNOTATION_PERSISTENCE_ID, ANNOTATION_VOLUME_AGENT, LABEL_CLAIM_UID, PROVISIONER_MESOS_VOLUME } from '../names.js';
import { silentLogger } from '../telemetry/log.js';
import type { StorageView } from './claims.js';
import { FrameworkCore, type FrameworkCoreConfig, type FrameworkMetrics } from './framework.js';
import { aPod, statusFor, statusOf } from './testing/builders.js';
import { FakeKube, FakeMesos } from './testing/fakes.js';
import { RECLAIM_SCAN_MS } from './volumes.js';
import { taskIdFor } from './launch.js';

const ROLE = 'kube';
const config: FrameworkCoreConfig = {
  plan: { executor: { cpus: 0.25, mem: 128, disk: 0 }, defaultScoring: 'spread', preferExistingKubelet: true, maxPodsPerKubelet: 110, defaultRoles: [ROLE, '*'] },
  podDefaults: { cpus: 0.1, mem: 128, roles: [ROLE, '*'] },
  executor: { command: 'kube-mesos executor', cpus: 0.25, mem: 128, kubeconfigPath: '/kc', kubeletMode: 'hollow', maxPods: 110 },
  agentInfo: {},
  offers: { refuseWhileWaitingSeconds: 1, refuseIdleSeconds: 300, reviveMinIntervalMs: 1000 },
  offerHoldMs: 5000,
  maxBatch: 1000,
  unschedulableReportIntervalMs: 60_000,
  volumes: { agentWorkDir: '/work/slaves/{agentId}' },
};

let seq = 0;
const scalar = (name: string, value: number): Resource => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role: ROLE } });
const offer = (agent: string, zone: string, extra: Resource[] = [], disk = 10000): Offer => ({
  id: { value: `o${++seq}` },
  framework_id: { value: 'fw' },
  agent_id: { value: agent },
  hostname: `${agent}.example`,
  domain: { fault_domain: { region: { name: 'r1' }, zone: { name: zone } } },
  resources: [scalar('cpus', 4), scalar('mem', 8192), scalar('disk', disk), ...extra],
});
/** A volume kube-mesos made for claim uid `uid` (reserved for ROLE, labelled with the claim uid). */
const volume = (uid: string, mb = 1024): Resource => ({
  name: 'disk',
  type: 'SCALAR',
  scalar: { value: mb },
  allocation_info: { role: ROLE },
  reservations: [{ type: 'DYNAMIC', role: ROLE, labels: { labels: [{ key: LABEL_CLAIM_UID, value: uid }] } }],
  disk: { persistence: { id: `kube-mesos-${uid}` }, volume: { mode: 'RW', container_path: `volumes/kube-mesos-${uid}` } },
});

const claim = (name: string, spec: V1PersistentVolumeClaim['spec']): V1PersistentVolumeClaim => ({ metadata: { name, namespace: 'ns', uid: `c-${name}` }, spec });
const mesosClass: V1StorageClass = { metadata: { name: 'mesos' }, provisioner: PROVISIONER_MESOS_VOLUME, volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete' };
const pvOf = (uid: string, agent: string, over: Partial<V1PersistentVolume['spec']> = {}, phase = 'Bound'): V1PersistentVolume => ({
  metadata: { name: `pvc-${uid}`, uid: `pv-${uid}`, annotations: { [ANNOTATION_VOLUME_AGENT]: agent, [ANNOTATION_PERSISTENCE_ID]: `kube-mesos-${uid}` } },
  spec: { persistentVolumeReclaimPolicy: 'Delete', ...over },
  status: { phase },
});

class Storage implements StorageView {
  claims = new Map<string, V1PersistentVolumeClaim>();
  volumes = new Map<string, V1PersistentVolume>();
  synced = true;
  claim = (_ns: string, name: string) => this.claims.get(name);
  volume = (name: string) => this.volumes.get(name);
  storageClass = (name: string) => (name === 'mesos' ? mesosClass : undefined);
  volumeByPersistenceId = (pid: string) => [...this.volumes.values()].find((v) => v.metadata?.annotations?.[ANNOTATION_PERSISTENCE_ID] === pid);
  mesosVolumes = () => [...this.volumes.values()].filter((v) => v.metadata?.annotations?.[ANNOTATION_PERSISTENCE_ID]);
  hasSynced = () => this.synced;
}

/** `scanOver` (default): the clock moved past RECLAIM_SCAN_MS after SUBSCRIBED, as in steady state. */
function setup(o: { scanOver?: boolean } = {}) {
  const mesos = new FakeMesos();
  const kube = new FakeKube();
  const storage = new Storage();
  let now = 1000;
  const volumeOps: [string, number][] = [];
  const nothing = () => {};
  const metrics: FrameworkMetrics = {
    offersReceived: nothing, offersDeclined: nothing, offersAccepted: nothing, offersRescinded: nothing, launches: nothing,
    taskState: nothing, cycle: nothing, podScheduled: nothing, pending: nothing,
    volumeOperations: (op, n) => volumeOps.push([op, n]),
  };
  const core = new FrameworkCore({ mesos, kube, clock: { now: () => now }, log: silentLogger(), config, metrics });
  core.setStorage(storage);
  core.onSubscribed('fw');
  if (o.scanOver ?? true) now += RECLAIM_SCAN_MS;
  return { core, mesos, kube, storage, volumeOps, advance: (ms: number) => (now += ms) };
}

const statefulPod = (name: string, claimName: string) => aPod(name).spec({ volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }] }).build();

describe('Mesos volumes in the framework core', () => {
  it('a pod with an unbound claim of the Mesos class: RESERVE + CREATE + LAUNCH in one ACCEPT, the task holds the volume, then its PV', async () => {
    const { core, mesos, kube, storage, volumeOps } = setup();
    storage.claims.set('data-web-0', claim('data-web-0', { storageClassName: 'mesos', resources: { requests: { storage: '1Gi' } } }));
    core.onPodUpsert(statefulPod('web-0', 'data-web-0'));
    core.onOffers([offer('a1', 'z1')]);
    expect(core.runCycle()).toMatchObject({ placed: 1, accepts: 1 });
    await core.drain();
    const ops = mesos.accepts[0].operations;
    expect(ops.map((o) => o.type)).toEqual(['RESERVE', 'CREATE', 'LAUNCH']);
    expect(ops[0].reserve!.resources).toEqual([
      expect.objectContaining({ name: 'disk', scalar: { value: 1024 }, reservations: [expect.objectContaining({ type: 'DYNAMIC', role: ROLE, labels: { labels: expect.arrayContaining([{ key: LABEL_CLAIM_UID, value: 'c-data-web-0' }]) } })] }),
    ]);
    const vol = ops[1].create!.volumes![0];
    expect(vol.disk).toMatchObject({ persistence: { id: 'kube-mesos-c-data-web-0' }, volume: { mode: 'RW', container_path: 'volumes/kube-mesos-c-data-web-0' } });
    const task = ops[2].launch!.task_infos![0];
    expect(task.resources).toContainEqual(vol);
    // The PV waits for the task to reach its agent: a 202 for the ACCEPT does not say the volume was made.
    expect(kube.createdVolumes).toEqual([]);
    core.onUpdate(statusOf(task).state('TASK_STARTING').build());
    await core.drain();
    expect(kube.createdVolumes).toHaveLength(1);
    const [pv, claimName, nodeName] = kube.createdVolumes[0];
    expect(claimName).toBe('data-web-0');
    expect(nodeName).toBe(core.agentInfo('a1')!.nodeName); // the claim's selected-node
    expect(pv.spec).toMatchObject({
      local: { path: '/work/slaves/a1/volumes/roles/kube/kube-mesos-c-data-web-0' },
      claimRef: { namespace: 'ns', name: 'data-web-0', uid: 'c-data-web-0' },
      persistentVolumeReclaimPolicy: 'Delete',
      capacity: { storage: '1024Mi' },
    });
    expect(pv.spec!.nodeAffinity!.required!.nodeSelectorTerms[0].matchExpressions![0]).toMatchObject({ key: 'kubernetes.io/hostname', operator: 'In' });
    expect(volumeOps).toEqual([['create', 1]]);
  });

  it('an ACCEPT that fails creates no PersistentVolume and the pod goes back on the queue', async () => {
    const { core, mesos, kube, storage } = setup();
    storage.claims.set('d', claim('d', { storageClassName: 'mesos', resources: { requests: { storage: '100Mi' } } }));
    mesos.failAccept = true;
    core.onPodUpsert(statefulPod('web-0', 'd'));
    core.onOffers([offer('a1', 'z1')]);
    core.runCycle();
    await core.drain();
    expect(mesos.accepts).toHaveLength(1);
    expect(kube.createdVolumes).toEqual([]);
    expect(core.queue.size).toBe(1);
  });

  it.each([
    ['TASK_DROPPED', 'REASON_INVALID_OFFERS'],
    ['TASK_ERROR', 'REASON_TASK_INVALID'],
  ] as const)('a launch the master drops (%s) writes no PersistentVolume: the claim stays unbound and the pod tries again anywhere', async (state, reason) => {
    const { core, mesos, kube, storage, advance } = setup();
    storage.claims.set('d', claim('d', { storageClassName: 'mesos', resources: { requests: { storage: '100Mi' } } }));
    core.onPodUpsert(statefulPod('web-0', 'd'));
    core.onOffers([offer('a1', 'z1')]);
    core.runCycle();
    await core.drain();
    const [task] = mesos.tasks();
    core.onUpdate(statusOf(task).state(state).reason(reason).build());
    await core.drain();
    expect(kube.createdVolumes).toEqual([]);
    expect(core.queue.size).toBe(1);
    // Its next try makes the volume again, on another agent's offer this time; that task reaches its agent: one PV, there.
    advance(60_000);
    core.onOffers([offer('a2', 'z2')]);
    core.runCycle();
    await core.drain();
    const again = mesos.tasks()[1];
    expect(again.agent_id.value).toBe('a2');
    core.onUpdate(statusOf(again).state('TASK_RUNNING').build());
    await core.drain();
    expect(kube.createdVolumes.map(([pv]) => pv.metadata?.annotations?.[ANNOTATION_VOLUME_AGENT])).toEqual(['a2']);
  });

  it('a running task adopted from an earlier leader whose claim has no PersistentVolume yet gets it (the leader stopped in between)', async () => {
    const { core, kube, storage } = setup();
    storage.claims.set('d', claim('d', { storageClassName: 'mesos', resources: { requests: { storage: '100Mi' } } }));
    const pod = statefulPod('web-0', 'd');
    core.onPodUpsert(pod);
    core.onOffers([offer('a1', 'z1')]);
    core.onUpdate(statusFor(taskIdFor({ namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, uid: pod.metadata!.uid! }), 'a1').state('TASK_RUNNING').executor('kubelet.a1.x').build());
    await core.drain();
    expect(kube.createdVolumes.map(([pv]) => [pv.spec?.local?.path, pv.metadata?.annotations?.[ANNOTATION_PERSISTENCE_ID]])).toEqual([['/work/slaves/a1/volumes/roles/kube/kube-mesos-c-d', 'kube-mesos-c-d']]);
  });

  it.each([
    ['a missing claim', undefined, 'persistentvolumeclaim "d" not found'],
    ['an unbound claim of an Immediate class', claim('d', { storageClassName: 'ebs' }), 'pod has unbound immediate PersistentVolumeClaims'],
    ['a claim larger than any agent\'s disk', claim('d', { storageClassName: 'mesos', resources: { requests: { storage: '20Gi' } } }), 'node(s) did not have enough free storage'],
  ])('%s: the pod waits with kube-scheduler\'s reason', async (_n, c, reason) => {
    const { core, mesos, kube, storage } = setup();
    if (c) storage.claims.set('d', c);
    core.onPodUpsert(statefulPod('web-0', 'd'));
    core.onOffers([offer('a1', 'z1'), offer('a2', 'z2')]);
    expect(core.runCycle()).toMatchObject({ placed: 0, unschedulable: 1 });
    await core.drain();
    expect(mesos.accepts).toEqual([]);
    expect(kube.unschedulable[0][1]).toContain(`2 ${reason}`);
  });

  it('a claim bound to a Mesos volume: only its agent, only once the volume is offered; the task takes it, nothing is reserved', async () => {
    const { core, mesos, kube, storage, advance } = setup();
    storage.claims.set('d', claim('d', { storageClassName: 'mesos', volumeName: 'pvc-c-d' }));
    storage.volumes.set('pvc-c-d', pvOf('c-d', 'a1'));
    advance(6000); // past the subscription's REVIVE: at most one per 5 s
    core.onPodUpsert(statefulPod('web-0', 'd'));
    const a1 = offer('a1', 'z1');
    core.onOffers([a1, offer('a2', 'z2')]);
    await core.drain();
    const revivesBefore = mesos.revives;
    expect(core.runCycle()).toMatchObject({ placed: 0, unschedulable: 1 });
    await core.drain();
    expect(mesos.revives).toBe(revivesBefore + 1); // the volume may be filtered by an earlier DECLINE: REVIVE
    // a1's offer without the volume goes back with the short filter (the volume's role gets the whole agent next time);
    // a2's is kept for other pods
    expect(mesos.declines).toEqual([{ offerIds: [a1.id.value], refuse: 1 }]);
    expect(kube.unschedulable[0][1]).toMatch(/1 node\(s\) didn't offer the claim's Mesos volume.*1 node\(s\) had volume node affinity conflict|1 node\(s\) had volume node affinity conflict.*1 node\(s\) didn't offer/);
    core.onOffers([offer('a1', 'z1', [volume('c-d')])]);
    core.queue.moveAllToActive();
    expect(core.runCycle()).toMatchObject({ placed: 1 });
    await core.drain();
    const ops = mesos.accepts[0].operations;
    expect(ops.map((o) => o.type)).toEqual(['LAUNCH']);
    expect(mesos.accepts[0].offerIds.length).toBeGreaterThanOrEqual(1);
    expect(ops[0].launch!.task_infos![0].agent_id.value).toBe('a1');
    expect(ops[0].launch!.task_infos![0].resources).toContainEqual(volume('c-d'));
    expect(kube.createdVolumes).toEqual([]);
  });

  describe('reclaim', () => {
    const run = async (pv: V1PersistentVolume | undefined, o: { synced?: boolean } = {}) => {
      const t = setup();
      t.storage.synced = o.synced ?? true;
      if (pv) t.storage.volumes.set(pv.metadata!.name!, pv);
      t.core.onOffers([offer('a1', 'z1', [volume('c-d')])]);
      t.core.runCycle();
      await t.core.drain();
      return t;
    };

    it.each([
      ['no PersistentVolume (deleted, or never written)', undefined, []],
      ['its PV released with reclaim policy Delete (claim deleted): the PV is deleted after', pvOf('c-d', 'a1', {}, 'Released'), ['pvc-c-d']],
    ])('%s → DESTROY + UNRESERVE with refuse 0', async (_n, pv, deleted) => {
      const { mesos, kube, volumeOps } = await run(pv);
      expect(volumeOps).toEqual([['destroy', 1]]);
      expect(mesos.accepts).toHaveLength(1);
      expect(mesos.accepts[0].refuse).toBe(0);
      const ops = mesos.accepts[0].operations;
      expect(ops.map((x) => x.type)).toEqual(['DESTROY', 'UNRESERVE']);
      expect(ops[0].destroy!.volumes).toEqual([volume('c-d')]);
      const unreserved = ops[1].unreserve!.resources![0];
      expect(unreserved.disk).toBeUndefined();
      expect(unreserved.reservations).toEqual(volume('c-d').reservations);
      expect(kube.deletedVolumes).toEqual(deleted);
    });

    it.each([
      ['its PV bound', pvOf('c-d', 'a1')],
      ['its PV released with reclaim policy Retain', pvOf('c-d', 'a1', { persistentVolumeReclaimPolicy: 'Retain' }, 'Released')],
    ])('%s → kept (no ACCEPT; the offer is declined as idle)', async (_n, pv) => {
      const { mesos, kube } = await run(pv);
      expect(mesos.accepts).toEqual([]);
      expect(mesos.declines.length).toBeGreaterThan(0); // proof the cycle ran and let the offer go
      expect(kube.deletedVolumes).toEqual([]);
    });

    it('after SUBSCRIBED offers are wanted for RECLAIM_SCAN_MS though nothing waits: a volume whose PV went meanwhile is known only from an offer', async () => {
      const { core, mesos, advance } = setup({ scanOver: false });
      core.onOffers([offer('a1', 'z1', [])]);
      core.runCycle();
      await core.drain();
      expect(mesos.declines).toEqual([]); // held: the agent's reserved volume may come in the next offer of another role
      expect(mesos.suppresses).toBe(0);
      advance(5000); // its hold ends within the window: given back briefly (no SUPPRESS, so no REVIVE would undo a long one)
      core.runCycle();
      await core.drain();
      expect(mesos.declines.map((d) => d.refuse)).toEqual([1]);
      expect(mesos.suppresses).toBe(0);
      advance(RECLAIM_SCAN_MS);
      core.onOffers([offer('a1', 'z1', [])]);
      core.runCycle();
      await core.drain();
      expect(mesos.declines.map((d) => d.refuse)).toEqual([1, 300]);
      expect(mesos.suppresses).toBe(1);
    });

    it('a PV released for deletion keeps offers coming while no pod waits (REVIVE after SUPPRESS); a Retain one does not', async () => {
      const { core, mesos, storage } = setup();
      core.runCycle();
      await core.drain();
      expect(mesos.suppresses).toBe(1); // nothing pending: suppressed
      const revives = mesos.revives;
      storage.volumes.set('pvc-c-r', pvOf('c-r', 'a1', { persistentVolumeReclaimPolicy: 'Retain' }, 'Released'));
      core.onStorageChange();
      core.runCycle();
      await core.drain();
      expect(mesos.revives).toBe(revives);
      storage.volumes.set('pvc-c-d', pvOf('c-d', 'a1', {}, 'Released'));
      core.onStorageChange();
      core.runCycle();
      await core.drain();
      expect(mesos.revives).toBe(revives + 1);
    });

    it('nothing is reclaimed before the storage informers have synced (a restart)', async () => {
      const { mesos } = await run(undefined, { synced: false });
      expect(mesos.accepts).toEqual([]);
      expect(mesos.declines.length).toBeGreaterThan(0);
    });

    it('a volume just created (its PV not seen yet) is not reclaimed', async () => {
      const { core, mesos, storage } = setup();
      storage.claims.set('d', claim('d', { storageClassName: 'mesos', resources: { requests: { storage: '1Gi' } } }));
      core.onPodUpsert(statefulPod('web-0', 'd'));
      core.onOffers([offer('a1', 'z1')]);
      core.runCycle();
      await core.drain();
      // the task failed at once and the volume is offered back before the PV reaches the informer
      core.onOffers([offer('a1', 'z1', [volume('c-d')])]);
      core.runCycle();
      await core.drain();
      expect(mesos.accepts.map((a) => a.operations.map((o) => o.type))).toEqual([['RESERVE', 'CREATE', 'LAUNCH']]);
    });
  });
});
