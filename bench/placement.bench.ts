// Benchmark 1 of issue 8: the placement engine alone (no I/O). Fixed seeds; one JSON line per configuration.
//   npm run bench -- placement                       (all configurations)
//   node --import tsx --expose-gc bench/placement.bench.ts --agents 5000 --pods 10000 --workload zone-spread
//   ... --percentage 1    (PlanConfig.percentageOfAgentsToScore; default kube-scheduler's adaptive share)
// A cycle is plan() over a batch of pods against the agents as the previous cycles left them.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import { AgentTable, agentLabels, feasibleToFind, plan } from '../src/placement/index.js';
import type { AgentView, PlacedPod, PlanConfig, PodSpecView } from '../src/placement/index.js';
import { seededRandom as mulberry32 } from '../src/time/backoff.js';

type Workload = 'plain' | 'zone-spread' | 'hostname-anti-affinity' | 'marathon-group-by';
const WORKLOADS: Workload[] = ['plain', 'zone-spread', 'hostname-anti-affinity', 'marathon-group-by'];
const ZONES = ['a', 'b', 'c'];
const CYCLE = 1000;
/** The warm-up's own cluster and cycles (see warmUp()). */
const WARM_AGENTS = Number(process.env.BENCH_PLACEMENT_WARM_AGENTS ?? 5000);
const WARM_CYCLES = Number(process.env.BENCH_PLACEMENT_WARM_CYCLES ?? 6);
/** Agents arriving per batch before the first cycle (see run()). */
const ARRIVAL = 1000;


function makeAgents(n: number, rnd: () => number): AgentView[] {
  const out: AgentView[] = [];
  for (let i = 0; i < n; i++) {
    const zone = ZONES[i % ZONES.length];
    const big = rnd() < 0.5;
    const id = `agent-${i}`;
    const hostname = `host-${i}.example`;
    const attributes = { rack: `r${i % 20}` };
    // Plain literals with every field present: V8 reads objects built with {...spread} several times slower.
    out.push({
      id,
      hostname,
      nodeName: undefined,
      zone,
      region: 'r1',
      attributes,
      labels: agentLabels({ id, hostname, zone, region: 'r1', attributes }),
      taints: [],
      unschedulable: false,
      offered: [{ role: '*', res: { cpus: big ? 64 : 32, mem: big ? 262144 : 131072, disk: 500000 }, ports: [[31000, 32000]] }],
      kubelet: undefined,
      pods: [],
    });
  }
  return out;
}

/** Pods in apps (one owner each) of `perApp` replicas. */
function makePods(count: number, w: Workload, rnd: () => number): PodSpecView[] {
  const perApp = w === 'plain' ? 1000 : w === 'zone-spread' ? 500 : w === 'hostname-anti-affinity' ? 50 : 300;
  const out: PodSpecView[] = [];
  for (let i = 0; i < count; i++) {
    const app = `app-${Math.floor(i / perApp)}`;
    const labels = { app };
    const pod: PodSpecView = {
      key: `bench/${app}-${i}`,
      uid: `uid-${i}`,
      namespace: 'bench',
      name: `${app}-${i}`,
      labels,
      annotations: {},
      ownerUid: `owner-${app}`,
      priority: 0,
      createdAtMs: i,
      requests: { cpus: [0.1, 0.25, 0.5][Math.floor(rnd() * 3)], mem: [128, 256, 512][Math.floor(rnd() * 3)], disk: 0 },
      limits: {},
      hostPorts: [],
      tolerations: [],
      topologySpreadConstraints: [],
      roles: ['*'],
      constraints: [],
    };
    if (w === 'zone-spread') {
      pod.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } }];
    } else if (w === 'hostname-anti-affinity') {
      pod.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: labels } }] } };
    } else if (w === 'marathon-group-by') {
      pod.constraints = [{ field: '@zone', operator: 'GROUP_BY', value: '3' }];
    }
    out.push(pod);
  }
  return out;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * The snapshot the scheduler would take next: offers reduced, pods (assumed) added, kubelets present. As a snapshot
 * builder should, it gives a changed agent a new AgentView object and keeps the others as they were.
 */
