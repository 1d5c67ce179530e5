import { describe, expect, it } from '@jest/globals';
import * as calls from './calls.js';

describe('scheduler call builders', () => {
  it.each([
    ['DECLINE with filters', calls.decline(['o1'], { refuse_seconds: 5 }), { type: 'DECLINE', decline: { offer_ids: [{ value: 'o1' }], filters: { refuse_seconds: 5 } } }],
    ['KILL without agent', calls.kill('t1'), { type: 'KILL', kill: { task_id: { value: 't1' } } }],
    ['REVIVE of all roles', calls.revive(), { type: 'REVIVE', revive: {} }],
    ['SUPPRESS of one role', calls.suppress(['web']), { type: 'SUPPRESS', suppress: { roles: ['web'] } }],
    ['implicit RECONCILE', calls.reconcile([]), { type: 'RECONCILE', reconcile: { tasks: [] } }],
    ['SHUTDOWN', calls.shutdown('e1', 'a1'), { type: 'SHUTDOWN', shutdown: { executor_id: { value: 'e1' }, agent_id: { value: 'a1' } } }],
  ])('%s', (_name, call, want) => {
    expect(call).toEqual(want);
  });

  it('SUBSCRIBE carries the framework id once known and the suppressed roles only when there are some', () => {
    expect(calls.subscribe({ user: 'u', name: 'n' }, [])).toEqual({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'n' } } });
    expect(calls.subscribe({ user: 'u', name: 'n', id: { value: 'f' } }, ['r'])).toEqual({
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { user: 'u', name: 'n', id: { value: 'f' } }, suppressed_roles: ['r'] },
      framework_id: { value: 'f' },
    });
  });

  it('ACKNOWLEDGE only for updates with a uuid and an agent id', () => {
    const base = { task_id: { value: 't' }, state: 'TASK_RUNNING' as const };
    expect(calls.acknowledge(base)).toBe('no-uuid');
    expect(calls.acknowledge({ ...base, uuid: new Uint8Array(16) })).toBe('no-agent-id');
    expect(calls.acknowledge({ ...base, uuid: new Uint8Array(16), agent_id: { value: 'a' } })).toMatchObject({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'a' } } });
  });
});
