// Real kubelet mode against the real control plane. No kubelet binary here: the executor supervises a fake kubelet (a
// node script written below) that takes the real kubelet's flags, registers its Node with the allocatable a kubelet
// would compute from them, runs pods (the hollow kubelet's code), crashes on demand, and logs SIGTERM.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { parseQuantity } from '../../src/config/quantity.js';
import type { ExecutorExit } from '../../src/executor/executor.js';
import { InformerPodSource, nodePodInformer } from '../../src/executor/pod-source.js';
import { kubeletPaths } from '../../src/executor/real-kubelet.js';
import { parseFullEnv, runExecutor } from '../../src/executor/runtime.js';
import { bindPodWithAnnotations } from '../../src/kube/binding.js';
import { KubeClient } from '../../src/kube/client.js';
import { KubeHttp } from '../../src/kube/http.js';
import type { ResilientInformer } from '../../src/kube/informer.js';
import type { ExecutorTransport } from '../../src/mesos/executor-transport.js';
import type { ExecutorCall, ExecutorEvent, TaskInfo, TaskStatus } from '../../src/mesos/types.js';
import { silentLogger } from '../../src/telemetry/log.js';
import { controlPlaneInfo, createTestNamespace, testKubeConfig, waitFor, type TestNamespace } from '../support/kube.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const src = (p: string) => join(root, 'src', p);

// The fake kubelet. Files in its --root-dir drive it: `crash-once` (removed, then exit 2), `crash-always` (exit 3 at
// once, on every start). Its allocatable follows the kubelet's rule: machine − kube-reserved − system-reserved − 100Mi.
const FAKE_KUBELET = `
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { HollowKubelet } from ${JSON.stringify(src('executor/hollow-kubelet.js'))};
import { createKubeletApi } from ${JSON.stringify(src('executor/kube-api.js'))};
import { InformerPodSource, nodePodInformer } from ${JSON.stringify(src('executor/pod-source.js'))};
import { kubeHttpFromFile } from ${JSON.stringify(src('executor/runtime.js'))};
import { KubeClient } from ${JSON.stringify(src('kube/client.js'))};
import { cpuCores, parseQuantity } from ${JSON.stringify(src('config/quantity.js'))};

const flags = new Map();
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)(?:=(.*))?$/s.exec(a);
  if (!m) { console.error('fake kubelet: unknown argument ' + a); process.exit(64); }
  flags.set(m[1], m[2] ?? 'true');
}
console.log('fake kubelet: args ' + JSON.stringify(process.argv.slice(2)));
const rootDir = flags.get('root-dir');
if (existsSync(join(rootDir, 'crash-always'))) { console.error('fake kubelet: crash-always requested'); process.exit(3); }
const kv = (s) => new Map((s ?? '').split(',').filter(Boolean).map((p) => { const i = p.indexOf('='); return [p.slice(0, i), p.slice(i + 1)]; }));
const labels = Object.fromEntries(kv(flags.get('node-labels')));
// As the kubelet: other kubernetes.io / k8s.io labels are refused.
for (const k of Object.keys(labels)) {
  const ns = k.includes('/') ? k.slice(0, k.indexOf('/')) : '';
  if (/(^|\\.)(kubernetes\\.io|k8s\\.io)$/.test(ns) && !['kubernetes.io/hostname', 'topology.kubernetes.io/zone', 'topology.kubernetes.io/region'].includes(k) && !/node\\.kubernetes\\.io$/.test(ns)) {
    console.error('fake kubelet: unknown kubernetes.io label ' + k); process.exit(1);
  }
}
const taints = (flags.get('register-with-taints') ?? '').split(',').filter(Boolean).map((t) => {
  const [kvPart, effect] = t.split(':');
  const [key, value] = kvPart.split('=');
  return value === undefined ? { key, effect } : { key, value, effect };
});
const reserved = (name) => { const m = kv(flags.get(name)); return { cpu: m.has('cpu') ? cpuCores(m.get('cpu')).value * 1000 : 0, mem: m.has('memory') ? parseQuantity(m.get('memory')).value : 0 }; };
const sys = reserved('system-reserved');
const kube = reserved('kube-reserved');
const machineCpu = cpus().length * 1000;
const machineMem = totalmem();
const allocatable = {
  cpu: Math.round(machineCpu - sys.cpu - kube.cpu) + 'm',
  memory: String(machineMem - sys.mem - kube.mem - 100 * 1024 * 1024),
  pods: flags.get('max-pods') ?? '110',
};
const nodeName = flags.get('hostname-override');
const http = kubeHttpFromFile(flags.get('kubeconfig'));
const api = createKubeletApi(new KubeClient(http));
const informer = nodePodInformer(http, nodeName);
const pods = new InformerPodSource(informer);
informer.start();
const kubelet = new HollowKubelet({ nodeName, labels, taints, capacity: allocatable, api, pods, leaseRenewMs: 2000, leaseDurationSeconds: 10 });
kubelet.start();
await kubelet.ready;
await api.patchNodeStatus(nodeName, { capacity: { cpu: String(cpus().length), memory: String(machineMem), pods: allocatable.pods }, allocatable });
console.log('fake kubelet: node ' + nodeName + ' ready');
setInterval(() => {
  if (existsSync(join(rootDir, 'crash-always'))) { console.error('fake kubelet: crash-always requested'); process.exit(3); }
  if (existsSync(join(rootDir, 'crash-once'))) { rmSync(join(rootDir, 'crash-once')); console.error('fake kubelet: crash-once requested'); process.exit(2); }
}, 100);
process.on('SIGTERM', () => {
  console.log('fake kubelet: SIGTERM, stopping');
  void kubelet.stop().then(() => informer.stop()).finally(() => process.exit(0));
});
`;

