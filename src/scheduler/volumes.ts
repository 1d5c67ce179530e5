/**
 * Mesos volumes for PersistentVolumeClaims (docs/stateful.md), applied: the claims a cycle's pods mount (placement's
 * VolumeBinding reads them), the RESERVE + CREATE and the volumes of a pod's launch, the PersistentVolume of each new
 * volume once its ACCEPT is through, and the reclaim of volumes whose PersistentVolume is gone or released for deletion.
 * Decisions are volume-plan.ts' pure functions; the effects go out here.
 */
import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { Placement, PodSpecView } from '../placement/types.js';
import type { Offer, Resource } from '../mesos/types.js';
import { offersByRole } from './offer-roles.js';
import { claimViews, mesosPersistentVolume, mountsClaims, persistenceIdOf, storageMbOf } from './claims.js';
import type { Effects } from './effects.js';
import type { CoreState } from './state.js';
import { carriesClaimReservation, podVolumes, reclaimOperations, volumeHostPath, volumeReleasedForDelete, volumeRoleOf, type NewVolume, type PodVolumes } from './volume-plan.js';

/** How long after SUBSCRIBED offers are wanted so that reservations left by a removed PersistentVolume are seen. */
export const RECLAIM_SCAN_MS = 20_000;

export interface VolumesConfig {
  /** The agents' work dir (`{agentId}` replaced): volumes live under `<dir>/volumes/roles/<role>/<persistence id>`. */
  agentWorkDir: string;
  /** The framework's principal, put on reservations and volumes (empty: none). */
  principal?: string;
  /** The framework's roles (mesos.roles), for volumes made by an earlier leader. */
  roles?: readonly string[];
}

/** A volume's PersistentVolume not seen this long after its ACCEPT is no longer protected from reclaim. */
const IN_FLIGHT_MS = 5 * 60_000;

