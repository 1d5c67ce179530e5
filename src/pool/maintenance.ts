/**
 * Mesos maintenance on the kubelet pool's side. When INVERSE_OFFERS announce an agent's maintenance window, its kubelet
 * is cordoned (no new pods: the agent is draining for placement and its Node is unschedulable), its pods are evicted
 * through the Eviction API ahead of the window (PodDisruptionBudgets respected, `kube-mesos.io/safe-to-evict: "false"`
 * respected), and once none is left the inverse offer is accepted. While something blocks the drain the inverse offer
 * is declined with a short filter (Mesos asks again after it) and the blocking pod gets a Warning event saying why.
 *
 * `planMaintenance` is pure (time and state passed in); `MaintenanceManager` keeps the state, applies the plan through
 * small ports and is driven by the framework core: events in, one `runCycle` per scheduling cycle.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { InverseOffer, Offer, Unavailability } from '../mesos/types.js';
import type { Logger } from '../telemetry/log.js';
import { ANNOTATION_SAFE_TO_EVICT } from '../names.js';


export interface MaintenanceConfig {
  /** refuse_seconds of a DECLINE_INVERSE_OFFERS while the drain is blocked: Mesos sends a new inverse offer after it. */
  declineRefuseSeconds: number;
  /** refuse_seconds of an ACCEPT_INVERSE_OFFERS: how long Mesos leaves the framework alone about that agent. */
  acceptRefuseSeconds: number;
  /** An eviction refused (PDB, or a transient error) is tried again after this. */
  evictRetryMs: number;
  /** A pod that blocks a drain gets its Warning event again at most this often. */
  warnIntervalMs: number;
  /** refuse_seconds for offers of draining agents, which are declined rather than used. */
  offerRefuseSeconds: number;
}

export const DEFAULT_MAINTENANCE_CONFIG: MaintenanceConfig = {
  declineRefuseSeconds: 5,
  acceptRefuseSeconds: 60,
  evictRetryMs: 5000,
  warnIntervalMs: 60_000,
  offerRefuseSeconds: 30,
};

// ---- the pure planner -------------------------------------------------------------------------------------------------

export type EvictionOutcome = 'ok' | 'DisruptionBudget' | 'error';

export interface DrainPod {
  key: string;
  /** False when annotated `kube-mesos.io/safe-to-evict: "false"`: never evicted, blocks the drain. */
  safeToEvict: boolean;
  /** No controller would re-create it (and not annotated safe-to-evict "true"): evicting would lose it, so it blocks. */
  bare?: boolean;
  /** Already going away (deletionTimestamp set): nothing to do but wait. */
  terminating: boolean;
  lastEviction?: { atMs: number; outcome: EvictionOutcome; message: string };
  lastWarnMs?: number;
}

export interface DrainAgent {
  agentId: string;
  nodeName: string | undefined;
  /** The inverse offer waiting for an answer, if any. */
  inverseOfferId: string | undefined;
  cordoned: boolean;
  pods: DrainPod[];
}

export type Blocker = { podKey: string; reason: 'SafeToEvict' | 'NoController' | 'DisruptionBudget'; message: string };

export type MaintenanceAction =
  | { kind: 'cordon'; agentId: string; nodeName: string | undefined }
  | { kind: 'evict'; agentId: string; podKey: string }
  | { kind: 'warn'; agentId: string; podKey: string; reason: Blocker['reason']; message: string }
  | { kind: 'accept'; agentId: string; inverseOfferId: string }
  | { kind: 'decline'; agentId: string; inverseOfferId: string; blockers: Blocker[] };

export interface AgentDrainStatus {
  agentId: string;
  state: 'draining' | 'blocked' | 'drained';
  podsLeft: number;
  blockers: Blocker[];
}