/**
 * A Mesos agent reduced to its executor API (records UPDATEs, acknowledges them, lets the test send events), and the
 * scheduler's one part this executor needs: the first TASK_STARTING of a task binds its pod (the scheduler binds, not
 * the executor — docs/executor.md, node identity).
 */
class ScriptedAgent implements ExecutorTransport {
  readonly updates: TaskStatus[] = [];
  private onEvent: ((ev: ExecutorEvent) => void) | undefined;
  private readonly launched = new Map<string, TaskInfo>();
  private readonly bound = new Set<string>();
  private readonly admin = new KubeClient(testKubeConfig());

  constructor(
    private readonly agentId: string,
    private readonly nodeName: string,
  ) {}

  async subscribe(call: ExecutorCall, onEvent: (ev: ExecutorEvent) => void): Promise<void> {
    this.onEvent = onEvent;
    queueMicrotask(() =>
      onEvent({
        type: 'SUBSCRIBED',
        subscribed: {
          executor_info: { executor_id: call.executor_id, framework_id: call.framework_id },
          framework_info: { user: 'root', name: 'kube-mesos', id: call.framework_id },
          agent_info: { id: { value: this.agentId }, hostname: 'agent.test' },
        } as never,
      }),
    );
  }

  async call(call: ExecutorCall): Promise<void> {
    if (call.type !== 'UPDATE') return;
    const status = call.update.status;
    this.updates.push(status);
    if (status.state === 'TASK_STARTING') this.bind(status.task_id.value).catch((err: unknown) => process.stderr.write(`scripted scheduler: ${String(err)}\n`));
    queueMicrotask(() => this.onEvent?.({ type: 'ACKNOWLEDGED', acknowledged: { task_id: status.task_id, uuid: status.uuid! } }));
  }

  private async bind(taskId: string): Promise<void> {
    const t = this.launched.get(taskId);
    if (!t || this.bound.has(taskId)) return;
    this.bound.add(taskId);
    const label = (k: string) => t.labels?.labels?.find((l) => l.key === k)?.value ?? '';
    const annotations = { 'kube-mesos.io/task-id': taskId, 'kube-mesos.io/agent-id': this.agentId, 'kube-mesos.io/executor-id': `kubelet-${this.agentId}` };
    await bindPodWithAnnotations(this.admin, { namespace: label('kube-mesos.io/pod-namespace'), name: label('kube-mesos.io/pod-name'), uid: label('kube-mesos.io/pod-uid'), nodeName: this.nodeName, annotations }, { attempts: 2 });
  }

