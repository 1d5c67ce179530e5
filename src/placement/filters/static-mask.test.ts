import { runFilter } from '../testing/harness.js';
import { makeAgent, makePod, LABEL_ZONE } from '../testing/builders.js';
import { staticMaskFilter } from './static-mask.js';

describe('StaticMask (unschedulable, nodeName, taints, node affinity folded)', () => {
  const agents = () => [
    makeAgent('ok').zone('a').build(),
    makeAgent('cordoned').zone('a').unschedulable().build(),
    makeAgent('tainted').zone('a').taint({ key: 'gpu', effect: 'NoSchedule' }).build(),
    makeAgent('elsewhere').zone('b').build(),
  ];
  const F = '!static filters';
  it.each([
    ['plain pod', makePod(), [undefined, F, F, undefined]],
    ['zone a', makePod().nodeSelector({ [LABEL_ZONE]: 'a' }), [undefined, F, F, F]],
    ['tolerates gpu', makePod().toleration({ key: 'gpu', operator: 'Exists' }), [undefined, F, undefined, undefined]],
    ['nodeName', makePod().nodeName('elsewhere'), [F, F, F, undefined]],
  ])('%s', (_n, pod, want) => {
    expect(runFilter(staticMaskFilter, pod.build(), agents())).toEqual(want);
  });
});
