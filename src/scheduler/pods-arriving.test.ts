// Offers while pods keep coming one by one (a steady stream): the queue running empty between two pods is not "idle".
import { silentLogger } from '../telemetry/log.js';
import { FrameworkCore, type FrameworkMetrics } from './framework.js';
import { aPod, anOffer, statusOf } from './testing/builders.js';
import { coreHarness, TEST_CORE_CONFIG } from './testing/core-harness.js';
import { FakeKube, FakeMesos, noMetrics } from './testing/fakes.js';
import { PODS_ARRIVING_MS } from './offer-stream.js';

describe('pods arriving one by one', () => {
  it('keeps the held offers and stays unsuppressed between pods, the accepted offer\'s rest filtered briefly', async () => {
    const { core, mesos, advance } = coreHarness();
    await core.drain();
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build(), anOffer('a3').zone('z3').build()]);
    expect(core.runCycle()).toMatchObject({ placed: 1, declined: 0 });
    await core.drain();
    // The queue ran empty, but a pod came just now: the offers stay, nothing is suppressed, the rest of a1 is refused 1 s only.
    expect(mesos.accepts.map((a) => a.refuse)).toEqual([1]);
    expect(mesos.declines).toEqual([]);
    expect(mesos.suppresses).toBe(0);
    expect(core.offers.size).toBe(2);
    // The next pod, 500 ms later, is placed on a held offer: no wait for the master's next allocation.
    advance(500);
    core.onPodUpsert(aPod('p2').build());
    expect(core.runCycle()).toMatchObject({ placed: 1, declined: 0 });
    await core.drain();
    expect(mesos.accepts.map((a) => a.refuse)).toEqual([1, 1]);
    expect(core.offers.size).toBe(1);
  });

  it('gives everything back (long refusal, SUPPRESS) once no pod came for PODS_ARRIVING_MS, and wakes the cycle for it', async () => {
    const { core, mesos, advance } = coreHarness();
    await core.drain();
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build()]);
    core.runCycle();
    await core.drain();
    expect(mesos.declines).toEqual([]);
    // The cycle is due when the stream counts as stopped.
    expect(core.nextWakeMs()).toBe(1000 + PODS_ARRIVING_MS);
    advance(PODS_ARRIVING_MS - 1);
    core.runCycle();
    await core.drain();
    expect(mesos.declines).toEqual([]);
    advance(1);
    expect(core.runCycle()).toMatchObject({ declined: 1 });
    await core.drain();
    expect(mesos.declines).toEqual([{ offerIds: [expect.any(String)], refuse: 300 }]);
    expect(mesos.suppresses).toBe(1);
    expect(core.offers.size).toBe(0);
  });

  it('a pod changing while it waits is not a new arrival', async () => {
    const { core, mesos, advance } = coreHarness();
    await core.drain();
    const big = aPod('big').cpu('64').build();
    core.onPodUpsert(big);
    advance(PODS_ARRIVING_MS);
    // The same pod again (a label changed): it does not keep the stream "arriving".
    core.onPodUpsert({ ...big, metadata: { ...big.metadata, resourceVersion: '2', labels: { x: 'y' } } });
    core.onPodDelete(big);
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    expect(mesos.declines).toEqual([{ offerIds: [expect.any(String)], refuse: 300 }]);
  });
});

describe('the way of a pod task to its agent', () => {
  it('is measured from the ACCEPT to the first TASK_STARTING, once per task', async () => {
    let now = 1000;
    const mesos = new FakeMesos();
    const reached: number[] = [];
    const metrics: FrameworkMetrics = { ...noMetrics, taskReached: (s) => reached.push(s) };
    const core = new FrameworkCore({ mesos, kube: new FakeKube(), clock: { now: () => now }, log: silentLogger(), config: TEST_CORE_CONFIG, metrics });
    core.onSubscribed('fw');
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    const [task] = mesos.tasks();
    now += 40;
    core.onUpdate(statusOf(task).state('TASK_STARTING').build());
    now += 500;
    core.onUpdate(statusOf(task).state('TASK_RUNNING').build());
    await core.drain();
    expect(reached).toEqual([0.04]);
  });
});
