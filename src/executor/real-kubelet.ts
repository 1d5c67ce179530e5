import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { V1Taint } from '@kubernetes/client-node';
import { formatDuration } from '../config/duration.js';
import { cpuCores, parseQuantity } from '../config/quantity.js';
import { Backoff, sleep } from '../time/backoff.js';
import { isTerminalTaskState, type ExecutorEvent, type TaskState } from '../mesos/types.js';
import { silentLogger, type Logger } from '../telemetry/log.js';
import type { KubeletSupervisionEnv } from './env.js';
import type { ExecutorDriver, ExecutorStatusUpdate, Kubelet } from './executor.js';
import type { KubeletApi } from './kube-api.js';

// Real kubelet mode: the flags a kubelet 1.20+ gets (a pure function), and the supervisor that keeps the process running.

/** What the machine has, as the kubelet's cAdvisor sees it: logical CPUs and MemTotal. */
export interface MachineResources {
  cpuMillis: number;
  memoryBytes: number;
}

export function detectMachine(): MachineResources {
  return { cpuMillis: cpus().length * 1000, memoryBytes: totalmem() };
}

export interface KubeletPaths {
  /** <sandbox>/kubelet: everything of the kubelet lives below it. */
  dir: string;
  rootDir: string;
  certDir: string;
  stdoutLog: string;
  stderrLog: string;
}

export function kubeletPaths(sandbox: string): KubeletPaths {
  const dir = join(sandbox, 'kubelet');
  return { dir, rootDir: join(dir, 'root'), certDir: join(dir, 'pki'), stdoutLog: join(dir, 'kubelet.stdout.log'), stderrLog: join(dir, 'kubelet.stderr.log') };
}

export interface KubeletFlagsInput {
  nodeName: string;
  labels: Record<string, string>;
  taints: readonly V1Taint[];
  /** KUBE_MESOS_NODE_CAPACITY: what Mesos gave this kubelet, which the Node's allocatable must equal. */
  capacity: Record<string, string>;
  kubeconfig: string;
  sandbox: string;
  machine: MachineResources;
  extraFlags?: readonly string[];
}

export interface KubeletPlan {
  /** The kubelet's arguments: computed flags, then the extra flags. */
  args: string[];
  /** Labels the kubelet may not set on its own Node: the executor patches them on once the Node exists. */
  labelsToPatch: Record<string, string>;
  paths: KubeletPaths;
  /** The Node's allocatable as the kubelet will compute it from these flags. */
  allocatable: { cpuMillis: number; memoryBytes: number; pods: number };
  warnings: string[];
}

export type KubeletPlanResult = { ok: true; value: KubeletPlan } | { ok: false; error: string };

// k8s.io/kubelet IsKubeletLabel: the only labels a kubelet may put on its own Node (it refuses other kubernetes.io and
// k8s.io labels; NodeRestriction guards the rest). Everything else is patched on by the executor.
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
]);
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

export function isKubeletLabel(key: string): boolean {
  if (KUBELET_LABELS.has(key)) return true;
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const ns = key.slice(0, slash);
  return KUBELET_LABEL_NAMESPACES.some((n) => ns === n || ns.endsWith(`.${n}`));
}

/** The kubelet's default hard eviction threshold for memory (1.20): memory.available<100Mi. */
const DEFAULT_EVICTION_MEMORY = 100 * 2 ** 20;
/** Flags kube-mesos depends on: an extra flag replacing one of these gets a warning. */
const RELIED_ON = new Set(['hostname-override', 'max-pods', 'system-reserved']);

function flagName(flag: string): { name: string; value: string | undefined } {
  const eq = flag.indexOf('=');
  return eq < 0 ? { name: flag.slice(2), value: undefined } : { name: flag.slice(2, eq), value: flag.slice(eq + 1) };
}

/** "k=v,k2=v2" (as --kube-reserved and --node-labels take) → map. */
function parseKeyValues(s: string, sep = '='): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of s.split(',')) {
    const i = part.indexOf(sep);
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + sep.length).trim());
  }
  return out;
}

/** Kubernetes writes memory in bytes; Ki when it divides, which MemTotal and MiB always do. */
function formatBytes(b: number): string {
  return b % 1024 === 0 ? `${b / 1024}Ki` : String(b);
}

function formatTaint(t: V1Taint): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}

/**
 * The flags of a real kubelet (1.20+) for this executor's node. Allocatable = machine − kube-reserved − system-reserved
 * − the hard memory eviction threshold, so system-reserved is set to machine − Mesos' grant − kube-reserved − eviction.
 * Pure.
 */
