// The pod informer against the real control plane, running as the kube-mesos ServiceAccount bound to manifests/rbac.yaml.
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { join } from 'node:path';
import { KubeClient } from '../../src/kube/client.js';
import { podInformer, type ResilientInformer } from '../../src/kube/informer.js';
import { rbacYaml } from '../../src/kube/rbac.js';
import { withApiserverDisruption, withStableApiserver } from '../../src/kube/testing/apiserver-lock.js';
import { apiserverControl, controlPlaneInfo, createTestNamespace, kubectl, serviceAccountKubeConfig, testKubeConfig, waitFor, type TestNamespace } from '../support/kube.js';

const SCHEDULER = 'kube-mesos';

function pendingPod(name: string, schedulerName = SCHEDULER): V1Pod {
  return { metadata: { name, labels: { app: 'it' } }, spec: { schedulerName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.2' }] } };
}

/** Tests that a kube-apiserver restart elsewhere in the run would spoil wait for it to finish, and hold one off meanwhile. */
const lockDir = () => join(controlPlaneInfo().dir, 'test-locks');
const stableIt = (name: string, fn: () => Promise<void>, timeoutMs?: number) => it(name, () => withStableApiserver(lockDir(), fn), timeoutMs);

let ns: TestNamespace;
let sa: KubeConfig;
let admin: KubeClient;
let client: KubeClient;

beforeAll(async () => {
  ns = await createTestNamespace('kube-informer');
  const manifest = rbacYaml({ namespace: ns.name, omitNamespace: true });
  await waitFor(() => kubectl(['apply', '-f', '-'], { input: manifest }).then(() => true), { what: 'rbac.yaml applied', timeoutMs: 60_000 });
  sa = await serviceAccountKubeConfig(ns.name, 'kube-mesos', 'kube-mesos');
  admin = new KubeClient(testKubeConfig());
  client = new KubeClient(sa);
}, 120_000);

afterAll(async () => {
  await kubectl(['delete', 'clusterrolebinding', `kube-mesos:${ns.name}:kube-mesos`, '--ignore-not-found'], { allowFailure: true });
  await ns?.delete();
  admin?.http.close();
  client?.http.close();
});

/** Event log of one namespace's pods, as the informer's handlers saw them. */
function record(inf: ResilientInformer<V1Pod>, namespace: string): string[] {
  const log: string[] = [];
  const mine = (p: V1Pod) => p.metadata?.namespace === namespace;
  inf.on('add', (p) => mine(p) && log.push(`add ${p.metadata!.name}`));
  inf.on('update', (p, old) => mine(p) && log.push(`update ${p.metadata!.name} ${old.metadata?.annotations?.v ?? '-'}->${p.metadata?.annotations?.v ?? '-'}`));
  inf.on('delete', (p) => mine(p) && log.push(`delete ${p.metadata!.name}`));
  return log;
}

describe('pod informer (as the kube-mesos ServiceAccount)', () => {
  stableIt('sees create, update and delete of its scheduler\'s pods only, and never hands out mutable objects', async () => {
    const inf = podInformer(sa, { schedulerName: SCHEDULER, freeze: true });
    const log = record(inf, ns.name);
    inf.start();
    await inf.ready;
    try {
      expect((await client.createPod(ns.name, pendingPod('p1'))).ok).toBe(true);
      expect((await client.createPod(ns.name, pendingPod('other', 'default-scheduler'))).ok).toBe(true);
      await waitFor(() => inf.get(`${ns.name}/p1`), { what: 'p1 in the cache', timeoutMs: 10_000 });
      const p = inf.get(`${ns.name}/p1`)!;
      expect(p.spec?.schedulerName).toBe(SCHEDULER);
      // The API server's JSON as it came (no model conversion): timestamps are RFC 3339 strings, not Date.
      expect(p.metadata?.creationTimestamp as unknown).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(() => ((p.metadata as { name: string }).name = 'x')).toThrow(TypeError);

      expect((await client.patchPodAnnotations(ns.name, 'p1', { v: '1' })).ok).toBe(true);
      await waitFor(() => log.includes('update p1 -->1'), { what: 'the update', timeoutMs: 10_000 });
      expect((await client.deletePod(ns.name, 'p1', { gracePeriodSeconds: 0 })).ok).toBe(true);
      await waitFor(() => log.includes('delete p1'), { what: 'the delete', timeoutMs: 10_000 });
      // Deletion may first show up as an update (deletionTimestamp set), then the delete.
      expect(log.slice(0, 2)).toEqual(['add p1', 'update p1 -->1']);
      expect(log.at(-1)).toBe('delete p1');
      expect(log.slice(2, -1).every((l) => l === 'update p1 1->1')).toBe(true);
      expect(inf.list().some((x) => x.metadata?.name === 'other')).toBe(false);
    } finally {
      await inf.stop();
    }
  });

  it('survives a kube-apiserver restart and misses no pod created while it was reconnecting', () => withApiserverDisruption(lockDir(), async () => {
    const inf = podInformer(sa, { schedulerName: SCHEDULER, freeze: true, backoff: { initialMs: 500, maxMs: 4000 } });
    const log = record(inf, ns.name);
    inf.start();
    await inf.ready;
    const ctl = apiserverControl();
    try {
      expect((await client.createPod(ns.name, pendingPod('before'))).ok).toBe(true);
      await waitFor(() => log.includes('add before'), { what: 'pod "before"', timeoutMs: 10_000 });
      const failuresBefore = inf.stats.failures;

      await ctl.stop();
      await waitFor(() => inf.stats.failures > failuresBefore, { what: 'the informer to notice the outage', timeoutMs: 30_000 });
      await ctl.start();
      // Create pods at once, racing the informer's backoff: it must pick them all up.
      const names = Array.from({ length: 10 }, (_, i) => `during-${i}`);
      for (const n of names) {
        const r = await waitFor(async () => {
          const res = await admin.createPod(ns.name, pendingPod(n));
          return res.ok || res.kind === 'AlreadyExists' ? res : undefined;
        }, { what: `creating ${n}`, timeoutMs: 30_000 });
        expect(r.ok || r.kind === 'AlreadyExists').toBe(true);
      }
      expect((await admin.deletePod(ns.name, 'before', { gracePeriodSeconds: 0 })).ok).toBe(true);

      await waitFor(() => names.every((n) => inf.get(`${ns.name}/${n}`)) && !inf.get(`${ns.name}/before`), {
        what: 'the informer to catch up after the restart',
        timeoutMs: 45_000,
      });
      expect(names.filter((n) => log.includes(`add ${n}`))).toEqual(names);
      expect(log).toContain('delete before');
      expect(inf.stats.failures).toBeGreaterThan(failuresBefore);
    } finally {
      const st = await ctl.status();
      if (!st.running) await ctl.start();
      await inf.stop();
    }
  }), 240_000);
});
