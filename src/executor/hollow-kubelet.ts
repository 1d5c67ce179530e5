import { createHash } from 'node:crypto';
import type { V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import { Backoff, sleep } from '../time/backoff.js';
import { rfc3339 } from '../kube/client.js';
import { silentLogger, type Logger } from '../telemetry/log.js';
import { isExtendedResourceName } from '../placement/filters/extended-resources.js';
import type { KubeletApi, PodStatusPatch } from './kube-api.js';
import type { ExecutorMetrics } from './metrics.js';
import type { PodEvent, PodSource } from './pod-source.js';
import { ANNOTATION_HOLLOW_EXIT_CODE, ANNOTATION_KUBELET } from '../names.js';

/** Test hook: a Running pod with this annotation finishes shortly after: "0" → Succeeded, any other integer → Failed. */
export const EXIT_CODE_ANNOTATION = ANNOTATION_HOLLOW_EXIT_CODE;
/** Taints the node owner clears once its Node is Ready (ARCHITECTURE §6). */
const NOT_READY_TAINTS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);

export interface HollowKubeletOptions {
  nodeName: string;
  labels?: Record<string, string>;
  taints?: V1Taint[];
  /** Capacity = allocatable, as Kubernetes quantities. Default: 8 cpu, 16Gi, 110 pods. */
  capacity?: Record<string, string>;
  api: KubeletApi;
  pods: PodSource;
  /** A /24 for pod IPs, e.g. "10.200.3.0/24"; default derived from the node name. */
  podCIDR?: string;
  hostIP?: string;
  leaseDurationSeconds?: number;
  leaseRenewMs?: number;
  /**
   * Node status heartbeat (the Lease carries liveness; this refreshes condition heartbeats and picks up extended
   * resources patched into the Node's capacity). Default 1 min: the kubelet posts an unchanged status every 5 min but
   * looks at its Node every 10 s; the stand-in, which has no Node watch, posts every minute instead.
   */
  statusRefreshMs?: number;
  /** Wait out a deleted pod's grace period before the final delete; default false (hollow: at once). */
  honourGracePeriod?: boolean;
  exitDelayMs?: number;
  log?: Logger;
  metrics?: ExecutorMetrics;
  now?: () => Date;
  random?: () => number;
}

interface PodTrack {
  ip?: string;
  starting?: boolean;
  exitTimer?: NodeJS.Timeout;
  exitDone?: boolean;
  deleting?: boolean;
  deleteTimer?: NodeJS.Timeout;
}

function hash32(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32BE(0);
}

/** A stable per-node /24 in 10.128.0.0/9 and a host IP in 100.64.0.0/10, from the node name. */
export function defaultAddresses(nodeName: string): { podCIDR: string; hostIP: string } {
  const h = hash32(nodeName);
  const h2 = hash32(`host:${nodeName}`);
  return {
    podCIDR: `10.${128 + ((h >>> 8) & 127)}.${h & 255}.0/24`,
    hostIP: `100.${64 + ((h2 >>> 16) & 63)}.${(h2 >>> 8) & 255}.${1 + ((h2 & 255) % 254)}`,
  };
}

/**
 * The one status patch that takes a pod from Pending to Running, as a kubelet writes it: phase, IPs, conditions, and every
 * container running (init containers completed). Pure; the benchmark's limit-kubelet writes the same patch.
 */
