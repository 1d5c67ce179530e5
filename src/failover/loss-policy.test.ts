import { classifyLoss, deleteGraceSeconds, lossPolicy } from './loss-policy.js';

describe('classifyLoss', () => {
  it.each([
    ['TASK_GONE', undefined, 'gone'],
    ['TASK_GONE_BY_OPERATOR', undefined, 'gone'],
    ['TASK_LOST', 'REASON_AGENT_REMOVED', 'gone'],
    ['TASK_UNREACHABLE', undefined, 'unreachable'],
    ['TASK_UNKNOWN', undefined, 'unreachable'],
    ['TASK_LOST', 'REASON_AGENT_DISCONNECTED', 'unreachable'],
    ['TASK_FAILED', undefined, undefined],
    ['TASK_KILLED', undefined, undefined],
  ])('%s (%s) → %s', (state, reason, want) => {
    expect(classifyLoss(state, reason)).toBe(want);
  });
});

describe('lossPolicy', () => {
  const facts = (ownerKind: string | undefined, over: { hasClaim?: boolean; rescheduleOnLoss?: boolean } = {}) => ({ ownerKind, hasClaim: false, rescheduleOnLoss: false, terminationGraceSeconds: undefined, ...over });
  it.each([
    ['ReplicaSet', {}, 'replace-when-unreachable', undefined],
    ['Job', {}, 'replace-when-unreachable', undefined],
    ['ReplicationController', {}, 'replace-when-unreachable', undefined],
    ['StatefulSet', {}, 'wait-for-gone', 'delete'],
    ['ReplicaSet', { hasClaim: true }, 'wait-for-gone', 'delete'],
    ['SomeOperatorKind', {}, 'wait-for-gone', 'delete'],
    [undefined, { rescheduleOnLoss: true }, 'wait-for-gone', 'recreate'],
    [undefined, {}, 'wait-for-gone', 'none'],
  ])('owner %s %p → %s (%s)', (owner, over, kind, replace) => {
    const p = lossPolicy(facts(owner, over));
    expect(p.kind).toBe(kind);
    if (p.kind === 'wait-for-gone') {
      expect(p.replace).toBe(replace);
      expect(p.why.length).toBeGreaterThan(10);
    }
  });
});

describe('deleteGraceSeconds', () => {
  it('is 0 only for a gone task; otherwise the pod\'s grace, at least 1 s, default 30', () => {
    expect(deleteGraceSeconds('gone', 60)).toBe(0);
    expect(deleteGraceSeconds('unreachable', undefined)).toBe(30);
    expect(deleteGraceSeconds('unreachable', 0)).toBe(1);
    expect(deleteGraceSeconds('unreachable', 120)).toBe(120);
  });
});
