// The chaos suite's invariant checker (issue 7): from the Kubernetes pods and the Mesos master's /state, what was lost,
// what runs twice, which tasks and pods are orphans. The core (checkInvariants) is a pure function of one sample;
// waitForInvariants polls samples after a fault and measures the time to recover.
import { podOfTaskId } from '../../src/scheduler/launch.js';

const TASK_ID = 'kube-mesos.io/task-id';

/** A task state in which the task may be running on its agent, as far as the master knows (it can be killed). */
const LIVE = new Set(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING']);
/** Non-terminal, but out of reach until the agent returns: Mesos can neither confirm nor kill it. */
const OUT_OF_REACH = new Set(['TASK_UNREACHABLE', 'TASK_UNKNOWN']);

/** A pod as kubectl/the API returns it (only what the checker reads). */
export interface PodInput {
  metadata: {
    namespace?: string;
    name: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  spec: { nodeName?: string };
  status: { phase?: string };
}

/** A task of the master's /state (`frameworks[].tasks`, `unreachable_tasks`). */
export interface TaskInput {
  id: string;
  state: string;
  slave_id?: string;
  agent_id?: string;
}

/** What a Deployment promises: at least `replicas` Running pods matching `matchLabels` in `namespace`. */
export interface DeploymentInput {
  namespace: string;
  name: string;
  replicas: number;
  matchLabels: Record<string, string>;
}

export interface InvariantInput {
  pods: readonly PodInput[];
  tasks: readonly TaskInput[];
  deployments: readonly DeploymentInput[];
}

export interface InvariantReport {
  /** Sum over Deployments of replicas minus Running, not deleting pods (never negative per Deployment). */
  podsLost: number;
  /** Pods (namespace/name) with more than one live task, or more than one Running pod object. */
  podsRunningTwice: number;
  /** Live tasks no pod names (neither by its task-id annotation nor, before binding, by the task id itself). */
  orphanTasks: number;
  /** Bound, not finished, not deleting pods whose task is not live in Mesos. */
  orphanPods: number;
  /** Tasks Mesos cannot reach (TASK_UNREACHABLE/UNKNOWN): not a violation while their agent is away, but a fault left over after recovery. */
  unreachableTasks: number;
  /** podsLost, podsRunningTwice, orphanTasks and orphanPods are all zero. */
  holds: boolean;
  /** One line per violation, for the assertion message. */
  details: string[];
}

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? 'default'}/${name}`;
}

function matches(labels: Record<string, string> | undefined, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function isFinished(p: PodInput): boolean {
  return p.status.phase === 'Succeeded' || p.status.phase === 'Failed';
}

/** Checks one sample. Pure: the same input always gives the same report. */
export function checkInvariants(input: InvariantInput): InvariantReport {
  const details: string[] = [];
  const live = input.tasks.filter((t) => LIVE.has(t.state));
  const liveById = new Map(live.map((t) => [t.id, t]));

  let podsLost = 0;
  for (const d of input.deployments) {
    const running = input.pods.filter(
      (p) => (p.metadata.namespace ?? d.namespace) === d.namespace && matches(p.metadata.labels, d.matchLabels) && p.status.phase === 'Running' && !p.metadata.deletionTimestamp,
    ).length;
    if (running < d.replicas) {
      podsLost += d.replicas - running;
      details.push(`deployment ${d.namespace}/${d.name}: ${running}/${d.replicas} pods Running`);
    }
  }

  // Running twice: a pod name with two live tasks (a bare pod re-created while its old task still runs), or two
  // Running pod objects of one name (an old one still terminating).
  // Running twice counts tasks out of reach too: an UNREACHABLE task may well still run behind its partition.
  const maybeRunning = input.tasks.filter((t) => LIVE.has(t.state) || OUT_OF_REACH.has(t.state));
  const tasksByPod = new Map<string, string[]>();
  for (const t of maybeRunning) {
    const ref = podOfTaskId(t.id);
    if (!ref) continue;
    const k = key(ref.namespace, ref.name);
    tasksByPod.set(k, [...(tasksByPod.get(k) ?? []), t.id]);
  }
  const twice = new Set<string>();
  for (const [k, ids] of tasksByPod) {
    if (ids.length > 1) {
      twice.add(k);
      details.push(`pod ${k} runs twice: live or unreachable tasks ${ids.sort().join(', ')}`);
    }
  }
  // A bound, Running pod object beside a task of an earlier object of the same name (another uid): a StatefulSet member
  // or re-created bare pod whose old copy may still run. (Two pod objects of one name cannot exist at once.)
  for (const p of input.pods) {
    const k = key(p.metadata.namespace, p.metadata.name);
    if (twice.has(k) || p.status.phase !== 'Running' || !p.spec.nodeName) continue;
    const uid8 = p.metadata.uid.replace(/-/g, '').slice(0, 8);
    const older = (tasksByPod.get(k) ?? []).find((id) => podOfTaskId(id)?.uidPrefix !== uid8);
    if (older) {
      twice.add(k);
      details.push(`pod ${k} runs twice: Running as uid ${p.metadata.uid} while task ${older} of an earlier pod object is live or unreachable`);
    }
  }

  const claimed = new Set<string>();
  const unannotated = new Set<string>();
  for (const p of input.pods) {
    const id = p.metadata.annotations?.[TASK_ID];
    if (id) claimed.add(id);
    else unannotated.add(`${key(p.metadata.namespace, p.metadata.name)}#${p.metadata.uid.replace(/-/g, '').slice(0, 8)}`);
  }
  let orphanTasks = 0;
  for (const t of live) {
    if (claimed.has(t.id)) continue;
    const ref = podOfTaskId(t.id);
    if (ref && unannotated.has(`${key(ref.namespace, ref.name)}#${ref.uidPrefix}`)) continue;
    orphanTasks++;
    details.push(`orphan task ${t.id} (${t.state}) on agent ${t.agent_id ?? t.slave_id ?? '?'}`);
  }

  let orphanPods = 0;
  for (const p of input.pods) {
    if (!p.spec.nodeName || isFinished(p) || p.metadata.deletionTimestamp) continue;
    const id = p.metadata.annotations?.[TASK_ID];
    if (id && liveById.has(id)) continue;
    // A pod whose task is only out of reach is not an orphan: it waits for GONE or the agent's return (issue #16 item 3).
    if (id && input.tasks.some((t) => t.id === id && OUT_OF_REACH.has(t.state))) continue;
    orphanPods++;
    const state = id ? (input.tasks.find((t) => t.id === id)?.state ?? 'no such task') : 'no task-id annotation';
    details.push(`orphan pod ${key(p.metadata.namespace, p.metadata.name)} on ${p.spec.nodeName}: task ${id ?? '-'} ${state}`);
  }

  const unreachableTasks = input.tasks.filter((t) => OUT_OF_REACH.has(t.state)).length;
  return {
    podsLost,
    podsRunningTwice: twice.size,
    orphanTasks,
    orphanPods,
    unreachableTasks,
    holds: podsLost === 0 && twice.size === 0 && orphanTasks === 0 && orphanPods === 0,
    details,
  };
}

