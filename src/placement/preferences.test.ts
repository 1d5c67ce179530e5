// Which pods prefer an agent not offered right now (delay scheduling for the pod's own preferences): pure.
import { preferredElsewhere } from './preferences.js';
import { makeAgent, makePod } from './testing/builders.js';
import type { Placement, Res } from './types.js';

const EXEC: Res = { cpus: 0.25, mem: 128, disk: 0 };
const ROOM = () => ({ cpus: 4, mem: 8192 });
const placed = (podKey: string, agentId: string): Placement => ({ podKey, agentId, role: '*', res: { cpus: 0.1, mem: 64, disk: 0 }, hostPorts: [], newKubelet: false });
const soft = { key: 'slow', value: 'yes', effect: 'PreferNoSchedule' };

describe('preferredElsewhere', () => {
  const pod = makePod('p').build();
  const offeredTainted = makeAgent('a1').taint(soft).offer('*', { cpus: 4, mem: 8192 }).kubelet().build();

  it('names an idle agent with fewer untolerated PreferNoSchedule taints', () => {
    const idle = makeAgent('a2').kubelet().build();
    expect(preferredElsewhere([offeredTainted, idle], [placed(pod.key, 'a1')], [pod], ROOM, EXEC)).toEqual(new Map([[pod.key, 'a2']]));
  });

  it('names none when the idle agent fails a static filter, is unschedulable, had no room, or is not better', () => {
    const hard = makeAgent('a2').taint({ key: 'x', value: 'y', effect: 'NoSchedule' }).build();
    const cordoned = makeAgent('a3').unschedulable().build();
    const same = makeAgent('a4').taint(soft).build();
    const views = [offeredTainted, hard, cordoned, same];
    expect(preferredElsewhere(views, [placed(pod.key, 'a1')], [pod], ROOM, EXEC).size).toBe(0);
    const free = makeAgent('a5').build(); // no kubelet: the pod needs room for the executor too
    expect(preferredElsewhere([offeredTainted, free], [placed(pod.key, 'a1')], [pod], () => ({ cpus: 0.3, mem: 8192 }), EXEC).size).toBe(0);
    expect(preferredElsewhere([offeredTainted, free], [placed(pod.key, 'a1')], [pod], () => undefined, EXEC).size).toBe(0);
    expect(preferredElsewhere([offeredTainted, free], [placed(pod.key, 'a1')], [pod], () => ({ cpus: 0.35, mem: 192 }), EXEC)).toEqual(new Map([[pod.key, 'a5']]));
  });

  it('follows preferred node affinity, and a nodeSelector keeps agents out', () => {
    const ssd = makeAgent('a2').label('disk', 'ssd').build();
    const offered = makeAgent('a1').offer('*', { cpus: 4, mem: 8192 }).build();
    const likes = makePod('q').build();
    likes.affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } };
    expect(preferredElsewhere([offered, ssd], [placed(likes.key, 'a1')], [likes], ROOM, EXEC)).toEqual(new Map([[likes.key, 'a2']]));
    likes.nodeSelector = { disk: 'hdd' };
    expect(preferredElsewhere([offered, ssd], [placed(likes.key, 'a1')], [likes], ROOM, EXEC).size).toBe(0);
    // a pod without preferences, in a cluster without PreferNoSchedule taints, never waits
    const plain = makePod('r').build();
    expect(preferredElsewhere([offered, makeAgent('a3').build()], [placed(plain.key, 'a1')], [plain], ROOM, EXEC).size).toBe(0);
  });
});
