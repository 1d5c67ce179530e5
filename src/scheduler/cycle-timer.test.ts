// The cycle timer: at most one cycle per interval after a wake-up — except that offers arriving for pods the last cycle
// could not place (no offer held: a REVIVE's offers come 10–30 ms after it) run the next cycle at once.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { silentLogger } from '../telemetry/log.js';
import { FrameworkCore } from './framework.js';
import { aPod, anOffer } from './testing/builders.js';
import { TEST_CORE_CONFIG } from './testing/core-harness.js';
import { FakeKube, FakeMesos } from './testing/fakes.js';

function timedCore() {
  const mesos = new FakeMesos();
  const core = new FrameworkCore({ mesos, kube: new FakeKube(), clock: { now: () => Date.now() }, log: silentLogger(), config: TEST_CORE_CONFIG, cycleIntervalMs: 100 });
  core.onSubscribed('fw');
  return { core, mesos };
}

describe('cycle timer', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('offers that arrive for pods the last cycle had no offer for are used at once, not at the end of the interval', async () => {
    const { core, mesos } = timedCore();
    core.onPodUpsert(aPod('p1').build());
    await jest.advanceTimersByTimeAsync(1); // the cycle: a pod, no offer (REVIVE goes out)
    expect(mesos.accepts).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(20);
    core.onOffers([anOffer('a1').zone('z1').build()]);
    await jest.advanceTimersByTimeAsync(1); // 22 ms after the first cycle, well inside the 100 ms interval
    expect(mesos.accepts).toHaveLength(1);
    await core.stop();
  });

  it('other wake-ups wait for the interval: a second pod 10 ms after a cycle that placed one is placed 100 ms after it', async () => {
    const { core, mesos } = timedCore();
    core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build()]);
    core.onPodUpsert(aPod('p1').build());
    await jest.advanceTimersByTimeAsync(1);
    expect(mesos.accepts).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(10);
    core.onPodUpsert(aPod('p2').build());
    await jest.advanceTimersByTimeAsync(80);
    expect(mesos.accepts).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(20);
    expect(mesos.accepts).toHaveLength(2);
    await core.stop();
  });
});
