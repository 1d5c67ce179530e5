import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  apiserverControl,
  createTestNamespace,
  kubectl,
  serviceAccountKubeConfig,
  statusCode,
  testKubeConfig,
  waitFor,
  withApiserverDisruption,
  withStableApiserver,
  type TestNamespace,
} from '../support/kube.js';

interface PodList {
  items: { metadata: { name: string; ownerReferences?: { kind: string }[] }; spec: { schedulerName: string; nodeName?: string }; status: { phase: string } }[];
}

const deployment = (namespace: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${namespace} }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      schedulerName: kube-mesos
      containers:
        - name: web
          image: registry.invalid/web:1
          resources: { requests: { cpu: 100m, memory: 64Mi } }
`;

describe('the control plane (etcd + kube-apiserver + kube-controller-manager)', () => {
  let ns: TestNamespace;
  beforeAll(async () => {
    ns = await createTestNamespace('controlplane');
  });
  afterAll(() => ns?.delete());

  // Tests that need kube-apiserver up hold the run's reader lock; the restart tests take the writer side.
  it('kubectl apply of a Deployment → ReplicaSet → Pods that stay Pending with schedulerName kube-mesos', () => withStableApiserver(async () => {
    const applied = await kubectl(['apply', '-f', '-'], { input: deployment(ns.name) });
    expect(applied.stdout).toMatch(/deployment.apps\/web created/);
    const pods = await waitFor(
      async () => {
        const list = JSON.parse((await kubectl(['get', 'pods', '-n', ns.name, '-l', 'app=web', '-o', 'json'])).stdout) as PodList;
        return list.items.length === 3 ? list.items : undefined;
      },
      { timeoutMs: 45_000, what: 'the ReplicaSet controller to create 3 pods' },
    );
    for (const p of pods) {
      expect(p.metadata.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
      expect(p.spec.schedulerName).toBe('kube-mesos');
      expect(p.spec.nodeName).toBeUndefined();
      expect(p.status.phase).toBe('Pending');
    }
    const rs = await kubectl(['get', 'replicasets', '-n', ns.name, '-o', 'jsonpath={.items[0].status.replicas}']);
    expect(rs.stdout).toBe('3');
    // No default scheduler runs here: the pods are still unbound and Pending.
    const again = JSON.parse((await kubectl(['get', 'pods', '-n', ns.name, '-o', 'json'])).stdout) as PodList;
    expect(again.items.map((p) => [p.status.phase, p.spec.nodeName ?? null])).toEqual(pods.map(() => ['Pending', null]));
  }));

  it('gives a ServiceAccount a working token limited by RBAC', () => withStableApiserver(async () => {
    const kc = await serviceAccountKubeConfig(ns.name, 'viewer', 'view');
    expect(kc.getCurrentUser()?.name).toBe(`system:serviceaccount:${ns.name}:viewer`);
    const core = kc.makeApiClient(CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: ns.name });
    expect(Array.isArray(pods.items)).toBe(true);
    const denied = await core
      .createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'nope' } } })
      .then(() => 0, (err: unknown) => statusCode(err));
    expect(denied).toBe(403);
    const who = await kubectl(['auth', 'can-i', 'create', 'configmaps', '-n', ns.name], { kubeconfig: kc, allowFailure: true });
    expect(who.stdout.trim()).toBe('no');
  }));

  it.each([['stop' as const], ['kill' as const]])('keeps data across a kube-apiserver %s and start on the same address', (how) => withApiserverDisruption(async () => {
    const core = testKubeConfig().makeApiClient(CoreV1Api);
    const name = `before-${how}`;
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name }, data: { k: how } } });
    const control = apiserverControl();
    const before = await control.status();
    expect(before.running).toBe(true);

    const down = await control[how]();
    expect(down.running).toBe(false);
    const unreachable = await core.readNamespacedConfigMap({ name, namespace: ns.name }).then(() => 'reachable', (err: unknown) => String(err));
    expect(unreachable).toMatch(/ECONNREFUSED|connect/i);

    // kubectl() retries while the server is unreachable, so other tests ride out a restart.
    const meanwhile = kubectl(['get', 'configmap', name, '-n', ns.name, '-o', 'jsonpath={.data.k}']);
    const up = await control.start();
    expect(up.running).toBe(true);
    expect(up.pid).not.toBe(before.pid);
    const cm = await waitFor(() => core.readNamespacedConfigMap({ name, namespace: ns.name }), { timeoutMs: 30_000, what: `ConfigMap ${name} after the restart` });
    expect(cm.data).toEqual({ k: how });
    expect((await meanwhile).stdout).toBe(how);
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: `after-${how}` } } });
  }));
});
