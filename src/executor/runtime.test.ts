import { agentCapacity } from './runtime.js';

describe('agentCapacity', () => {
  it.each([
    [undefined, {}],
    [{ hostname: 'h', resources: [] }, {}],
    [
      { hostname: 'h', resources: [{ name: 'cpus', type: 'SCALAR' as const, scalar: { value: 8 } }, { name: 'mem', type: 'SCALAR' as const, scalar: { value: 16384 } }, { name: 'disk', type: 'SCALAR' as const, scalar: { value: 100 } }] },
      { cpu: '8000m', memory: '16384Mi', 'ephemeral-storage': '100Mi' },
    ],
    [
      { hostname: 'h', resources: [{ name: 'gpus', type: 'SCALAR' as const, scalar: { value: 2 } }, { name: 'fpgas', type: 'SCALAR' as const, scalar: { value: 1 } }] },
      { 'nvidia.com/gpu': '2' },
    ],
    [{ hostname: 'h', resources: [{ name: 'cpus', type: 'SCALAR' as const, scalar: { value: 0.5 } }, { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 1.25 }, role: 'prod' }] }, { cpu: '1750m' }],
  ])('the agent %p gives the Node capacity %p', (agent, capacity) => {
    expect(agentCapacity(agent)).toEqual(capacity);
  });
});
