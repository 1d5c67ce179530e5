// One ACCEPT aggregates offers of one role only (Mesos: "Aggregated offers must be allocated to the same role").
import type { Offer, Resource } from '../mesos/types.js';
import { offersByRole, offersOfOneRole } from './offer-roles.js';
import { aPod } from './testing/builders.js';
import { coreHarness } from './testing/core-harness.js';

let seq = 0;
const scalar = (name: string, value: number, role: string): Resource => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role } });
const offer = (agent: string, role: string, cpus: number, extra: Resource[] = []): Offer => ({
  id: { value: `r${++seq}` },
  framework_id: { value: 'fw' },
  agent_id: { value: agent },
  hostname: `${agent}.example`,
  allocation_info: { role },
  resources: [scalar('cpus', cpus, role), scalar('mem', 4096, role), scalar('disk', 1000, role), ...extra],
});
const volume = (role: string): Resource => ({
  name: 'disk',
  type: 'SCALAR',
  scalar: { value: 64 },
  allocation_info: { role },
  reservations: [{ type: 'DYNAMIC', role }],
  disk: { persistence: { id: 'v1' }, volume: { mode: 'RW', container_path: 'v1' } },
});

describe('offersOfOneRole', () => {
  it('keeps offers of one role as they are', () => {
    const os = [offer('a1', 'kube', 1), offer('a1', 'kube', 2)];
    expect(offersOfOneRole(os)).toBe(os);
  });
  it('of several roles: the one whose offers carry volumes, else the most cpus', () => {
    const star = offer('a1', '*', 4);
    const kube = offer('a1', 'kube', 1);
    expect(offersOfOneRole([star, kube])).toEqual([star]);
    const kubeWithVolume = offer('a1', 'kube', 0.5, [volume('kube')]);
    expect(offersOfOneRole([star, kubeWithVolume])).toEqual([kubeWithVolume]);
    expect(offersByRole([star, kube, offer('a1', '*', 1)]).map((g) => g.length)).toEqual([2, 1]);
  });
});

describe('an agent offered to two of the framework\'s roles', () => {
  it('is launched on with the offers of one role in the ACCEPT; the other role\'s offer stays held', async () => {
    const { core, mesos } = coreHarness({ plan: { executor: { cpus: 0.25, mem: 128, disk: 0 }, defaultScoring: 'spread', preferExistingKubelet: true, maxPodsPerKubelet: 110, defaultRoles: ['kube', '*'] } });
    const star = offer('a1', '*', 4);
    const kube = offer('a1', 'kube', 1);
    core.onPodUpsert(aPod('p1').build());
    core.onOffers([star, kube]);
    expect(core.runCycle()).toMatchObject({ placed: 1, accepts: 1 });
    await core.drain();
    expect(mesos.accepts[0].offerIds).toEqual([star.id.value]);
    expect(core.offers.has(kube.id.value)).toBe(true);
  });
});