  close(): void {
    this.admin.http.close();
  }

  send(ev: ExecutorEvent): void {
    if (ev.type === 'LAUNCH') this.launched.set(ev.launch.task.task_id.value, ev.launch.task);
    this.onEvent?.(ev);
  }

  states(taskId: string): string[] {
    return this.updates.filter((u) => u.task_id.value === taskId).map((u) => u.state);
  }
}

const core = () => testKubeConfig().makeApiClient(CoreV1Api);
const tmp = mkdtempSync(join(tmpdir(), 'kube-mesos-real-kubelet-'));
const script = join(tmp, 'fake-kubelet.mts'); // .mts: an ES module wherever the temp dir is
writeFileSync(script, FAKE_KUBELET);
const tsx = join(root, 'node_modules/tsx/dist/loader.mjs');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function taskFor(pod: V1Pod, taskId: string): TaskInfo {
  return {
    name: pod.metadata!.name!,
    task_id: { value: taskId },
    agent_id: { value: 'S-it' },
    labels: {
      labels: [
        { key: 'kube-mesos.io/pod-namespace', value: pod.metadata!.namespace! },
        { key: 'kube-mesos.io/pod-name', value: pod.metadata!.name! },
        { key: 'kube-mesos.io/pod-uid', value: pod.metadata!.uid! },
      ],
    },
    kill_policy: { grace_period: { nanoseconds: 2e9 } },
  };
}

/** One executor in real mode with its own sandbox, node and namespace. */
function realExecutor(prefix: string) {
  const nodeName = `${prefix}-${randomBytes(3).toString('hex')}`;
  const agentId = `S-${nodeName}`;
  const sandbox = join(tmp, nodeName);
  const paths = kubeletPaths(sandbox);
  const ctx = {
    nodeName,
    agentId,
    paths,
    ns: undefined as unknown as TestNamespace,
    agent: new ScriptedAgent(agentId, nodeName),
    running: undefined as unknown as Promise<ExecutorExit>,
    abort: new AbortController(),
    http: undefined as unknown as KubeHttp,
    informer: undefined as unknown as ResilientInformer<V1Pod>,
    async start(extraEnv: Record<string, string> = {}) {
      ctx.ns = await createTestNamespace(prefix);
      const env = parseFullEnv({
        MESOS_AGENT_ENDPOINT: '127.0.0.1:1',
        MESOS_FRAMEWORK_ID: 'fw-it',
        MESOS_EXECUTOR_ID: `kubelet-${agentId}`,
        MESOS_SANDBOX: sandbox,
        KUBE_MESOS_NODE_NAME: nodeName,
        KUBE_MESOS_NODE_LABELS: JSON.stringify({
          'kubernetes.io/hostname': nodeName,
          'topology.kubernetes.io/zone': 'zone-a',
          'kube-mesos.io/agent-id': agentId,
          'kube-mesos.io/attribute-rack': 'r1',
        }),
        KUBE_MESOS_NODE_TAINTS: JSON.stringify([{ key: 'kube-mesos.io/test', value: 'x', effect: 'PreferNoSchedule' }]),
        KUBE_MESOS_NODE_CAPACITY: '{"cpu":"1500m","memory":"1024Mi","pods":"20"}',
        KUBE_MESOS_KUBECONFIG: controlPlaneInfo().kubeconfigPath,
        KUBE_MESOS_KUBELET_MODE: 'real',
        // The fake kubelet needs no container runtime.
        KUBE_MESOS_CONTAINER_RUNTIME: 'none',
        KUBE_MESOS_KUBELET_COMMAND: `${process.execPath} --import ${tsx} ${script}`,
        KUBE_MESOS_KUBELET_EXTRA_FLAGS: '["--v=2"]',
        KUBE_MESOS_KUBELET_BACKOFF: '200ms',
        KUBE_MESOS_KUBELET_BACKOFF_MAX: '1s',
        KUBE_MESOS_KUBELET_STOP_GRACE: '5s',
        ...extraEnv,
      });
      ctx.http = new KubeHttp(testKubeConfig());
      ctx.informer = nodePodInformer(ctx.http, nodeName);
      ctx.informer.start();
      // The machine has at least 1.5 cpus and 1.1Gi, else allocatable cannot equal the grant (a warning, not a failure).
      ctx.running = runExecutor({ env, shared: { http: ctx.http, pods: new InformerPodSource(ctx.informer) }, log: silentLogger(), transport: ctx.agent, shutdownTimeoutMs: 15_000 }, ctx.abort.signal);
    },
    async stop() {
      ctx.abort.abort();
      await ctx.running;
      await ctx.informer?.stop();
      await core().deleteNode({ name: nodeName }).catch(() => {});
      await ctx.ns?.delete();
      ctx.http?.close();
    },
    async launch(name: string): Promise<string> {
      const pod = await core().createNamespacedPod({
        namespace: ctx.ns.name,
        body: { metadata: { name }, spec: { schedulerName: 'kube-mesos', terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image: 'busybox' }] } },
      });
      const taskId = `${name}.${randomBytes(2).toString('hex')}`;
      ctx.agent.send({ type: 'LAUNCH', launch: { task: taskFor(pod, taskId) } });
      return taskId;
    },
    until: (taskId: string, state: string, timeoutMs = 30_000) =>
      waitFor(() => ctx.agent.states(taskId).includes(state), { timeoutMs, what: `${taskId} ${state}; saw ${ctx.agent.states(taskId).join(',')}` }),
    stdout: () => (existsSync(paths.stdoutLog) ? readFileSync(paths.stdoutLog, 'utf8') : ''),
    stderr: () => (existsSync(paths.stderrLog) ? readFileSync(paths.stderrLog, 'utf8') : ''),
  };
  return ctx;
}

