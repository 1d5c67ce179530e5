import type { V1Pod } from '@kubernetes/client-node';
import type { InverseOffer, Offer } from '../mesos/types.js';
import { silentLogger } from '../telemetry/log.js';
import { DEFAULT_MAINTENANCE_CONFIG, MaintenanceManager, planMaintenance, type DrainAgent, type DrainPod, type EvictResult } from './maintenance.js';

const cfg = DEFAULT_MAINTENANCE_CONFIG;
const dpod = (key: string, over: Partial<DrainPod> = {}): DrainPod => ({ key, safeToEvict: true, terminating: false, ...over });
const dagent = (pods: DrainPod[], over: Partial<DrainAgent> = {}): DrainAgent => ({ agentId: 'a1', nodeName: 'n1', inverseOfferId: 'io1', cordoned: true, pods, ...over });
const kinds = (actions: { kind: string; podKey?: string }[]) => actions.map((a) => (a.podKey ? `${a.kind}:${a.podKey}` : a.kind));

describe('planMaintenance', () => {
  it.each<[string, DrainAgent, string[], string]>([
    ['cordons first, evicts every pod at once, holds the answer', dagent([dpod('p1'), dpod('p2')], { cordoned: false }), ['cordon', 'evict:p1', 'evict:p2'], 'draining'],
    ['accepts when no pod is left', dagent([]), ['accept'], 'drained'],
    ['waits for terminating pods without answering', dagent([dpod('p1', { terminating: true })]), [], 'draining'],
    ['waits after an accepted eviction', dagent([dpod('p1', { lastEviction: { atMs: 0, outcome: 'ok', message: '' } })]), [], 'draining'],
    [
      'a PDB refusal blocks: decline, warn, retry later',
      dagent([dpod('p1', { lastEviction: { atMs: 9000, outcome: 'DisruptionBudget', message: 'Cannot evict pod' } })]),
      ['warn:p1', 'decline'],
      'blocked',
    ],
    [
      'retries a PDB refusal after evictRetryMs',
      dagent([dpod('p1', { lastEviction: { atMs: 4000, outcome: 'DisruptionBudget', message: 'x' }, lastWarnMs: 4000 })]),
      ['evict:p1', 'decline'],
      'blocked',
    ],
    ['safe-to-evict "false" blocks and is never evicted', dagent([dpod('p1', { safeToEvict: false }), dpod('p2')]), ['evict:p2', 'warn:p1', 'decline'], 'blocked'],
    ['a pod without a controller blocks and is not evicted', dagent([dpod('p1', { bare: true })]), ['warn:p1', 'decline'], 'blocked'],
    ['a bare pod already terminating just goes', dagent([dpod('p1', { bare: true, terminating: true })]), [], 'draining'],
    ['warns again only after warnIntervalMs', dagent([dpod('p1', { safeToEvict: false, lastWarnMs: 0 })]), ['decline'], 'blocked'],
    ['retries a transient eviction error without blocking', dagent([dpod('p1', { lastEviction: { atMs: 0, outcome: 'error', message: '503' } })]), ['evict:p1'], 'draining'],
    ['without an outstanding inverse offer it drains but answers nothing', dagent([dpod('p1', { safeToEvict: false, lastWarnMs: 9000 })], { inverseOfferId: undefined }), [], 'blocked'],
    ['drained without an inverse offer: nothing to do', dagent([], { inverseOfferId: undefined }), [], 'drained'],
  ])('%s', (_name, agent, want, state) => {
    const plan = planMaintenance({ nowMs: 10_000, agents: [agent] }, cfg);
    expect(kinds(plan.actions)).toEqual(want);
    expect(plan.status[0].state).toBe(state);
  });

  it('names the blockers in the decline and says why in the warning', () => {
    const plan = planMaintenance(
      { nowMs: 10_000, agents: [dagent([dpod('ns/keep', { safeToEvict: false }), dpod('ns/web', { lastEviction: { atMs: 9999, outcome: 'DisruptionBudget', message: 'Cannot evict pod as it would violate the pod\'s disruption budget.' } })])] },
      cfg,
    );
    const decline = plan.actions.find((a) => a.kind === 'decline');
    expect(decline).toEqual({
      kind: 'decline',
      agentId: 'a1',
      inverseOfferId: 'io1',
      blockers: [
        { podKey: 'ns/keep', reason: 'SafeToEvict', message: 'pod ns/keep is annotated kube-mesos.io/safe-to-evict: "false"' },
        { podKey: 'ns/web', reason: 'DisruptionBudget', message: "evicting pod ns/web would violate its PodDisruptionBudget: Cannot evict pod as it would violate the pod's disruption budget." },
      ],
    });
    expect(plan.actions.filter((a) => a.kind === 'warn').map((a) => a.kind === 'warn' && a.reason)).toEqual(['SafeToEvict', 'DisruptionBudget']);
  });
});