export function runningPodStatus(pod: V1Pod, at: { hostIP: string; podIP: string; now: Date }): PodStatusPatch {
  const now = rfc3339(at.now);
  const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
  return {
    phase: 'Running',
    hostIP: at.hostIP,
    podIP: at.podIP,
    podIPs: [{ ip: at.podIP }],
    startTime: now,
    conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(condition),
    initContainerStatuses: (pod.spec?.initContainers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: `hollow://${c.image ?? ''}`,
      containerID: `hollow://${pod.metadata!.uid}/${c.name}`,
      ready: true,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } },
    })),
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: `hollow://${c.image ?? ''}`,
      containerID: `hollow://${pod.metadata!.uid}/${c.name}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: now } },
    })),
  };
}

/**
 * A kubelet stand-in: registers (or takes over) its Node, keeps it Ready with a fresh Lease, moves pods bound to it to
 * Running with one status patch each, and finishes deletions. Nothing periodic per pod.
 */
export class HollowKubelet {
  readonly nodeName: string;
  /** Resolves once the Node is registered and Ready; rejects only if stopped before that. */
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  private readonly opts: Required<Omit<HollowKubeletOptions, 'log' | 'podCIDR' | 'hostIP' | 'metrics'>>;
  private readonly metrics: ExecutorMetrics | undefined;
  private readonly log: Logger;
  private readonly podPrefix: string;
  private readonly hostIP: string;
  private readonly tracks = new Map<string, PodTrack>();
  private readonly usedIPs = new Set<string>();
  private nextHost = 2;
  private nodeUid: string | undefined;
  private abort: AbortController | undefined;
  private loops: Promise<void>[] = [];
  private unsubscribe: (() => void) | undefined;
  private registered = false;

  constructor(opts: HollowKubeletOptions) {
    if (!opts.nodeName) throw new TypeError('HollowKubelet: nodeName is required');
    if (!opts.api || !opts.pods) throw new TypeError('HollowKubelet: api and pods are required');
    const defaults = defaultAddresses(opts.nodeName);
    const cidr = opts.podCIDR ?? defaults.podCIDR;
    const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(cidr);
    if (!m) throw new TypeError(`HollowKubelet: podCIDR must be a /24 like 10.200.3.0/24, got "${cidr}"`);
    this.podPrefix = m[1];
    this.hostIP = opts.hostIP ?? defaults.hostIP;
    this.nodeName = opts.nodeName;
    this.opts = {
      nodeName: opts.nodeName,
      labels: opts.labels ?? {},
      taints: opts.taints ?? [],
      capacity: opts.capacity ?? { cpu: '8', memory: '16Gi', pods: '110' },
      api: opts.api,
      pods: opts.pods,
      leaseDurationSeconds: opts.leaseDurationSeconds ?? 40,
      leaseRenewMs: opts.leaseRenewMs ?? 10_000,
      statusRefreshMs: opts.statusRefreshMs ?? 60_000,
      honourGracePeriod: opts.honourGracePeriod ?? false,
      exitDelayMs: opts.exitDelayMs ?? 500,
      now: opts.now ?? (() => new Date()),
      random: opts.random ?? Math.random,
    };
    if (!(this.opts.leaseRenewMs > 0) || !(this.opts.leaseDurationSeconds * 1000 > this.opts.leaseRenewMs)) {
      throw new TypeError('HollowKubelet: need 0 < leaseRenewMs < leaseDurationSeconds');
    }
    this.log = (opts.log ?? silentLogger()).child({ component: 'hollow-kubelet', node: opts.nodeName });
    this.metrics = opts.metrics;
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
  }

  /** Starts registering the Node (retried with backoff) and following its pods; idempotent. */
  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.unsubscribe = this.opts.pods.watchNode(this.nodeName, (ev) => this.onPod(ev));
    this.loops.push(this.run(signal).catch((err: unknown) => this.log.error({ err }, 'hollow kubelet loop crashed')));
  }

  /** Stops lease renewal and pod handling. The Node stays: whoever owns the pool deletes it. */
  async stop(): Promise<void> {
    this.abort?.abort();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const t of this.tracks.values()) {
      clearTimeout(t.exitTimer);
      clearTimeout(t.deleteTimer);
    }
    if (!this.registered) this.rejectReady(new Error('hollow kubelet stopped before its Node was ready'));
    await Promise.all(this.loops);
  }

  // ---- the Node and its Lease ----

  private async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 10_000, random: this.opts.random });
    while (!signal.aborted && !(await this.register())) await sleep(backoff.next(), signal);
    if (signal.aborted) return;
    this.registered = true;
    this.resolveReady();
    this.log.info({ hostIP: this.hostIP }, 'node registered and ready');
    let lastStatus = Date.now();
    // Spread renewals of many kubelets started together.
    await sleep(this.opts.leaseRenewMs * (0.5 + 0.5 * this.opts.random()), signal);
    while (!signal.aborted) {
      const lease = await this.opts.api.renewNodeLease(this.nodeName, {
        leaseDurationSeconds: this.opts.leaseDurationSeconds,
        renewTime: this.opts.now(),
        nodeUid: this.nodeUid,
      });
      if (!lease.ok) this.log.warn({ kind: lease.kind, status: lease.status, msg: lease.message }, 'lease renewal failed');
      if (Date.now() - lastStatus >= this.opts.statusRefreshMs) {
        lastStatus = Date.now();
        await this.postStatus(false);
      }
      await sleep(lease.ok ? this.opts.leaseRenewMs : Math.min(2000, this.opts.leaseRenewMs), signal);
    }
  }

  /**
   * Creates the Node or takes it over; posts Ready status; renews the Lease once. True when all of that worked.
   * A new Node is created with its full status, as the kubelet does (the API server keeps a Node's status on create), and
   * its Lease is created directly: three writes (create, clear the not-ready taint the admission plugin adds, Lease) where
   * a patch of each would take five.
   */
  /** NodeRestriction refused a taint change: taints are left to the controllers. */
  private taintsForbidden = false;
  private async register(): Promise<boolean> {
    const { api, labels, taints } = this.opts;
    const allLabels = { 'kubernetes.io/hostname': this.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...labels };
    const annotations = { [ANNOTATION_KUBELET]: 'hollow', 'node.alpha.kubernetes.io/ttl': '0' };
    const node: V1Node = {
      metadata: { name: this.nodeName, labels: allLabels, annotations },
      spec: { taints: taints.length ? taints : undefined },
      status: this.nodeStatus(true) as V1Node['status'],
    };
    const created = await api.createNode(node);
    let fresh = false;
    if (created.ok) {
      this.nodeUid = created.value.metadata?.uid;
      fresh = true;
      this.log.info('node created');
      if (!(await this.clearNotReadyTaints(created.value))) return false;
    } else if (created.kind === 'AlreadyExists') {
      // As a kubelet re-registering: its own labels updated, the taints others set (kubectl taint, the node lifecycle
      // controller) left alone; configured taints the Node lacks are added.
      const existing = await api.getNode(this.nodeName);
      const current = existing.ok ? (existing.value.spec?.taints ?? []) : [];
      const missing = taints.filter((t) => !current.some((c) => c.key === t.key && c.effect === t.effect));
      const patched = await api.patchNode(this.nodeName, { labels: allLabels, annotations, ...(missing.length ? { taints: [...current, ...missing] } : {}) });
      if (!patched.ok) return this.failed('take over node', patched);
      this.nodeUid = patched.value.metadata?.uid;
      this.log.info('existing node taken over');
      if (!(await this.postStatus(true))) return false;
    } else return this.failed('create node', created);
    const lease = await api.renewNodeLease(this.nodeName, { leaseDurationSeconds: this.opts.leaseDurationSeconds, renewTime: this.opts.now(), nodeUid: this.nodeUid, create: fresh });
    if (!lease.ok) return this.failed('create lease', lease);
    return true;
  }

  /** The Node's status: Ready conditions; on registration (`full`) also capacity, addresses and node info. */
  private nodeStatus(full: boolean): Record<string, unknown> {
    const now = rfc3339(this.opts.now());
    const cond = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      ...(full ? { lastTransitionTime: now } : {}),
    });
    const status: Record<string, unknown> = {
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'hollow kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'hollow kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'hollow kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'hollow kubelet is posting ready status'),
      ],
    };
    if (full) {
      Object.assign(status, {
        capacity: this.opts.capacity,
        allocatable: this.opts.capacity,
        addresses: [
          { type: 'InternalIP', address: this.hostIP },
          { type: 'Hostname', address: this.opts.labels['kubernetes.io/hostname'] ?? this.nodeName },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: hash32(this.nodeName).toString(16),
          systemUUID: hash32(`uuid:${this.nodeName}`).toString(16),
          bootID: hash32(`boot:${this.nodeName}:${now}`).toString(16),
          kernelVersion: 'hollow',
          osImage: 'kube-mesos hollow kubelet',
          containerRuntimeVersion: 'hollow://0.1.0',
          kubeletVersion: 'v1.20.0-kube-mesos-hollow',
          kubeProxyVersion: 'v1.20.0-kube-mesos-hollow',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      });
    }
    return status;
  }

  /** Posts Ready status (full on registration, heartbeats after) and clears not-ready taints the Node may carry. */
  private async postStatus(full: boolean): Promise<boolean> {
    const r = await this.opts.api.patchNodeStatus(this.nodeName, this.nodeStatus(full));
    if (!r.ok) return this.failed('post node status', r);
    this.nodeUid = r.value.metadata?.uid ?? this.nodeUid;
    if (!(await this.syncExtendedAllocatable(r.value))) return false;
    return this.clearNotReadyTaints(r.value);
  }

  /**
   * As the kubelet does: extended resources someone patched into the Node's capacity (and that no device plugin
   * manages) are copied to its allocatable; removed ones leave it.
   */
  private async syncExtendedAllocatable(node: V1Node): Promise<boolean> {
    const capacity = (node.status?.capacity ?? {}) as Record<string, string>;
    const allocatable: Record<string, string | null> = { ...((node.status?.allocatable ?? {}) as Record<string, string>) };
    let changed = false;
    for (const [k, v] of Object.entries(capacity)) {
      if (isExtendedResourceName(k) && allocatable[k] !== v) {
        allocatable[k] = v;
        changed = true;
      }
    }
    for (const k of Object.keys(allocatable)) {
      if (isExtendedResourceName(k) && capacity[k] === undefined && allocatable[k] !== null) {
        allocatable[k] = null; // strategic merge patch: null removes the key
        changed = true;
      }
    }
    if (!changed) return true;
    const r = await this.opts.api.patchNodeStatus(this.nodeName, { allocatable });
    if (!r.ok) return this.failed('copy extended resources to allocatable', r);
    this.log.info({ allocatable }, 'extended resources in capacity copied to allocatable');
    return true;
  }

  /**
   * The node owner clears the not-ready taints once its Node is Ready (ARCHITECTURE §6). As its node, NodeRestriction
   * refuses (403): kube-controller-manager's node lifecycle controller clears them then, as for a real kubelet.
   */
  private async clearNotReadyTaints(node: V1Node): Promise<boolean> {
    const current = node.spec?.taints ?? [];
    if (current.some((t) => NOT_READY_TAINTS.has(t.key)) && !this.taintsForbidden) {
      const p = await this.opts.api.patchNode(this.nodeName, { taints: current.filter((t) => !NOT_READY_TAINTS.has(t.key)) });
      if (!p.ok && p.kind === 'Forbidden') {
        this.taintsForbidden = true;
        this.log.info({ msg: p.message }, 'may not change its own taints (node identity): the node lifecycle controller clears the not-ready taint');
        return true;
      }
      if (!p.ok) return this.failed('clear not-ready taint', p);
      this.log.debug('cleared not-ready taint');
    }
    return true;
  }

  private failed(what: string, r: { kind: string; status: number; message: string }): false {
    this.log.warn({ kind: r.kind, status: r.status, msg: r.message }, `${what} failed; will retry`);
    return false;
  }

  // ---- pods ----

  private track(uid: string): PodTrack {
    let t = this.tracks.get(uid);
    if (!t) this.tracks.set(uid, (t = {}));
    return t;
  }

  private onPod(ev: PodEvent): void {
    const pod = ev.pod;
    const uid = pod.metadata?.uid;
    if (!uid || this.abort?.signal.aborted) return;
    if (ev.type === 'delete') {
      const t = this.tracks.get(uid);
      if (t) {
        clearTimeout(t.exitTimer);
        clearTimeout(t.deleteTimer);
        if (t.ip) this.usedIPs.delete(t.ip);
        this.tracks.delete(uid);
      }
      return;
    }
    const t = this.track(uid);
    const ip = pod.status?.podIP;
    if (ip && !t.ip) {
      t.ip = ip;
      this.usedIPs.add(ip);
    }
    if (pod.metadata?.deletionTimestamp) return this.finishDeletion(pod, t);
    const phase = pod.status?.phase;
    if ((phase === undefined || phase === 'Pending') && !t.starting) {
      t.starting = true;
      void this.startPod(pod, t);
    } else if (phase === 'Running') this.maybeExit(pod, t);
  }

  private allocateIP(): string | undefined {
    for (let i = 0; i < 253; i++) {
      const host = this.nextHost;
      this.nextHost = host >= 254 ? 2 : host + 1;
      const ip = `${this.podPrefix}.${host}`;
      if (!this.usedIPs.has(ip)) {
        this.usedIPs.add(ip);
        return ip;
      }
    }
    return undefined;
  }

  /** Pending → Running: one status patch. */
  private async startPod(pod: V1Pod, t: PodTrack): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    t.ip ??= this.allocateIP();
    if (!t.ip) {
      this.log.warn({ pod: `${ns}/${name}` }, 'no pod IP left in the node range');
      t.starting = false;
      return;
    }
    const status = runningPodStatus(pod, { hostIP: this.hostIP, podIP: t.ip, now: this.opts.now() });
    const backoff = new Backoff({ initialMs: 200, maxMs: 5000, random: this.opts.random });
    for (let attempt = 0; attempt < 8 && !this.abort?.signal.aborted; attempt++) {
      const r = await this.opts.api.patchPodStatus(ns, name, status);
      this.metrics?.podStatusWrites.inc({ phase: 'Running' });
      if (r.ok) {
        this.log.debug({ pod: `${ns}/${name}`, ip: t.ip }, 'pod running');
        return;
      }
      if (r.kind === 'NotFound') return;
      if (r.kind !== 'Retryable') {
        this.log.warn({ pod: `${ns}/${name}`, kind: r.kind, msg: r.message }, 'pod status patch refused');
        t.starting = false;
        return;
      }
      await sleep(backoff.next(), this.abort?.signal);
    }
    t.starting = false;
  }

  private maybeExit(pod: V1Pod, t: PodTrack): void {
    if (t.exitTimer || t.exitDone) return;
    const raw = pod.metadata?.annotations?.[EXIT_CODE_ANNOTATION];
    if (raw === undefined) return;
    if (!/^-?\d+$/.test(raw.trim())) {
      t.exitDone = true;
      this.log.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, value: raw }, `${EXIT_CODE_ANNOTATION} is not an integer; ignored`);
      return;
    }
    const code = Number(raw.trim());
    t.exitTimer = setTimeout(() => {
      t.exitTimer = undefined;
      t.exitDone = true;
      void this.exitPod(pod, code);
    }, this.opts.exitDelayMs);
  }

  /** Running → Succeeded/Failed: one status patch. */
  private async exitPod(pod: V1Pod, code: number): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const now = rfc3339(this.opts.now());
    const startedAt = pod.status?.startTime ? rfc3339(new Date(pod.status.startTime)) : now;
    const reason = code === 0 ? 'Completed' : 'Error';
    const notReady = (type: string) => ({ type, status: 'False', reason: 'PodCompleted', lastProbeTime: null, lastTransitionTime: now });
    const status: PodStatusPatch = {
      phase: code === 0 ? 'Succeeded' : 'Failed',
      conditions: [notReady('Ready'), notReady('ContainersReady')],
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: `hollow://${c.image ?? ''}`,
        containerID: `hollow://${pod.metadata!.uid}/${c.name}`,
        ready: false,
        started: false,
        restartCount: 0,
        state: { terminated: { exitCode: code, reason, startedAt, finishedAt: now, containerID: `hollow://${pod.metadata!.uid}/${c.name}` } },
      })),
    };
    const r = await this.opts.api.patchPodStatus(ns, name, status);
    this.metrics?.podStatusWrites.inc({ phase: String(status.phase) });
    if (!r.ok && r.kind !== 'NotFound') this.log.warn({ pod: `${ns}/${name}`, kind: r.kind, msg: r.message }, 'pod exit status patch failed');
    else this.log.debug({ pod: `${ns}/${name}`, code }, 'pod exited');
  }

  /** A pod being deleted: the final delete (grace 0), after its grace period or at once. */
  private finishDeletion(pod: V1Pod, t: PodTrack): void {
    if (t.deleting) return;
    t.deleting = true;
    clearTimeout(t.exitTimer);
    let delayMs = 0;
    if (this.opts.honourGracePeriod && pod.metadata?.deletionTimestamp) {
      delayMs = Math.max(0, new Date(pod.metadata.deletionTimestamp).getTime() - this.opts.now().getTime());
    }
    const run = () => void this.deletePod(pod, t);
    if (delayMs > 0) t.deleteTimer = setTimeout(run, delayMs);
    else run();
  }

  private async deletePod(pod: V1Pod, t: PodTrack): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const backoff = new Backoff({ initialMs: 200, maxMs: 5000, random: this.opts.random });
    for (let attempt = 0; attempt < 8 && !this.abort?.signal.aborted; attempt++) {
      const r = await this.opts.api.deletePod(ns, name, { gracePeriodSeconds: 0, uid: pod.metadata!.uid });
      if (r.ok || r.kind === 'NotFound' || r.kind === 'Conflict') return; // Conflict: uid precondition, another pod now
      if (r.kind !== 'Retryable') break;
      await sleep(backoff.next(), this.abort?.signal);
    }
    t.deleting = false;
    this.log.warn({ pod: `${ns}/${name}` }, 'could not finish pod deletion');
  }
}
