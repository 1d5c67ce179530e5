import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { V1Node } from '@kubernetes/client-node';
import type { ExecutorEvent } from '../mesos/types.js';
import { parseExecutorEnv } from './env.js';
import { KubeletExecutor, type ExecutorDriver, type ExecutorStatusUpdate } from './executor.js';
import { FakeCluster } from './fake-cluster.js';
import { InformerPodSource } from './pod-source.js';
import {
  GiveUpDriver,
  isKubeletLabel,
  kubeletFlags,
  kubeletPaths,
  openTasks,
  RealKubelet,
  type KubeletChild,
  type KubeletFlagsInput,
  type RealKubeletOptions,
  type SupervisorClock,
} from './real-kubelet.js';

const Gi = 2 ** 30;
const Mi = 2 ** 20;
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const base: KubeletFlagsInput = {
  nodeName: 'agent-1',
  labels: { 'kubernetes.io/hostname': 'agent-1', 'topology.kubernetes.io/zone': 'a', 'kube-mesos.io/agent-id': 'S1', 'kube-mesos.io/attribute-rack': 'r2', rack: 'r2' },
  taints: [{ key: 'dedicated', value: 'spark', effect: 'NoSchedule' }, { key: 'gpu', effect: 'NoExecute' }],
  capacity: { cpu: '6', memory: '12Gi', pods: '50' },
  kubeconfig: '/etc/kube/kubeconfig',
  sandbox: '/sb',
  machine: { cpuMillis: 8000, memoryBytes: 16 * Gi },
};

