// End to end, side by side, in one run on one real etcd + kube-apiserver 1.20: the ceiling (a round-robin binder),
// kube-scheduler 1.20 on N Nodes, and kube-mesos (emulator with N agents, in-process hollow kubelets, the scheduler
// service). Each contender runs in its own process(es) and namespace, with the same client QPS/burst; the bench creates
// the pods with bounded concurrency and watches them bound. Prints one JSON line.
// Two modes, each contender started afresh for each: **backlog** (the headline) — the contender is paused (SIGSTOP; for
// kube-mesos the scheduler process, the emulator is the cluster and keeps running) while all pods are created, then
// resumed: pods/s from the last pod created to the last pod bound is its drain rate, and for the limit binder the rate the
// API server accepts bindings. **stream** — pods are created while the contender runs; the figure is bounded by the creator.
// **paced** (opt-in: BENCH_E2E_MODES=paced) — pods created at a steady rate (BENCH_E2E_PACED_RATES, default 50,100,200 pods/s,
// for BENCH_E2E_PACED_SECONDS, default 30) while the contender runs: p50/p90/p99/max create→bound and create→Running.
// `npm run bench -- e2e`; knobs (env): BENCH_E2E_AGENTS (1000), BENCH_E2E_PODS (5000), BENCH_E2E_QPS (5000),
// BENCH_E2E_BURST (5000), BENCH_E2E_INFLIGHT (50), BENCH_E2E_CREATE_CONCURRENCY (50), BENCH_E2E_CONTENDERS
// (limit,limit-kubelet,kube-scheduler,kube-mesos,kube-mesos-cold), BENCH_E2E_MODES (backlog; backlog,stream for both), BENCH_E2E_ROUNDS (1; best round reported), BENCH_E2E_TIMEOUT_S (240), BENCH_E2E_PROFILE_DIR (CPU-profile the kube-mesos
// scheduler and emulator processes there), BENCH_E2E_ALLOCATION_INTERVAL_MS (1000), BENCH_E2E_KEEP_LOGS (1: keep the work dir),
// BENCH_E2E_TIMELINE (1: bound count every second), BENCH_E2E_APISERVER_PPROF (a directory: the API server's Go CPU profile of
// each run's first BENCH_E2E_APISERVER_PPROF_S seconds (10) after the pods are created / the scheduler resumed, read with `go tool pprof -top`); diagnostics that change kube-mesos (named in the output):
// BENCH_E2E_KM_SET (config overrides, `placement.maxBatch=5000`), BENCH_E2E_KM_EAGER (1: a cycle every cycleInterval), BENCH_E2E_KM_NODE_FLAGS (Node flags for kube-mesos' two processes; default the image's NODE_OPTIONS, '' for none), BENCH_E2E_NODE_LEASES (1: the Nodes of the contenders other than kube-mesos renew Leases every 10 s, as kubelets do).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeChild, type Child } from './lib/child.js';
import { shippedNodeFlags } from './lib/shipped-node-flags.js';
import { apiserverCpuProfile } from './lib/apiserver-pprof.js';
import { startBenchControlPlane, type BenchControlPlane } from './lib/controlplane.js';
import { startKubeScheduler } from './lib/kube-scheduler.js';
import { BindWatch, apiRequestCounts, freshLeases, benchPod, boundedAll, createNamespace, createPod, createReadyNode, deleteAllPods, deleteKubeletNodes, loadKubeConfig, nodeZones, requestDelta, unthrottled } from './lib/kube.js';
import { procUsage, usageSince, type ProcUsage } from './lib/proc.js';
import { latenciesSince, latencyFigures, p99Ratio, paceFigures, pacedSchedule, summarizeRun, type LatencyFigures, type PaceFigures, type RunFigures } from './lib/figures.js';
import { createPaced, type PacedCreation } from './lib/pace.js';
import type { KubeHttp } from '../src/kube/http.js';

