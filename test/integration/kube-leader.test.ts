// Leader election on a real Lease and the ConfigMap state store, as the kube-mesos ServiceAccount (Role from rbac.yaml).
import type { KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { KubeClient } from '../../src/kube/client.js';
import { LeaderElector, leaseApi } from '../../src/kube/leader.js';
import { rbacYaml } from '../../src/kube/rbac.js';
import { withStableApiserver } from '../../src/kube/testing/apiserver-lock.js';
import { createLogger } from '../../src/telemetry/log.js';
import { ConfigMapStateStore } from '../../src/kube/state-store.js';
import { controlPlaneInfo, createTestNamespace, kubectl, serviceAccountKubeConfig, waitFor, type TestNamespace } from '../support/kube.js';

/** Tests that a kube-apiserver restart elsewhere in the run would spoil wait for it to finish, and hold one off meanwhile. */
const lockDir = () => join(controlPlaneInfo().dir, 'test-locks');
const stableIt = (name: string, fn: () => Promise<void>, timeoutMs?: number) => it(name, () => withStableApiserver(lockDir(), fn), timeoutMs);

let ns: TestNamespace;
let sa: KubeConfig;
const clients: KubeClient[] = [];
const newClient = () => {
  const c = new KubeClient(sa);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  ns = await createTestNamespace('kube-leader');
  const manifest = rbacYaml({ namespace: ns.name, omitNamespace: true });
  await waitFor(() => kubectl(['apply', '-f', '-'], { input: manifest }).then(() => true), { what: 'rbac.yaml applied', timeoutMs: 60_000 });
  sa = await serviceAccountKubeConfig(ns.name, 'kube-mesos', 'kube-mesos');
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.http.close();
  await kubectl(['delete', 'clusterrolebinding', `kube-mesos:${ns.name}:kube-mesos`, '--ignore-not-found'], { allowFailure: true });
  await ns?.delete();
});

const timing = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };

function candidate(identity: string, leaseName: string, releaseOnCancel = true) {
  const state = { leading: false, startedAt: 0, stoppedAt: 0 };
  const ctrl = new AbortController();
  const el = new LeaderElector({
    lease: leaseApi(newClient(), ns.name, leaseName),
    identity,
    ...timing,
    releaseOnCancel,
    log: process.env.KM_DEBUG ? createLogger({ level: 'debug' }) : undefined,
    onStartedLeading: () => {
      state.leading = true;
      state.startedAt = Date.now();
    },
    onStoppedLeading: () => {
      state.leading = false;
      state.stoppedAt = Date.now();
    },
  });
  const done = el.run(ctrl.signal);
  return { identity, state, stop: () => ctrl.abort(), done };
}

async function holder(leaseName: string): Promise<string> {
  const out = await kubectl(['get', 'lease', '-n', ns.name, leaseName, '-o', 'jsonpath={.spec.holderIdentity}']);
  return out.stdout;
}

describe('leader election on a coordination.k8s.io/v1 Lease', () => {
  stableIt('two electors -> exactly one leader; the leader crashing (no release) -> the other leads once the lease expires (lease duration + up to ~2 retry periods)', async () => {
    const a = candidate('a', 'sched', false);
    const b = candidate('b', 'sched', false);
    await waitFor(() => a.state.leading || b.state.leading, { what: 'a leader', timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 3 * timing.retryPeriodMs)); // several renew rounds: still exactly one
    expect([a.state.leading, b.state.leading].filter(Boolean)).toHaveLength(1);
    const [leader, follower] = a.state.leading ? [a, b] : [b, a];
    expect(await holder('sched')).toBe(leader.identity);

    const crashedAt = Date.now();
    leader.stop(); // releaseOnCancel off: the Lease still names the dead leader, as after a crash
    await leader.done;
    expect(await holder('sched')).toBe(leader.identity);
    await waitFor(() => follower.state.leading, { what: 'the follower to take over', timeoutMs: 15_000, intervalMs: 50 });
    const takeover = follower.state.startedAt - crashedAt;
    // The follower counts the lease from when it last saw it change, up to one retry period after the leader's last renewal.
    expect(takeover).toBeLessThan(timing.leaseDurationMs + 3 * timing.retryPeriodMs);
    expect(takeover).toBeGreaterThan(timing.leaseDurationMs - 2 * timing.retryPeriodMs);
    expect(await holder('sched')).toBe(follower.identity);
    console.log(`leader election: takeover ${takeover} ms after the crash (lease ${timing.leaseDurationMs} ms, retry ${timing.retryPeriodMs} ms)`);
    follower.stop();
    await follower.done;
  }, 60_000);

  stableIt('a clean shutdown releases the lease and the other leads at once', async () => {
    const a = candidate('a', 'release');
    await waitFor(() => a.state.leading, { what: 'a to lead', timeoutMs: 20_000 });
    const b = candidate('b', 'release');
    await new Promise((r) => setTimeout(r, 2 * timing.retryPeriodMs));
    expect(b.state.leading).toBe(false);
    const t0 = Date.now();
    a.stop();
    await a.done;
    await waitFor(() => b.state.leading, { what: 'b to take over', timeoutMs: 10_000, intervalMs: 50 });
    expect(Date.now() - t0).toBeLessThan(timing.leaseDurationMs / 2);
    b.stop();
    await b.done;
    expect(await holder('release')).toBe('');
  }, 60_000);
});

describe('ConfigMap state store', () => {
  stableIt('round-trips the framework id across instances, and loses no update among concurrent writers', async () => {
    const s1 = new ConfigMapStateStore({ client: newClient(), namespace: ns.name });
    const s2 = new ConfigMapStateStore({ client: newClient(), namespace: ns.name });
    expect(await s1.getFrameworkId()).toEqual({ ok: true, value: undefined });
    expect((await s1.setFrameworkId('c0ffee-0001')).ok).toBe(true);
    expect(await s2.getFrameworkId()).toEqual({ ok: true, value: 'c0ffee-0001' }); // a restarted scheduler reads it back

    const bump = (s: ConfigMapStateStore, i: number) => s.update((d) => ({ ...d, counter: String(Number(d.counter ?? '0') + 1), [`w${i}`]: 'x' }));
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => bump(i % 2 ? s1 : s2, i)));
    expect(results.map((r) => (r.ok ? 'ok' : r.kind))).toEqual(Array(16).fill('ok'));
    const all = await s1.getAll();
    expect(all.ok && all.value.counter).toBe('16');
    expect(all.ok && Object.keys(all.value).filter((k) => k.startsWith('w'))).toHaveLength(16);
    expect(all.ok && all.value['framework-id']).toBe('c0ffee-0001');
    const viaKubectl = await kubectl(['get', 'configmap', '-n', ns.name, 'kube-mesos-state', '-o', 'jsonpath={.data.framework-id}']);
    expect(viaKubectl.stdout).toBe('c0ffee-0001');
  }, 60_000);
});
