// placement.bindOnAccept: the Binding on the ACCEPT's answer, not on the task's first TASK_STARTING.
import { aPod, anOffer, statusOf } from './testing/builders.js';
import { coreHarness } from './testing/core-harness.js';

describe('placement.bindOnAccept', () => {
  it('binds the pod once the master accepted the launch, before any update; the first TASK_RUNNING binds nothing more', async () => {
    const { core, mesos, kube } = coreHarness({ bindOnAccept: true });
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    expect(core.runCycle()).toMatchObject({ placed: 1 });
    await core.drain();
    const [task] = mesos.tasks();
    expect(kube.bindings.map(([name, node, a]) => [name, node, a['kube-mesos.io/task-id']])).toEqual([['p1', 'a1.example', task.task_id.value]]);
    core.onUpdate(statusOf(task).state('TASK_RUNNING').build());
    await core.drain();
    expect(kube.bindings).toHaveLength(1);
    expect(kube.failed).toEqual([]);
  });

  it('without it, nothing is bound before the task reaches its agent', async () => {
    const { core, mesos, kube } = coreHarness();
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    expect(kube.bindings).toEqual([]);
    core.onUpdate(statusOf(mesos.tasks()[0]).state('TASK_STARTING').build());
    await core.drain();
    expect(kube.bindings).toHaveLength(1);
  });

  it('a launch that fails before reaching its agent leaves the pod bound there: it is failed (BoundWithoutTask), not placed again', async () => {
    const { core, mesos, kube } = coreHarness({ bindOnAccept: true });
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    expect(kube.bindings).toHaveLength(1);
    core.onUpdate(statusOf(mesos.tasks()[0]).state('TASK_DROPPED').reason('REASON_INVALID_OFFERS').build());
    await core.drain();
    expect(kube.failed).toEqual([['p1', 'BoundWithoutTask']]);
    expect(core.queue.size).toBe(0);
    core.onOffers([anOffer('a2').zone('z2').build()]);
    core.runCycle();
    await core.drain();
    expect(mesos.tasks()).toHaveLength(1);
  });

  it('a task that reached its agent and then ended is the pod\'s own story, as without bindOnAccept (no BoundWithoutTask)', async () => {
    const { core, mesos, kube } = coreHarness({ bindOnAccept: true });
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([anOffer('a1').zone('z1').build()]);
    core.runCycle();
    await core.drain();
    const [task] = mesos.tasks();
    core.onUpdate(statusOf(task).state('TASK_RUNNING').build());
    core.onUpdate(statusOf(task).state('TASK_FAILED').reason('REASON_EXECUTOR_TERMINATED').build());
    await core.drain();
    expect(kube.failed).toEqual([]);
  });
});