/** What to do for agents under maintenance now. Evictions go out all at once, as `kubectl drain` does; PDBs pace them. */
export function planMaintenance(s: { nowMs: number; agents: readonly DrainAgent[] }, c: MaintenanceConfig): { actions: MaintenanceAction[]; status: AgentDrainStatus[] } {
  const actions: MaintenanceAction[] = [];
  const status: AgentDrainStatus[] = [];
  for (const a of s.agents) {
    if (!a.cordoned) actions.push({ kind: 'cordon', agentId: a.agentId, nodeName: a.nodeName });
    const blockers: Blocker[] = [];
    for (const p of a.pods) {
      if (!p.safeToEvict) {
        blockers.push({ podKey: p.key, reason: 'SafeToEvict', message: `pod ${p.key} is annotated ${ANNOTATION_SAFE_TO_EVICT}: "false"` });
        continue;
      }
      if (p.bare && !p.terminating) {
        blockers.push({ podKey: p.key, reason: 'NoController', message: `pod ${p.key} has no controller to re-create it elsewhere (delete it, or annotate it ${ANNOTATION_SAFE_TO_EVICT}: "true")` });
        continue;
      }
      if (p.terminating) continue;
      const last = p.lastEviction;
      if (last?.outcome === 'DisruptionBudget') blockers.push({ podKey: p.key, reason: 'DisruptionBudget', message: `evicting pod ${p.key} would violate its PodDisruptionBudget: ${last.message}` });
      const due = !last || (last.outcome !== 'ok' && s.nowMs - last.atMs >= c.evictRetryMs);
      if (due) actions.push({ kind: 'evict', agentId: a.agentId, podKey: p.key });
    }
    for (const b of blockers) {
      const p = a.pods.find((x) => x.key === b.podKey)!;
      if (p.lastWarnMs === undefined || s.nowMs - p.lastWarnMs >= c.warnIntervalMs) actions.push({ kind: 'warn', agentId: a.agentId, podKey: b.podKey, reason: b.reason, message: b.message });
    }
    const state = a.pods.length === 0 ? 'drained' : blockers.length > 0 ? 'blocked' : 'draining';
    if (a.inverseOfferId !== undefined) {
      if (state === 'drained') actions.push({ kind: 'accept', agentId: a.agentId, inverseOfferId: a.inverseOfferId });
      else if (state === 'blocked') actions.push({ kind: 'decline', agentId: a.agentId, inverseOfferId: a.inverseOfferId, blockers });
      // draining: the answer waits until the evicted pods are gone
    }
    status.push({ agentId: a.agentId, state, podsLeft: a.pods.length, blockers });
  }
  return { actions, status };
}

// ---- the applier ------------------------------------------------------------------------------------------------------

/** The Kubernetes port's eviction answer: 'blocked' is a 429 from a PodDisruptionBudget; other failures throw. */
export type EvictResult = 'evicted' | 'blocked' | 'gone';

/** The Mesos calls it makes (the framework core's MesosPort satisfies this). */
export interface MaintenanceMesos {
  decline(offerIds: string[], refuseSeconds: number): Promise<void>;
  acceptInverseOffers?(inverseOfferIds: string[], refuseSeconds: number): Promise<void>;
  declineInverseOffers?(inverseOfferIds: string[], refuseSeconds: number): Promise<void>;
}

/** The Kubernetes calls it makes (the framework core's KubePort satisfies this). */
export interface MaintenanceKube {
  cordonNode(nodeName: string): Promise<void>;
  uncordonNode?(nodeName: string): Promise<void>;
  /** Through the Eviction API (PodDisruptionBudgets honoured). */
  evictPod(pod: V1Pod): Promise<EvictResult>;
  reportWarning(pod: V1Pod, reason: string, message: string): Promise<void>;
}

/** The offer pool's part it uses: offers of draining agents are taken out and declined. */
export interface MaintenanceOffers {
  forAgent(agentId: string): Offer[];
  takeAgent(agentId: string): Offer[];
  agents(): Iterable<string>;
}

