import { describe, expect, it } from '@jest/globals';
import { parseExecutorEnv } from './env.js';

const good = {
  KUBE_MESOS_NODE_NAME: 'agent-a1.zone-a',
  KUBE_MESOS_NODE_LABELS: JSON.stringify({
    'kubernetes.io/hostname': 'agent-a1',
    'topology.kubernetes.io/zone': 'a',
    'topology.kubernetes.io/region': 'r1',
    'kube-mesos.io/agent-id': 'S0-a1',
    'kube-mesos.io/attribute-rack': 'r2',
  }),
  KUBE_MESOS_NODE_TAINTS: JSON.stringify([{ key: 'dedicated', value: 'spark', effect: 'NoSchedule' }]),
  KUBE_MESOS_NODE_CAPACITY: '{"cpu":"8","memory":"16384Mi","pods":"110"}',
  KUBE_MESOS_KUBECONFIG: '/etc/kube-mesos/kubeconfig',
  KUBE_MESOS_KUBELET_MODE: 'hollow',
  KUBE_MESOS_LOG_LEVEL: 'debug',
  KUBE_MESOS_SCHEDULER_NAME: 'kube-mesos',
};

describe('parseExecutorEnv', () => {
  it('reads the full contract', () => {
    expect(parseExecutorEnv(good)).toEqual({
      ok: true,
      value: {
        nodeName: 'agent-a1.zone-a',
        labels: JSON.parse(good.KUBE_MESOS_NODE_LABELS) as Record<string, string>,
        taints: [{ key: 'dedicated', value: 'spark', effect: 'NoSchedule' }],
        capacity: { cpu: '8', memory: '16384Mi', pods: '110' },
        kubeconfig: '/etc/kube-mesos/kubeconfig',
        certificateTimeoutMs: 120_000,
        kubeletMode: 'hollow',
        kubeletCommand: undefined,
        logLevel: 'debug',
        schedulerName: 'kube-mesos',
      },
    });
  });

  it('defaults: no taints, no labels, hollow, info, 110 pods', () => {
    const r = parseExecutorEnv({ KUBE_MESOS_NODE_NAME: 'n1', KUBE_MESOS_NODE_CAPACITY: '{"cpu":"2.5","memory":"1Gi"}', KUBE_MESOS_KUBECONFIG: '/k' });
    expect(r).toEqual({
      ok: true,
      value: expect.objectContaining({ labels: {}, taints: [], capacity: { cpu: '2.5', memory: '1Gi', pods: '110' }, kubeletMode: 'hollow', logLevel: 'info' }),
    });
  });

  it('KUBE_MESOS_NO_TASK_STARTING: true or false (default), anything else named', () => {
    const base = { KUBE_MESOS_NODE_NAME: 'n1', KUBE_MESOS_KUBECONFIG: '/k' };
    expect(parseExecutorEnv({ ...base, KUBE_MESOS_NO_TASK_STARTING: 'true' })).toEqual({ ok: true, value: expect.objectContaining({ noTaskStarting: true }) });
    const off = parseExecutorEnv(base);
    expect(off.ok && off.value.noTaskStarting).toBeFalsy();
    expect(parseExecutorEnv({ ...base, KUBE_MESOS_NO_TASK_STARTING: 'yes' })).toEqual({ ok: false, errors: ['KUBE_MESOS_NO_TASK_STARTING="yes" must be true or false'] });
  });

  it('capacity may be left out or give only the pod limit: cpu and memory then come from the agent', () => {
    expect(parseExecutorEnv({ KUBE_MESOS_NODE_NAME: 'n1', KUBE_MESOS_KUBECONFIG: '/k' })).toEqual({ ok: true, value: expect.objectContaining({ capacity: { pods: '110' } }) });
    expect(parseExecutorEnv({ KUBE_MESOS_NODE_NAME: 'n1', KUBE_MESOS_NODE_CAPACITY: '{"pods":"50"}', KUBE_MESOS_KUBECONFIG: '/k' })).toEqual({
      ok: true,
      value: expect.objectContaining({ capacity: { pods: '50' } }),
    });
  });

  it('KUBE_MESOS_KUBECONFIG is optional (the executor obtains a node certificate); the certificate timeout is a duration', () => {
    const { KUBE_MESOS_KUBECONFIG: _k, ...env } = good;
    expect(parseExecutorEnv(env)).toMatchObject({ ok: true, value: { kubeconfig: undefined, certificateTimeoutMs: 120_000 } });
    expect(parseExecutorEnv({ ...env, KUBE_MESOS_NODE_CERTIFICATE_TIMEOUT: '45s' })).toMatchObject({ ok: true, value: { certificateTimeoutMs: 45_000 } });
    expect(parseExecutorEnv({ ...env, KUBE_MESOS_NODE_CERTIFICATE_TIMEOUT: 'soon' })).toMatchObject({ ok: false, errors: [expect.stringContaining('KUBE_MESOS_NODE_CERTIFICATE_TIMEOUT')] });
  });

  it.each<[string, Record<string, string | undefined>, RegExp]>([
    ['missing node name', { KUBE_MESOS_NODE_NAME: undefined }, /KUBE_MESOS_NODE_NAME is not set/],
    ['bad node name', { KUBE_MESOS_NODE_NAME: 'Agent_1' }, /KUBE_MESOS_NODE_NAME="Agent_1" is not a valid node name/],
    ['labels not JSON', { KUBE_MESOS_NODE_LABELS: '{zone: a}' }, /KUBE_MESOS_NODE_LABELS is not valid JSON/],
    ['labels an array', { KUBE_MESOS_NODE_LABELS: '["a"]' }, /KUBE_MESOS_NODE_LABELS must be a JSON object/],
    ['label key invalid', { KUBE_MESOS_NODE_LABELS: '{"bad key":"x"}' }, /label key "bad key" is not a valid label name/],
    ['label value not a string', { KUBE_MESOS_NODE_LABELS: '{"a":1}' }, /label "a" must have a string value/],
    ['label value invalid', { KUBE_MESOS_NODE_LABELS: '{"a":"x y"}' }, /label "a" has an invalid value/],
    ['taints not an array', { KUBE_MESOS_NODE_TAINTS: '{}' }, /KUBE_MESOS_NODE_TAINTS must be a JSON array/],
    ['taint bad effect', { KUBE_MESOS_NODE_TAINTS: '[{"key":"k","effect":"Nope"}]' }, /\[0\]\.effect must be/],
    ['taint no key', { KUBE_MESOS_NODE_TAINTS: '[{"effect":"NoSchedule"}]' }, /\[0\]\.key is missing/],
    ['capacity bad quantity', { KUBE_MESOS_NODE_CAPACITY: '{"cpu":"eight","memory":"1Gi"}' }, /"cpu" is not a quantity/],
    ['bad mode', { KUBE_MESOS_KUBELET_MODE: 'ghost' }, /must be hollow or real/],
    ['real without command', { KUBE_MESOS_KUBELET_MODE: 'real' }, /KUBE_MESOS_KUBELET_COMMAND is required/],
    ['bad scheduler name', { KUBE_MESOS_SCHEDULER_NAME: 'Kube Mesos' }, /KUBE_MESOS_SCHEDULER_NAME="Kube Mesos" is not a valid scheduler name/],
    ['bad log level', { KUBE_MESOS_LOG_LEVEL: 'loud' }, /KUBE_MESOS_LOG_LEVEL="loud" must be one of/],
  ])('%s', (_name, change, want) => {
    const r = parseExecutorEnv({ ...good, ...change });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(want);
  });

  it('reports every problem at once', () => {
    const r = parseExecutorEnv({ KUBE_MESOS_NODE_LABELS: 'x' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.length).toBe(2);
  });
});
