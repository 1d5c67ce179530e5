import type { V1Pod } from '@kubernetes/client-node';
import { podFromV1 } from './pod.js';
import { parseQuantity } from './quantity.js';

const defaults = { cpus: 0.1, mem: 128, roles: ['*'] };

function pod(spec: Partial<NonNullable<V1Pod['spec']>>, annotations: Record<string, string> = {}): V1Pod {
  return {
    metadata: {
      name: 'p',
      namespace: 'ns',
      uid: 'u1',
      annotations,
      labels: { app: 'x' },
      creationTimestamp: new Date(1000),
      ownerReferences: [
        { apiVersion: 'v1', kind: 'X', name: 'a', uid: 'not-controller' },
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true },
      ],
    },
    spec: { containers: [], ...spec },
  };
}

describe('parseQuantity', () => {
  it.each([
    ['250m', 0.25],
    ['1', 1],
    ['1.5', 1.5],
    ['256Mi', 256 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['1e3', 1000],
    ['100k', 1e5],
    ['x', undefined],
    ['1mi', undefined],
  ])('%s', (q, want) => expect(parseQuantity(q)).toBe(want));
});

describe('podFromV1', () => {
  it('sums containers, takes the largest init container, adds overhead', () => {
    const r = podFromV1(
      pod({
        containers: [
          { name: 'a', resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } } },
          { name: 'b', resources: { requests: { cpu: '500m', memory: '128Mi', 'ephemeral-storage': '1Gi' }, limits: { cpu: '1' } } },
        ],
        initContainers: [{ name: 'i', resources: { requests: { cpu: '2', memory: '64Mi' } } }],
        overhead: { cpu: '100m', memory: '10Mi' },
      }),
      defaults,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.pod.requests).toEqual({ cpus: 2.1, mem: 394, disk: 1024 });
    expect(r.pod.limits).toEqual({ cpus: 2 }); // b has no memory limit: the pod's memory is unlimited
    expect(r.pod).toMatchObject({ key: 'ns/p', uid: 'u1', ownerUid: 'rs-uid', createdAtMs: 1000, roles: ['*'], labels: { app: 'x' } });
  });

  it('counts sidecar init containers (restartPolicy Always) beside the app containers', () => {
    const r = podFromV1(
      pod({
        initContainers: [
          { name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '200m', memory: '64Mi' } } },
          { name: 'init', resources: { requests: { cpu: '1', memory: '32Mi' } } },
        ],
        containers: [{ name: 'a', resources: { requests: { cpu: '500m', memory: '128Mi' } } }],
      }),
      defaults,
    );
    // cpu: max(0.5 + 0.2, 0.2 + 1) = 1.2; mem: max(128 + 64, 64 + 32) = 192
    expect(r.ok && r.pod.requests).toEqual({ cpus: 1.2, mem: 192, disk: 0 });
  });

  it('gives containers without requests their limit, else the defaults', () => {
    const r = podFromV1(pod({ containers: [{ name: 'a' }, { name: 'b', resources: { limits: { cpu: '2' } } }] }), defaults);
    expect(r.ok && r.pod.requests).toEqual({ cpus: 2.1, mem: 256, disk: 0 });
  });

  it('reads host ports, priority, nodeSelector, tolerations', () => {
    const r = podFromV1(
      pod({
        priority: 100,
        nodeSelector: { a: 'b' },
        tolerations: [{ key: 'k', operator: 'Exists' }],
        containers: [{ name: 'a', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }] }],
      }),
      defaults,
    );
    expect(r.ok && r.pod).toMatchObject({ priority: 100, nodeSelector: { a: 'b' }, hostPorts: [{ port: 8080, protocol: 'TCP' }], tolerations: [{ key: 'k' }] });
  });

  it('parses the annotations', () => {
    const r = podFromV1(
      pod({ containers: [{ name: 'a' }] }, {
        'kube-mesos.io/roles': 'prod,*',
        'kube-mesos.io/constraints': '[["@zone","GROUP_BY","3"]]',
        'kube-mesos.io/spread': 'zone',
        'kube-mesos.io/placement': 'binpack',
      }),
      defaults,
    );
    expect(r.ok && r.pod).toMatchObject({ roles: ['prod', '*'], constraints: [{ field: '@zone', operator: 'GROUP_BY', value: '3' }], spread: { field: '@zone' }, scoring: 'binpack' });
  });

  it.each([
    ['kube-mesos.io/constraints', '[["@zone","GROUP_BY"'],
    ['kube-mesos.io/roles', ''],
    ['kube-mesos.io/spread', '@rack'],
    ['kube-mesos.io/placement', 'tight'],
  ])('a malformed %s is a reason, not an exception', (k, v) => {
    const r = podFromV1(pod({ containers: [{ name: 'a' }] }, { [k]: v }), defaults);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(`invalid annotation ${k}: `);
  });

  it('rejects a malformed quantity', () => {
    const r = podFromV1(pod({ containers: [{ name: 'a', resources: { requests: { cpu: 'lots' } } }] }), defaults);
    expect(r).toEqual({ ok: false, reason: 'invalid request of container a cpu: "lots"' });
  });
});

describe('podFromV1: extended resources, owner kind, preemption fields', () => {
  const c = (name: string, requests: Record<string, string>, limits: Record<string, string> = {}) => ({ name, image: 'i', resources: { requests, limits } });
  it.each([
    ['none', [c('a', { cpu: '1' })], [], undefined],
    ['summed over containers', [c('a', { 'nvidia.com/gpu': '1' }), c('b', { 'nvidia.com/gpu': '2', 'example.com/widget': '1' })], [], { 'nvidia.com/gpu': 3, 'example.com/widget': 1 }],
    ['a limit alone is the request', [c('a', {}, { 'nvidia.com/gpu': '2' })], [], { 'nvidia.com/gpu': 2 }],
    ['raised to the largest init container', [c('a', { 'example.com/widget': '1' })], [c('i', { 'example.com/widget': '4' })], { 'example.com/widget': 4 }],
    ['native and hugepages are not extended', [c('a', { 'hugepages-2Mi': '2Mi', 'kubernetes.io/x': '1' })], [], undefined],
  ])('%s', (_n, containers, initContainers, want) => {
    const r = podFromV1(pod({ containers, initContainers }), defaults);
    expect(r.ok && r.pod.extended).toEqual(want ?? undefined);
  });
  it('rejects a fractional extended resource with the field named', () => {
    expect(podFromV1(pod({ containers: [c('a', { 'example.com/widget': '500m' })] }), defaults)).toEqual({
      ok: false,
      reason: 'invalid request of container a example.com/widget: "500m" (extended resources are whole numbers)',
    });
  });
  it('owner kind, preemptionPolicy and nominatedNodeName', () => {
    const v = pod({ preemptionPolicy: 'Never' });
    v.status = { nominatedNodeName: 'host-3' };
    const r = podFromV1(v, defaults);
    expect(r.ok && [r.pod.ownerKind, r.pod.ownerUid, r.pod.preemptionPolicy, r.pod.nominatedNodeName]).toEqual(['ReplicaSet', 'rs-uid', 'Never', 'host-3']);
  });
});