export function kubeletFlags(input: KubeletFlagsInput): KubeletPlanResult {
  const warnings: string[] = [];
  const cpu = cpuCores(input.capacity.cpu ?? '');
  const mem = parseQuantity(input.capacity.memory ?? '');
  if (!cpu.ok) return { ok: false, error: `capacity cpu: ${cpu.error}` };
  if (!mem.ok) return { ok: false, error: `capacity memory: ${mem.error}` };
  const podsRaw = input.capacity.pods ?? '110';
  if (!/^\d+$/.test(podsRaw) || Number(podsRaw) < 1) return { ok: false, error: `capacity pods: "${podsRaw}" is not a whole number >= 1` };
  const pods = Number(podsRaw);
  const grantCpu = Math.round(cpu.value * 1000);
  const grantMem = Math.round(mem.value);
  const { machine } = input;

  // Extra flags: --node-labels and --register-with-taints merge with ours; any other flag we compute is replaced.
  const extras: string[] = [];
  const extraNames = new Set<string>();
  const extraLabels = new Map<string, string>();
  const extraTaints: string[] = [];
  let kubeReserved = { cpu: 0, mem: 0 };
  let evictionMem = DEFAULT_EVICTION_MEMORY;
  let userSystemReserved = false;
  for (const f of input.extraFlags ?? []) {
    const { name, value } = flagName(f);
    if (name === 'node-labels' && value !== undefined) {
      for (const [k, v] of parseKeyValues(value)) extraLabels.set(k, v);
      continue;
    }
    if (name === 'register-with-taints' && value !== undefined) {
      extraTaints.push(...value.split(',').filter((t) => t.trim() !== ''));
      continue;
    }
    extras.push(f);
    extraNames.add(name);
    if (name === 'kube-reserved' && value !== undefined) {
      const kv = parseKeyValues(value);
      const c = kv.has('cpu') ? cpuCores(kv.get('cpu')!) : undefined;
      const m = kv.has('memory') ? parseQuantity(kv.get('memory')!) : undefined;
      if ((c && !c.ok) || (m && !m.ok)) return { ok: false, error: `extra flag ${f}: not a list of cpu=<quantity>,memory=<quantity>` };
      kubeReserved = { cpu: c?.ok ? Math.round(c.value * 1000) : 0, mem: m?.ok ? Math.round(m.value) : 0 };
    }
    if (name === 'eviction-hard') {
      // Setting --eviction-hard replaces all the defaults: no memory.available entry means no memory threshold.
      const t = parseKeyValues(value ?? '', '<').get('memory.available');
      if (t === undefined) evictionMem = 0;
      else if (t.endsWith('%')) evictionMem = Math.round((machine.memoryBytes * Number(t.slice(0, -1))) / 100);
      else {
        const q = parseQuantity(t);
        if (!q.ok) return { ok: false, error: `extra flag ${f}: memory.available: ${q.error}` };
        evictionMem = Math.round(q.value);
      }
      if (!Number.isFinite(evictionMem) || evictionMem < 0) return { ok: false, error: `extra flag ${f}: memory.available is not a quantity or percentage` };
    }
    if (name === 'system-reserved') userSystemReserved = true;
    if (RELIED_ON.has(name)) warnings.push(`extra flag ${f} replaces the computed --${name}: the Node may not match what Mesos gave this kubelet`);
  }

  let sysCpu = machine.cpuMillis - grantCpu - kubeReserved.cpu;
  let sysMem = machine.memoryBytes - grantMem - kubeReserved.mem - evictionMem;
  if (sysCpu < 0) {
    warnings.push(`Mesos gave ${grantCpu}m cpu but the machine has ${machine.cpuMillis}m (less kube-reserved ${kubeReserved.cpu}m): allocatable cpu will be ${machine.cpuMillis - kubeReserved.cpu}m`);
    sysCpu = 0;
  }
  if (sysMem < 0) {
    warnings.push(
      `Mesos gave ${formatBytes(grantMem)} memory but the machine has ${formatBytes(machine.memoryBytes)} (less kube-reserved ${formatBytes(kubeReserved.mem)} and eviction threshold ${formatBytes(evictionMem)}): allocatable memory will be smaller`,
    );
    sysMem = 0;
  }

  const selfLabels: Record<string, string> = {};
  const labelsToPatch: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.labels)) (isKubeletLabel(k) ? selfLabels : labelsToPatch)[k] = v;
  for (const [k, v] of extraLabels) selfLabels[k] = v;

  const paths = kubeletPaths(input.sandbox);
  const computed: Array<[string, string | undefined]> = [
    ['hostname-override', input.nodeName],
    ['kubeconfig', input.kubeconfig],
    ['root-dir', paths.rootDir],
    ['cert-dir', paths.certDir],
    ['max-pods', String(pods)],
    ['system-reserved', userSystemReserved ? undefined : `cpu=${sysCpu}m,memory=${formatBytes(sysMem)}`],
    ['fail-swap-on', 'false'],
    ['node-labels', Object.keys(selfLabels).length ? Object.entries(selfLabels).map(([k, v]) => `${k}=${v}`).join(',') : undefined],
    ['register-with-taints', input.taints.length || extraTaints.length ? [...input.taints.map(formatTaint), ...extraTaints].join(',') : undefined],
  ];
  const args = computed.filter(([name, v]) => v !== undefined && !extraNames.has(name)).map(([name, v]) => `--${name}=${v}`);
  args.push(...extras);
  const allocatable = {
    cpuMillis: Math.max(0, machine.cpuMillis - kubeReserved.cpu - sysCpu),
    memoryBytes: Math.max(0, machine.memoryBytes - kubeReserved.mem - sysMem - evictionMem),
    pods,
  };
  return { ok: true, value: { args, labelsToPatch, paths, allocatable, warnings } };
}