// ---- the manager, with fakes for the ports ---------------------------------------------------------------------------

const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }];
const pod = (name: string, annotations: Record<string, string> = {}, deleting = false, ownerReferences = owner): V1Pod => ({
  metadata: { namespace: 'ns', name, uid: `uid-${name}`, annotations, ownerReferences, ...(deleting ? { deletionTimestamp: new Date(0) } : {}) },
  spec: { containers: [] },
  status: { phase: 'Running' },
});

const inverseOffer = (id: string, agentId: string): InverseOffer => ({ id: { value: id }, framework_id: { value: 'fw' }, agent_id: { value: agentId }, unavailability: { start: { nanoseconds: 1_700_000_030_000 * 1e6 } } });
const offer = (id: string, agentId: string, unavailable = false): Offer => ({
  id: { value: id },
  framework_id: { value: 'fw' },
  agent_id: { value: agentId },
  hostname: agentId,
  ...(unavailable ? { unavailability: { start: { nanoseconds: 1 } } } : {}),
});

function harness() {
  let now = 1_700_000_000_000;
  const calls: string[] = [];
  const podsByAgent = new Map<string, V1Pod[]>();
  const evictAnswers = new Map<string, EvictResult>();
  const offers = new Map<string, Offer>();
  const inflight: Promise<unknown>[] = [];
  let wakes = 0;
  const m = new MaintenanceManager({
    mesos: {
      decline: async (ids, r) => void calls.push(`decline-offers ${ids.join(',')} ${r}`),
      acceptInverseOffers: async (ids, r) => void calls.push(`accept ${ids.join(',')} ${r}`),
      declineInverseOffers: async (ids, r) => void calls.push(`decline ${ids.join(',')} ${r}`),
    },
    kube: {
      cordonNode: async (n) => void calls.push(`cordon ${n}`),
      uncordonNode: async (n) => void calls.push(`uncordon ${n}`),
      evictPod: async (p) => {
        calls.push(`evict ${p.metadata!.name}`);
        return evictAnswers.get(p.metadata!.name!) ?? 'evicted';
      },
      reportWarning: async (p, reason, message) => void calls.push(`warn ${p.metadata!.name} ${reason} ${message}`),
    },
    offers: {
      forAgent: (a) => [...offers.values()].filter((o) => o.agent_id.value === a),
      takeAgent: (a) => {
        const out = [...offers.values()].filter((o) => o.agent_id.value === a);
        for (const o of out) offers.delete(o.id.value);
        return out;
      },
      agents: () => new Set([...offers.values()].map((o) => o.agent_id.value)),
    },
    clock: { now: () => now },
    log: silentLogger(),
    podsOn: (a) => podsByAgent.get(a) ?? [],
    nodeName: (a) => `node-${a}`,
    send: (p) => void inflight.push(p.catch(() => undefined)),
    wake: () => void wakes++,
  });
  return {
    m,
    calls,
    podsByAgent,
    evictAnswers,
    offers,
    advance: (ms: number) => (now += ms),
    now: () => now,
    wakes: () => wakes,
    settle: async () => {
      while (inflight.length) await inflight.shift();
    },
    take: () => calls.splice(0),
  };
}

