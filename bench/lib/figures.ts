/** The figures of one contender's run, from creation and bind times (ms, one clock) and /proc readings. Pure. */
import type { ProcUsage } from './proc.js';

export interface RunFigures {
  /** backlog: the scheduler was paused while the pods were created; stream: it ran while they were created. */
  mode?: string;
  complete: boolean;
  bound: number;
  /** Pods bound after the last pod was created, per second of (last bound − last created): the brief's headline rate. */
  pods_per_s: number | null;
  /** All pods per second of (last bound − first created). */
  overall_pods_per_s: number | null;
  create_s: number;
  bound_when_creation_done: number;
  last_bound_after_last_created_s: number | null;
  p50_create_to_bound_ms: number | null;
  p99_create_to_bound_ms: number | null;
  scheduler_cpu_s: number | null;
  scheduler_peak_rss_mb: number | null;
  /** Other processes of the contender (kube-mesos: the emulator with its hollow kubelets). */
  other_cpu_s?: number;
  other_peak_rss_mb?: number;
  apiserver_cpu_s: number | null;
  /** Requests the API server served during the run (creation, the bench's own watch and GETs included; WATCH not counted). */
  apiserver_requests?: number;
  apiserver_requests_top?: Record<string, number>;
  /** Bound pods per CPU-second of the scheduler process: steadier than pods/s on a shared machine. */
  pods_per_scheduler_cpu_s?: number | null;
  /** 1-minute load average when pod creation started and when the last pod was bound. */
  load_avg?: [number, number];
  rounds?: { pods_per_s: number | null; overall_pods_per_s: number | null; load_avg?: [number, number] }[];
  pods_per_zone?: Record<string, number>;
  zone_skew?: number | null;
  nodeOf?: Record<string, string>;
}

/** Nearest-rank percentile of an unsorted list; null when empty. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface RunInput {
  createdAt: Map<string, number>;
  boundAt: Map<string, number>;
  tFirst: number;
  tLastCreated: number;
  boundAtCreationEnd: number;
  complete: boolean;
  scheduler?: ProcUsage;
  others: ProcUsage[];
  apiserverCpuSeconds?: number;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export function summarizeRun(i: RunInput): RunFigures {
  const latencies: number[] = [];
  let lastBound = -Infinity;
  for (const [name, created] of i.createdAt) {
    const b = i.boundAt.get(name);
    if (b === undefined) continue;
    latencies.push(Math.max(0, b - created));
    lastBound = Math.max(lastBound, b);
  }
  const bound = latencies.length;
  const drainMs = lastBound - i.tLastCreated;
  const afterCreation = bound - i.boundAtCreationEnd;
  return {
    complete: i.complete,
    bound,
    // Under 50 ms of drain the rate is noise: the contender kept up with creation.
    pods_per_s: bound && drainMs >= 50 ? Math.round(afterCreation / (drainMs / 1000)) : null,
    overall_pods_per_s: bound ? Math.round(bound / ((lastBound - i.tFirst) / 1000)) : null,
    create_s: r1((i.tLastCreated - i.tFirst) / 1000),
    bound_when_creation_done: i.boundAtCreationEnd,
    last_bound_after_last_created_s: bound ? Math.round(drainMs) / 1000 : null,
    p50_create_to_bound_ms: percentile(latencies, 50) === null ? null : Math.round(percentile(latencies, 50)!),
    p99_create_to_bound_ms: percentile(latencies, 99) === null ? null : Math.round(percentile(latencies, 99)!),
    scheduler_cpu_s: i.scheduler?.cpuSeconds ?? null,
    scheduler_peak_rss_mb: i.scheduler?.peakRssMb ?? null,
    ...(i.others.length
      ? { other_cpu_s: r1(i.others.reduce((s, u) => s + u.cpuSeconds, 0)), other_peak_rss_mb: i.others.reduce((s, u) => s + u.peakRssMb, 0) }
      : {}),
    apiserver_cpu_s: i.apiserverCpuSeconds ?? null,
  };
}

/** p50/p90/p99 and max of a list of latencies (ms, rounded); null when empty. */
export interface LatencyFigures {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function latencyFigures(values: number[]): LatencyFigures | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]);
  return { p50: at(50), p90: at(90), p99: at(99), max: Math.round(sorted[sorted.length - 1]) };
}

/**
 * When the i-th pod of a paced run is due, in ms after the start: `rate` pods per second for `seconds`, evenly spaced
 * (pod i at i / rate s), so the run creates round(rate × seconds) pods. Pure.
 */
export function pacedSchedule(rate: number, seconds: number): number[] {
  if (!(rate > 0) || !(seconds > 0)) throw new RangeError(`paced rate and duration must be > 0 (rate ${rate}, seconds ${seconds})`);
  return Array.from({ length: Math.round(rate * seconds) }, (_, i) => (i * 1000) / rate);
}

/** How well a paced run kept to its schedule: the rate it achieved and how late the create requests went out. */
export interface PaceFigures {
  target_pods_per_s: number;
  /** (pods − 1) ÷ (last request sent − first request sent): the rate the API server was given pods at. */
  achieved_pods_per_s: number | null;
  /** Create request sent − its scheduled time, ms. */
  creation_lag_ms: LatencyFigures | null;
  /** Create request sent → the API server's answer, ms. */
  create_request_ms: LatencyFigures | null;
}

/** `dueMs[i]` the schedule (ms after `startMs`), `sentAt[i]` / `answeredAt[i]` when the request went out and returned (same clock). */
export function paceFigures(rate: number, startMs: number, dueMs: readonly number[], sentAt: readonly number[], answeredAt: readonly (number | undefined)[]): PaceFigures {
  const n = Math.min(dueMs.length, sentAt.length);
  const lag: number[] = [];
  const req: number[] = [];
  for (let i = 0; i < n; i++) {
    lag.push(Math.max(0, sentAt[i] - (startMs + dueMs[i])));
    const a = answeredAt[i];
    if (a !== undefined) req.push(a - sentAt[i]);
  }
  const span = n > 1 ? sentAt[n - 1] - sentAt[0] : 0;
  return {
    target_pods_per_s: rate,
    achieved_pods_per_s: span > 0 ? Math.round(((n - 1) / (span / 1000)) * 10) / 10 : null,
    creation_lag_ms: latencyFigures(lag),
    create_request_ms: latencyFigures(req),
  };
}

/** Per-pod create→event latencies (ms) of the pods that reached the event; `createdAt` and `at` on one clock. */
export function latenciesSince(createdAt: ReadonlyMap<string, number>, at: ReadonlyMap<string, number>): number[] {
  const out: number[] = [];
  for (const [name, created] of createdAt) {
    const t = at.get(name);
    if (t !== undefined) out.push(Math.max(0, t - created));
  }
  return out;
}

/** p99 of `a` over p99 of `b`, two decimals; null when either is missing. */
export function p99Ratio(a: LatencyFigures | null | undefined, b: LatencyFigures | null | undefined): number | null {
  return a && b && b.p99 > 0 ? Math.round((a.p99 / b.p99) * 100) / 100 : null;
}