export class Volumes {
  /** Tasks launched with new volumes whose PersistentVolumes wait for the task to reach its agent. */
  private readonly awaitingTask = new Map<string, { agentId: string; created: readonly NewVolume[] }>();

  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly config: VolumesConfig,
  ) {}

  /** The cycle's pods with the claims they mount (new view objects; the queue's are left alone). */
  withClaims(pods: readonly PodSpecView[]): PodSpecView[] {
    const s = this.state;
    const storage = s.storage;
    if (!storage) return [...pods];
    return pods.map((p) => {
      const pod = s.pods.get(p.uid);
      if (!pod || !mountsClaims(pod)) return p;
      return { ...p, claims: claimViews(pod, storage) };
    });
  }

  /** The agents where one of `pods` waits for its Mesos volume and whose held offers do not carry it. */
  agentsAwaitingVolume(pods: readonly PodSpecView[]): string[] {
    const s = this.state;
    const out = new Set<string>();
    for (const p of pods)
      for (const c of p.claims ?? []) {
        if (!c.mesos || s.failover.isAgentLost(c.mesos.agentId)) continue;
        const offered = s.offers.forAgent(c.mesos.agentId).some((o) => (o.resources ?? []).some((r) => r.disk?.persistence?.id === c.mesos!.persistenceId));
        if (!offered) out.add(c.mesos.agentId);
      }
    return [...out];
  }

  /** The volume operations and task volumes of one placed pod, out of its agent's remaining offered resources. */
  forLaunch(remaining: readonly Resource[], podUid: string, p: Placement): PodVolumes | undefined {
    const s = this.state;
    const storage = s.storage;
    const pod = s.pods.get(podUid);
    if (!storage || !pod || !mountsClaims(pod)) return undefined;
    const claims = claimViews(pod, storage);
    if (!claims.some((c) => c.phase === 'provision' || c.mesos)) return undefined;
    return podVolumes({
      pod,
      claims,
      claim: (ns, name) => storage.claim(ns, name),
      remaining,
      role: volumeRoleOf(remaining, p.role),
      principal: this.config.principal || undefined,
    });
  }

  /**
   * New volumes are about to be sent with the launch of `taskId`: protected from reclaim until their PersistentVolume
   * shows up, which is written once the task reached its agent (taskReached). A 202 for the ACCEPT is no proof: the
   * master drops operations and launches of offers that are no longer valid (TASK_DROPPED), and a PersistentVolume
   * naming a volume that was never made would hold its claim, and the pod, on that agent for ever.
   */
  sending(taskId: string, agentId: string, created: readonly NewVolume[], now: number): void {
    if (created.length === 0) return;
    for (const v of created) this.state.volumesInFlight.set(v.persistenceId, now);
    this.awaitingTask.set(taskId, { agentId, created });
    this.fx.metrics?.volumeOperations?.('create', created.length);
  }

  /** The task that carries new volumes reached its agent (TASK_STARTING or RUNNING): the volumes exist. */
  taskReached(taskId: string): void {
    const v = this.awaitingTask.get(taskId);
    if (!v) return;
    this.awaitingTask.delete(taskId);
    this.provisioned(v.agentId, v.created);
  }

  /**
   * The task ended before it reached its agent, or its ACCEPT never reached the master: no PersistentVolume. A volume
   * that was made all the same is then offered without one and reclaimed; the claim stays unbound for the pod's next try.
   */
  launchFailed(taskId: string): void {
    const v = this.awaitingTask.get(taskId);
    if (!v) return;
    this.awaitingTask.delete(taskId);
    for (const c of v.created) this.state.volumesInFlight.delete(c.persistenceId);
  }

  /**
   * A task of an earlier leader, adopted while running: a claim of its pod still waiting for provisioning means that
   * leader stopped between the launch that made the volume and its PersistentVolume. The volume was reserved for the
   * first of the framework's roles other than "*" (a framework with several such roles may have used another: the
   * PersistentVolume then names a path that does not exist, and the kubelet says so).
   */
  adoptedTask(pod: V1Pod, agentId: string): void {
    const storage = this.state.storage;
    const role = this.config.roles?.find((r) => r !== '*');
    if (!storage || !role || !mountsClaims(pod)) return;
    const ns = pod.metadata?.namespace ?? 'default';
    const made: NewVolume[] = [];
    for (const c of claimViews(pod, storage)) {
      const claim = c.phase === 'provision' ? storage.claim(ns, c.name) : undefined;
      const uid = claim?.metadata?.uid;
      if (!claim || !uid || storage.volumeByPersistenceId(persistenceIdOf(uid))) continue;
      made.push({ claim, persistenceId: persistenceIdOf(uid), role, sizeMb: storageMbOf(claim) ?? 0 });
    }
    if (made.length > 0) this.provisioned(agentId, made);
  }

  /** The new volumes exist: their PersistentVolumes, pre-bound to the claims. */
  private provisioned(agentId: string, created: readonly NewVolume[]): void {
    const s = this.state;
    const nodeName = s.nodeName(agentId) ?? agentId;
    for (const v of created) {
      const storageClass = s.storage?.storageClass(v.claim.spec?.storageClassName ?? '');
      if (!storageClass) continue; // the class was deleted meanwhile: reclaim gives the volume back
      const pv = mesosPersistentVolume({ claim: v.claim, storageClass, agentId, nodeName, path: volumeHostPath(this.config.agentWorkDir, agentId, v.role, v.persistenceId), sizeMb: v.sizeMb });
      this.fx.note('Normal', 'VolumeCreated', claimKey(v.claim), `Mesos volume ${v.persistenceId} (${v.sizeMb} MB, role ${v.role}) on agent ${agentId}`);
      const create = this.fx.kube.createPersistentVolume?.(pv, v.claim, nodeName);
      if (create) this.fx.send(create, 'create persistent volume');
    }
  }

  /**
   * True while a Mesos volume's PersistentVolume is released for deletion: its agent's offers are wanted (no SUPPRESS,
   * REVIVE if suppressed) so that the volume is offered and destroyed, though no pod waits.
   */
  wantsOffers(now: number): boolean {
    const storage = this.state.storage;
    if (!storage?.hasSynced()) return false;
    // After SUBSCRIBED (a restart, a new leader) a volume whose PersistentVolume went while no scheduler ran is known
    // only from an offer. Mesos offers a reservation only with some cpus or mem (--min_allocatable_resources): the
    // agent's unreserved rest, offered first to another of our roles, has to come back (held, then declined) before
    // the volume's role gets the agent. So offers are wanted for a while after every SUBSCRIBED.
    if (now - this.state.subscribedAtMs < RECLAIM_SCAN_MS) return true;
    for (const pv of storage.mesosVolumes()) if (volumeReleasedForDelete(pv)) return true;
    return false;
  }

  /**
   * Gives back what the held offers carry of volumes whose PersistentVolume is gone or released for deletion: DESTROY +
   * UNRESERVE in an ACCEPT of that agent's offers, then the PersistentVolume is deleted. Runs only once the storage
   * informers have synced (after a restart too), so a volume is never taken for an orphan before its PV is known.
   */
  reclaim(now: number): number {
    const s = this.state;
    const storage = s.storage;
    if (!storage?.hasSynced() || s.offers.size === 0) return 0;
    for (const [pid, since] of s.volumesInFlight) if (storage.volumeByPersistenceId(pid) || now - since > IN_FLIGHT_MS) s.volumesInFlight.delete(pid);
    // Only agents with a claim's reservation in their held offers (asked every cycle, of every held offer: cached).
    const candidates: string[] = [];
    for (const agentId of s.offers.agents()) if (s.offers.forAgent(agentId).some(withClaimReservation)) candidates.push(agentId);
    let accepts = 0;
    for (const agentId of candidates) {
      const held = s.offers.forAgent(agentId);
      if (held.length === 0 || !s.agents.has(agentId)) continue;
      // One ACCEPT per role the offers were allocated to (offer-roles.ts): a volume is offered to its reservation's role.
      for (const offers of offersByRole(held)) accepts += this.reclaimFrom(agentId, offers);
    }
    return accepts;
  }

  private reclaimFrom(agentId: string, offers: readonly Offer[]): number {
    const s = this.state;
    const storage = s.storage!;
    const r = reclaimOperations(offers, { volumeByPersistenceId: (pid) => storage.volumeByPersistenceId(pid), inFlight: (pid) => s.volumesInFlight.has(pid) });
    if (r.operations.length === 0) return 0;
    const taken = s.offers.take(offers);
    const destroys = r.operations.filter((o) => o.type === 'DESTROY').length;
    if (destroys > 0) this.fx.metrics?.volumeOperations?.('destroy', destroys);
    if (r.operations.length - 2 * destroys > 0) this.fx.metrics?.volumeOperations?.('unreserve', r.operations.length - 2 * destroys);
    this.fx.log.info({ agentId, volumes: r.persistenceIds }, 'reclaiming Mesos volumes: DESTROY + UNRESERVE');
    this.fx.note('Normal', 'VolumeReclaimed', agentId, `Mesos volume(s) ${r.persistenceIds.join(', ')} destroyed and unreserved on agent ${agentId}`);
    // refuse 0: the rest of the agent's resources come back in the next allocation, for pods that wait.
    const accept = this.fx.mesos.accept(taken.map((o) => o.id.value), r.operations, 0).then(async () => {
      for (const pv of r.deleteVolumes) await this.fx.kube.deletePersistentVolume?.(pv);
    });
    this.fx.send(accept, 'reclaim volumes');
    return 1;
  }
}

const claimReservation = new WeakMap<Offer, boolean>();

function withClaimReservation(o: Offer): boolean {
  let v = claimReservation.get(o);
  if (v === undefined) claimReservation.set(o, (v = carriesClaimReservation(o)));
  return v;
}

function claimKey(c: V1PersistentVolumeClaim): string {
  return `${c.metadata?.namespace ?? 'default'}/${c.metadata?.name ?? ''}`;
}
