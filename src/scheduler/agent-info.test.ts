import { agentInfoFromOffer, attributeText, labelValue, nodeNameFor } from './agent-info.js';

describe('agentInfoFromOffer', () => {
  const offer = {
    agent_id: { value: 'a7f3-S12' },
    hostname: 'Agent-12.dc1.example.com',
    attributes: [
      { name: 'rack', type: 'TEXT', text: { value: 'r2' } },
      { name: 'cores', type: 'SCALAR', scalar: { value: 16 } },
      { name: 'gpus', type: 'RANGES', ranges: { range: [{ begin: 0, end: 3 }] } },
      { name: 'Disk Type', type: 'SET', set: { item: ['ssd', 'nvme'] } },
    ],
    domain: { fault_domain: { region: { name: 'eu-west' }, zone: { name: 'eu-west-1b' } } },
  };

  it('labels the node like a kubelet on that host, with zone, region, agent id and attributes', () => {
    const info = agentInfoFromOffer(offer);
    expect(info.nodeName).toBe('agent-12.dc1.example.com');
    expect(info.zone).toBe('eu-west-1b');
    expect(info.region).toBe('eu-west');
    expect(info.labels).toEqual({
      'kubernetes.io/hostname': 'agent-12.dc1.example.com',
      'kube-mesos.io/agent-id': 'a7f3-S12',
      'topology.kubernetes.io/zone': 'eu-west-1b',
      'topology.kubernetes.io/region': 'eu-west',
      'kube-mesos.io/attribute-rack': 'r2',
      'kube-mesos.io/attribute-cores': '16',
      'kube-mesos.io/attribute-gpus': '0-3',
      'kube-mesos.io/attribute-disk-type': 'ssd-nvme',
    });
    expect(info.attributes).toEqual({ rack: 'r2', cores: '16', gpus: '[0-3]', 'Disk Type': '{ssd,nvme}' });
  });

  it('takes the zone from an attribute when configured', () => {
    const info = agentInfoFromOffer(offer, { zoneAttribute: 'rack' });
    expect(info.zone).toBe('r2');
    expect(info.labels['topology.kubernetes.io/zone']).toBe('r2');
  });

  it('works without a fault domain or attributes', () => {
    const info = agentInfoFromOffer({ agent_id: { value: 'S1' }, hostname: '127.0.0.1' });
    expect(info.zone).toBeUndefined();
    expect(info.labels).toEqual({ 'kubernetes.io/hostname': '127.0.0.1', 'kube-mesos.io/agent-id': 'S1' });
  });
});

describe('label helpers', () => {
  it.each([
    ['plain', 'plain'],
    ['{a,b}', 'a-b'],
    ['-x-', 'x'],
    ['a'.repeat(80), 'a'.repeat(63)],
    ['', ''],
  ])('labelValue(%p) = %p', (input, out) => expect(labelValue(input)).toBe(out));

  it.each([
    ['Host_1', 'S1', 'host-1'],
    ['***', 'S-9', 'agent-s-9'],
  ])('nodeNameFor(%p, %p) = %p', (host, id, out) => expect(nodeNameFor(host, id)).toBe(out));

  it('prints attributes in Mesos text form', () => {
    expect(attributeText({ name: 'x', scalar: { value: 1.5 } })).toBe('1.5');
    expect(attributeText({ name: 'x', ranges: { range: [{ begin: 1, end: 2 }, { begin: 5, end: 9 }] } })).toBe('[1-2,5-9]');
  });
});