export interface MaintenanceDeps {
  mesos: MaintenanceMesos;
  kube: MaintenanceKube;
  offers: MaintenanceOffers;
  clock: { now(): number };
  log: Logger;
  /** The pods of this scheduler on the agent (its tasks' pods), as the informer shows them. */
  podsOn(agentId: string): V1Pod[];
  nodeName(agentId: string): string | undefined;
  /** Tracks a fire-and-forget call (errors logged, awaited by the core's drain()). */
  send(p: Promise<unknown>, what: string): void;
  /** Asks for a cycle soon (an eviction answered, an inverse offer came). */
  wake(): void;
  /** A line for the dashboard's recent events. */
  note?(type: 'Normal' | 'Warning', reason: string, object: string, message: string): void;
  config?: Partial<MaintenanceConfig>;
}

interface AgentMaintenance {
  agentId: string;
  unavailability: Unavailability | undefined;
  inverseOfferId: string | undefined;
  /** Set once the cordon was sent (or there was no Node to cordon). */
  cordoned: boolean;
  nodeName: string | undefined;
  sinceMs: number;
  accepted: number;
  declined: number;
  lastStatus?: AgentDrainStatus;
}

interface PodTrack {
  lastEviction?: DrainPod['lastEviction'];
  lastWarnMs?: number;
  inflight: boolean;
}

export interface MaintenanceDebugState {
  agents: { agentId: string; nodeName: string | undefined; inverseOfferId: string | undefined; windowStart: string | undefined; state: string; podsLeft: number; blockers: Blocker[]; accepted: number; declined: number }[];
}