/** One line of figures, as every chaos scenario prints it. */
export function formatFigures(scenario: string, r: InvariantReport, figures: Record<string, number | string> = {}): string {
  const extra = Object.entries(figures).map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(1)) : v}`);
  return [`chaos ${scenario}:`, `lost=${r.podsLost}`, `twice=${r.podsRunningTwice}`, `orphanTasks=${r.orphanTasks}`, `orphanPods=${r.orphanPods}`, `unreachable=${r.unreachableTasks}`, ...extra].join(' ');
}

export interface WaitInvariantsOptions {
  /** When the fault was injected (ms since the epoch): the time to recover counts from here. */
  sinceMs: number;
  timeoutMs: number;
  intervalMs?: number;
  /** Consecutive holding samples required, so a passing glimpse mid-failover does not count (default 2). */
  stableSamples?: number;
  /** Also require no unreachable tasks (after every agent is back). */
  requireReachable?: boolean;
  /** Scenario-specific conditions that must hold too; a string explains why one does not. */
  extra?: (input: InvariantInput) => string | undefined;
  now?: () => number;
}

export interface Recovery {
  report: InvariantReport;
  /** From sinceMs to the first of the stable holding samples. */
  recoveredMs: number;
  samples: number;
}

/**
 * Samples until the invariants (and `extra`) hold for `stableSamples` samples in a row. Throws with the last report's
 * details if they do not within `timeoutMs`. Sampling errors (an API restarting) count as not holding.
 */
export async function waitForInvariants(sample: () => Promise<InvariantInput>, o: WaitInvariantsOptions): Promise<Recovery> {
  const now = o.now ?? Date.now;
  const deadline = now() + o.timeoutMs;
  const stable = o.stableSamples ?? 2;
  let streak = 0;
  let firstHoldingAt = 0;
  let samples = 0;
  let last: InvariantReport | undefined;
  let lastProblem = '';
  for (;;) {
    try {
      const input = await sample();
      const at = now();
      samples++;
      last = checkInvariants(input);
      // Never twice is a safety property: one sample showing it fails the scenario, however briefly it lasted.
      if (last.podsRunningTwice > 0) throw new SafetyViolation(last.details.filter((d) => d.includes('runs twice')));
      const extra = o.extra?.(input);
      const problems = [...last.details, ...(o.requireReachable && last.unreachableTasks > 0 ? [`${last.unreachableTasks} tasks unreachable`] : []), ...(extra ? [extra] : [])];
      if (problems.length === 0) {
        if (streak === 0) firstHoldingAt = at;
        streak++;
        if (streak >= stable) return { report: last, recoveredMs: firstHoldingAt - o.sinceMs, samples };
      } else {
        streak = 0;
        lastProblem = problems.slice(0, 10).join('\n  ') + (problems.length > 10 ? `\n  … and ${problems.length - 10} more` : '');
      }
    } catch (err) {
      if (err instanceof SafetyViolation) throw err;
      streak = 0;
      lastProblem = `sampling failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (now() >= deadline) throw new Error(`invariants did not hold within ${o.timeoutMs / 1000} s (${samples} samples); last:\n  ${lastProblem}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 500));
  }
}

/** A safety property (nothing runs twice) was violated in a sample. */
export class SafetyViolation extends Error {
  constructor(readonly violations: string[]) {
    super(`safety violated: ${violations.join('; ')}`);
  }
}

/**
 * Samples the safety invariant continuously, from the first fault of a scenario file to its end, so a double run
 * between two scenario steps is seen too. `stop()` resolves the figures; every sample must hold.
 */
export class SafetyMonitor {
  samples = 0;
  readonly violations: string[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(sample: () => Promise<InvariantInput>, intervalMs = 500) {
    this.done = (async () => {
      while (this.running) {
        try {
          const r = checkInvariants(await sample());
          this.samples++;
          if (r.podsRunningTwice > 0) this.violations.push(...r.details.filter((d) => d.includes('runs twice')));
        } catch {
          // an API or master restarting: no sample, not a violation
        }
        // Unref'd: a test that fails before stop() must not keep jest (and CI) waiting for this loop forever.
        await new Promise((res) => setTimeout(res, intervalMs).unref());
      }
    })();
  }

  async stop(): Promise<{ samples: number; violations: string[] }> {
    this.running = false;
    await this.done;
    return { samples: this.samples, violations: [...new Set(this.violations)] };
  }
}