const sameQuantity = (a: string | undefined, b: string) => parseQuantity(a ?? 'NaN').ok && (parseQuantity(a!) as { value: number }).value === (parseQuantity(b) as { value: number }).value;

describe('kubelet executor, real kubelet mode (fake kubelet process)', () => {
  const x = realExecutor('real-kubelet');
  beforeAll(() => x.start());
  afterAll(() => x.stop());

  it('the kubelet registers the Node with the computed flags; allocatable equals what Mesos gave; the other labels are patched on', async () => {
    const node = await waitFor(
      async () => {
        const n = await core().readNode({ name: x.nodeName });
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        return ready && n.metadata?.labels?.['kube-mesos.io/agent-id'] && n.status?.allocatable?.pods === '20' ? n : undefined;
      },
      { timeoutMs: 40_000, what: `node ${x.nodeName} Ready with its labels; kubelet stderr: ${x.stderr()}` },
    );
    expect(node.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': x.nodeName,
      'topology.kubernetes.io/zone': 'zone-a',
      'kube-mesos.io/agent-id': x.agentId,
      'kube-mesos.io/attribute-rack': 'r1',
    });
    expect(node.spec?.taints).toEqual([{ key: 'kube-mesos.io/test', value: 'x', effect: 'PreferNoSchedule' }]);
    const alloc = node.status!.allocatable!;
    expect([alloc.cpu, alloc.memory]).toEqual([expect.anything(), expect.anything()]);
    expect(sameQuantity(alloc.cpu, '1500m')).toBe(true);
    expect(sameQuantity(alloc.memory, '1024Mi')).toBe(true);
    const args = JSON.parse(/fake kubelet: args (.*)/.exec(x.stdout())![1]) as string[];
    expect(args).toEqual(
      expect.arrayContaining([
        `--hostname-override=${x.nodeName}`,
        `--kubeconfig=${controlPlaneInfo().kubeconfigPath}`,
        `--root-dir=${x.paths.rootDir}`,
        `--cert-dir=${x.paths.certDir}`,
        '--max-pods=20',
        '--fail-swap-on=false',
        `--node-labels=kubernetes.io/hostname=${x.nodeName},topology.kubernetes.io/zone=zone-a`,
        '--register-with-taints=kube-mesos.io/test=x:PreferNoSchedule',
        '--v=2',
      ]),
    );
    expect(args.find((a) => a.startsWith('--system-reserved='))).toMatch(/^--system-reserved=cpu=\d+m,memory=\d+(Ki)?$/);
  }, 60_000);

  it('the kubelet runs the pod: TASK_STARTING then TASK_RUNNING', async () => {
    const taskId = await x.launch('web');
    await x.until(taskId, 'TASK_RUNNING');
    expect(x.agent.states(taskId)).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
  }, 60_000);

  it('a crashed kubelet is restarted; its output is kept in the sandbox; pods keep running and new ones start', async () => {
    const before = x.agent.updates.length;
    writeFileSync(join(x.paths.rootDir, 'crash-once'), '');
    await waitFor(() => /kubelet start #2/.test(x.stdout()) && /fake kubelet: node .* ready[\s\S]*kubelet start #2[\s\S]*ready/.test(x.stdout()), {
      timeoutMs: 40_000,
      what: `the kubelet restarted and ready again; stdout: ${x.stdout().slice(-2000)}`,
    });
    expect(x.stderr()).toContain('fake kubelet: crash-once requested');
    expect(x.agent.updates.slice(before).map((u) => u.state)).toEqual([]); // nothing to report: the pod ran on
    const taskId = await x.launch('after-restart');
    await x.until(taskId, 'TASK_RUNNING');
  }, 90_000);

  it('SHUTDOWN drains the pods, then stops the kubelet with SIGTERM; the executor exits 0', async () => {
    x.agent.send({ type: 'SHUTDOWN' });
    const exit = await x.running;
    expect(exit.code).toBe(0);
    const tasks = [...new Set(x.agent.updates.map((u) => u.task_id.value))];
    for (const t of tasks) expect(x.agent.states(t).at(-1)).toBe('TASK_KILLED');
    expect(x.stdout()).toContain('fake kubelet: SIGTERM, stopping');
    const pods = await core().listNamespacedPod({ namespace: x.ns.name });
    expect(pods.items).toEqual([]);
  }, 60_000);
});

