// placement.bindOnAccept: the Binding on the ACCEPT's answer, not on the task's first TASK_STARTING.
import { loadConfig } from '../config/config.js';
import { coreConfig } from './core-config.js';
import { buildExecutorInfo } from './launch.js';
import { aPod, anOffer, statusOf } from './testing/builders.js';
import { coreHarness } from './testing/core-harness.js';

/** p1 placed on a1 with bindOnAccept, its ACCEPT answered. */
async function launchedWithBindOnAccept() {
  const h = coreHarness({ bindOnAccept: true });
  h.core.onPodUpsert(aPod('p1').build());
  h.core.onOffers([anOffer('a1').zone('z1').build()]);
  h.core.runCycle();
  await h.core.drain();
  return h;
}

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
    const { core, mesos, kube } = await launchedWithBindOnAccept();
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
    const { core, mesos, kube } = await launchedWithBindOnAccept();
    const [task] = mesos.tasks();
    core.onUpdate(statusOf(task).state('TASK_RUNNING').build());
    core.onUpdate(statusOf(task).state('TASK_FAILED').reason('REASON_EXECUTOR_TERMINATED').build());
    await core.drain();
    expect(kube.failed).toEqual([]);
  });

  it('reaches the executors: their ExecutorInfo says KUBE_MESOS_NO_TASK_STARTING=true, and nothing without it', () => {
    const envOf = (flags: [string, string][]) => {
      const c = loadConfig({ flags });
      if (!c.ok) throw new Error(c.errors.join('; '));
      const cfg = coreConfig(c.config, { executorCommand: 'kube-mesos executor', executorKubeconfig: '/kc' });
      const info = buildExecutorInfo({ agent: { id: 'a1', hostname: 'a1.example', nodeName: 'a1.example', attributes: {} } as never, executorId: 'e1', frameworkId: 'fw', config: cfg.executor, role: '*', offers: [] });
      return Object.fromEntries((info.command?.environment?.variables ?? []).map((v) => [v.name, v.value]));
    };
    expect(envOf([['placement.bindOnAccept', 'true']]).KUBE_MESOS_NO_TASK_STARTING).toBe('true');
    expect(envOf([]).KUBE_MESOS_NO_TASK_STARTING).toBeUndefined();
  });
});
