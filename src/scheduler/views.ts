/**
 * Read-only views of the core's state: the dashboard's (ops/types.ts declares its shape), the debug endpoint's, and
 * the gauges the metrics refresh now and then. Nothing here changes state.
 */
import type { DashboardAgent, DashboardPod, DashboardState, RecentEvent } from '../ops/types.js';
import type { CoreState } from './state.js';

/** Gauges the ops layer refreshes now and then (counts by zone and state). */
export interface GaugeSnapshot {
  kubelets: { zone: string; state: string; count: number }[];
  agents: { zone: string; state: string; count: number }[];
  zones: [string, boolean][];
  tasks: [string, number][];
  offersHeld: number;
  pending: number;
  unschedulable: number;
}

export function debugState(s: CoreState, o: { nowMs: number; suppressed: boolean; maintenance: unknown }) {
  return {
    subscribed: s.subscribed,
    frameworkId: s.frameworkId,
    suppressed: o.suppressed,
    queue: s.queue.counts(o.nowMs),
    offersHeld: s.offers.size,
    agents: [...s.agents.values()].map((a) => ({ id: a.info.id, hostname: a.info.hostname, zone: a.info.zone, nodeName: a.info.nodeName, offers: s.offers.forAgent(a.info.id).length, kubelet: s.tasks.kubelet(a.info.id)?.state })),
    tasks: s.tasks.taskCount,
    kubelets: [...s.tasks.allKubelets()].map((k) => ({ agentId: k.agentId, executorId: k.executorId, nodeName: k.nodeName, state: k.state, tasks: k.taskIds.size })),
    failover: s.failover.debugState(),
    deadExecutorNodes: s.executorLoss.debugState(),
    maintenance: o.maintenance,
  };
}

/**
 * What the dashboard shows: zones × agents with their kubelet, pods and free resources, pending pods with the reason
 * they wait, and recent events (newest first). A plain JSON-able value.
 */
export function dashboardState(s: CoreState, o: { nowMs: number; events: RecentEvent[] }): DashboardState {
  const now = o.nowMs;
  const podsByAgent = new Map<string, DashboardPod[]>();
  const used = new Map<string, { cpus: number; mem: number }>();
  for (const t of s.tasks.all()) {
    const pod = s.pods.get(t.podUid);
    const list = podsByAgent.get(t.agentId) ?? [];
    list.push({ key: t.podKey, phase: pod?.status?.phase ?? 'Pending', taskState: t.state });
    podsByAgent.set(t.agentId, list);
    const u = used.get(t.agentId) ?? { cpus: 0, mem: 0 };
    u.cpus += t.cpus;
    u.mem += t.mem;
    used.set(t.agentId, u);
  }
  const zones = new Map<string, DashboardAgent[]>();
  for (const [id, a] of s.agents) {
    const zone = a.info.zone ?? '(none)';
    const k = s.tasks.kubelet(id);
    const list = zones.get(zone) ?? [];
    list.push({
      id,
      hostname: a.info.hostname,
      nodeName: a.info.nodeName,
      kubelet: k ? k.state : null,
      pods: (podsByAgent.get(id) ?? []).sort((x, y) => x.key.localeCompare(y.key)),
      used: used.get(id) ?? { cpus: 0, mem: 0 },
      free: a.lastOffered,
      lastOfferAgoMs: now - a.lastOfferMs,
      lost: s.failover.isAgentLost(id),
    });
    zones.set(zone, list);
  }
  const pending = s.queue.ready(Number.MAX_SAFE_INTEGER).map((p) => ({ key: p.key, message: s.lastUnschedulable.get(p.key)?.message ?? 'waiting for offers', sinceMs: p.createdAtMs }));
  return {
    atMs: now,
    subscribed: s.subscribed,
    frameworkId: s.frameworkId,
    zones: [...zones.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, agents]) => ({ name, agents: agents.sort((x, y) => x.hostname.localeCompare(y.hostname)) })),
    pending,
    events: o.events,
    unhealthyZones: s.failover.debugState().unhealthyZones,
    totals: { agents: s.agents.size, kubelets: [...s.tasks.allKubelets()].length, tasks: s.tasks.taskCount, pending: s.queue.size, offersHeld: s.offers.size },
  };
}

export function gauges(s: CoreState): GaugeSnapshot {
  const count = <K extends string>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
  const kubelets = new Map<string, number>();
  for (const k of s.tasks.allKubelets()) count(kubelets, `${s.zoneOf(k.agentId)}\u0000${k.state}`);
  const agents = new Map<string, number>();
  for (const [id, a] of s.agents) count(agents, `${a.info.zone ?? ''}\u0000${s.failover.isAgentLost(id) ? 'lost' : 'active'}`);
  const tasks = new Map<string, number>();
  for (const t of s.tasks.all()) count(tasks, t.state);
  const health = s.failover.health(s.agentZones());
  const split = (m: Map<string, number>) =>
    [...m].map(([key, n]) => {
      const [zone, state] = key.split('\u0000');
      return { zone, state, count: n };
    });
  return {
    kubelets: split(kubelets),
    agents: split(agents),
    zones: [...health.zones].map(([z, h]) => [z, h.healthy]),
    tasks: [...tasks],
    offersHeld: s.offers.size,
    pending: s.queue.size,
    unschedulable: s.lastUnschedulable.size,
  };
}