describe('kubeletFlags', () => {
  it('computes the flags of a kubelet 1.20+', () => {
    const r = kubeletFlags(base);
    if (!r.ok) throw new Error(r.error);
    // system-reserved = machine − Mesos' grant − the default eviction threshold (100Mi): 2 cpu, 16Gi − 12Gi − 100Mi.
    expect(r.value.args).toEqual([
      '--hostname-override=agent-1',
      '--kubeconfig=/etc/kube/kubeconfig',
      '--root-dir=/sb/kubelet/root',
      '--cert-dir=/sb/kubelet/pki',
      '--max-pods=50',
      `--system-reserved=cpu=2000m,memory=${(4 * Gi - 100 * Mi) / 1024}Ki`,
      '--fail-swap-on=false',
      '--node-labels=kubernetes.io/hostname=agent-1,topology.kubernetes.io/zone=a',
      '--register-with-taints=dedicated=spark:NoSchedule,gpu:NoExecute',
    ]);
    expect(r.value.labelsToPatch).toEqual({ 'kube-mesos.io/agent-id': 'S1', 'kube-mesos.io/attribute-rack': 'r2', rack: 'r2' });
    expect(r.value.allocatable).toEqual({ cpuMillis: 6000, memoryBytes: 12 * Gi, pods: 50 });
    expect(r.value.paths).toEqual(kubeletPaths('/sb'));
    expect(r.value.warnings).toEqual([]);
  });

  // Each row: input changes, the flags expected among the args (and absent), the allocatable that must come out, warnings.
  it.each<[string, Partial<KubeletFlagsInput>, string[], string[], { cpuMillis: number; memoryBytes: number }, RegExp[]]>([
    ['millicores and Mi as the scheduler writes them', { capacity: { cpu: '7250m', memory: '15000Mi' } }, ['--system-reserved=cpu=750m,memory=1314816Ki', '--max-pods=110'], [], { cpuMillis: 7250, memoryBytes: 15000 * Mi }, []],
    ['extra flags come last', { extraFlags: ['--v=2', '--container-runtime=remote'] }, ['--v=2', '--container-runtime=remote'], [], { cpuMillis: 6000, memoryBytes: 12 * Gi }, []],
    ['kube-reserved from extra flags is taken out of system-reserved', { extraFlags: ['--kube-reserved=cpu=500m,memory=1Gi'] }, ['--kube-reserved=cpu=500m,memory=1Gi', `--system-reserved=cpu=1500m,memory=${(3 * Gi - 100 * Mi) / 1024}Ki`], [], { cpuMillis: 6000, memoryBytes: 12 * Gi }, []],
    ['--eviction-hard with a percentage', { extraFlags: ['--eviction-hard=memory.available<5%,nodefs.available<10%'] }, [`--system-reserved=cpu=2000m,memory=${4 * Gi - Math.round(0.05 * 16 * Gi)}`], [], { cpuMillis: 6000, memoryBytes: 12 * Gi }, []],
    ['--eviction-hard without memory: no memory threshold', { extraFlags: ['--eviction-hard=nodefs.available<10%'] }, ['--system-reserved=cpu=2000m,memory=4194304Ki'], [], { cpuMillis: 6000, memoryBytes: 12 * Gi }, []],
    ['--node-labels and --register-with-taints merge', { extraFlags: ['--node-labels=node.kubernetes.io/pool=x', '--register-with-taints=k=v:NoSchedule'] }, ['--node-labels=kubernetes.io/hostname=agent-1,topology.kubernetes.io/zone=a,node.kubernetes.io/pool=x', '--register-with-taints=dedicated=spark:NoSchedule,gpu:NoExecute,k=v:NoSchedule'], ['--node-labels=node.kubernetes.io/pool=x'], { cpuMillis: 6000, memoryBytes: 12 * Gi }, []],
    ['an extra flag replaces a computed one', { extraFlags: ['--kubeconfig=/node/kubeconfig', '--root-dir=/var/lib/kubelet'] }, ['--kubeconfig=/node/kubeconfig', '--root-dir=/var/lib/kubelet'], ['--kubeconfig=/etc/kube/kubeconfig', '--root-dir=/sb/kubelet/root'], { cpuMillis: 6000, memoryBytes: 12 * Gi }, []],
    ['replacing a flag kube-mesos relies on warns', { extraFlags: ['--max-pods=20'] }, ['--max-pods=20'], ['--max-pods=50'], { cpuMillis: 6000, memoryBytes: 12 * Gi }, [/--max-pods=20 replaces the computed --max-pods/]],
    ['a user --system-reserved wins', { extraFlags: ['--system-reserved=cpu=1'] }, ['--system-reserved=cpu=1'], [`--system-reserved=cpu=2000m,memory=${(4 * Gi - 100 * Mi) / 1024}Ki`], { cpuMillis: 6000, memoryBytes: 12 * Gi }, [/replaces the computed --system-reserved/]],
    ['Mesos gives more than the machine has: clamped, warned', { capacity: { cpu: '10', memory: '20Gi' } }, ['--system-reserved=cpu=0m,memory=0Ki'], [], { cpuMillis: 8000, memoryBytes: 16 * Gi - 100 * Mi }, [/gave 10000m cpu but the machine has 8000m/, /memory but the machine has/]],
    ['no taints, no labels', { taints: [], labels: {} }, [], ['--node-labels', '--register-with-taints'], { cpuMillis: 6000, memoryBytes: 12 * Gi }, []],
  ])('%s', (_name, change, present, absent, allocatable, warnings) => {
    const r = kubeletFlags({ ...base, ...change });
    if (!r.ok) throw new Error(r.error);
    for (const f of present) expect(r.value.args).toContain(f);
    for (const f of absent) expect(r.value.args.some((a) => a === f || a.startsWith(`${f}=`))).toBe(false);
    expect(r.value.allocatable).toMatchObject(allocatable);
    expect(r.value.warnings).toHaveLength(warnings.length);
    warnings.forEach((w, i) => expect(r.value.warnings[i]).toMatch(w));
    // Flags are unique by name, except the ones the kubelet itself accepts repeatedly (none here).
    const names = r.value.args.map((a) => a.split('=')[0]);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    ['bad cpu', { capacity: { cpu: 'lots', memory: '1Gi' } }, /capacity cpu/],
    ['no memory', { capacity: { cpu: '1' } }, /capacity memory/],
    ['bad pods', { capacity: { cpu: '1', memory: '1Gi', pods: '0' } }, /capacity pods/],
    ['bad kube-reserved', { extraFlags: ['--kube-reserved=cpu=x'] }, /--kube-reserved=cpu=x/],
    ['bad eviction threshold', { extraFlags: ['--eviction-hard=memory.available<much'] }, /memory.available/],
  ])('refuses %s with a clear error', (_name, change, error) => {
    const r = kubeletFlags({ ...base, ...change } as KubeletFlagsInput);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });

  it.each([
    ['kubernetes.io/hostname', true],
    ['topology.kubernetes.io/zone', true],
    ['topology.kubernetes.io/region', true],
    ['node.kubernetes.io/instance-type', true],
    ['node.kubernetes.io/pool', true],
    ['foo.kubelet.kubernetes.io/x', true],
    ['kube-mesos.io/agent-id', false],
    ['kube-mesos.io/attribute-rack', false],
    ['node-restriction.kubernetes.io/x', false],
    ['rack', false],
  ])('isKubeletLabel(%s) = %s', (key, allowed) => expect(isKubeletLabel(key)).toBe(allowed));
});

