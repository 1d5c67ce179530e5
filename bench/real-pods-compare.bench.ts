// What running on Mesos costs a user per pod (issue 18), on real kubelets: one sandbox (control plane, emulated Mesos,
// real kubelets on containerd under kube-mesos executors, the scheduler with its default configuration) and
// kube-scheduler 1.20 beside it. The same pod (a busybox that prints its start time first) goes (a) through kube-mesos
// and (b) through kube-scheduler onto the same warm kubelets' Nodes (required node affinity to them), alternating:
// sequential pods (both pods of a round on the same Node), then batches (either Node). Each pod's create → bound →
// container started → Running in the API → first log line; kube-mesos' way step by step from the scheduler's side of
// the Mesos protocol. Prints one JSON line.
// `npm run bench -- real-pods-compare`. Knobs: BENCH_REALCOST_SEQ (4 pods per contender), BENCH_REALCOST_BATCH (10),
// BENCH_REALCOST_BATCH_ROUNDS (2 per contender: a then b, b then a), BENCH_REALCOST_AGENTS (2), BENCH_REALCOST_SET
// (kube-mesos settings, `path=value,...`, e.g. `placement.cycleInterval=10ms`; default: none). Needs root and the node
// install.
//
// kube-scheduler's pods are not Mesos tasks when they start: the executor follows only its tasks' pods and leaves
// others to the kubelet, which runs whatever is bound to its Node; kube-mesos then gives each such pod a Mesos task
// on that agent so Mesos accounts for it (src/scheduler/bound-pods.ts). The bench waits for that task (and for every
// kube-mesos pod's TASK_RUNNING) before the next pod, so each pod starts from a quiet cluster.
import { mkdtempSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { imageRef } from '../src/controlplane/node-artifacts.js';
import { startSandbox, type Sandbox } from '../src/sandbox/sandbox.js';
import { startKubeScheduler } from './lib/kube-scheduler.js';
import { loadKubeConfig, unthrottled } from './lib/kube.js';
import { MesosTrace } from './lib/mesos-trace.js';
import { PodTimelines } from './lib/pod-timeline.js';
import { bootEpochMs, contenderFigures, isComplete, mesosCost, type Contender, type PodTimeline } from './lib/real-cost.js';

const env = process.env;
const O = {
  seq: Number(env.BENCH_REALCOST_SEQ ?? 4),
  batch: Number(env.BENCH_REALCOST_BATCH ?? 10),
  batchRounds: Number(env.BENCH_REALCOST_BATCH_ROUNDS ?? 2),
  agents: Number(env.BENCH_REALCOST_AGENTS ?? 2),
  set: (env.BENCH_REALCOST_SET ?? '')
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()] as [string, string]),
  cacheDir: env.KUBE_MESOS_CACHE ?? join(homedir(), '.cache', 'kube-mesos'),
};
const root = resolve(import.meta.dirname, '..');
const NS = 'default';
const APP = 'kube-mesos.io/bench';
const SCHEDULERS: Record<Contender, string> = { 'kube-mesos': 'kube-mesos', 'kube-scheduler': 'default-scheduler' };
const POD_TIMEOUT_MS = 120_000;
const SETTLE_TIMEOUT_MS = 60_000;

const loadAvg = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const progress = (line: string) => process.stderr.write(`[real-pods-compare] ${line}\n`);

/** The measured pod: its first instruction prints the host's uptime (a shell builtin read, no fork). */
function pod(name: string, contender: Contender, where: { nodes: string[] } | { agent: string }, group: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { [APP]: 'realcost', 'kube-mesos.io/bench-group': group },
      // Before its kubelet exists an agent has no Node to select: a Mesos constraint pins the pod to it.
      ...('agent' in where ? { annotations: { 'kube-mesos.io/constraints': JSON.stringify([['@hostname', 'IS', where.agent]]) } } : {}),
    },
    spec: {
      schedulerName: SCHEDULERS[contender],
      terminationGracePeriodSeconds: 1,
      ...('nodes' in where
        ? { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: where.nodes }] }] } } } }
        : {}),
      containers: [
        {
          name: 'c',
          image: imageRef('busybox'),
          command: ['sh', '-c', 'read up _ < /proc/uptime; echo "first-line $up"; exec sleep 3600'],
          // Small enough that every pod of a long run fits the two 2-cpu agents (with the executors' 0.5 cpu each).
          resources: { requests: { cpu: '10m', memory: '32Mi' } },
        },
      ],
    },
  };
}