// ---- supervision ----

/** The part of a ChildProcess the supervisor uses. */
export interface KubeletChild {
  readonly pid?: number;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  kill(signal: NodeJS.Signals): boolean;
  once(event: 'exit', h: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: 'error', h: (err: Error) => void): unknown;
}

export type KubeletSpawner = (command: string, args: readonly string[]) => KubeletChild;

/** Runs `command` (which may carry its own arguments) through sh with `exec`, so signals reach the kubelet itself. */
export const shellSpawner: KubeletSpawner = (command, args) =>
  spawn('/bin/sh', ['-c', `exec ${command} "$@"`, 'kubelet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

export interface SupervisorClock {
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: SupervisorClock = { now: () => Date.now(), sleep };

export interface RealKubeletOptions {
  nodeName: string;
  command: string;
  args: readonly string[];
  paths: KubeletPaths;
  policy: KubeletSupervisionEnv;
  /** Called once when the kubelet exited more than policy.maxRestarts times within policy.restartWindowMs. */
  onGiveUp: (message: string) => void;
  labelsToPatch?: Record<string, string>;
  /** Annotations the executor puts on the Node (e.g. the pod subnet of a real runtime). */
  annotationsToPatch?: Record<string, string>;
  /** What the process is, for logs and messages (default "kubelet"; the real runtime supervises containerd too). */
  process?: string;
  api?: Pick<KubeletApi, 'getNode' | 'patchNode'>;
  spawn?: KubeletSpawner;
  clock?: SupervisorClock;
  random?: () => number;
  log?: Logger;
}

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
}

function describeExit(e: ExitInfo): string {
  if (e.error) return `could not be started: ${e.error}`;
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

const TAIL_BYTES = 4096;

/**
 * Keeps a kubelet process running: restarts it with capped exponential backoff, appends its output to files in the
 * sandbox, patches the Node labels the kubelet may not set itself, and gives up (onGiveUp) when it keeps dying.
 * stop(): SIGTERM, then SIGKILL after policy.stopGraceMs.
 */
export class RealKubelet implements Kubelet {
  private readonly log: Logger;
  private readonly clock: SupervisorClock;
  private readonly spawnKubelet: KubeletSpawner;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private current: { child: KubeletChild; exited: Promise<ExitInfo> } | undefined;
  private out: WriteStream | undefined;
  private err: WriteStream | undefined;
  private stderrTail = '';
  private labelling = false;
  private runs = 0;
  private readonly what: string;

  constructor(private readonly opts: RealKubeletOptions) {
    if (!opts.nodeName || !opts.command?.trim()) throw new TypeError('RealKubelet: nodeName and command are required');
    if (!opts.paths || !opts.policy || typeof opts.onGiveUp !== 'function') throw new TypeError('RealKubelet: paths, policy and onGiveUp are required');
    const p = opts.policy;
    if (!(p.maxRestarts >= 0) || !(p.restartWindowMs > 0) || !(p.backoffInitialMs >= 0) || !(p.backoffMaxMs >= p.backoffInitialMs) || !(p.stopGraceMs >= 0)) {
      throw new TypeError('RealKubelet: policy needs maxRestarts >= 0, restartWindowMs > 0, 0 <= backoffInitialMs <= backoffMaxMs, stopGraceMs >= 0');
    }
    this.clock = opts.clock ?? systemClock;
    this.spawnKubelet = opts.spawn ?? shellSpawner;
    this.what = opts.process ?? 'kubelet';
    this.log = (opts.log ?? silentLogger()).child({ component: this.what === 'kubelet' ? 'real-kubelet' : this.what, node: opts.nodeName });
  }

  /** How many times the kubelet process was started. */
  get starts(): number {
    return this.runs;
  }

  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    const { paths } = this.opts;
    try {
      for (const d of [paths.dir, paths.rootDir, paths.certDir]) mkdirSync(d, { recursive: true });
    } catch (err) {
      this.giveUp(`cannot prepare the ${this.what}'s directories under ${paths.dir}: ${(err as Error).message}`);
      return;
    }
    this.out = createWriteStream(paths.stdoutLog, { flags: 'a' });
    this.err = createWriteStream(paths.stderrLog, { flags: 'a' });
    for (const s of [this.out, this.err]) s.on('error', (e) => this.log.warn({ err: e }, `${this.what} log file write failed`));
    this.loop = this.supervise(signal).catch((err: unknown) => {
      this.log.error({ err }, `${this.what} supervision crashed`);
      this.giveUp(`${this.what} supervision crashed: ${String(err)}`);
    });
  }

  async stop(): Promise<void> {
    if (!this.abort) return;
    this.abort.abort();
    const cur = this.current;
    if (cur) {
      this.log.info({ pid: cur.child.pid }, `stopping ${this.what} (SIGTERM)`);
      cur.child.kill('SIGTERM');
      const grace = new AbortController();
      const killed = await Promise.race([cur.exited.then(() => false), this.clock.sleep(this.opts.policy.stopGraceMs, grace.signal).then(() => true)]);
      grace.abort();
      if (killed) {
        this.log.warn({ pid: cur.child.pid, graceMs: this.opts.policy.stopGraceMs }, `${this.what} still running after SIGTERM; SIGKILL`);
        cur.child.kill('SIGKILL');
        await cur.exited;
      }
    }
    await this.loop;
    await Promise.all([this.out, this.err].map((s) => (s ? new Promise<void>((resolve) => s.end(resolve)) : undefined)));
  }

  private giveUp(message: string): void {
    this.log.error({ message }, `giving up on the ${this.what}`);
    this.opts.onGiveUp(message);
  }

  private async supervise(signal: AbortSignal): Promise<void> {
    const { policy } = this.opts;
    const backoff = new Backoff({ initialMs: policy.backoffInitialMs, maxMs: policy.backoffMaxMs, random: this.opts.random });
    const exits: number[] = [];
    while (!signal.aborted) {
      const startedAt = this.clock.now();
      const exit = await this.runOnce();
      if (signal.aborted) return; // stop() ended it
      const now = this.clock.now();
      exits.push(now);
      while (exits.length > 0 && exits[0] <= now - policy.restartWindowMs) exits.shift();
      const tail = this.lastOutput();
      if (exits.length > policy.maxRestarts) {
        this.giveUp(
          `the ${this.what} of node ${this.opts.nodeName} could not be kept running: it stopped ${exits.length} times within ${formatDuration(policy.restartWindowMs)}` +
            ` (last: ${describeExit(exit)}${tail ? `; stderr: ${tail}` : ''})`,
        );
        return;
      }
      // A run that outlived the longest backoff was healthy: the next crash starts the backoff afresh.
      if (now - startedAt >= policy.backoffMaxMs) backoff.reset();
      const delayMs = backoff.next();
      this.log.warn({ exit: describeExit(exit), stderr: tail, restartInMs: delayMs, recentExits: exits.length }, `${this.what} stopped; restarting`);
      await this.clock.sleep(delayMs, signal);
    }
  }

  private runOnce(): Promise<ExitInfo> {
    this.runs++;
    const header = `--- kube-mesos: ${this.what} start #${this.runs} at ${new Date(this.clock.now()).toISOString()}: ${this.opts.command} ${this.opts.args.join(' ')}\n`;
    this.out?.write(header);
    this.err?.write(header);
    this.stderrTail = '';
    let child: KubeletChild;
    try {
      child = this.spawnKubelet(this.opts.command, this.opts.args);
    } catch (err) {
      return Promise.resolve({ code: null, signal: null, error: (err as Error).message });
    }
    const exited = new Promise<ExitInfo>((resolve) => {
      let settled = false;
      const done = (e: ExitInfo) => {
        if (settled) return;
        settled = true;
        if (this.current?.child === child) this.current = undefined;
        resolve(e);
      };
      child.once('exit', (code, sig) => done({ code, signal: sig }));
      child.once('error', (err) => done({ code: null, signal: null, error: err.message }));
    });
    this.current = { child, exited };
    child.stdout?.on('data', (c: Buffer | string) => this.out?.write(c));
    child.stderr?.on('data', (c: Buffer | string) => {
      this.err?.write(c);
      this.stderrTail = (this.stderrTail + c.toString()).slice(-TAIL_BYTES);
    });
    this.log.info({ pid: child.pid, start: this.runs }, `${this.what} started`);
    if (this.abort) void this.ensureLabels(this.abort.signal);
    return exited;
  }

  /** The last non-empty stderr line of the run that just ended, for messages. */
  private lastOutput(): string {
    const lines = this.stderrTail.split('\n').map((l) => l.trim()).filter(Boolean);
    return (lines.at(-1) ?? '').slice(0, 300);
  }

  /** Waits for the kubelet's Node and puts the labels it may not set itself on it (merge patch). */
  private async ensureLabels(signal: AbortSignal): Promise<void> {
    const want = this.opts.labelsToPatch ?? {};
    const wantAnn = this.opts.annotationsToPatch ?? {};
    const api = this.opts.api;
    if (!api || Object.keys(want).length + Object.keys(wantAnn).length === 0 || this.labelling) return;
    this.labelling = true;
    try {
      const backoff = new Backoff({ initialMs: 250, maxMs: 10_000, random: this.opts.random });
      while (!signal.aborted) {
        const got = await api.getNode(this.opts.nodeName);
        if (got.ok) {
          const have = got.value.metadata?.labels ?? {};
          const haveAnn = got.value.metadata?.annotations ?? {};
          if (Object.entries(want).every(([k, v]) => have[k] === v) && Object.entries(wantAnn).every(([k, v]) => haveAnn[k] === v)) return;
          const p = await api.patchNode(this.opts.nodeName, { labels: want, annotations: wantAnn });
          if (p.ok) {
            this.log.info({ labels: Object.keys(want) }, 'node labels set');
            return;
          }
          this.log.warn({ kind: p.kind, msg: p.message }, 'node label patch failed; retrying');
        } else if (got.kind !== 'NotFound') this.log.warn({ kind: got.kind, msg: got.message }, 'reading the node failed; retrying');
        await this.clock.sleep(backoff.next(), signal);
      }
    } catch (err) {
      this.log.warn({ err }, 'node labelling crashed');
    } finally {
      this.labelling = false;
    }
  }
}

// ---- giving up: every open task TASK_FAILED, then the executor exits non-zero ----

/**
 * Wraps the executor's driver so the real kubelet's supervisor can end the executor: failAll() sends TASK_FAILED for
 * the given tasks, drops any later update for them, then raises the driver's 'exit' (KubeletExecutor.run → code 1).
 */
export class GiveUpDriver implements ExecutorDriver {
  private readonly exitHandlers: Array<(reason: string) => void> = [];
  private readonly failed = new Set<string>();

  constructor(private readonly inner: ExecutorDriver) {}

  on(event: 'event', h: (ev: ExecutorEvent) => void): unknown;
  on(event: 'exit', h: (reason: string) => void): unknown;
  on(event: 'event' | 'exit', h: ((ev: ExecutorEvent) => void) | ((reason: string) => void)): unknown {
    if (event === 'exit') {
      this.exitHandlers.push(h as (reason: string) => void);
      return this.inner.on('exit', h as (reason: string) => void);
    }
    return this.inner.on('event', h as (ev: ExecutorEvent) => void);
  }

  start(): void {
    this.inner.start();
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  async update(status: ExecutorStatusUpdate): Promise<void> {
    if (this.failed.has(status.task_id.value)) return;
    return this.inner.update(status);
  }

  async failAll(taskIds: readonly string[], message: string): Promise<void> {
    const fresh = taskIds.filter((id) => !this.failed.has(id));
    for (const id of fresh) this.failed.add(id);
    await Promise.allSettled(fresh.map((id) => this.inner.update({ task_id: { value: id }, state: 'TASK_FAILED', reason: 'REASON_EXECUTOR_TERMINATED', message })));
    for (const h of this.exitHandlers) h(message);
  }
}

/** Task ids whose last reported state is not terminal (from KubeletExecutor.taskStates). */
export function openTasks(states: Record<string, string | undefined>): string[] {
  return Object.entries(states)
    .filter(([, s]) => s === undefined || !isTerminalTaskState(s as TaskState))
    .map(([id]) => id);
}
