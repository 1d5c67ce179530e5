import { TaskRegistry } from './tasks.js';

const launch = (taskId: string, podUid: string, agentId = 'a1', executorId = 'e1') => ({
  taskId,
  podKey: `ns/${podUid}`,
  podUid,
  agentId,
  executorId,
  launchedAtMs: 0,
  cpus: 0.25,
  mem: 256,
  disk: 0,
  hostPorts: [],
});

describe('TaskRegistry', () => {
  it('confirms an assumed task on its first update', () => {
    const r = new TaskRegistry();
    r.assume(launch('t1', 'p1'), 0);
    const out = r.applyUpdate({ taskId: 't1', state: 'TASK_STARTING' }, 10);
    // STARTING: on its agent, not bound yet (the scheduler binds now); RUNNING is only sent for a bound pod.
    expect(out).toMatchObject({ kind: 'progress', firstConfirmation: true, record: { state: 'TASK_STARTING', bound: false } });
    expect(r.applyUpdate({ taskId: 't1', state: 'TASK_RUNNING' }, 20)).toMatchObject({ kind: 'progress', firstConfirmation: false, record: { bound: true } });
  });

  it.each(['TASK_DROPPED', 'TASK_LOST', 'TASK_ERROR', 'TASK_FAILED', 'TASK_GONE'])('forgets a launch that ends in %s before binding', (state) => {
    const r = new TaskRegistry();
    r.assume(launch('t1', 'p1'), 0);
    expect(r.applyUpdate({ taskId: 't1', state }, 10)).toMatchObject({ kind: 'launch-failed' });
    expect(r.get('t1')).toBeUndefined();
    expect(r.forPod('p1')).toBeUndefined();
  });

  it.each(['TASK_FINISHED', 'TASK_KILLED', 'TASK_FAILED'])('reports %s after binding as terminal', (state) => {
    const r = new TaskRegistry();
    r.assume(launch('t1', 'p1'), 0);
    r.applyUpdate({ taskId: 't1', state: 'TASK_RUNNING' }, 5);
    expect(r.applyUpdate({ taskId: 't1', state }, 10)).toMatchObject({ kind: 'terminal', record: { bound: true } });
    expect(r.taskCount).toBe(0);
  });

  it.each(['TASK_UNREACHABLE', 'TASK_UNKNOWN', 'TASK_KILLING'])('keeps a task through %s', (state) => {
    const r = new TaskRegistry();
    r.assume(launch('t1', 'p1'), 0);
    expect(r.applyUpdate({ taskId: 't1', state }, 10)).toMatchObject({ kind: 'progress' });
    expect(r.get('t1')?.state).toBe(state);
  });

  it('does not know tasks it never launched', () => {
    expect(new TaskRegistry().applyUpdate({ taskId: 'x', state: 'TASK_RUNNING' }, 0)).toEqual({ kind: 'unknown-task' });
  });

  it('tracks a kubelet idle from when its last task leaves', () => {
    const r = new TaskRegistry();
    const k = r.launchKubelet('a1', 'e1', 'node-a1', 0);
    r.assume(launch('t1', 'p1'), 1);
    r.assume(launch('t2', 'p2'), 1);
    expect(k.idleSinceMs).toBeUndefined();
    r.applyUpdate({ taskId: 't1', state: 'TASK_FINISHED' }, 50);
    expect(k.idleSinceMs).toBeUndefined();
    r.forget('t2', 70);
    expect(k.idleSinceMs).toBe(70);
    expect(r.kubeletGone('a1', 'other')).toBeUndefined();
    expect(r.kubeletGone('a1', 'e1')?.state).toBe('gone');
    expect(r.kubelet('a1')).toBeUndefined();
  });
});