const env = process.env;
const num = (k: string, d: number) => (env[k] ? Number(env[k]) : d);
const O = {
  agents: num('BENCH_E2E_AGENTS', 1000),
  pods: num('BENCH_E2E_PODS', 5000),
  zones: ['a', 'b', 'c'],
  qps: num('BENCH_E2E_QPS', 5000),
  burst: num('BENCH_E2E_BURST', 5000),
  inflight: num('BENCH_E2E_INFLIGHT', 50),
  createConcurrency: num('BENCH_E2E_CREATE_CONCURRENCY', 50),
  timeoutS: num('BENCH_E2E_TIMEOUT_S', 240),
  rounds: num('BENCH_E2E_ROUNDS', 1),
  allocationIntervalMs: num('BENCH_E2E_ALLOCATION_INTERVAL_MS', 1000),
  contenders: (env.BENCH_E2E_CONTENDERS ?? 'limit,limit-kubelet,kube-scheduler,kube-mesos,kube-mesos-cold').split(',').filter(Boolean),
  // The default run measures the backlog (the issue's figure) to stay within `npm run bench`'s 15 minutes.
  modes: (env.BENCH_E2E_MODES ?? 'backlog').split(',').filter(Boolean) as Mode[],
  // Paced mode (opt-in; ~1 min per contender and rate): pods/s and seconds of steady creation.
  pacedRates: (env.BENCH_E2E_PACED_RATES ?? '50,100,200').split(',').filter(Boolean).map(Number),
  pacedSeconds: num('BENCH_E2E_PACED_SECONDS', 30),
  profileDir: env.BENCH_E2E_PROFILE_DIR,
  apiserverPprofDir: env.BENCH_E2E_APISERVER_PPROF,
  apiserverPprofSeconds: Number(env.BENCH_E2E_APISERVER_PPROF_S ?? 10),
  // Diagnostics, off by default: kube-mesos config overrides (`placement.maxBatch=5000,…`) and eager cycles.
  kubeMesosSet: (env.BENCH_E2E_KM_SET ?? '').split(',').filter(Boolean).map((kv) => kv.split('=', 2) as [string, string]),
  kubeMesosEager: env.BENCH_E2E_KM_EAGER === '1',
  // Opt-in, like for like: the bench's Nodes renew Leases every 10 s as kubelets do (bench/lib/lease-standin.ts).
  nodeLeases: env.BENCH_E2E_NODE_LEASES === '1',
  // What the image runs with (the Dockerfile's NODE_OPTIONS) unless set; empty = Node's defaults.
  kubeMesosNodeFlags: env.BENCH_E2E_KM_NODE_FLAGS !== undefined ? env.BENCH_E2E_KM_NODE_FLAGS.split(' ').filter(Boolean) : shippedNodeFlags(),
  cacheDir: env.KUBE_MESOS_CACHE_DIR ?? join(homedir(), '.cache', 'kube-mesos'),
  // Same capacity on both sides: 8 cpus, 16 GiB per agent / Node.
  cpu: '8',
  memory: '16Gi',
  agentResources: 'cpus:8;mem:16384;disk:100000;ports:[31000-32000]',
  podCpu: '100m',
  podMemory: '64Mi',
};

type Mode = 'backlog' | 'stream' | 'paced';