describe('kubelet executor, real kubelet mode: a kubelet that cannot be kept running', () => {
  const x = realExecutor('real-kubelet-dies');
  beforeAll(() => x.start({ KUBE_MESOS_KUBELET_MAX_RESTARTS: '2', KUBE_MESOS_KUBELET_RESTART_WINDOW: '2m' }));
  afterAll(() => x.stop());

  it('every task of the executor goes TASK_FAILED with a clear message, and the executor exits non-zero', async () => {
    const taskId = await x.launch('doomed');
    await x.until(taskId, 'TASK_RUNNING', 40_000);
    writeFileSync(join(x.paths.rootDir, 'crash-always'), '');
    const exit = await x.running;
    expect(exit.code).toBe(1);
    expect(exit.reason).toMatch(new RegExp(`^the kubelet of node ${x.nodeName} could not be kept running: it stopped 3 times within 2m \\(last: exit code 3; stderr: fake kubelet: crash-always requested\\)$`));
    expect(x.agent.states(taskId)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    const failed = x.agent.updates.find((u) => u.task_id.value === taskId && u.state === 'TASK_FAILED')!;
    expect(failed).toMatchObject({ reason: 'REASON_EXECUTOR_TERMINATED', message: exit.reason, source: 'SOURCE_EXECUTOR' });
    expect((x.stdout().match(/kubelet start #/g) ?? []).length).toBe(3);
  }, 90_000);
});
