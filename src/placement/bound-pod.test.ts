import { fitBoundPod } from './bound-pod.js';
import { makeAgent, makePod, testConfig } from './testing/builders.js';

const cfg = testConfig();

describe('fitBoundPod (a pod bound by someone else to a kube-mesos Node)', () => {
  it('fits the held offers: sized by its requests, with the kubelet executor on a cold agent', () => {
    const r = fitBoundPod(makeAgent('a').big().build(), makePod('p').nodeName('a').requests({ cpus: 0.5, mem: 256 }).build(), cfg);
    expect(r).toEqual({ kind: 'fits', role: '*', res: { cpus: 0.5, mem: 256, disk: 0 }, newKubelet: true });
  });
  it.each([
    ['cordoned', makeAgent('a').big().kubelet().unschedulable()],
    ['tainted NoSchedule', makeAgent('a').big().kubelet().taint({ key: 'dedicated', value: 'x', effect: 'NoSchedule' })],
    ['labels the pod does not select', makeAgent('a').big().kubelet().label('disk', 'hdd')],
  ])('ignores what only the binder judges: %s', (_n, agent) => {
    const pod = makePod('ds').nodeName('a').nodeSelector({ disk: 'ssd' }).build();
    expect(fitBoundPod(agent.build(), pod, cfg).kind).toBe('fits');
  });
  it('takes Mesos-managed extended resources for its task', () => {
    const r = fitBoundPod(makeAgent('a').big().scalar('gpus', 2).kubelet().build(), makePod('p').extended('nvidia.com/gpu', 1).build(), cfg);
    expect(r).toMatchObject({ kind: 'fits', scalars: { gpus: 1 }, newKubelet: false });
  });
  it('waits for offers when the agent could hold it but does not offer the room now', () => {
    const agent = makeAgent('a').offer('*', { cpus: 0.2, mem: 8192 }).kubelet().build();
    const pod = makePod('p').requests({ cpus: 1, mem: 64 }).build();
    expect(fitBoundPod(agent, pod, cfg, { cpus: 4, mem: 8192, disk: 0 })).toEqual({ kind: 'wait', missing: ['cpu'] });
    expect(fitBoundPod(agent, pod, cfg)).toEqual({ kind: 'wait', missing: ['cpu'] });
  });
  it.each([
    ['cpu', makePod('p').requests({ cpus: 6, mem: 64 }), 'OutOfcpu', "Node didn't have enough resource: cpu, requested: 6000, used: 1000, capacity: 4000"],
    ['memory', makePod('p').requests({ cpus: 0.1, mem: 16384 }), 'OutOfmemory', `Node didn't have enough resource: memory, requested: ${16384 * 2 ** 20}, used: ${512 * 2 ** 20}, capacity: ${8192 * 2 ** 20}`],
    ['gpu', makePod('p').extended('nvidia.com/gpu', 1), 'OutOfnvidia.com/gpu', "Node didn't have enough resource: nvidia.com/gpu, requested: 1, used: 0, capacity: 0"],
  ])('rejects what exceeds the whole agent, as a kubelet does: %s', (_n, pod, reason, message) => {
    const agent = makeAgent('a').offer('*', { cpus: 0.5, mem: 1024 }).kubelet().pod(makePod('there').requests({ cpus: 1, mem: 512 })).build();
    expect(fitBoundPod(agent, pod.build(), cfg, { cpus: 4, mem: 8192, disk: 0 })).toEqual({ kind: 'reject', reason, message });
  });
});