async function waitServiceAccount(sb: Sandbox): Promise<void> {
  const http = unthrottled(loadKubeConfig(sb.kubeconfigPath), 4);
  for (const t0 = Date.now(); ; ) {
    if ((await http.request('GET', `/api/v1/namespaces/${NS}/serviceaccounts/default`)).status === 200) return;
    if (Date.now() - t0 > 60_000) throw new Error('no default ServiceAccount after 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const load0 = loadAvg();
  const dir = mkdtempSync(join(tmpdir(), 'kube-mesos-bench-realcost-'));
  progress(`sandbox in ${dir}: ${O.agents} agents, real kubelets`);
  const sb = await startSandbox({
    dir,
    cacheDir: O.cacheDir,
    kubelets: 'real',
    agents: O.agents,
    hostnamePrefix: 'realcost-',
    zones: ['a'],
    region: 'r1',
    agentResources: 'cpus:2;mem:4096;disk:20000;ports:[31000-31100]',
    executorCommand: `'${process.execPath}' '${join(root, 'dist/cli/main.js')}' executor`,
    baseEnv: { PATH: env.PATH ?? '/usr/bin:/bin', HOME: env.HOME ?? '/tmp' },
    listen: '127.0.0.1:0',
    set: O.set,
    progress,
  });
  const stops: (() => Promise<void>)[] = [() => sb.stop()];
  try {
    const http = unthrottled(loadKubeConfig(sb.kubeconfigPath), 64);
    const uptimeSample = () => ({ nowMs: Date.now(), uptimeText: readFileSync('/proc/uptime', 'utf8') });
    const bootSamples = [];
    for (let i = 0; i < 50; i++) {
      bootSamples.push(uptimeSample());
      await new Promise((r) => setTimeout(r, 3));
    }
    const bootMs = bootEpochMs(bootSamples);
    let logIntervalMs = 100;
    const timelines = new PodTimelines(http, NS, `${APP}=realcost`, bootMs, () => logIntervalMs);
    await timelines.start();
    stops.unshift(() => timelines.stop());
    const trace = new MesosTrace(sb.scheduler, NS);
    trace.install();
    stops.unshift(async () => trace.stop());
    const ks = await startKubeScheduler({ cacheDir: O.cacheDir, kubeconfig: sb.kubeconfigPath, workDir: dir, qps: 50, burst: 100 });
    stops.unshift(() => ks.stop());
    await waitServiceAccount(sb);

    const create = async (name: string, contender: Contender, where: { nodes: string[] } | { agent: string }, group: string): Promise<PodTimeline> => {
      const t = timelines.track({ name, contender });
      const res = await http.request('POST', `/api/v1/namespaces/${NS}/pods`, { body: pod(name, contender, where, group) });
      if (res.status !== 201) throw new Error(`creating ${name}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      return t;
    };
    /** Phase and conditions as the API shows them: why a pod did not get further. */
    const podSummary = async (name: string): Promise<string> => {
      const res = await http.request('GET', `/api/v1/namespaces/${NS}/pods/${name}`);
      const p = res.body as { status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] } };
      return res.status === 200 ? `phase ${p.status?.phase}, conditions ${JSON.stringify(p.status?.conditions ?? [])}` : `HTTP ${res.status}`;
    };
    /** Every pod complete, then every pod (kube-scheduler's too) a RUNNING Mesos task: the cluster is quiet again. */
    const finish = async (pods: PodTimeline[], what: string): Promise<void> => {
      if (!(await timelines.until(() => pods.every(isComplete), POD_TIMEOUT_MS))) {
        const missing = await Promise.all(pods.filter((p) => !isComplete(p)).map(async (p) => `${p.name} ${JSON.stringify(p)} ${await podSummary(p.name)}`));
        throw new Error(`${what}: not every pod reached its first log line within ${POD_TIMEOUT_MS / 1000} s: ${missing.join('; ')}`);
      }
      const settled = () => pods.every((p) => trace.pods.get(p.name)?.taskRunning !== undefined);
      if (!(await trace.until(settled, SETTLE_TIMEOUT_MS))) {
        const without = pods.filter((p) => trace.pods.get(p.name)?.taskRunning === undefined).map((p) => `${p.name} (${p.contender}, task ${trace.taskOf.get(p.name) ?? 'none'})`);
        throw new Error(`${what}: no TASK_RUNNING after ${SETTLE_TIMEOUT_MS / 1000} s for ${without.join(', ')}`);
      }
    };

    // Warm kubelets: one kube-mesos pod pinned to each agent starts its executor, containerd and kubelet and pulls the
    // image; then one unmeasured pod per contender (kube-scheduler's informers, the log path).
    const hostnames = Array.from({ length: O.agents }, (_, i) => `realcost-${i}`);
    progress(`warming ${O.agents} kubelets`);
    const warm: PodTimeline[] = [];
    for (const [i, h] of hostnames.entries()) warm.push(await create(`warm-kubelet-${i}`, 'kube-mesos', { agent: h }, 'warmup'));
    await finish(warm, 'warm-up');
    const nodes = [...new Set(warm.map((p) => p.node!))];
    if (nodes.length !== O.agents) throw new Error(`warm-up pods landed on ${nodes.length} Nodes (${nodes.join(', ')}), expected ${O.agents}`);
    await finish([await create('warm-a', 'kube-mesos', { nodes }, 'warmup'), await create('warm-b', 'kube-scheduler', { nodes }, 'warmup')], 'warm-up');

    const measured: PodTimeline[] = [];
    const orderOf = (round: number): Contender[] => (round % 2 === 0 ? ['kube-mesos', 'kube-scheduler'] : ['kube-scheduler', 'kube-mesos']);
    const tag = (c: Contender) => (c === 'kube-mesos' ? 'a' : 'b');
    const loadSeq = loadAvg();
    progress(`sequential: ${O.seq} pods per contender, alternating (load ${loadSeq})`);
    for (let i = 0; i < O.seq; i++) {
      for (const c of orderOf(i)) {
        // Both pods of a round on the same Node (the next round on the next one): left to choose, kube-mesos and
        // kube-scheduler each kept to a different one of the two, and the comparison measured the kubelets.
        const p = await create(`seq-${tag(c)}-${i}`, c, { nodes: [nodes[i % nodes.length]] }, 'sequential');
        await finish([p], `sequential ${p.name}`);
        measured.push(p);
      }
    }
    const loadBatch = loadAvg();
    progress(`batches: ${O.batchRounds} × ${O.batch} pods per contender, alternating (load ${loadBatch})`);
    logIntervalMs = 200;
    for (let r = 0; r < O.batchRounds; r++) {
      for (const c of orderOf(r)) {
        const names = Array.from({ length: O.batch }, (_, j) => `batch-${tag(c)}-${r}-${j}`);
        const pods = await Promise.all(names.map((n) => create(n, c, { nodes }, 'batch')));
        await finish(pods, `batch ${tag(c)}-${r}`);
        measured.push(...pods);
      }
    }
    const loadEnd = loadAvg();
    for (const p of measured) if (p.contender === 'kube-mesos') p.mesos = trace.pods.get(p.name);

    const group = (prefix: string) => measured.filter((p) => p.name.startsWith(prefix));
    const figures = (pods: PodTimeline[]) => {
      const m = contenderFigures(pods, 'kube-mesos');
      const k = contenderFigures(pods, 'kube-scheduler');
      return { 'kube-mesos': m, 'kube-scheduler': k, mesos_cost_ms: mesosCost(m, k) };
    };
    // kube-scheduler's pods that kube-mesos accounted as Mesos tasks afterwards (all of them, or the bench would have stopped).
    const accounted = measured.filter((p) => p.contender === 'kube-scheduler' && trace.taskOf.has(p.name)).length;
    const line = {
      bench: 'real-pods-compare',
      agents: O.agents,
      settings: Object.fromEntries(O.set),
      nodes,
      pods: { sequential_per_contender: O.seq, batch_per_contender: O.batch, batch_rounds: O.batchRounds },
      load_avg: { start: load0, sequential: loadSeq, batch: loadBatch, end: loadEnd },
      sequential: figures(group('seq-')),
      batch: figures(group('batch-')),
      kube_scheduler_pods_accounted_as_mesos_tasks: `${accounted}/${measured.filter((p) => p.contender === 'kube-scheduler').length}`,
      mesos_calls: Object.fromEntries(trace.calls),
    };
    process.stdout.write(JSON.stringify(line) + '\n');
    if (env.BENCH_REALCOST_TIMELINES) process.stderr.write(JSON.stringify(measured) + '\n');
  } finally {
    for (const s of stops) await s().catch((err: unknown) => progress(`stopping: ${String(err)}`));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