describe('parseExecutorEnv, real mode', () => {
  const env = { KUBE_MESOS_NODE_NAME: 'n1', KUBE_MESOS_NODE_CAPACITY: '{"cpu":"1","memory":"1Gi"}', KUBE_MESOS_KUBECONFIG: '/k', KUBE_MESOS_KUBELET_MODE: 'real', KUBE_MESOS_KUBELET_COMMAND: '/usr/bin/kubelet' };
  it('reads extra flags and the restart policy, with defaults', () => {
    const r = parseExecutorEnv({ ...env, KUBE_MESOS_KUBELET_EXTRA_FLAGS: '["--v=2","--fail-swap-on"]', KUBE_MESOS_KUBELET_MAX_RESTARTS: '3', KUBE_MESOS_KUBELET_RESTART_WINDOW: '1m' });
    if (!r.ok) throw new Error(r.errors.join('; '));
    expect(r.value.kubeletExtraFlags).toEqual(['--v=2', '--fail-swap-on']);
    expect(r.value.kubeletSupervision).toEqual({ maxRestarts: 3, restartWindowMs: 60_000, backoffInitialMs: 1000, backoffMaxMs: 30_000, stopGraceMs: 10_000 });
  });
  it('hollow mode carries neither', () => {
    const r = parseExecutorEnv({ ...env, KUBE_MESOS_KUBELET_MODE: 'hollow', KUBE_MESOS_KUBELET_EXTRA_FLAGS: '["--v=2"]' });
    expect(r.ok && r.value.kubeletExtraFlags).toBeUndefined();
  });
  it.each([
    ['{"v":2}', 'KUBE_MESOS_KUBELET_EXTRA_FLAGS must be a JSON array'],
    ['["v=2"]', 'KUBE_MESOS_KUBELET_EXTRA_FLAGS[0]: "v=2" is not a flag'],
    ['[oops', 'KUBE_MESOS_KUBELET_EXTRA_FLAGS is not valid JSON'],
  ])('bad extra flags %s', (raw, msg) => {
    const r = parseExecutorEnv({ ...env, KUBE_MESOS_KUBELET_EXTRA_FLAGS: raw });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toContain(msg);
  });
  it('bad policy values name their variables', () => {
    const r = parseExecutorEnv({ ...env, KUBE_MESOS_KUBELET_MAX_RESTARTS: '-1', KUBE_MESOS_KUBELET_STOP_GRACE: 'soon', KUBE_MESOS_KUBELET_BACKOFF: '10s', KUBE_MESOS_KUBELET_BACKOFF_MAX: '1s' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.join('\n')).toContain('KUBE_MESOS_KUBELET_MAX_RESTARTS="-1"');
      expect(r.errors.join('\n')).toContain('KUBE_MESOS_KUBELET_STOP_GRACE');
      expect(r.errors.join('\n')).toContain('KUBE_MESOS_KUBELET_BACKOFF_MAX must not be shorter');
    }
  });
});

// ---- supervision, with an injected spawner and clock ----