describe('MaintenanceManager', () => {
  it('cordons, evicts, and accepts the inverse offer once the pods are gone; offers of the agent are declined meanwhile', async () => {
    const h = harness();
    h.podsByAgent.set('a1', [pod('p1'), pod('p2')]);
    h.offers.set('o1', offer('o1', 'a1'));
    h.offers.set('o2', offer('o2', 'a2'));
    h.m.onInverseOffers([inverseOffer('io1', 'a1')]);
    expect(h.wakes()).toBe(1);
    expect(h.m.isDraining('a1')).toBe(true);
    expect(h.m.isDraining('a2')).toBe(false);
    h.m.runCycle(h.now());
    await h.settle();
    expect(h.take()).toEqual(['decline-offers o1 30', 'cordon node-a1', 'evict p1', 'evict p2']);
    expect([...h.offers.keys()]).toEqual(['o2']);
    // the pods are terminating now; nothing is answered yet
    h.podsByAgent.set('a1', [pod('p1', {}, true), pod('p2', {}, true)]);
    h.m.runCycle(h.advance(1000));
    expect(h.take()).toEqual([]);
    h.podsByAgent.set('a1', []);
    h.m.runCycle(h.advance(1000));
    await h.settle();
    expect(h.take()).toEqual(['accept io1 60']);
    expect(h.m.debugState().agents).toMatchObject([{ agentId: 'a1', state: 'drained', accepted: 1, declined: 0 }]);
  });

  it('declines while a PDB refuses the eviction, warns on the pod, retries, and accepts the next inverse offer once it could go', async () => {
    const h = harness();
    h.podsByAgent.set('a1', [pod('web')]);
    h.evictAnswers.set('web', 'blocked');
    h.m.onInverseOffers([inverseOffer('io1', 'a1')]);
    h.m.runCycle(h.now());
    await h.settle();
    expect(h.take()).toEqual(['cordon node-a1', 'evict web']);
    h.m.runCycle(h.advance(100)); // the refusal is known now
    await h.settle();
    const calls = h.take();
    expect(calls[0]).toMatch(/^warn web MaintenanceBlocked evicting pod ns\/web would violate its PodDisruptionBudget: the Eviction API refused it \(429\): a PodDisruptionBudget allows no disruption now; it blocks the maintenance of agent a1 \(node node-a1\) due at 2023-11-14T22:13:50.000Z, whose Mesos inverse offer is declined until the pod can go$/);
    expect(calls.slice(1)).toEqual(['decline io1 5']);
    // Mesos asks again after the filter; the eviction is retried and now goes through
    h.evictAnswers.delete('web');
    h.m.onInverseOffers([inverseOffer('io2', 'a1')]);
    h.m.runCycle(h.advance(5000));
    await h.settle();
    expect(h.take()).toEqual(['evict web', 'decline io2 5']);
    h.m.onInverseOffers([inverseOffer('io3', 'a1')]);
    h.podsByAgent.set('a1', []);
    h.m.runCycle(h.advance(5000));
    await h.settle();
    expect(h.take()).toEqual(['accept io3 60']);
    expect(h.m.debugState().agents[0]).toMatchObject({ accepted: 1, declined: 2 });
  });

  it('never evicts a pod annotated safe-to-evict "false" and says so, once a minute', async () => {
    const h = harness();
    h.podsByAgent.set('a1', [pod('db', { 'kube-mesos.io/safe-to-evict': 'false' })]);
    h.m.onInverseOffers([inverseOffer('io1', 'a1')]);
    h.m.runCycle(h.now());
    await h.settle();
    const calls = h.take();
    expect(calls.filter((c) => c.startsWith('evict'))).toEqual([]);
    expect(calls.filter((c) => c.startsWith('warn'))).toHaveLength(1);
    expect(calls[1]).toMatch(/^warn db MaintenanceBlocked pod ns\/db is annotated kube-mesos.io\/safe-to-evict: "false"/);
    expect(calls).toContain('decline io1 5');
    h.m.onInverseOffers([inverseOffer('io2', 'a1')]);
    h.m.runCycle(h.advance(30_000));
    expect(h.take()).toEqual(['decline io2 5']);
    h.m.onInverseOffers([inverseOffer('io3', 'a1')]);
    h.m.runCycle(h.advance(30_000));
    expect(h.take().map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual(['warn db', 'decline io3']);
  });

  it.each([
    [{}, ['cordon node-a1', 'warn', 'decline io1 5']],
    [{ 'kube-mesos.io/safe-to-evict': 'true' }, ['cordon node-a1', 'evict bare']],
  ])('a pod without a controller (annotations %j) blocks unless annotated safe-to-evict "true"', async (annotations, want) => {
    const h = harness();
    h.podsByAgent.set('a1', [pod('bare', annotations, false, [])]);
    h.m.onInverseOffers([inverseOffer('io1', 'a1')]);
    h.m.runCycle(h.now());
    await h.settle();
    expect(h.take().map((c) => (c.startsWith('warn') ? 'warn' : c))).toEqual(want);
  });

  it('an offer with unavailability puts its agent under maintenance; one without ends it (uncordon)', async () => {
    const h = harness();
    h.offers.set('o1', offer('o1', 'a3', true));
    h.m.runCycle(h.now());
    await h.settle();
    expect(h.m.isDraining('a3')).toBe(true);
    expect(h.take()).toEqual(['decline-offers o1 30', 'cordon node-a3']);
    h.m.onRescindInverseOffer('unknown'); // harmless
    h.offers.set('o2', offer('o2', 'a3', false));
    h.m.runCycle(h.advance(30_000));
    await h.settle();
    expect(h.m.isDraining('a3')).toBe(false);
    expect(h.take()).toEqual(['uncordon node-a3']);
    expect([...h.offers.keys()]).toEqual(['o2']); // back in the pool for placement
  });

  it('a rescinded inverse offer is not answered', async () => {
    const h = harness();
    h.m.onInverseOffers([inverseOffer('io1', 'a1')]);
    h.m.onRescindInverseOffer('io1');
    h.m.runCycle(h.now());
    await h.settle();
    expect(h.take()).toEqual(['cordon node-a1']);
  });

  it('checks its configuration', () => {
    expect(() => new MaintenanceManager({ config: { evictRetryMs: -1 } } as unknown as ConstructorParameters<typeof MaintenanceManager>[0])).toThrow('maintenance.evictRetryMs must be a number ≥ 0, got -1');
  });
});
