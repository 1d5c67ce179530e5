import type { Offer, Resource } from '../mesos/types.js';
import { offeredSlices, offeredVolumes } from './snapshot.js';

const scalar = (name: string, value: number, extra: Partial<Resource> = {}): Resource => ({ name, type: 'SCALAR', scalar: { value }, ...extra });
const offer = (resources: Resource[]): Offer => ({ id: { value: 'o' }, framework_id: { value: 'f' }, agent_id: { value: 'a' }, hostname: 'h', resources });

describe('offeredSlices', () => {
  it('sums scalars and collects ports per reservation role across offers', () => {
    const slices = offeredSlices([
      offer([scalar('cpus', 2), scalar('mem', 1024), { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31009 }] } }]),
      offer([scalar('cpus', 1.5), scalar('disk', 100), scalar('cpus', 4, { reservations: [{ type: 'DYNAMIC', role: 'prod' }] })]),
    ]);
    expect(slices).toEqual([
      { role: '*', res: { cpus: 3.5, mem: 1024, disk: 100 }, ports: [[31000, 31009]] },
      { role: 'prod', res: { cpus: 4, mem: 0, disk: 0 }, ports: [] },
    ]);
  });

  it('leaves out revocable resources and persistent volumes', () => {
    expect(offeredSlices([offer([scalar('cpus', 1, { revocable: {} }), scalar('disk', 5, { disk: { persistence: { id: 'v' } } })])])).toEqual([]);
  });

});

describe('offeredVolumes', () => {
  it('lists the persistence ids of the volumes across offers, once each, sorted', () => {
    const vol = (id: string) => scalar('disk', 5, { reservations: [{ type: 'DYNAMIC', role: 'web' }], disk: { persistence: { id }, volume: { mode: 'RW', container_path: 'data' } } });
    expect(offeredVolumes([offer([vol('pv-b'), scalar('cpus', 1)]), offer([vol('pv-a'), vol('pv-b')])])).toEqual(['pv-a', 'pv-b']);
    expect(offeredVolumes([offer([scalar('disk', 10)])])).toEqual([]);
  });
});