const progress = (s: string) => process.stderr.write(`[e2e ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

interface Contender {
  name: string;
  schedulerName: string;
  /**
   * Who writes a pod's Running status (paced mode): its own kubelets (kube-mesos' hollow kubelets, limit-kubelet's status
   * patch), the bench's kubelet stand-in (kube-scheduler's Nodes have no kubelet), or nobody (the limit: a binder only).
   */
  running: 'own' | 'standin' | 'none';
  /** Processes started; `measured` is the scheduler whose CPU/RSS count. */
  start(): Promise<{ measured: Child; others: Child[] }>;
}

/** Why the limit has no create→Running figure. */
const LIMIT_NOT_RUNNING = 'the limit only binds: limit-kubelet is the same binder plus the status write a kubelet makes';

async function main(): Promise<void> {
  const t0 = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'kube-mesos-bench-e2e-'));
  progress(`work dir ${work}; starting etcd + kube-apiserver (no controller-manager)`);
  const cp = await startBenchControlPlane({ cacheDir: O.cacheDir, profiling: O.apiserverPprofDir !== undefined });
  const kc = loadKubeConfig(cp.kubeconfigPath);
  const api = unthrottled(kc, Math.max(O.createConcurrency, 50));
  const results: Partial<Record<Mode, Record<string, RunFigures>>> = {};
  const paced: Record<string, Record<string, PacedRun>> = {};
  try {
    const nodeNames = Array.from({ length: O.agents }, (_, i) => `node-${i}`);
    if (O.contenders.some((c) => c.startsWith('limit') || c === 'kube-scheduler')) {
      progress(`creating ${O.agents} Ready Nodes in zones ${O.zones.join(',')}`);
      await boundedAll(O.agents, 50, (i) => createReadyNode(api, { name: nodeNames[i], zone: O.zones[i % O.zones.length], cpu: O.cpu, memory: O.memory, pods: 110 }));
    }
    const limitBinder = (name: string, statusWrites: boolean): Contender => ({
      name,
      schedulerName: `bench-${name}`,
      running: statusWrites ? 'own' : 'none',
      async start() {
        const c = startNodeChild('limit-binder.ts', { kubeconfig: cp.kubeconfigPath, schedulerName: `bench-${name}`, nodes: nodeNames, qps: O.qps, burst: O.burst, inflight: O.inflight, statusWrites }, join(work, `${name}.log`));
        await c.message((m) => m.ready === true, 60_000);
        return { measured: c, others: [] };
      },
    });
    const kubeMesos = (name: string, warmPerZone: number): Contender => ({
      name,
      schedulerName: 'kube-mesos',
      running: 'own',
      async start() {
        const prof = (proc: string) => (O.profileDir ? { profileFile: join(O.profileDir, `${name}-${proc}.cpuprofile`) } : {});
        const emu = startNodeChild(
          'kube-mesos-emulator.ts',
          { kubeconfig: cp.kubeconfigPath, agents: O.agents, zones: O.zones, agentResources: O.agentResources, allocationIntervalMs: O.allocationIntervalMs, schedulerName: 'kube-mesos', qps: O.qps, burst: O.burst, inflight: O.inflight, ...prof('emulator') },
          join(work, `${name}-emulator.log`),
          ['--enable-source-maps', ...O.kubeMesosNodeFlags],
        );
        const { url } = await emu.message<{ url: string }>((m) => m.ready === true, 120_000);
        const startedAt = Date.now();
        const set: [string, string][] = warmPerZone > 0 ? [['pool.minPerZone', String(warmPerZone)], ...O.kubeMesosSet] : O.kubeMesosSet;
        const sched = startNodeChild(
          'kube-mesos-scheduler.ts',
          { kubeconfig: cp.kubeconfigPath, mesosUrl: url, agents: O.agents, qps: O.qps, burst: O.burst, set, eagerCycles: O.kubeMesosEager, ...prof('scheduler') },
          join(work, `${name}-scheduler.log`),
          ['--enable-source-maps', ...O.kubeMesosNodeFlags],
        );
        await sched.message((m) => m.ready === true, 120_000);
        if (warmPerZone > 0) {
          // Warm means every agent's kubelet has registered its Node and Lease.
          const want = Math.min(O.agents, warmPerZone * O.zones.length);
          const deadline = Date.now() + 180_000;
          let have = 0;
          while ((have = await freshLeases(api, startedAt)) < want) {
            if (Date.now() > deadline) throw new Error(`${name}: only ${have} of ${want} warm kubelets registered`);
            await new Promise((r) => setTimeout(r, 500));
          }
          progress(`${name}: ${have} warm kubelets registered in ${Math.round((Date.now() - startedAt) / 1000)} s`);
        }
        return { measured: sched, others: [emu] };
      },
    });
    const contenders: Record<string, Contender> = {
      limit: limitBinder('limit', false),
      // The same binder, and each bound pod also gets a kubelet's status patch to Running: the ceiling for pods a kubelet
      // then starts (kube-mesos' hollow kubelets write that patch; kube-scheduler's Nodes have no kubelet).
      'limit-kubelet': limitBinder('limit-kubelet', true),
      'kube-scheduler': {
        name: 'kube-scheduler',
        schedulerName: 'default-scheduler',
        running: 'standin',
        async start() {
          const c = await startKubeScheduler({ cacheDir: O.cacheDir, kubeconfig: cp.kubeconfigPath, workDir: work, qps: O.qps, burst: O.burst });
          return { measured: c, others: [] };
        },
      },
      // kube-mesos with a warm pool (`pool.minPerZone` = agents per zone): a kubelet on every agent before the pods come,
      // as kube-scheduler and the limit get N Ready Nodes beforehand. The headline contender.
      'kube-mesos': kubeMesos('kube-mesos', Math.ceil(O.agents / O.zones.length)),
      // kube-mesos from a cold pool (the default config): kubelets start on agents as pods need them, inside the run.
      'kube-mesos-cold': kubeMesos('kube-mesos-cold', 0),
    };
    /** The contender, with a helper process for the bench's Nodes started after it (its CPU in `others`). */
    const withNodeChild = (c: Contender, file: string, suffix: string, readyMs: number): Contender => ({
      ...c,
      async start() {
        const started = await c.start();
        const child = startNodeChild(file, { kubeconfig: cp.kubeconfigPath, nodes: nodeNames, qps: O.qps, burst: O.burst, inflight: O.inflight }, join(work, `${c.name}-${suffix}.log`));
        await child.message((m) => m.ready === true, readyMs);
        return { measured: started.measured, others: [...started.others, child] };
      },
    });
    if (O.nodeLeases) {
      // Like for like: the bench's Nodes renew their Leases as kubelets would (kube-mesos' hollow kubelets renew theirs).
      for (const [name, c] of Object.entries(contenders)) if (c.schedulerName !== 'kube-mesos') contenders[name] = withNodeChild(c, 'lease-standin.ts', 'leases', 120_000);
    }
    for (const name of O.contenders) if (!contenders[name]) throw new Error(`unknown contender ${name} (expected ${Object.keys(contenders).join(', ')})`);
    for (const mode of O.modes) if (mode !== 'backlog' && mode !== 'stream' && mode !== 'paced') throw new Error(`unknown mode ${String(mode)} (expected backlog, stream, paced)`);
    if (O.modes.includes('paced')) for (const r of O.pacedRates) if (!(r > 0)) throw new Error(`BENCH_E2E_PACED_RATES: ${String(r)} is not a rate > 0`);
    const standin = (c: Contender): Contender => withNodeChild(c, 'kubelet-standin.ts', 'standin', 60_000);
    // Every round runs each contender once per mode, the order reversed every other round; a contender's figures are from
    // its best round (overall pods/s): the load other work puts on this shared machine only ever slows a run down.
    for (const mode of O.modes) {
      if (mode === 'paced') {
        for (const rate of O.pacedRates) {
          const byName: Record<string, PacedRun> = {};
          for (let round = 0; round < O.rounds; round++) {
            const order = round % 2 === 0 ? O.contenders : [...O.contenders].reverse();
            for (const name of order) {
              const c = contenders[name].running === 'standin' ? standin(contenders[name]) : contenders[name];
              const r = await runPaced(c, api, cp, rate, round);
              // Best round: the lowest p99 create→bound (load from others only ever slows a run down).
              const prev = byName[name];
              byName[name] = !prev || (r.create_to_bound_ms?.p99 ?? Infinity) < (prev.create_to_bound_ms?.p99 ?? Infinity) ? r : prev;
            }
          }
          paced[String(rate)] = byName;
        }
        continue;
      }
      const rounds: Record<string, RunFigures[]> = {};
      for (let round = 0; round < O.rounds; round++) {
        const order = round % 2 === 0 ? O.contenders : [...O.contenders].reverse();
        for (const name of order) (rounds[name] ??= []).push(await runContender(contenders[name], api, cp, mode, round));
      }
      const byName: Record<string, RunFigures> = {};
      for (const [name, runs] of Object.entries(rounds)) {
        const best = runs.reduce((a, b) => ((b.overall_pods_per_s ?? 0) > (a.overall_pods_per_s ?? 0) ? b : a));
        byName[name] = runs.length > 1 ? { ...best, rounds: runs.map((r) => ({ pods_per_s: r.pods_per_s, overall_pods_per_s: r.overall_pods_per_s, load_avg: r.load_avg })) } : best;
      }
      results[mode] = byName;
    }
  } finally {
    await cp.stop().catch((err: unknown) => progress(`stopping the control plane: ${String(err)}`));
    api.close();
    if (env.BENCH_E2E_KEEP_LOGS !== '1') await rm(work, { recursive: true, force: true });
    else progress(`logs kept in ${work}`);
  }
  const ratio = (a?: number | null, b?: number | null) => (a && b ? Math.round((a / b) * 100) / 100 : null);
  const perMode = (r: Record<string, RunFigures>) => {
    const km = r['kube-mesos'];
    return {
      ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace('-', '_'), v])),
      ratios: {
        kube_mesos_vs_limit: ratio(km?.pods_per_s, r.limit?.pods_per_s),
        kube_mesos_vs_kube_scheduler: ratio(km?.pods_per_s, r['kube-scheduler']?.pods_per_s),
        overall_kube_mesos_vs_limit: ratio(km?.overall_pods_per_s, r.limit?.overall_pods_per_s),
        overall_kube_mesos_vs_kube_scheduler: ratio(km?.overall_pods_per_s, r['kube-scheduler']?.overall_pods_per_s),
        kube_mesos_vs_limit_kubelet: ratio(km?.pods_per_s, r['limit-kubelet']?.pods_per_s),
        cold_kube_mesos_vs_limit: ratio(r['kube-mesos-cold']?.pods_per_s, r.limit?.pods_per_s),
        cold_kube_mesos_vs_kube_scheduler: ratio(r['kube-mesos-cold']?.pods_per_s, r['kube-scheduler']?.pods_per_s),
      },
    };
  };
  const line = {
    bench: 'e2e',
    agents: O.agents,
    pods: O.pods,
    zones: O.zones.length,
    workload: `${O.podCpu} cpu / ${O.podMemory} per pod, topologySpreadConstraint zone maxSkew 1 DoNotSchedule`,
    limits: {
      client_qps: O.qps,
      client_burst: O.burst,
      binds_in_flight: O.inflight,
      create_concurrency: O.createConcurrency,
      control_plane: 'etcd + kube-apiserver 1.20, no kube-controller-manager (Nodes stay Ready untainted); one apiserver for all, pods deleted between contenders',
      kube_scheduler: 'v1.20.2, KubeSchedulerConfiguration v1beta1 default profile, clientConnection qps/burst as above',
      kube_mesos: `emulator ${O.agents} agents (${O.agentResources}), allocation interval ${O.allocationIntervalMs} ms, in-process hollow kubelets (executor bind transport qps/burst/in-flight as above); kube-mesos: warm pool (pool.minPerZone ${Math.ceil(O.agents / O.zones.length)}: a registered kubelet on every agent before the run), kube-mesos-cold: kubelets started as pods need them; scheduler ${O.kubeMesosSet.length ? `config overrides ${O.kubeMesosSet.map((kv) => kv.join('=')).join(',')}` : 'default config'}${O.kubeMesosEager ? ', DIAGNOSTIC eager cycles' : ''}${O.kubeMesosNodeFlags.length ? `, Node flags ${O.kubeMesosNodeFlags.join(' ')}` : ''}; CPU/RSS = scheduler process only`,
      modes: 'backlog: contender paused (SIGSTOP) while the pods are created, then resumed; stream: pods created while it runs; paced: pods created at a steady rate while it runs',
      ...(O.modes.includes('paced')
        ? {
            paced: `${O.pacedRates.join(', ')} pods/s for ${O.pacedSeconds} s each; Running = first watch event with status.phase Running, written by kube-mesos' hollow kubelets, limit-kubelet's own status patch, for kube-scheduler by the bench's kubelet stand-in (the same patch, on pods bound to the bench's Nodes: bench/lib/kubelet-standin.ts, its CPU in other_cpu_s); the limit: none (${LIMIT_NOT_RUNNING})`,
          }
        : {}),
    },
    ...Object.fromEntries(Object.entries(results).map(([mode, r]) => [mode, perMode(r)])),
    ...(Object.keys(paced).length ? { paced: Object.fromEntries(Object.entries(paced).map(([rate, r]) => [rate, pacedRatios(r)])) } : {}),
    elapsed_s: Math.round((performance.now() - t0) / 1000),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** With BENCH_E2E_APISERVER_PPROF: the API server's CPU profile of the next seconds, kept as `<dir>/<label>-apiserver.pprof`. */
function apiserverPprof(cp: BenchControlPlane, label: string): Promise<void> {
  if (!O.apiserverPprofDir) return Promise.resolve();
  return apiserverCpuProfile(cp.kubeconfigPath, O.apiserverPprofSeconds, join(O.apiserverPprofDir, `${label}-apiserver.pprof`)).then(
    (file) => {
      progress(`API server CPU profile: ${file}`);
    },
    (err: unknown) => {
      progress(`API server CPU profile failed: ${String(err)}`);
    },
  );
}

async function runContender(c: Contender, api: KubeHttp, cp: BenchControlPlane, mode: Mode, round: number): Promise<RunFigures> {
  const ns = `bench-${mode}-${c.name}${round ? `-${round}` : ''}`;
  await createNamespace(api, ns);
  const watch = new BindWatch(api, ns);
  await watch.start();
  progress(`${c.name} (${mode}): starting`);
  const { measured, others } = await c.start();
  // The scheduler first, so it does not see its master vanish.
  const all = [measured, ...others];
  try {
    // Ready means it schedules: one warm-up pod (not part of the spread group) must be bound first.
    await createPod(api, ns, benchPod('warmup', { schedulerName: c.schedulerName, app: 'warmup', cpu: O.podCpu, memory: O.podMemory, spread: false }));
    await withTimeout(watch.bound(1), 120_000, `${c.name}: warm-up pod not bound`);
    const before = new Map(all.map((p) => [p.pid, procUsage(p.pid)]));
    const load0 = loadAverage();
    const apiBefore = cp.apiserverPid ? procUsage(cp.apiserverPid) : undefined;
    const requestsBefore = await apiRequestCounts(api);
    if (mode === 'backlog') measured.pause();
    progress(`${c.name}: creating ${O.pods} pods, ${O.createConcurrency} at a time${mode === 'backlog' ? ' (scheduler paused)' : ''}`);
    const createdAt = new Map<string, number>();
    const tFirst = performance.now();
    const template = { schedulerName: c.schedulerName, app: c.name, cpu: O.podCpu, memory: O.podMemory, spread: true };
    await boundedAll(O.pods, O.createConcurrency, async (i) => {
      const name = `p-${i}`;
      createdAt.set(name, performance.now());
      await createPod(api, ns, benchPod(name, template));
    });
    const tLastCreated = performance.now();
    if (mode === 'backlog') measured.resume();
    const pprof = apiserverPprof(cp, `${c.name}-${mode}`);
    const boundAtCreationEnd = watch.boundAt.size - 1;
    progress(`${c.name}: created in ${Math.round(tLastCreated - tFirst)} ms, ${boundAtCreationEnd} bound so far; waiting for the rest`);
    const ticker = setInterval(() => progress(`${c.name}: ${watch.boundAt.size - 1} bound`), env.BENCH_E2E_TIMELINE === '1' ? 1000 : 10_000);
    const complete = await withTimeout(watch.bound(O.pods + 1), O.timeoutS * 1000, '').then(
      () => true,
      () => false,
    );
    clearInterval(ticker);
    const usage = (pid: number) => {
      const b = before.get(pid);
      const a = procUsage(pid);
      return b && a ? usageSince(b, a) : undefined;
    };
    const apiAfter = cp.apiserverPid ? procUsage(cp.apiserverPid) : undefined;
    const requests = requestDelta(requestsBefore, await apiRequestCounts(api));
    await pprof;
    const figures = summarizeRun({
      createdAt,
      boundAt: watch.boundAt,
      tFirst,
      tLastCreated,
      boundAtCreationEnd,
      complete,
      scheduler: usage(measured.pid),
      others: others.map((p) => usage(p.pid)).filter((u): u is ProcUsage => u !== undefined),
      apiserverCpuSeconds: apiBefore && apiAfter ? usageSince(apiBefore, apiAfter).cpuSeconds : undefined,
    });
    figures.nodeOf = Object.fromEntries(watch.nodeOf);
    // Now, while its Nodes exist (kube-mesos' are deleted below): pods per zone, as a check of the spread.
    Object.assign(figures, zoneFigures(figures, await nodeZones(api)));
    figures.load_avg = [load0, loadAverage()];
    figures.pods_per_scheduler_cpu_s = figures.scheduler_cpu_s ? Math.round(figures.bound / figures.scheduler_cpu_s) : null;
    figures.apiserver_requests = requests.total;
    figures.apiserver_requests_top = requests.top;
    figures.mode = mode;
    progress(`${c.name} (${mode}): ${JSON.stringify({ ...figures, nodeOf: undefined })}`);
    return figures;
  } finally {
    for (const p of all) await p.stop();
    await watch.stop();
    await deleteAllPods(api, ns).catch((err: unknown) => progress(`${c.name}: cleanup failed: ${String(err)}`));
    // kube-mesos' Nodes would otherwise stay Ready without a kubelet and add to kube-scheduler's candidates.
    if (c.schedulerName === 'kube-mesos') await deleteKubeletNodes(api).catch((err: unknown) => progress(`${c.name}: deleting its Nodes failed: ${String(err)}`));
  }
}

interface PacedRun {
  mode: 'paced';
  rate: number;
  pods: number;
  complete: boolean;
  bound: number;
  running: number | null;
  pace: PaceFigures;
  create_failures: number;
  create_to_bound_ms: LatencyFigures | null;
  create_to_running_ms: LatencyFigures | null;
  running_written_by: string | null;
  scheduler_cpu_s: number | null;
  other_cpu_s?: number;
  apiserver_cpu_s: number | null;
  apiserver_requests: number;
  apiserver_requests_top: Record<string, number>;
  load_avg: [number, number];
}

const RUNNING_WRITER: Record<Contender['running'], string | null> = { own: 'its kubelets', standin: 'the bench\'s kubelet stand-in', none: null };

/** Pods created at `rate` pods/s while the contender runs: create→bound and create→Running per pod. */
async function runPaced(c: Contender, api: KubeHttp, cp: BenchControlPlane, rate: number, round: number): Promise<PacedRun> {
  const ns = `bench-paced${rate}-${c.name}${round ? `-${round}` : ''}`;
  await createNamespace(api, ns);
  const watch = new BindWatch(api, ns);
  await watch.start();
  progress(`${c.name} (paced ${rate} pods/s): starting`);
  const { measured, others } = await c.start();
  const all = [measured, ...others];
  // Its own transport: the bench's watch and readings never delay a create.
  const creator = unthrottled(loadKubeConfig(cp.kubeconfigPath), O.createConcurrency);
  try {
    await createPod(api, ns, benchPod('warmup', { schedulerName: c.schedulerName, app: 'warmup', cpu: O.podCpu, memory: O.podMemory, spread: false }));
    await withTimeout(watch.bound(1), 120_000, `${c.name}: warm-up pod not bound`);
    if (c.running !== 'none') await withTimeout(watch.runningCount(1), 60_000, `${c.name}: warm-up pod bound but not Running after 60 s`);
    const before = new Map(all.map((p) => [p.pid, procUsage(p.pid)]));
    const load0 = loadAverage();
    const apiBefore = cp.apiserverPid ? procUsage(cp.apiserverPid) : undefined;
    const requestsBefore = await apiRequestCounts(api);
    const due = pacedSchedule(rate, O.pacedSeconds);
    progress(`${c.name}: creating ${due.length} pods at ${rate} pods/s`);
    const createdAt = new Map<string, number>();
    const template = { schedulerName: c.schedulerName, app: c.name, cpu: O.podCpu, memory: O.podMemory, spread: true };
    const ticker = setInterval(() => progress(`${c.name}: ${createdAt.size} created, ${watch.boundAt.size - 1} bound, ${Math.max(0, watch.runningAt.size - 1)} Running`), env.BENCH_E2E_TIMELINE === '1' ? 1000 : 10_000);
    let creation: PacedCreation;
    let complete: boolean;
    const pprof = apiserverPprof(cp, `${c.name}-paced${rate}`);
    try {
      creation = await createPaced(creator, ns, due, O.createConcurrency, (i) => ({ name: `p-${i}`, body: benchPod(`p-${i}`, template) }), (name, at) => createdAt.set(name, at));
      const pods = createdAt.size - creation.failures.length;
      const done = Promise.all([watch.bound(pods + 1), c.running === 'none' ? undefined : watch.runningCount(pods + 1)]);
      complete = await withTimeout(done, O.timeoutS * 1000, '').then(
        () => true,
        () => false,
      );
    } finally {
      clearInterval(ticker);
    }
    const usage = (pid: number) => {
      const b = before.get(pid);
      const a = procUsage(pid);
      return b && a ? usageSince(b, a) : undefined;
    };
    const apiAfter = cp.apiserverPid ? procUsage(cp.apiserverPid) : undefined;
    const requests = requestDelta(requestsBefore, await apiRequestCounts(api));
    await pprof;
    const otherUsage = others.map((p) => usage(p.pid)).filter((u): u is ProcUsage => u !== undefined);
    const r: PacedRun = {
      mode: 'paced',
      rate,
      pods: due.length,
      complete,
      bound: latenciesSince(createdAt, watch.boundAt).length,
      running: c.running === 'none' ? null : latenciesSince(createdAt, watch.runningAt).length,
      pace: paceFigures(rate, creation.startMs, due, creation.sentAt, creation.answeredAt),
      create_failures: creation.failures.length,
      create_to_bound_ms: latencyFigures(latenciesSince(createdAt, watch.boundAt)),
      create_to_running_ms: c.running === 'none' ? null : latencyFigures(latenciesSince(createdAt, watch.runningAt)),
      running_written_by: RUNNING_WRITER[c.running],
      scheduler_cpu_s: usage(measured.pid)?.cpuSeconds ?? null,
      ...(otherUsage.length ? { other_cpu_s: Math.round(otherUsage.reduce((s, u) => s + u.cpuSeconds, 0) * 10) / 10 } : {}),
      apiserver_cpu_s: apiBefore && apiAfter ? usageSince(apiBefore, apiAfter).cpuSeconds : null,
      apiserver_requests: requests.total,
      apiserver_requests_top: requests.top,
      load_avg: [load0, loadAverage()],
    };
    if (creation.failures.length) progress(`${c.name}: ${creation.failures.length} creates failed, first: ${creation.failures[0]}`);
    progress(`${c.name} (paced ${rate} pods/s): ${JSON.stringify(r)}`);
    return r;
  } finally {
    creator.close();
    for (const p of all) await p.stop();
    await watch.stop();
    await deleteAllPods(api, ns).catch((err: unknown) => progress(`${c.name}: cleanup failed: ${String(err)}`));
    if (c.schedulerName === 'kube-mesos') await deleteKubeletNodes(api).catch((err: unknown) => progress(`${c.name}: deleting its Nodes failed: ${String(err)}`));
  }
}

/** One rate's runs with the issue's ratio: kube-mesos' p99 create→bound (and →Running) over limit-kubelet's. */
function pacedRatios(r: Record<string, PacedRun>) {
  const km = r['kube-mesos'];
  const lk = r['limit-kubelet'];
  return {
    ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace('-', '_'), v])),
    ratios: {
      p99_bound_kube_mesos_vs_limit_kubelet: p99Ratio(km?.create_to_bound_ms, lk?.create_to_bound_ms),
      p99_running_kube_mesos_vs_limit_kubelet: p99Ratio(km?.create_to_running_ms, lk?.create_to_running_ms),
      p99_bound_kube_mesos_vs_kube_scheduler: p99Ratio(km?.create_to_bound_ms, r['kube-scheduler']?.create_to_bound_ms),
      p99_running_kube_mesos_vs_kube_scheduler: p99Ratio(km?.create_to_running_ms, r['kube-scheduler']?.create_to_running_ms),
      p99_bound_cold_kube_mesos_vs_limit_kubelet: p99Ratio(r['kube-mesos-cold']?.create_to_bound_ms, lk?.create_to_bound_ms),
    },
  };
}

/** Pods per zone of the bench's pods, and the skew (max − min), as a check that every contender honoured the spread. */
function zoneFigures(r: RunFigures, zones: Map<string, string>): Partial<RunFigures> {
  const perZone: Record<string, number> = {};
  for (const [pod, node] of Object.entries(r.nodeOf ?? {})) {
    if (pod === 'warmup') continue;
    const z = zones.get(node) ?? '?';
    perZone[z] = (perZone[z] ?? 0) + 1;
  }
  const counts = Object.values(perZone);
  // A pod on a Node whose zone is not known makes the skew unknown, not 0.
  const known = counts.length > 0 && perZone['?'] === undefined;
  return { pods_per_zone: perZone, zone_skew: known ? Math.max(...counts) - Math.min(...counts) : null, nodeOf: undefined };
}

/** The 1-minute load average: how much other work shared the 2 cores during a run. */
function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(what || `timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}


main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`e2e bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.stdout.write(`${JSON.stringify({ bench: 'e2e', error: err instanceof Error ? err.message : String(err) })}\n`);
    process.exit(1);
  },
);
