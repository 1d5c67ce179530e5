// Issue 16 item 10: a consolidation drain blocked by a PodDisruptionBudget ends (deadline), and never holds back the
// kubelets other pods need while it lasts.
import { DEFAULT_POOL_CONFIG } from '../pool/planner.js';
import { silentLogger } from '../telemetry/log.js';
import { FrameworkCore, type FrameworkCoreConfig } from './framework.js';
import { aPod, anOffer, statusOf } from './testing/builders.js';
import { FakeKube, FakeMesos } from './testing/fakes.js';
import { TEST_CORE_CONFIG } from './testing/core-harness.js';

const config: FrameworkCoreConfig = {
  ...TEST_CORE_CONFIG,
  pool: { ...DEFAULT_POOL_CONFIG, consolidation: true, consolidationDelayMs: 0, drainTimeoutMs: 60_000 },
};

/** Two kubelets (a1 with a big pod, a2 with a small one); the small one's PDB refuses every eviction; a2 is draining. */
async function drainingBlocked() {
  let now = 1000;
  const mesos = new FakeMesos();
  const kube = new FakeKube();
  const core = new FrameworkCore({ mesos, kube, clock: { now: () => now }, log: silentLogger(), config });
  core.onSubscribed('fw');
  core.onPodUpsert(aPod('big').cpu('2.5').owned('rs-big').build());
  core.onOffers([anOffer('a1').zone('z1').build()]);
  core.runCycle();
  core.onPodUpsert(aPod('small').cpu('500m').owned('rs-small').build());
  core.onOffers([anOffer('a2').zone('z2').build()]);
  core.runCycle();
  for (const t of mesos.tasks()) core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
  const smallAgent = mesos.tasks().find((t) => t.task_id.value.startsWith('ns.small.'))!.agent_id.value;
  kube.evictAnswer = 'blocked';
  core.runCycle();
  core.runCycle();
  await core.drain();
  expect(core.tasks.kubelet(smallAgent)?.state).toBe('draining');
  return { core, mesos, kube, smallAgent, advance: (ms: number) => (now += ms) };
}

describe('consolidation drain (item 10)', () => {
  it('is abandoned after pool.drainTimeout: uncordoned, kubelet running again, a DrainAbandoned event on the Node', async () => {
    const { core, kube, smallAgent, advance } = await drainingBlocked();
    advance(59_999);
    core.runCycle();
    await core.drain();
    expect(kube.uncordoned).toEqual([]);
    advance(1);
    core.runCycle();
    await core.drain();
    expect(core.tasks.kubelet(smallAgent)?.state).toBe('running');
    expect(kube.uncordoned).toEqual([`${smallAgent}.example`]);
    expect(kube.nodeWarnings).toHaveLength(1);
    expect(kube.nodeWarnings[0][1]).toBe('DrainAbandoned');
    expect(kube.nodeWarnings[0][2]).toMatch(/PodDisruptionBudget.*ns\/small/);
    // and it is not drained again at once
    core.runCycle();
    core.runCycle();
    await core.drain();
    expect(core.tasks.kubelet(smallAgent)?.state).toBe('running');
  });

  it('while it lasts, a pod that fits no running kubelet still gets a new one', async () => {
    const { core, mesos } = await drainingBlocked();
    core.onPodUpsert(aPod('huge').cpu('3').owned('rs-other').build());
    core.onOffers([anOffer('a3').zone('z3').build()]);
    core.runCycle();
    await core.drain();
    const huge = mesos.tasks().find((t) => t.task_id.value.startsWith('ns.huge.'));
    expect(huge?.agent_id.value).toBe('a3');
  });

  it('a re-created pod of the drained owner does not start a new kubelet (that would undo the consolidation)', async () => {
    const { core, mesos } = await drainingBlocked();
    core.onPodUpsert(aPod('small-2').cpu('3').owned('rs-small').build()); // fits only a new kubelet
    core.onOffers([anOffer('a3').zone('z3').build()]);
    core.runCycle();
    await core.drain();
    expect(mesos.tasks().some((t) => t.task_id.value.startsWith('ns.small-2.'))).toBe(false);
  });
});