class FakeClock implements SupervisorClock {
  t = 1_000_000;
  private timers: Array<{ at: number; resolve: () => void }> = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = { at: this.t + ms, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          resolve();
        },
        { once: true },
      );
    });
  }
  /** Moves time forward, firing due timers in order and letting the code they wake run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.resolve();
    }
    this.t = end;
    await flush();
  }
}

class FakeChild extends EventEmitter implements KubeletChild {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly signals: string[] = [];
  constructor(
    readonly pid: number,
    private readonly onSignal: (c: FakeChild, s: NodeJS.Signals) => void,
  ) {
    super();
  }
  kill(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    this.onSignal(this, signal);
    return true;
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.emit('exit', code, signal);
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'real-kubelet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dirSeq = 0;

function supervisor(opts: Partial<RealKubeletOptions> & { ignoreSigterm?: boolean; throwOnSpawn?: boolean } = {}) {
  const clock = new FakeClock();
  const children: FakeChild[] = [];
  const spawned: Array<{ command: string; args: readonly string[] }> = [];
  const giveUps: string[] = [];
  const sandbox = join(tmp, `sb${dirSeq++}`);
  const kubelet = new RealKubelet({
    nodeName: 'agent-1',
    command: '/opt/kubelet --extra',
    args: ['--a=1', '--b=2'],
    paths: kubeletPaths(sandbox),
    policy: { maxRestarts: 3, restartWindowMs: 60_000, backoffInitialMs: 100, backoffMaxMs: 1000, stopGraceMs: 5000 },
    onGiveUp: (m) => giveUps.push(m),
    clock,
    // The top of the equal-jitter range [d/2, d]: each delay is exactly the capped exponential ceiling d.
    random: () => 1 - 1e-9,
    spawn: (command, args) => {
      spawned.push({ command, args });
      if (opts.throwOnSpawn) throw new Error('spawn /bin/sh EACCES');
      const c = new FakeChild(100 + children.length, (child, s) => {
        if (s === 'SIGKILL' || !opts.ignoreSigterm) queueMicrotask(() => child.exit(null, s));
      });
      children.push(c);
      return c;
    },
    ...opts,
  });
  return { clock, children, spawned, giveUps, kubelet, sandbox };
}

describe('RealKubelet supervision', () => {
  it('starts the command with its args and restarts it with capped exponential backoff', async () => {
    const { clock, children, spawned, kubelet } = supervisor({ policy: { maxRestarts: 10, restartWindowMs: 60_000, backoffInitialMs: 100, backoffMaxMs: 400, stopGraceMs: 5000 } });
    kubelet.start();
    await flush();
    expect(spawned).toEqual([{ command: '/opt/kubelet --extra', args: ['--a=1', '--b=2'] }]);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      children.at(-1)!.exit(1);
      const before = clock.t;
      const n = spawned.length;
      while (spawned.length === n) await clock.advance(10);
      delays.push(clock.t - before);
    }
    expect(delays).toEqual([100, 200, 400, 400, 400]);
    await kubelet.stop();
  });

  it('a run that outlived the backoff cap starts the backoff afresh', async () => {
    const { clock, children, spawned, kubelet } = supervisor({ policy: { maxRestarts: 10, restartWindowMs: 60_000, backoffInitialMs: 100, backoffMaxMs: 400, stopGraceMs: 5000 } });
    kubelet.start();
    await flush();
    children[0].exit(1);
    await clock.advance(100);
    children[1].exit(1);
    await clock.advance(200);
    expect(spawned).toHaveLength(3);
    await clock.advance(5000); // healthy for a while
    children[2].exit(1);
    await clock.advance(99);
    expect(spawned).toHaveLength(3);
    await clock.advance(1);
    expect(spawned).toHaveLength(4);
    await kubelet.stop();
  });

  it('gives up after more than maxRestarts exits within the window, quoting the last stderr line', async () => {
    const { clock, children, spawned, giveUps, kubelet } = supervisor();
    kubelet.start();
    await flush();
    for (let i = 0; i < 4; i++) {
      children.at(-1)!.stderr.write(`E1124 kubelet.go:1 run ${i}: failed to load kubeconfig\n`);
      await flush();
      children.at(-1)!.exit(1);
      await clock.advance(2000);
    }
    expect(spawned).toHaveLength(4);
    expect(giveUps).toHaveLength(1);
    expect(giveUps[0]).toBe('the kubelet of node agent-1 could not be kept running: it stopped 4 times within 1m (last: exit code 1; stderr: E1124 kubelet.go:1 run 3: failed to load kubeconfig)');
    await clock.advance(60_000);
    expect(spawned).toHaveLength(4);
    await kubelet.stop();
  });

  it('exits spread wider than the window never give up', async () => {
    const { clock, children, spawned, giveUps, kubelet } = supervisor();
    kubelet.start();
    await flush();
    for (let i = 0; i < 8; i++) {
      await clock.advance(25_000);
      children.at(-1)!.exit(null, 'SIGSEGV');
      await clock.advance(1000);
    }
    expect(giveUps).toEqual([]);
    expect(spawned).toHaveLength(9);
    await kubelet.stop();
  });

  it('a spawn that throws counts as a failed start', async () => {
    const { clock, giveUps, kubelet } = supervisor({ throwOnSpawn: true, policy: { maxRestarts: 1, restartWindowMs: 60_000, backoffInitialMs: 100, backoffMaxMs: 1000, stopGraceMs: 5000 } });
    kubelet.start();
    await clock.advance(1000);
    expect(giveUps).toEqual(['the kubelet of node agent-1 could not be kept running: it stopped 2 times within 1m (last: could not be started: spawn /bin/sh EACCES)']);
    await kubelet.stop();
  });

  it('stop(): SIGTERM, and no restart after it exits', async () => {
    const { clock, children, spawned, kubelet } = supervisor();
    kubelet.start();
    await flush();
    await kubelet.stop();
    expect(children[0].signals).toEqual(['SIGTERM']);
    await clock.advance(10_000);
    expect(spawned).toHaveLength(1);
  });

  it('stop(): SIGKILL when SIGTERM is ignored for the grace period', async () => {
    const { clock, children, kubelet } = supervisor({ ignoreSigterm: true });
    kubelet.start();
    await flush();
    let stopped = false;
    const stopping = kubelet.stop().then(() => (stopped = true));
    await clock.advance(4999);
    expect(children[0].signals).toEqual(['SIGTERM']);
    expect(stopped).toBe(false);
    await clock.advance(1);
    await stopping;
    expect(children[0].signals).toEqual(['SIGTERM', 'SIGKILL']);
  });

  it('stop() during the restart backoff ends supervision at once', async () => {
    const { clock, children, spawned, kubelet } = supervisor();
    kubelet.start();
    await flush();
    children[0].exit(1);
    await flush();
    await kubelet.stop();
    await clock.advance(10_000);
    expect(spawned).toHaveLength(1);
  });

  it('appends each run\'s output to files in the sandbox', async () => {
    const { clock, children, kubelet, sandbox } = supervisor();
    kubelet.start();
    await flush();
    children[0].stdout.write('I1124 started\n');
    children[0].stderr.write('E1124 oops\n');
    await flush();
    children[0].exit(2);
    await clock.advance(100);
    children[1].stdout.write('I1124 started again\n');
    await flush();
    await kubelet.stop();
    const out = readFileSync(join(sandbox, 'kubelet', 'kubelet.stdout.log'), 'utf8');
    const err = readFileSync(join(sandbox, 'kubelet', 'kubelet.stderr.log'), 'utf8');
    expect(out).toMatch(/--- kube-mesos: kubelet start #1 at .*: \/opt\/kubelet --extra --a=1 --b=2\nI1124 started\n--- kube-mesos: kubelet start #2 .*\nI1124 started again\n$/);
    expect(err).toContain('E1124 oops\n');
  });

  it('patches the labels the kubelet may not set once its Node exists', async () => {
    const cluster = new FakeCluster();
    const { clock, kubelet } = supervisor({ api: cluster, labelsToPatch: { 'kube-mesos.io/agent-id': 'S1' } });
    kubelet.start();
    await clock.advance(1000);
    expect(cluster.writes.filter((w) => w.includes('node'))).toEqual([]);
    // The kubelet registers its Node.
    const node: V1Node = { metadata: { name: 'agent-1', labels: { 'kubernetes.io/hostname': 'agent-1' } } };
    await cluster.createNode(node);
    await clock.advance(15_000);
    expect(cluster.nodes.get('agent-1')?.metadata?.labels).toEqual({ 'kubernetes.io/hostname': 'agent-1', 'kube-mesos.io/agent-id': 'S1' });
    await kubelet.stop();
  });
});

// ---- the executor with a real kubelet that cannot be kept running ----

class FakeDriver extends EventEmitter implements ExecutorDriver {
  readonly updates: ExecutorStatusUpdate[] = [];
  start(): void {}
  async stop(): Promise<void> {}
  async update(status: ExecutorStatusUpdate): Promise<void> {
    this.updates.push(status);
  }
  send(ev: ExecutorEvent): void {
    this.emit('event', ev);
  }
  states(taskId: string): string[] {
    return this.updates.filter((u) => u.task_id.value === taskId).map((u) => u.state);
  }
}

describe('GiveUpDriver', () => {
  it('fails the open tasks, drops later updates for them, and ends the executor with code 1', async () => {
    const cluster = new FakeCluster();
    const pods = new InformerPodSource(cluster);
    const inner = new FakeDriver();
    const driver = new GiveUpDriver(inner);
    const clock = new FakeClock();
    let child: FakeChild | undefined;
    let spawns = 0;
    const executor: KubeletExecutor = new KubeletExecutor({
      config: { nodeName: 'agent-1' },
      driver,
      api: cluster,
      pods,
      random: () => 0,
      kubelet: () =>
        new RealKubelet({
          nodeName: 'agent-1',
          command: 'kubelet',
          args: [],
          paths: kubeletPaths(join(tmp, 'exec')),
          policy: { maxRestarts: 1, restartWindowMs: 60_000, backoffInitialMs: 100, backoffMaxMs: 100, stopGraceMs: 100 },
          clock,
          spawn: () => {
            spawns++;
            child = new FakeChild(spawns, (c, s) => queueMicrotask(() => c.exit(null, s)));
            return child;
          },
          onGiveUp: (m) => void driver.failAll(openTasks(executor.taskStates), m),
        }),
    });
    const running = executor.run(new AbortController().signal);
    inner.send({ type: 'SUBSCRIBED', subscribed: { executor_info: { executor_id: { value: 'e1' } }, agent_info: { id: { value: 'S1' } } } as never });
    const task = (name: string) => {
      const p = cluster.addPod('ns', name);
      inner.send({
        type: 'LAUNCH',
        launch: {
          task: {
            name,
            task_id: { value: `t-${name}` },
            agent_id: { value: 'S1' },
            labels: { labels: [{ key: 'kube-mesos.io/pod-namespace', value: 'ns' }, { key: 'kube-mesos.io/pod-name', value: name }, { key: 'kube-mesos.io/pod-uid', value: p.metadata!.uid! }] },
          },
        },
      });
    };
    task('a');
    task('b');
    for (let i = 0; i < 20 && inner.states('t-b').length === 0; i++) await flush();
    // The scheduler (played by the test) binds both pods on their TASK_STARTING.
    for (const name of ['a', 'b']) await cluster.bindPod({ namespace: 'ns', name, uid: cluster.pod('ns', name)!.metadata!.uid! }, 'agent-1', {});
    await flush();
    // The kubelet (played by the test) runs pod a; pod b stays Pending.
    cluster.mutatePod('ns/a', (p) => (p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }));
    await flush();
    expect(inner.states('t-a')).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    expect(inner.states('t-b')).toEqual(['TASK_STARTING']);
    child!.exit(1);
    await clock.advance(100);
    child!.exit(1);
    const exit = await running;
    expect(exit.code).toBe(1);
    expect(exit.reason).toMatch(/kubelet of node agent-1 could not be kept running: it stopped 2 times/);
    expect(inner.states('t-a')).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    expect(inner.states('t-b')).toEqual(['TASK_STARTING', 'TASK_FAILED']);
    expect(inner.updates.at(-1)).toMatchObject({ reason: 'REASON_EXECUTOR_TERMINATED', message: exit.reason });
    // A later pod change must not contradict TASK_FAILED.
    await driver.update({ task_id: { value: 't-a' }, state: 'TASK_KILLED' });
    expect(inner.states('t-a').at(-1)).toBe('TASK_FAILED');
  });

  it('openTasks keeps tasks without a terminal state', () => {
    expect(openTasks({ a: undefined, b: 'TASK_RUNNING', c: 'TASK_FINISHED', d: 'TASK_KILLED', e: 'TASK_STARTING' })).toEqual(['a', 'b', 'e']);
  });
});
