// A task that ends while its Binding waits (a Retry-After, the backoff) cancels it: the pod, not bound, is placed again.
import type { BindOutcome } from './ports.js';
import { aPod, anOffer, statusOf } from './testing/builders.js';
import { coreHarness } from './testing/core-harness.js';

/** p1's first Binding held as the API server's 429 holds it: it ends on its signal's abort, or when `retried` answers. */
async function bindingHeld() {
  const h = coreHarness();
  let retried: (out: BindOutcome) => void = () => {};
  h.kube.bindHold = (signal) =>
    new Promise<BindOutcome>((resolve) => {
      retried = resolve;
      signal?.addEventListener('abort', () => resolve({ kind: 'cancelled' }), { once: true });
    });
  h.core.onPodUpsert(aPod('p1').owned().build());
  h.core.onOffers([anOffer('a1').zone('z1').build()]);
  h.core.runCycle();
  const [task] = h.mesos.tasks();
  h.core.onUpdate(statusOf(task).state('TASK_STARTING').build());
  await new Promise(setImmediate);
  return { ...h, task, retried: (out: BindOutcome) => retried(out) };
}

describe('a Binding whose task ends while it waits', () => {
  it('is cancelled: no BoundWithoutTask, no kill, no FailedScheduling; the pod is placed again and its new task bound', async () => {
    const { core, mesos, kube, advance, task, retried } = await bindingHeld();
    expect(kube.bindSignals).toHaveLength(1);
    expect(kube.bindSignals[0]?.aborted).toBe(false);
    core.onUpdate(statusOf(task).state('TASK_FAILED').reason('REASON_EXECUTOR_TERMINATED').build()); // SIGKILLed executor
    await new Promise(setImmediate);
    retried({ kind: 'bound' }); // the retry after the Retry-After: it must not have been sent
    await core.drain();
    expect(kube.bindSignals[0]?.aborted).toBe(true);
    expect(kube.failed).toEqual([]);
    expect(kube.warnings.map(([, reason]) => reason)).not.toContain('FailedScheduling');
    expect(core.dashboardState().events.map((e) => e.reason)).not.toContain('BoundWithoutTask');
    expect(mesos.kills).toEqual([]);
    expect(kube.scheduled).toEqual([]);

    kube.bindHold = undefined;
    advance(60_000); // past the re-queued pod's backoff
    core.onOffers([anOffer('a2').zone('z2').build()]);
    core.runCycle();
    await core.drain();
    const tasks = mesos.tasks();
    expect(tasks).toHaveLength(2);
    const next = tasks[1];
    expect(next.task_id.value).not.toBe(task.task_id.value);
    core.onUpdate(statusOf(next).state('TASK_STARTING').build());
    await core.drain();
    expect(kube.bindings.map(([name, node, a]) => [name, node, a['kube-mesos.io/task-id']])).toEqual([
      ['p1', 'a1.example', task.task_id.value],
      ['p1', 'a2.example', next.task_id.value],
    ]);
    expect(kube.scheduled).toEqual([['p1', 'a2.example']]);
    expect(core.tasks.get(next.task_id.value)?.bound).toBe(true);
    expect(kube.failed).toEqual([]);
  });

  it('a POST already on the wire that bound the pod is still taken for bound: the pod is failed (BoundWithoutTask)', async () => {
    const { core, kube, task, retried } = await bindingHeld();
    retried({ kind: 'bound' }); // answered before the task's end is seen…
    core.onUpdate(statusOf(task).state('TASK_FAILED').build()); // …and handled after it
    await core.drain();
    expect(kube.failed).toEqual([['p1', 'BoundWithoutTask']]);
  });
});
