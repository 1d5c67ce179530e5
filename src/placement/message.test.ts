import { fail } from './framework.js';
import { unschedulableMessage } from './message.js';

describe('unschedulableMessage', () => {
  it.each([
    [[], '0/0 nodes are available.', false],
    [[fail('Insufficient cpu'), fail('Insufficient cpu'), fail('b', true)], '0/3 nodes are available: 1 b, 2 Insufficient cpu.', false],
    // sorted as strings, as kube-scheduler's sort.Strings does: "10 …" before "9 …"
    [[...Array(10).fill(fail('x', true)), ...Array(9).fill(fail('y', true))], '0/19 nodes are available: 10 x, 9 y.', true],
  ])('%#', (statuses, message, unresolvable) => {
    const r = unschedulableMessage(statuses.length, statuses);
    expect(r.message).toBe(message);
    expect(r.unresolvable).toBe(unresolvable);
  });

  it('counts every reason of an agent', () => {
    const r = unschedulableMessage(1, [{ reasons: ['Insufficient cpu', 'Insufficient memory'], unresolvable: false }]);
    expect(r).toEqual({ message: '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.', reasons: { 'Insufficient cpu': 1, 'Insufficient memory': 1 }, unresolvable: false });
  });
});