const podKeyOf = (pod: V1Pod) => `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;

function startIso(u: Unavailability | undefined): string | undefined {
  const ns = Number(u?.start.nanoseconds);
  return Number.isFinite(ns) ? new Date(ns / 1e6).toISOString() : undefined;
}

export class MaintenanceManager {
  private readonly cfg: MaintenanceConfig;
  private readonly agents = new Map<string, AgentMaintenance>();
  private readonly pods = new Map<string, PodTrack>(); // by pod uid

  constructor(private readonly deps: MaintenanceDeps) {
    this.cfg = { ...DEFAULT_MAINTENANCE_CONFIG, ...deps.config };
    for (const [k, v] of Object.entries(this.cfg)) if (typeof v !== 'number' || !(v >= 0)) throw new RangeError(`maintenance.${k} must be a number ≥ 0, got ${String(v)}`);
  }

  /** Whether the agent is under maintenance: placement must not put pods (or a kubelet) there. */
  isDraining(agentId: string): boolean {
    return this.agents.has(agentId);
  }

  /** Agents under maintenance, for the snapshot. */
  drainingAgents(): ReadonlySet<string> {
    return new Set(this.agents.keys());
  }

  /** INVERSE_OFFERS: each names an agent whose machine goes into maintenance; the newest one per agent is answered. */
  onInverseOffers(ios: readonly InverseOffer[]): void {
    const now = this.deps.clock.now();
    for (const io of ios) {
      const agentId = io.agent_id?.value;
      if (!agentId) continue; // inverse offers without an agent are about resources Mesos does not use for maintenance
      const m = this.track(agentId, io.unavailability, now);
      m.inverseOfferId = io.id.value;
      m.unavailability = io.unavailability;
      this.deps.log.info({ agentId, inverseOfferId: io.id.value, windowStart: startIso(io.unavailability) }, 'inverse offer: agent goes into maintenance');
    }
    if (ios.length > 0) this.deps.wake();
  }

  /** RESCIND_INVERSE_OFFER: the question is withdrawn (schedule changed, timeout, agent gone); offers tell if it ended. */
  onRescindInverseOffer(inverseOfferId: string): void {
    for (const m of this.agents.values()) if (m.inverseOfferId === inverseOfferId) m.inverseOfferId = undefined;
    this.deps.wake();
  }

  private track(agentId: string, unavailability: Unavailability | undefined, now: number): AgentMaintenance {
    let m = this.agents.get(agentId);
    if (!m) {
      const nodeName = this.deps.nodeName(agentId);
      m = { agentId, unavailability, inverseOfferId: undefined, cordoned: false, nodeName, sinceMs: now, accepted: 0, declined: 0 };
      this.agents.set(agentId, m);
      this.deps.note?.('Normal', 'Maintenance', nodeName ?? agentId, `agent ${agentId} is scheduled for maintenance from ${startIso(unavailability) ?? 'now'}: cordoned, draining`);
    }
    return m;
  }

  /**
   * One pass per scheduling cycle, before placement: follows the offers (an offer with `unavailability` puts its agent
   * under maintenance, one without ends it), takes offers of draining agents out of the pool and declines them, then
   * plans and applies cordons, evictions, warnings and answers to inverse offers.
   */
  runCycle(now: number): void {
    for (const agentId of [...this.deps.offers.agents()]) {
      const offers = this.deps.offers.forAgent(agentId);
      const scheduled = offers.find((o) => o.unavailability)?.unavailability;
      const m = this.agents.get(agentId);
      if (scheduled) this.track(agentId, scheduled, now).unavailability = scheduled;
      else if (m && m.inverseOfferId === undefined && offers.length > 0) this.maintenanceOver(m);
    }
    for (const agentId of this.agents.keys()) {
      const offers = this.deps.offers.takeAgent(agentId);
      if (offers.length > 0) this.deps.send(this.deps.mesos.decline(offers.map((o) => o.id.value), this.cfg.offerRefuseSeconds), 'decline offers of a draining agent');
    }
    if (this.agents.size === 0) return;

    const podsByKey = new Map<string, V1Pod>();
    const input: DrainAgent[] = [];
    const live = new Set<string>();
    for (const m of this.agents.values()) {
      m.nodeName ??= this.deps.nodeName(m.agentId);
      const pods: DrainPod[] = [];
      for (const pod of this.deps.podsOn(m.agentId)) {
        const phase = pod.status?.phase;
        if (phase === 'Succeeded' || phase === 'Failed') continue;
        const uid = pod.metadata?.uid ?? podKeyOf(pod);
        live.add(uid);
        const t = this.pods.get(uid) ?? { inflight: false };
        this.pods.set(uid, t);
        podsByKey.set(podKeyOf(pod), pod);
        pods.push({
          key: podKeyOf(pod),
          safeToEvict: pod.metadata?.annotations?.[ANNOTATION_SAFE_TO_EVICT] !== 'false',
          // as cluster-autoscaler and `kubectl drain` (without --force): a pod nothing re-creates is not evicted
          bare: !(pod.metadata?.ownerReferences ?? []).some((o) => o.controller) && pod.metadata?.annotations?.[ANNOTATION_SAFE_TO_EVICT] !== 'true',
          // an eviction in flight counts as terminating: it is not sent twice
          terminating: Boolean(pod.metadata?.deletionTimestamp) || t.inflight,
          lastEviction: t.lastEviction,
          lastWarnMs: t.lastWarnMs,
        });
      }
      input.push({ agentId: m.agentId, nodeName: m.nodeName, inverseOfferId: m.inverseOfferId, cordoned: m.cordoned, pods });
    }
    for (const uid of [...this.pods.keys()]) if (!live.has(uid)) this.pods.delete(uid);

    const plan = planMaintenance({ nowMs: now, agents: input }, this.cfg);
    for (const st of plan.status) {
      const m = this.agents.get(st.agentId)!;
      if (m.lastStatus?.state !== st.state) this.deps.log.info({ agentId: st.agentId, state: st.state, podsLeft: st.podsLeft, blockers: st.blockers.length }, 'maintenance drain');
      m.lastStatus = st;
    }
    for (const a of plan.actions) this.apply(a, podsByKey, now);
  }

  private apply(a: MaintenanceAction, podsByKey: ReadonlyMap<string, V1Pod>, now: number): void {
    const m = this.agents.get(a.agentId)!;
    switch (a.kind) {
      case 'cordon':
        m.cordoned = true;
        if (a.nodeName) this.deps.send(this.deps.kube.cordonNode(a.nodeName), 'cordon for maintenance');
        return;
      case 'evict': {
        const pod = podsByKey.get(a.podKey)!;
        const t = this.pods.get(pod.metadata?.uid ?? a.podKey)!;
        t.inflight = true;
        this.deps.send(
          this.deps.kube
            .evictPod(pod)
            .then((r) => {
              const at = this.deps.clock.now();
              if (r === 'blocked') {
                t.lastEviction = { atMs: at, outcome: 'DisruptionBudget', message: 'the Eviction API refused it (429): a PodDisruptionBudget allows no disruption now' };
                this.deps.log.info({ pod: a.podKey, agentId: a.agentId }, 'eviction refused by a PodDisruptionBudget');
              } else t.lastEviction = { atMs: at, outcome: 'ok', message: '' };
            })
            .catch((err: unknown) => {
              t.lastEviction = { atMs: this.deps.clock.now(), outcome: 'error', message: err instanceof Error ? err.message : String(err) };
              throw err; // send() logs it
            })
            .finally(() => {
              t.inflight = false;
              this.deps.wake();
            }),
          'evict for maintenance',
        );
        this.deps.note?.('Normal', 'Evicting', a.podKey, `evicting for the maintenance of agent ${a.agentId}`);
        return;
      }
      case 'warn': {
        const pod = podsByKey.get(a.podKey)!;
        this.pods.get(pod.metadata?.uid ?? a.podKey)!.lastWarnMs = now;
        const message = `${a.message}; it blocks the maintenance of agent ${a.agentId}${m.nodeName ? ` (node ${m.nodeName})` : ''}${m.unavailability ? ` due at ${startIso(m.unavailability)}` : ''}, whose Mesos inverse offer is declined until the pod can go`;
        this.deps.note?.('Warning', 'MaintenanceBlocked', a.podKey, message);
        this.deps.send(this.deps.kube.reportWarning(pod, 'MaintenanceBlocked', message), 'maintenance warning');
        return;
      }
      case 'accept':
        m.inverseOfferId = undefined;
        m.accepted++;
        if (!this.deps.mesos.acceptInverseOffers) return void this.deps.log.warn({ agentId: a.agentId }, 'cannot accept inverse offers (no port)');
        this.deps.note?.('Normal', 'MaintenanceAccepted', m.nodeName ?? a.agentId, `agent ${a.agentId} drained: inverse offer ${a.inverseOfferId} accepted`);
        this.deps.send(this.deps.mesos.acceptInverseOffers([a.inverseOfferId], this.cfg.acceptRefuseSeconds), 'accept inverse offer');
        return;
      case 'decline':
        m.inverseOfferId = undefined;
        m.declined++;
        if (!this.deps.mesos.declineInverseOffers) return void this.deps.log.warn({ agentId: a.agentId }, 'cannot decline inverse offers (no port)');
        this.deps.log.info({ agentId: a.agentId, inverseOfferId: a.inverseOfferId, blockers: a.blockers.map((b) => b.podKey) }, 'inverse offer declined: drain blocked');
        this.deps.send(this.deps.mesos.declineInverseOffers([a.inverseOfferId], this.cfg.declineRefuseSeconds), 'decline inverse offer');
        return;
    }
  }

  private maintenanceOver(m: AgentMaintenance): void {
    this.agents.delete(m.agentId);
    this.deps.log.info({ agentId: m.agentId }, 'maintenance over: agent offered without unavailability');
    this.deps.note?.('Normal', 'MaintenanceOver', m.nodeName ?? m.agentId, `agent ${m.agentId} is offered without a maintenance window again: uncordoned`);
    const uncordon = this.deps.kube.uncordonNode;
    if (m.nodeName && uncordon) this.deps.send(uncordon.call(this.deps.kube, m.nodeName), 'uncordon after maintenance');
  }

  debugState(): MaintenanceDebugState {
    return {
      agents: [...this.agents.values()].map((m) => ({
        agentId: m.agentId,
        nodeName: m.nodeName,
        inverseOfferId: m.inverseOfferId,
        windowStart: startIso(m.unavailability),
        state: m.lastStatus?.state ?? 'draining',
        podsLeft: m.lastStatus?.podsLeft ?? 0,
        blockers: m.lastStatus?.blockers ?? [],
        accepted: m.accepted,
        declined: m.declined,
      })),
    };
  }
}
