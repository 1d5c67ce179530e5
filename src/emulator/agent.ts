import type { Timer } from './clock.js';
import type { Attribute, ExecutorEvent, ExecutorInfo, Resource, TaskInfo, TaskState, TaskStatus } from './proto-types.js';
import { bagsByRole, type ParseResult, ResourceBag } from './resources.js';

/**
 * An emulated agent as the master sees it. `connected` is the master's view of the link (false while failed or
 * partitioned, before and after it is marked unreachable); `hostUp` is whether its executors can run.
 */
export type AgentState = 'active' | 'disconnected' | 'unreachable' | 'gone';

export interface AgentSpec {
  hostname: string;
  zone?: string;
  region?: string;
  resources: Resource[];
  attributes: Attribute[];
}

/** Where an agent's executors send their calls and what they receive; HTTP or in-process. */
export interface ExecutorSink {
  send(ev: ExecutorEvent): void;
  close(): void;
}

/** A running executor process (or in-process executor) the emulator can stop. */
export interface ExecutorHandle {
  /** Stop it now (SIGKILL / abort). Its exit is reported through the launcher's `exited` callback. */
  kill(): void;
  /** Resize its container to what it holds now (process mode with cgroups; Mesos' containerizer update()). */
  update?(holding: ContainerHolding): void;
}

/** What an executor's container holds: the executor's own resources and those of its tasks that still hold theirs. */
export interface ContainerHolding {
  executor: Resource[] | undefined;
  tasks: Pick<TaskInfo, 'resources' | 'limits'>[];
}

export interface ExecutorRun {
  agentId: string;
  frameworkId: string;
  executorId: string;
  info: ExecutorInfo;
  resources: Map<string, ResourceBag>;
  /** The role of the offer it was launched from (its resources count there). */
  role: string;
  /** `command`: the built-in command executor the emulator simulates for tasks that carry a CommandInfo. */
  kind: 'custom' | 'command';
  state: 'launching' | 'subscribed' | 'terminated';
  containerId: string;
  directory: string;
  /** Identifies this executor on the shared executor endpoint (sent as `Authorization: Bearer`). */
  token: string;
  /** Tasks (or groups) accepted before the executor subscribed, delivered in order on SUBSCRIBE. */
  queued: { tasks: TaskInfo[]; group: boolean }[];
  sink?: ExecutorSink;
  handle?: ExecutorHandle;
  registrationTimer?: Timer;
  shutdownRequested: boolean;
  registrationTimedOut?: boolean;
}

export interface Task {
  info: TaskInfo;
  frameworkId: string;
  agentId: string;
  executorId: string;
  /** The latest state the master knows (Mesos' `latest_state`), ahead of what the framework acknowledged. */
  state: TaskState;
  lastStatus?: TaskStatus;
  resources: Map<string, ResourceBag>;
  /** Whether the resources are still held on the agent (released when a terminal state arrives). */
  holdsResources: boolean;
  killRequested: boolean;
  delivered: boolean;
  unreachableSince?: number;
  /** Mesos role the task's resources were allocated to. */
  role: string;
}

/** One task's status update stream in the agent's status update manager: in order, one in flight until acknowledged. */
export interface UpdateStream {
  frameworkId: string;
  taskId: string;
  pending: TaskStatus[];
  inflight: boolean;
  retryTimer?: Timer;
  retryMs: number;
}

export class Agent {
  readonly id: string;
  readonly hostname: string;
  readonly zone?: string;
  readonly region?: string;
  readonly attributes: Attribute[];
  readonly totalResources: Resource[];
  readonly total: Map<string, ResourceBag>;
  /** Not used and not offered, per reservation role ('*' unreserved). */
  readonly available: Map<string, ResourceBag>;
  state: AgentState = 'active';
  hostUp = true;
  /** False while partitioned or failed: messages between master and agent are lost. */
  reachable = true;
  unreachableTimer?: Timer;
  unreachableSince?: number;
  readonly executors = new Map<string, ExecutorRun>();
  readonly tasks = new Map<string, Task>();
  readonly streams = new Map<string, UpdateStream>();
  /** Uuids of executor updates already taken, so retried ones are not forwarded twice. */
  readonly handledUpdates = new Set<string>();
  registeredAt: number;

  constructor(id: string, spec: AgentSpec, now: number) {
    this.id = id;
    this.hostname = spec.hostname;
    this.zone = spec.zone;
    this.region = spec.region;
    this.attributes = spec.attributes;
    this.totalResources = spec.resources;
    this.total = bagsByRole(spec.resources);
    this.available = new Map([...this.total].map(([r, b]) => [r, b.clone()]));
    this.registeredAt = now;
  }

  /** Returns resources to the pool; with `transfer` the caller gives up the bags and they may be kept as they are. */
  release(bags: Map<string, ResourceBag>, transfer = false): void {
    for (const [role, b] of bags) {
      const a = this.available.get(role);
      if (transfer && (!a || a.isEmpty())) this.available.set(role, b);
      else if (a) a.add(b);
      else this.available.set(role, b.clone());
    }
  }

  take(bags: Map<string, ResourceBag>): void {
    for (const [role, b] of bags) this.available.get(role)?.subtract(b);
  }

  /** Used = total - available - offered; computed for /state only. */
  usedBag(): ResourceBag {
    const used = new ResourceBag();
    for (const t of this.tasks.values()) if (t.holdsResources) for (const b of t.resources.values()) used.add(b);
    for (const e of this.executors.values()) if (e.state !== 'terminated') for (const b of e.resources.values()) used.add(b);
    return used;
  }

  totalBag(): ResourceBag {
    const all = new ResourceBag();
    for (const b of this.total.values()) all.add(b);
    return all;
  }
}

export const key = (frameworkId: string, id: string) => `${frameworkId}\u0000${id}`;

/**
 * Renders the `--agent-attributes` template for agent `i`: `rack:r{i%4};os:linux;zone_index:{i}`; `{zone}` and
 * `{region}` are substituted too. Numbers become SCALAR attributes, `[a-b]` RANGES, `{a,b}` SET, the rest TEXT.
 */
export function renderAttributes(template: string, vars: { i: number; zone?: string; region?: string }): ParseResult<Attribute[]> {
  const text = template.replace(/\{(i(?:\s*%\s*(\d+))?|zone|region)\}/g, (_m, expr: string, mod?: string) => {
    if (expr === 'zone') return vars.zone ?? '';
    if (expr === 'region') return vars.region ?? '';
    return String(mod ? vars.i % Number(mod) : vars.i);
  });
  const out: Attribute[] = [];
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (!part) continue;
    const idx = part.indexOf(':');
    if (idx <= 0) return { ok: false, error: `attribute "${part}" is not name:value` };
    const name = part.slice(0, idx).trim();
    const value = part.slice(idx + 1).trim();
    if (/^-?\d+(\.\d+)?$/.test(value)) out.push({ name, type: 'SCALAR', scalar: { value: Number(value) } });
    else if (/^\[\s*\d+\s*-\s*\d+\s*(,\s*\d+\s*-\s*\d+\s*)*\]$/.test(value))
      out.push({
        name,
        type: 'RANGES',
        ranges: {
          range: value
            .slice(1, -1)
            .split(',')
            .map((r) => r.split('-').map((n) => Number(n.trim())))
            .map(([begin, end]) => ({ begin, end })),
        },
      });
    else if (value.startsWith('{') && value.endsWith('}'))
      out.push({ name, type: 'SET', set: { item: value.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean) } });
    else out.push({ name, type: 'TEXT', text: { value } });
  }
  return { ok: true, value: out };
}
