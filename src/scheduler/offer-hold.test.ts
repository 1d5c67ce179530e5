// How long kube-mesos keeps offers and how it gives them back: the hold (mesos.offerHold) while pods wait, the prompt
// DECLINE with refuseSeconds.idle and SUPPRESS once nothing is pending and no pod came for a second. What a shared Mesos cluster needs from us.
import { loadConfig } from '../config/config.js';
import { coreConfig } from './core-config.js';
import { PODS_ARRIVING_MS } from './offer-stream.js';
import { aPod, anOffer } from './testing/builders.js';
import { coreHarness, TEST_CORE_CONFIG } from './testing/core-harness.js';
import { FakeKube, FakeMesos, noMetrics } from './testing/fakes.js';
import { FrameworkCore } from './framework.js';
import { silentLogger } from '../telemetry/log.js';

describe('offer hold and declines', () => {
  it('kube_mesos_offer_held_duration_seconds: each offer\'s hold, from its arrival to the ACCEPT or DECLINE', async () => {
    let now = 1000;
    const held: number[] = [];
    const core = new FrameworkCore({ mesos: new FakeMesos(), kube: new FakeKube(), clock: { now: () => now }, log: silentLogger(), config: { ...TEST_CORE_CONFIG, offerHoldMs: 2000 }, metrics: { ...noMetrics, offerHeld: (s) => held.push(s) } });
    core.onSubscribed('fw');
    core.onPodUpsert(aPod('huge').cpu('64').build());
    core.onOffers([anOffer('a1').zone('z1').cpus(0.1).build()]); // too small for any pod with its kubelet
    core.runCycle();
    now += 300;
    core.onOffers([anOffer('a2').zone('z2').build()]);
    core.onPodUpsert(aPod('small').build());
    core.runCycle(); // small is placed on a2: its hold ends now
    expect(held).toEqual([0]);
    now += 1700;
    core.runCycle(); // a1 reached the hold: declined
    expect(held.slice(1)).toEqual([2]);
    // Nothing pending and no pod for a while: everything held goes back at once, each offer counted.
    core.onOffers([anOffer('a3').zone('z3').build()]);
    core.onPodDelete(aPod('huge').cpu('64').build());
    now += 1500; // below the hold: given back because nothing waits, not because it expired
    core.runCycle();
    expect(held.slice(2)).toEqual([1.5]);
    await core.drain();
  });

  it('an offer no waiting pod fits is declined a tenth of mesos.offerHold before the hold ends (refuse_seconds = refuseSeconds.waiting), not before', async () => {
    const { core, mesos, advance } = coreHarness({ offerHoldMs: 2000 });
    core.onPodUpsert(aPod('huge').cpu('64').build());
    const offer = anOffer('a1').zone('z1').build();
    core.onOffers([offer]);
    core.runCycle();
    await core.drain();
    expect(mesos.accepts).toHaveLength(0);
    expect(mesos.declines).toHaveLength(0);
    // The core asks to be woken when the offer is due back (1.8 s of the 2 s hold), so the decline waits for nothing else
    // and is at the master within the hold.
    expect(core.nextWakeMs()).toBeLessThanOrEqual(1000 + 1800);
    advance(1799);
    core.runCycle();
    await core.drain();
    expect(mesos.declines).toHaveLength(0);
    advance(1);
    core.runCycle();
    await core.drain();
    expect(mesos.declines).toEqual([{ offerIds: [offer.id.value], refuse: 1 }]);
    expect(mesos.suppresses).toBe(0); // the pod still waits
  });

  it('once nothing is pending and no pod came for PODS_ARRIVING_MS, the offers left are declined with refuseSeconds.idle, and SUPPRESS follows', async () => {
    const { core, mesos, advance } = coreHarness({ offerHoldMs: 5000 });
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build(), anOffer('a3').zone('z3').build()]);
    core.runCycle();
    await core.drain();
    expect(mesos.accepts).toHaveLength(1);
    // A pod came a moment ago: more may follow, the rest is kept (pods-arriving.test.ts)…
    expect(mesos.declines).toHaveLength(0);
    // …until a full PODS_ARRIVING_MS passed without one (well within the 5 s hold).
    expect(core.nextWakeMs()).toBeLessThanOrEqual(1000 + PODS_ARRIVING_MS);
    advance(PODS_ARRIVING_MS);
    core.runCycle();
    await core.drain();
    const declined = mesos.declines.flatMap((d) => d.offerIds);
    expect(declined).toHaveLength(2);
    expect(declined).not.toContain(mesos.accepts[0].offerIds[0]);
    expect(mesos.declines.every((d) => d.refuse === 300)).toBe(true);
    expect(mesos.suppresses).toBe(1);
    // An offer that was already on its way when we suppressed is declined the same way, in the cycle it wakes.
    const late = anOffer('a4').zone('z1').build();
    core.onOffers([late]);
    core.runCycle();
    await core.drain();
    expect(mesos.declines.at(-1)).toEqual({ offerIds: [late.id.value], refuse: 300 });
    expect(mesos.suppresses).toBe(1);
  });

  it('mesos.offerHold is a duration key (default 5s) that reaches the core; below 500ms is refused naming the key', () => {
    const opts = { executorCommand: 'kube-mesos executor', executorKubeconfig: '/kc' };
    const def = loadConfig();
    if (!def.ok) throw new Error(def.errors.join('; '));
    expect(coreConfig(def.config, opts).offerHoldMs).toBe(5000);
    const set = loadConfig({ flags: [['mesos.offerHold', '2s']] });
    if (!set.ok) throw new Error(set.errors.join('; '));
    expect(coreConfig(set.config, opts).offerHoldMs).toBe(2000);
    const bad = loadConfig({ env: { KUBE_MESOS_MESOS_OFFER_HOLD: '100ms' } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join('\n')).toMatch(/mesos\.offerHold.*KUBE_MESOS_MESOS_OFFER_HOLD/);
  });
});
