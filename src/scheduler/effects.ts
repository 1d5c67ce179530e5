/**
 * The core's one effects port: Mesos calls, Kubernetes writes, the metrics it updates, the dashboard's recent events
 * and the clock. Calls go out fire-and-forget through `send`, which logs failures (never unhandled) and lets `drain()`
 * wait for them.
 */
import type { BindingResult } from '../ops/metrics.js';
import type { RecentEvent } from '../ops/types.js';
import type { Logger } from '../telemetry/log.js';
import type { Clock, KubePort, MesosPort } from './ports.js';

/** The subset of metrics the core updates; the ops layer supplies prom-client instruments. */
export interface FrameworkMetrics {
  offersReceived(n: number): void;
  offersDeclined(n: number): void;
  offersAccepted(n: number): void;
  offersRescinded(n: number): void;
  launches(n: number): void;
  taskState(state: string): void;
  cycle(durationMs: number, pods: number, placed: number): void;
  podScheduled(latencyMs: number): void;
  pending(n: number): void;
  kubeletScaleDown?(reason: string): void;
  kubeletLaunched?(): void;
  kubeletStarted?(seconds: number): void;
  podReplaced?(reason: string): void;
  /** Pods on lost agents whose replacement is held back, by reason (`safety-stop`), as of the last failover pass. */
  failoverHeld?(reason: string, pods: number): void;
  /** A pod task ended before its pod was bound (the kubelet executor did not start, LAUNCH refused), by Mesos reason. */
  kubeletLaunchFailed?(reason: string): void;
  /** A Binding ended (bound, already-bound, rejected, failed) after this many seconds. */
  binding?(result: BindingResult, seconds: number): void;
  /** A pod task reached its agent: seconds from its ACCEPT to its first TASK_STARTING (or RUNNING). */
  taskReached?(seconds: number): void;
  /** An offer left the scheduler's hands (accepted, declined, rescinded, dropped) after this many seconds. */
  offerHeld?(seconds: number): void;
  /** A node certificate request ended (issued, denied, failed) after this many seconds. */
  nodeCertificate?(result: string, seconds: number): void;
  /** Mesos volume operations sent: `create` (RESERVE + CREATE), `destroy` (DESTROY + UNRESERVE), `unreserve`. */
  volumeOperations?(operation: 'create' | 'destroy' | 'unreserve', n: number): void;
}

export interface EffectsDeps {
  mesos: MesosPort;
  kube: KubePort;
  clock: Clock;
  log: Logger;
  metrics?: FrameworkMetrics;
}

const RECENT_EVENTS = 200;

export class Effects {
  readonly mesos: MesosPort;
  readonly kube: KubePort;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: FrameworkMetrics | undefined;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly recent: RecentEvent[] = [];

  constructor(deps: EffectsDeps) {
    this.mesos = deps.mesos;
    this.kube = deps.kube;
    this.clock = deps.clock;
    this.log = deps.log;
    this.metrics = deps.metrics;
  }

  /** Tracks a fire-and-forget call so errors are logged, never unhandled, and `drain()` can wait for them. */
  send(p: Promise<unknown>, what: string): void {
    const tracked = p.catch((err: unknown) => this.log.warn({ err, what }, 'call failed')).finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  /** Resolves when every call sent so far has settled (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** A line for the dashboard's recent events (the Kubernetes events go through `kube`). */
  note(type: RecentEvent['type'], reason: string, object: string, message: string): void {
    this.recent.push({ atMs: this.clock.now(), type, reason, object, message });
    if (this.recent.length > RECENT_EVENTS) this.recent.splice(0, this.recent.length - RECENT_EVENTS);
  }

  /** The recent events, newest first. */
  recentEvents(): RecentEvent[] {
    return [...this.recent].reverse();
  }
}
