import type { TaskStatus } from '../mesos/types.js';
import { ExecutorLossTracker, isExecutorLoss, type OrphanView } from './executor-loss.js';

const st = (state: TaskStatus['state'], source: TaskStatus['source'], reason?: TaskStatus['reason']) => ({ state, source, ...(reason ? { reason } : {}) });

describe('isExecutorLoss', () => {
  it.each([
    [st('TASK_FAILED', 'SOURCE_AGENT', 'REASON_EXECUTOR_TERMINATED'), true],
    [st('TASK_FAILED', 'SOURCE_AGENT', 'REASON_CONTAINER_LIMITATION_MEMORY'), true],
    [st('TASK_FAILED', 'SOURCE_AGENT', 'REASON_EXECUTOR_REGISTRATION_TIMEOUT'), true],
    [st('TASK_LOST', 'SOURCE_AGENT', 'REASON_EXECUTOR_TERMINATED'), true],
    // the pod itself failed (the executor reports it), or was killed on purpose
    [st('TASK_FAILED', 'SOURCE_EXECUTOR'), false],
    [st('TASK_KILLED', 'SOURCE_AGENT', 'REASON_EXECUTOR_TERMINATED'), false],
    // a launch that never started a container: not a loss of running pods
    [st('TASK_FAILED', 'SOURCE_AGENT', 'REASON_CONTAINER_LAUNCH_FAILED'), false],
    // agent-level losses are the agent-loss path's
    [st('TASK_LOST', 'SOURCE_MASTER', 'REASON_AGENT_REMOVED'), false],
    [st('TASK_GONE', 'SOURCE_AGENT', 'REASON_AGENT_RESTARTED'), false],
  ])('%j → %s', (s, expected) => expect(isExecutorLoss(s)).toBe(expected));
});

describe('ExecutorLossTracker', () => {
  const view = (pods: Record<string, number>, executors: Record<string, string>): OrphanView => ({
    livePodsOn: (n) => pods[n] ?? 0,
    currentExecutor: (a) => executors[a],
  });

  it('deletes a dead executor\'s Node only once no live pod is bound to it, and only once', () => {
    const t = new ExecutorLossTracker();
    t.executorTerminated({ nodeName: 'n1', agentId: 'a1', executorId: 'e1', sinceMs: 0 });
    expect(t.takeDeletable(view({ n1: 2 }, {}))).toEqual([]);
    expect(t.isOrphan('n1')).toBe(true);
    expect(t.takeDeletable(view({ n1: 0 }, {}))).toEqual([{ nodeName: 'n1', agentId: 'a1', executorId: 'e1', sinceMs: 0 }]);
    expect(t.takeDeletable(view({}, {}))).toEqual([]);
    expect(t.isOrphan('n1')).toBe(false);
  });

  it('holds the agent back from a new executor while its dead executor\'s Node waits', () => {
    const t = new ExecutorLossTracker();
    t.executorTerminated({ nodeName: 'n1', agentId: 'a1', executorId: 'e1', sinceMs: 0 });
    expect([t.agentWaiting('a1'), t.agentWaiting('a2')]).toEqual([true, false]);
    t.takeDeletable(view({}, {}));
    expect(t.agentWaiting('a1')).toBe(false);
  });

  it('leaves the Node alone when the agent already runs a new executor (its kubelet owns the name again)', () => {
    const t = new ExecutorLossTracker();
    t.executorTerminated({ nodeName: 'n1', agentId: 'a1', executorId: 'e1', sinceMs: 0 });
    expect(t.takeDeletable(view({}, { a1: 'e2' }))).toEqual([]);
    expect(t.debugState()).toEqual([]);
  });

  it('still deletes when the agent\'s registry entry is the dead executor itself', () => {
    const t = new ExecutorLossTracker();
    t.executorTerminated({ nodeName: 'n1', agentId: 'a1', executorId: 'e1', sinceMs: 0 });
    expect(t.takeDeletable(view({}, { a1: 'e1' })).map((o) => o.nodeName)).toEqual(['n1']);
  });

  it('a failed delete is retried on the next sweep; the first loss time is kept', () => {
    const t = new ExecutorLossTracker();
    const o = { nodeName: 'n1', agentId: 'a1', executorId: 'e1', sinceMs: 5 };
    t.executorTerminated(o);
    const [taken] = t.takeDeletable(view({}, {}));
    t.retry(taken);
    t.executorTerminated({ ...o, sinceMs: 99 });
    expect(t.takeDeletable(view({}, {}))).toEqual([o]);
  });
});