function apply(agents: AgentView[], index: Map<string, number>, pods: Map<string, PodSpecView>, result: ReturnType<typeof plan>, cfg: PlanConfig): void {
  const fresh = new Set<number>();
  for (const p of result.placements) {
    const i = index.get(p.agentId)!;
    let a = agents[i];
    if (!fresh.has(i)) {
      // a literal, not a spread: V8 reads spread-built objects slower (the scheduler builds literals too)
      const offered = a.offered.map((o) => ({ role: o.role, res: o.res, ports: o.ports }));
      a = { id: a.id, hostname: a.hostname, nodeName: a.nodeName, zone: a.zone, region: a.region, attributes: a.attributes, labels: a.labels, taints: a.taints, unschedulable: a.unschedulable, offered, kubelet: a.kubelet, pods: [...a.pods] };
      agents[i] = a;
      fresh.add(i);
    }
    const pod = pods.get(p.podKey)!;
    const o = a.offered.find((x) => x.role === p.role)!;
    const e = p.newKubelet ? cfg.executor : { cpus: 0, mem: 0, disk: 0 };
    o.res = { cpus: o.res.cpus - p.res.cpus - e.cpus, mem: o.res.mem - p.res.mem - e.mem, disk: o.res.disk - p.res.disk - e.disk };
    const placed: PlacedPod = { uid: pod.uid, namespace: pod.namespace, name: pod.name, labels: pod.labels, ownerUid: pod.ownerUid, hostPorts: [], affinity: pod.affinity };
    (a.pods as PlacedPod[]).push(placed); // the fresh copy made above
    a.kubelet = { podCount: (a.kubelet?.podCount ?? 0) + 1, maxPods: cfg.maxPodsPerKubelet };
  }
}

/** Worst per-app skew across zones (zone workloads) or most pods of one app on a host (anti-affinity). */
function check(agents: AgentView[], w: Workload): Record<string, number> {
  if (w === 'hostname-anti-affinity') {
    let worst = 0;
    for (const a of agents) {
      const c = new Map<string, number>();
      for (const p of a.pods) c.set(p.labels.app, (c.get(p.labels.app) ?? 0) + 1);
      for (const v of c.values()) worst = Math.max(worst, v);
    }
    return { maxSameAppPerHost: worst };
  }
  if (w === 'plain') return {};
  const per = new Map<string, Map<string, number>>();
  for (const a of agents) {
    for (const p of a.pods) {
      let m = per.get(p.labels.app);
      if (!m) per.set(p.labels.app, (m = new Map()));
      m.set(a.zone!, (m.get(a.zone!) ?? 0) + 1);
    }
  }
  let worst = 0;
  for (const m of per.values()) {
    const v = ZONES.map((z) => m.get(z) ?? 0);
    worst = Math.max(worst, Math.max(...v) - Math.min(...v));
  }
  return { maxZoneSkew: worst };
}

/**
 * V8 optimises plan()'s hot functions after a few hundred pods, and recompiles them as the object shapes they meet
 * settle: done once per process, it lands on whichever cycle runs first. As benchmark harnesses do, a few cycles of
 * the same workload on a separate, small cluster (nothing shared with the measured one) take it before measuring; a
 * running scheduler's code is warm long before its 50 000th agent arrives. BENCH_PLACEMENT_WARMUP=0: none.
 */
const warmed = new Set<Workload>();
function warmUp(w: Workload, cfg: PlanConfig): number {
  if (process.env.BENCH_PLACEMENT_WARMUP === '0' || warmed.has(w)) return 0;
  warmed.add(w); // once per workload and process: what it warms stays warm for the rows after
  const c0 = process.cpuUsage();
  const rnd = mulberry32(7);
  const agents = makeAgents(WARM_AGENTS, rnd);
  const pods = makePods(WARM_CYCLES * CYCLE, w, rnd).map((p) => ({ ...p, key: `warm/${p.key}`, uid: `warm-${p.uid}` }));
  const index = new Map(agents.map((a, i) => [a.id, i]));
  const byKey = new Map(pods.map((p) => [p.key, p]));
  const table = process.env.BENCH_PLACEMENT_TABLE !== '0' ? new AgentTable() : undefined;
  for (let i = 0; i < pods.length; i += CYCLE) apply(agents, index, byKey, plan(agents, pods.slice(i, i + CYCLE), cfg, table), cfg);
  const c1 = process.cpuUsage(c0);
  return (c1.user + c1.system) / 1000;
}

/**
 * BENCH_PLACEMENT_PROFILE=FILE: a V8 CPU profile of the measured cycles numbered in BENCH_PLACEMENT_PROFILE_CYCLES
 * (default 0, the first; e.g. 0-3) only, written to FILE (read it with bench/lib/cpuprofile.ts), sampled every
 * BENCH_PLACEMENT_PROFILE_US µs (default 100); BENCH_PLACEMENT_PROFILE_HEAP=1: a sampling heap profile of what those
 * cycles allocate instead. The inspector session of the same thread answers synchronously.
 */
