import { runFilter } from '../testing/harness.js';
import { makeAgent, makePod, LABEL_ZONE } from '../testing/builders.js';
import { nodeAffinityFilter } from './node-affinity.js';
import { nodeNameFilter } from './node-name.js';
import { nodePortsFilter } from './node-ports.js';
import { taintTolerationFilter } from './taint-toleration.js';
import { unschedulableFilter } from './unschedulable.js';
import type { V1NodeSelectorRequirement, V1Taint, V1Toleration } from '@kubernetes/client-node';

const AFF = "!node(s) didn't match Pod's node affinity";

describe('NodeUnschedulable', () => {
  it.each([
    ['schedulable agent', false, [], undefined],
    ['unschedulable agent', true, [], '!node(s) were unschedulable'],
    ['tolerated', true, [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }], undefined],
  ])('%s', (_n, unsched, tolerations, want) => {
    const pod = makePod();
    for (const t of tolerations) pod.toleration(t);
    expect(runFilter(unschedulableFilter, pod.build(), [makeAgent().unschedulable(unsched).build()])).toEqual([want]);
  });
});

describe('NodeName', () => {
  it.each([
    ['no nodeName', undefined, undefined],
    ['hostname', 'h1', undefined],
    ['agent id', 'id1', undefined],
    ['other', 'h2', "!node(s) didn't match the requested hostname"],
  ])('%s', (_n, name, want) => {
    const pod = makePod();
    if (name) pod.nodeName(name);
    expect(runFilter(nodeNameFilter, pod.build(), [makeAgent('id1').hostname('h1').build()])).toEqual([want]);
  });
});

describe('TaintToleration', () => {
  const DEDICATED = "!node(s) had taint {dedicated: gpu}, that the pod didn't tolerate";
  const agent = makeAgent().taint({ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }).build();
  it.each([
    ['no toleration', [], DEDICATED],
    ['Equal', [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }], undefined],
    ['Equal other value', [{ key: 'dedicated', operator: 'Equal', value: 'cpu' }], DEDICATED],
    ['Exists', [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }], undefined],
    ['other effect', [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }], DEDICATED],
    ['wildcard', [{ operator: 'Exists' }], undefined],
  ])('%s', (_n, tolerations, want) => {
    const pod = makePod();
    for (const t of tolerations) pod.toleration(t);
    expect(runFilter(taintTolerationFilter, pod.build(), [agent])).toEqual([want]);
  });
  it.each([
    ['NoExecute untolerated', { key: 'evict', value: 'now', effect: 'NoExecute' }, [], "!node(s) had taint {evict: now}, that the pod didn't tolerate"],
    ['NoExecute tolerated for a while', { key: 'evict', value: 'now', effect: 'NoExecute' }, [{ key: 'evict', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }], undefined],
    ['not-ready', { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, [], "!node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't tolerate"],
    [
      'unreachable tolerated (DefaultTolerationSeconds)',
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
      [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      undefined,
    ],
  ] as [string, V1Taint, V1Toleration[], string | undefined][])('%s', (_n, taint, tolerations, want) => {
    const pod = makePod();
    for (const t of tolerations) pod.toleration(t);
    expect(runFilter(taintTolerationFilter, pod.build(), [makeAgent().taint(taint).build()])).toEqual([want]);
  });
  it('reports the first untolerated taint only', () => {
    const agent = makeAgent().taint({ key: 'a', value: '1', effect: 'NoSchedule' }).taint({ key: 'b', value: '2', effect: 'NoSchedule' }).build();
    expect(runFilter(taintTolerationFilter, makePod().toleration({ key: 'a', operator: 'Exists' }).build(), [agent])).toEqual(["!node(s) had taint {b: 2}, that the pod didn't tolerate"]);
  });
  it('ignores PreferNoSchedule', () => {
    expect(runFilter(taintTolerationFilter, makePod().build(), [makeAgent().taint({ key: 'k', effect: 'PreferNoSchedule' }).build()])).toEqual([undefined]);
  });
});

describe('NodeAffinity', () => {
  const agent = makeAgent('a1').hostname('h1').zone('a').label('gen', '5').build();
  const req = (...r: V1NodeSelectorRequirement[]) => makePod().affinity({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: r }] } } });
  it.each([
    ['no selector', makePod(), undefined],
    ['nodeSelector match', makePod().nodeSelector({ [LABEL_ZONE]: 'a' }), undefined],
    ['nodeSelector mismatch', makePod().nodeSelector({ [LABEL_ZONE]: 'b' }), AFF],
    ['In', req({ key: LABEL_ZONE, operator: 'In', values: ['a', 'b'] }), undefined],
    ['In miss', req({ key: LABEL_ZONE, operator: 'In', values: ['b'] }), AFF],
    ['NotIn', req({ key: LABEL_ZONE, operator: 'NotIn', values: ['b'] }), undefined],
    ['NotIn missing label', req({ key: 'nope', operator: 'NotIn', values: ['b'] }), undefined],
    ['Exists', req({ key: 'gen', operator: 'Exists' }), undefined],
    ['DoesNotExist', req({ key: 'gen', operator: 'DoesNotExist' }), AFF],
    ['Gt', req({ key: 'gen', operator: 'Gt', values: ['4'] }), undefined],
    ['Gt equal', req({ key: 'gen', operator: 'Gt', values: ['5'] }), AFF],
    ['Lt', req({ key: 'gen', operator: 'Lt', values: ['6'] }), undefined],
    ['Lt non-integer', req({ key: 'gen', operator: 'Lt', values: ['x'] }), AFF],
    ['two requirements ANDed', req({ key: 'gen', operator: 'Exists' }, { key: LABEL_ZONE, operator: 'In', values: ['b'] }), AFF],
    [
      'terms ORed',
      makePod().affinity({
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: LABEL_ZONE, operator: 'In', values: ['b'] }] }, { matchExpressions: [{ key: 'gen', operator: 'In', values: ['5'] }] }],
          },
        },
      }),
      undefined,
    ],
    [
      'matchFields metadata.name',
      makePod().affinity({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['h1'] }] }] } } }),
      undefined,
    ],
    ['empty terms match nothing', makePod().affinity({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } }), AFF],
    ['nodeSelector AND affinity', req({ key: 'gen', operator: 'Exists' }).nodeSelector({ [LABEL_ZONE]: 'b' }), AFF],
  ])('%s', (_n, pod, want) => {
    expect(runFilter(nodeAffinityFilter, pod.build(), [agent])).toEqual([want]);
  });
});

describe('NodePorts', () => {
  it.each([
    ['no ports', makePod(), undefined],
    ['free port', makePod().hostPort(8081), undefined],
    ['taken port', makePod().hostPort(8080), "node(s) didn't have free ports for the requested pod ports"],
    ['taken port, other protocol', makePod().hostPort(8080, 'UDP'), "node(s) didn't have free ports for the requested pod ports"],
  ])('%s', (_n, pod, want) => {
    const agent = makeAgent().kubelet().pod(makePod().hostPort(8080)).build();
    expect(runFilter(nodePortsFilter, pod.build(), [agent])).toEqual([want]);
  });
});
