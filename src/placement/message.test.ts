import { fail } from './framework.js';
import { unschedulableMessage } from './message.js';

describe('unschedulableMessage', () => {
  it.each([
    [[], '0/0 agents available.', false],
    [[fail('Insufficient cpus'), fail('Insufficient cpus'), fail('b', true)], '0/3 agents available: 1 b, 2 Insufficient cpus.', false],
    // sorted as strings, as kube-scheduler's sort.Strings does: "10 …" before "9 …"
    [[...Array(10).fill(fail('x', true)), ...Array(9).fill(fail('y', true))], '0/19 agents available: 10 x, 9 y.', true],
  ])('%#', (statuses, message, unresolvable) => {
    const r = unschedulableMessage(statuses.length, statuses);
    expect(r.message).toBe(message);
    expect(r.unresolvable).toBe(unresolvable);
  });

  it('counts every reason of an agent', () => {
    const r = unschedulableMessage(1, [{ reasons: ['Insufficient cpus', 'Insufficient mem'], unresolvable: false }]);
    expect(r).toEqual({ message: '0/1 agents available: 1 Insufficient cpus, 1 Insufficient mem.', reasons: { 'Insufficient cpus': 1, 'Insufficient mem': 1 }, unresolvable: false });
  });
});