function profiler(): { start: () => void; stop: () => void } | undefined {
  const file = process.env.BENCH_PLACEMENT_PROFILE;
  if (!file) return undefined;
  const s = new Session();
  s.connect();
  s.post('Profiler.enable');
  s.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_PLACEMENT_PROFILE_US ?? 100) });
  if (process.env.BENCH_PLACEMENT_PROFILE_HEAP === '1') {
    // allocations (sampled every 4 KiB, including objects already collected) instead of CPU
    const opts = { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
    return {
      start: () => s.post('HeapProfiler.startSampling', opts),
      stop: () =>
        s.post('HeapProfiler.stopSampling', (err, r) => {
          if (err) throw err;
          writeFileSync(file, JSON.stringify(r.profile));
        }),
    };
  }
  return {
    start: () => s.post('Profiler.start'),
    stop: () =>
      s.post('Profiler.stop', (err, r) => {
        if (err) throw err;
        writeFileSync(file, JSON.stringify(r.profile));
      }),
  };
}

function profiledCycles(): [number, number] {
  const [a, b] = (process.env.BENCH_PLACEMENT_PROFILE_CYCLES ?? '0').split('-').map(Number);
  return [a, b ?? a];
}

/**
 * The forced full collections before measuring (after the warm-up, after the arrivals). They also make V8 drop most of
 * the warm-up's optimised code ('weak objects' deoptimisations, --trace-deopt), which the first measured cycles then
 * recompile on the compiler threads, counted in the process's CPU time. BENCH_PLACEMENT_GC=0: none (diagnosis only;
 * the earlier garbage is then collected during the measured cycles).
 */
function collect(): void {
  if (process.env.BENCH_PLACEMENT_GC !== '0') global.gc?.();
}

