// Pods bound to a kube-mesos Node by someone else (kube-scheduler, a DaemonSet, spec.nodeName) wait for a Mesos task on
// that agent. Found by bench/real-pods-compare.bench.ts: ten kube-scheduler pods on two warm kubelets, six of them still
// without a task a minute later.
import { aPod, anOffer } from './testing/builders.js';
import { coreHarness } from './testing/core-harness.js';

const foreign = (name: string, node: string) => aPod(name).cpu('100m').memory('32Mi').spec({ schedulerName: 'default-scheduler', nodeName: node }).build();

describe('pods bound by another scheduler', () => {
  it('get their tasks one per agent per cycle, and while some still wait each ACCEPT refuses the rest of the agent only briefly', async () => {
    const { core, mesos, advance } = coreHarness();
    core.onOffers([anOffer('a1').zone('z1').build()]);
    for (const n of ['q1', 'q2', 'q3']) core.onPodUpsert(foreign(n, 'a1.example'));
    core.runCycle();
    await core.drain();
    expect(mesos.tasks().map((t) => t.name)).toEqual(['pod ns/q1']);
    // The agent's rest goes back to Mesos with the ACCEPT's filter: two pods still wait for it, so the filter is the
    // short one (mesos.refuseSeconds.waiting), not the idle one that would keep the agent away for 5 minutes.
    expect(mesos.accepts.map((a) => a.refuse)).toEqual([1]);

    advance(1000);
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    expect(mesos.tasks().map((t) => t.name)).toEqual(['pod ns/q1', 'pod ns/q2']);
    expect(mesos.accepts.map((a) => a.refuse)).toEqual([1, 1]);

    advance(1000);
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    // The last one: nothing waits any more, so the rest of the agent is refused for the idle time.
    expect(mesos.tasks().map((t) => t.name)).toEqual(['pod ns/q1', 'pod ns/q2', 'pod ns/q3']);
    expect(mesos.accepts.map((a) => a.refuse)).toEqual([1, 1, 300]);
  });
});
