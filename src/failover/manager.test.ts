import type { V1Pod } from '@kubernetes/client-node';
import { FailoverManager } from './manager.js';
import { DEFAULT_FAILOVER_CONFIG } from './policy.js';

const cfg = { ...DEFAULT_FAILOVER_CONFIG, defaultFailoverAfterMs: 60_000 };
const agents = [
  { id: 'a1', zone: 'a' },
  { id: 'a2', zone: 'a' },
  { id: 'b1', zone: 'b' },
  { id: 'b2', zone: 'b' },
  { id: 'c1', zone: 'c' },
  { id: 'c2', zone: 'c' },
];

function pod(name: string, opts: { owned?: boolean; annotations?: Record<string, string> } = {}): V1Pod {
  return {
    metadata: {
      namespace: 'ns',
      name,
      uid: `uid-${name}`,
      annotations: opts.annotations,
      ownerReferences: opts.owned === false ? undefined : [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }],
    },
    spec: { containers: [] },
  };
}

describe('FailoverManager', () => {
  it('replaces pods of a failed zone after failover-after, and marks the zone unhealthy', () => {
    const m = new FailoverManager(cfg, 0);
    m.agentLost('b1', 0);
    m.agentLost('b2', 0);
    m.podLost(pod('web-1', { annotations: { 'kube-mesos.io/failover-after': '20s' } }), 'b1', 'b', false, 0);
    m.podLost(pod('web-2'), 'b2', 'b', false, 0);
    const early = m.tick(agents, 19_000);
    expect(early.replace).toEqual([]);
    expect([...early.health.unhealthyZones]).toEqual(['b']);
    expect(m.nextDueMs()).toBe(20_000);
    expect(m.tick(agents, 20_000).replace.map((r) => [r.kind, r.lost.key])).toEqual([['delete', 'ns/web-1']]);
    expect(m.tick(agents, 60_000).replace.map((r) => r.lost.key)).toEqual(['ns/web-2']);
    expect(m.lostPodCount()).toBe(0);
  });

  it('forgets the lost pods of an agent that comes back in time', () => {
    const m = new FailoverManager(cfg, 0);
    m.agentLost('a1', 0);
    m.podLost(pod('p'), 'a1', 'a', false, 0);
    expect(m.agentBack('a1')).toBe(true);
    expect(m.agentBack('a1')).toBe(false);
    expect(m.tick(agents, 999_999).replace).toEqual([]);
  });

  it('replaces a TASK_GONE pod at once, even if its agent is back', () => {
    const m = new FailoverManager(cfg, 0);
    m.podLost(pod('p'), 'a1', 'a', true, 0);
    m.agentBack('a1');
    expect(m.tick(agents, 1).replace.map((r) => r.lost.key)).toEqual(['ns/p']);
  });

  it('replaces nothing when every zone looks lost', () => {
    const m = new FailoverManager(cfg, 0);
    for (const a of agents) m.agentLost(a.id, 0);
    m.podLost(pod('p'), 'a1', 'a', false, 0);
    const t = m.tick(agents, 999_999);
    expect(t.replace).toEqual([]);
    expect(t.health.cutOff).toBe(true);
    expect(t.heldForSafety).toBe(1);
  });

  it('re-creates bare pods only when they opt in, and reports a malformed failover-after', () => {
    const m = new FailoverManager(cfg, 0);
    m.podLost(pod('bare', { owned: false }), 'a1', 'a', true, 0);
    m.podLost(pod('opt', { owned: false, annotations: { 'kube-mesos.io/reschedule-on-loss': 'true' } }), 'a1', 'a', true, 0);
    expect(m.podLost(pod('bad', { annotations: { 'kube-mesos.io/failover-after': 'later' } }), 'a1', 'a', false, 0)).toEqual({
      ok: false,
      error: expect.stringMatching(/kube-mesos.io\/failover-after/),
    });
    expect(m.tick(agents, 1).replace.map((r) => [r.kind, r.lost.key])).toEqual([['recreate', 'ns/opt']]);
  });
});