function run(nAgents: number, nPods: number, w: Workload, percentageOfAgentsToScore?: number): void {
  const rnd = mulberry32(42);
  const agents = makeAgents(nAgents, rnd);
  const all = makePods(nPods, w, rnd);
  const index = new Map(agents.map((a, i) => [a.id, i]));
  const podsByKey = new Map(all.map((p) => [p.key, p]));
  const cfg: PlanConfig = { executor: { cpus: 0.1, mem: 64, disk: 0 }, defaultScoring: 'spread', preferExistingKubelet: true, maxPodsPerKubelet: 250, defaultRoles: ['*'], percentageOfAgentsToScore };
  const warmUpCpu = warmUp(w, cfg);
  collect();
  const times: number[] = [];
  const cpuTimes: number[] = [];
  const batchSizes: number[] = [];
  let placed = 0;
  let unschedulable = 0;
  let rss = 0;
  let heap = 0;
  let rebuilt = 0;
  // The working copy is kept across cycles (AgentTable), as the scheduler's cycle keeps it: only agents whose view changed
  // are rebuilt, and the per-spec search cache carries over. BENCH_PLACEMENT_TABLE=0: a fresh one per plan, to compare.
  const keep = process.env.BENCH_PLACEMENT_TABLE !== '0';
  const table = keep ? new AgentTable() : undefined;
  // Agents arrive before pods do (their first offers), ARRIVAL at a time: the kept table is built then, as the scheduler's
  // is (only the new agents each time), not in the first cycle. BENCH_PLACEMENT_ARRIVAL=0: built in the first cycle.
  const arrivalCpu: number[] = [];
  if (table && process.env.BENCH_PLACEMENT_ARRIVAL !== '0') {
    for (let k = Math.min(ARRIVAL, agents.length); ; k = Math.min(k + ARRIVAL, agents.length)) {
      const c0 = process.cpuUsage();
      table.sync(agents.slice(0, k), cfg);
      const c1 = process.cpuUsage(c0);
      arrivalCpu.push((c1.user + c1.system) / 1000);
      if (k === agents.length) break;
    }
    collect();
  }
  let visited = 0;
  let examined = 0;
  const prof = profiler();
  const [profFrom, profTo] = profiledCycles();
  for (let i = 0; i < all.length; i += CYCLE) {
    const batch = all.slice(i, i + CYCLE);
    if (prof && i / CYCLE === profFrom) prof.start();
    batchSizes.push(batch.length);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    // Without a kept table, a fresh one per plan: what plan() makes itself when given none (its counters read here).
    const t = table ?? new AgentTable();
    const before = { ...t.searchStats };
    const r = plan(agents, batch, cfg, t);
    const c1 = process.cpuUsage(c0);
    if (prof && i / CYCLE === profTo) prof.stop();
    times.push(performance.now() - t0);
    cpuTimes.push((c1.user + c1.system) / 1000);
    placed += r.placements.length;
    unschedulable += r.unschedulable.length;
    rebuilt += t.rebuilt;
    visited += t.searchStats.visited - before.visited;
    examined += t.searchStats.examined - before.examined;
    apply(agents, index, podsByKey, r, cfg);
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }
  const total = times.reduce((s, t) => s + t, 0);
  const sorted = [...times].sort((x, y) => x - y);
  const cpu = cpuTimes.reduce((s, t) => s + t, 0);
  const cpuSorted = [...cpuTimes].sort((x, y) => x - y);
  console.log(
    JSON.stringify({
      bench: 'placement',
      agents: nAgents,
      zones: ZONES.length,
      pods: nPods,
      workload: w,
      cycle: CYCLE,
      agentsScoredPerPod: feasibleToFind(nAgents, percentageOfAgentsToScore),
      placed,
      unschedulable,
      podsPerSec: Math.round((placed + unschedulable) / (total / 1000)),
      cycleMsP50: +pct(sorted, 50).toFixed(1),
      cycleMsP99: +pct(sorted, 99).toFixed(1),
      planSeconds: +(total / 1000).toFixed(2),
      // CPU time of the process during plan(): the honest figure on a shared machine
      podsPerCpuSec: Math.round((placed + unschedulable) / (cpu / 1000)),
      cpuCycleMsP50: +pct(cpuSorted, 50).toFixed(1),
      cpuCycleMsP99: +pct(cpuSorted, 99).toFixed(1),
      // the first plan builds the kept table and every spec's cache from nothing (a scheduler's first cycle); the rest
      // are the steady state
      firstCycleMs: +times[0].toFixed(1),
      firstCycleCpuMs: +cpuTimes[0].toFixed(1),
      laterCycleMsP99: times.length > 1 ? +pct([...times.slice(1)].sort((x, y) => x - y), 99).toFixed(1) : null,
      laterCycleCpuMsP99: times.length > 1 ? +pct([...cpuTimes.slice(1)].sort((x, y) => x - y), 99).toFixed(1) : null,
      laterPodsPerCpuSec: times.length > 1 ? Math.round((placed + unschedulable - batchSizes[0]) / ((cpu - cpuTimes[0]) / 1000)) : null,
      // each cycle's CPU ms, in order
      cycleCpuMs: cpuTimes.map((t) => Math.round(t)),
      // the table built as the agents arrived, before the cycles: CPU ms in all, and of the costliest batch of ARRIVAL
      warmUpCpuMs: +warmUpCpu.toFixed(1),
      arrivalCpuMs: arrivalCpu.length ? +arrivalCpu.reduce((x, y) => x + y, 0).toFixed(1) : null,
      arrivalBatchCpuMsMax: arrivalCpu.length ? +Math.max(...arrivalCpu).toFixed(1) : null,
      heapMB: Math.round(heap / 2 ** 20),
      rssMB: Math.round(rss / 2 ** 20),
      agentsRebuiltPerCycle: Math.round(rebuilt / times.length),
      // the search: agents visited per pod, and of those examined afresh (not answered by the per-spec cache)
      agentsVisitedPerPod: Math.round(visited / (placed + unschedulable)),
      agentsExaminedPerPod: Math.round(examined / (placed + unschedulable)),
      ...check(agents, w),
    }),
  );
}

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const agentCounts = flag('agents') ? [Number(flag('agents'))] : [500, 1000, 5000, 10000];
const podCounts = flag('pods') ? [Number(flag('pods'))] : [10000, 50000];
const workloads = flag('workload') ? [flag('workload') as Workload] : WORKLOADS;
const percentage = flag('percentage') !== undefined ? Number(flag('percentage')) : undefined;
// 10000 agents × 50000 pods is left out of the default run to keep it within 4 minutes (ask for it with flags).
const skip = (n: number, p: number): boolean => !flag('agents') && !flag('pods') && n === 10000 && p === 50000;
for (const w of workloads) for (const n of agentCounts) for (const p of podCounts) if (!skip(n, p)) run(n, p, w, percentage);
// The scale Mesos was built for (Twitter ran ~50 000 agents): one row in the default run, zone spreading.
if (!flag('agents') && !flag('pods') && workloads.includes('zone-spread')) run(50000, 10000, 'zone-spread', percentage);
