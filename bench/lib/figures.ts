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
