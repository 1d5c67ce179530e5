// Sharing a Mesos cluster: one emulated cluster (its allocator is Mesos' hierarchical DRF, see docs/emulator.md), a
// batch framework that launches short tasks as fast as offers allow (bench/lib/batch-framework.ts, as Spark or Chronos),
// and kube-mesos, which takes a burst of pods once the batch framework is in steady state. Everything is read from the
// emulator's allocator (GET /emulator/allocation): each framework's DRF share over time, the batch framework's fair share
// and how many allocation intervals after the burst is placed (last pod bound) it is back at it, kube-mesos' offer hold
// times (offer sent → accepted/declined/rescinded), its declines with their refuse_seconds and when the declined agents
// came back, its SUPPRESS/REVIVE calls. Prints one JSON line.
// `npm run bench -- sharing`; knobs (env): BENCH_SHARING_AGENTS (100), BENCH_SHARING_PODS (2000), BENCH_SHARING_POD_CPU
// (100m), BENCH_SHARING_POD_MEM (128Mi), BENCH_SHARING_TASK_CPUS (2), BENCH_SHARING_TASK_MEM_MB (4096),
// BENCH_SHARING_TASK_S (10), BENCH_SHARING_REFUSE_S (1, the batch framework's filters), BENCH_SHARING_ALLOCATION_INTERVAL_MS
// (1000), BENCH_SHARING_STEADY_S (25), BENCH_SHARING_AFTER_S (15), BENCH_SHARING_TIMEOUT_S (240), BENCH_SHARING_KM_SET
// (kube-mesos config overrides, `mesos.offerHold=2s,…`), BENCH_SHARING_KEEP_LOGS (1: keep the work dir).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeChild, type Child } from './lib/child.js';
import { startBenchControlPlane } from './lib/controlplane.js';
import { percentile } from './lib/figures.js';
import { BindWatch, benchPod, boundedAll, createNamespace, createPod, loadKubeConfig, unthrottled } from './lib/kube.js';
import { attainableShare, backAfter, histogramQuantile, reofferSummary, settledAt, type ShareSample } from './lib/sharing-figures.js';
import type { allocationJson } from '../src/emulator/master/state-json.js';

const env = process.env;
const num = (k: string, d: number) => (env[k] ? Number(env[k]) : d);
const O = {
  agents: num('BENCH_SHARING_AGENTS', 100),
  pods: num('BENCH_SHARING_PODS', 2000),
  podCpu: env.BENCH_SHARING_POD_CPU ?? '100m',
  podMemory: env.BENCH_SHARING_POD_MEM ?? '128Mi',
  taskCpus: num('BENCH_SHARING_TASK_CPUS', 2),
  taskMemMb: num('BENCH_SHARING_TASK_MEM_MB', 4096),
  taskSeconds: num('BENCH_SHARING_TASK_S', 10),
  refuseSeconds: num('BENCH_SHARING_REFUSE_S', 1),
  allocationIntervalMs: num('BENCH_SHARING_ALLOCATION_INTERVAL_MS', 1000),
  steadyS: num('BENCH_SHARING_STEADY_S', 25),
  afterS: num('BENCH_SHARING_AFTER_S', 15),
  timeoutS: num('BENCH_SHARING_TIMEOUT_S', 240),
  kubeMesosSet: (env.BENCH_SHARING_KM_SET ?? '').split(',').filter(Boolean).map((kv) => kv.split('=', 2) as [string, string]),
  cacheDir: env.KUBE_MESOS_CACHE_DIR ?? join(homedir(), '.cache', 'kube-mesos'),
  zones: ['a', 'b', 'c'],
  agentCpus: 8,
  agentMemMb: 16384,
  qps: 5000,
  burst: 5000,
  inflight: 50,
};

type Allocation = ReturnType<typeof allocationJson>;
const progress = (s: string) => process.stderr.write(`[sharing ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const msOf = (s: number | null) => (s === null ? null : Math.round(s * 1000));

async function main(): Promise<void> {
  const loadBefore = loadAvg();
  const work = await mkdtemp(join(tmpdir(), 'kube-mesos-bench-sharing-'));
  progress(`work dir ${work}; starting etcd + kube-apiserver`);
  const cp = await startBenchControlPlane({ cacheDir: O.cacheDir });
  const api = unthrottled(loadKubeConfig(cp.kubeconfigPath), 50);
  const children: Child[] = [];
  let out: Record<string, unknown> | undefined;
  try {
    const emu = startNodeChild(
      'kube-mesos-emulator.ts',
      { kubeconfig: cp.kubeconfigPath, agents: O.agents, zones: O.zones, agentResources: `cpus:${O.agentCpus};mem:${O.agentMemMb};disk:100000;ports:[31000-32000]`, allocationIntervalMs: O.allocationIntervalMs, schedulerName: 'kube-mesos', qps: O.qps, burst: O.burst, inflight: O.inflight },
      join(work, 'emulator.log'),
    );
    children.push(emu);
    const { url } = await emu.message<{ url: string }>((m) => m.ready === true, 120_000);
    const allocation = async (q = 'lists=0'): Promise<Allocation> => (await fetch(`${url}/emulator/allocation?${q}`)).json() as Promise<Allocation>;
    // kube-mesos first: it sees every agent offered (its readiness), then nothing is pending and it gives them back.
    const sched = startNodeChild('kube-mesos-scheduler.ts', { kubeconfig: cp.kubeconfigPath, mesosUrl: url, agents: O.agents, qps: O.qps, burst: O.burst, set: O.kubeMesosSet }, join(work, 'scheduler.log'));
    children.push(sched);
    await sched.message((m) => m.ready === true, 120_000);
    const batch = startNodeChild(
      'batch-framework.ts',
      { mesosUrl: url, name: 'batch', taskCpus: O.taskCpus, taskMemMb: O.taskMemMb, taskSeconds: O.taskSeconds, refuseSeconds: O.refuseSeconds },
      join(work, 'batch.log'),
    );
    children.push(batch);
    await batch.message((m) => m.ready === true, 60_000);
    progress(`batch framework subscribed; ${O.steadyS} s of steady state`);

    // Shares sampled every 200 ms from the allocator: t is ms since the burst started (negative before it).
    const samples: ShareSample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const at = performance.now();
        try {
          const a = await allocation();
          const km = a.frameworks.find((f) => f.name === 'kube-mesos');
          const b = a.frameworks.find((f) => f.name === 'batch');
          samples.push({ t: at, km: km?.dominant_share ?? 0, batch: b?.dominant_share ?? 0, kmOfferedCpus: km?.offered.cpus ?? 0, kmSuppressed: (km?.suppressed_roles.length ?? 0) > 0 });
        } catch (err) {
          progress(`sampling the allocator: ${String(err)}`);
        }
        await sleep(Math.max(0, 200 - (performance.now() - at)));
      }
    })();
    await sleep(O.steadyS * 1000);

    const ns = 'sharing';
    await createNamespace(api, ns);
    const watch = new BindWatch(api, ns);
    await watch.start();
    const tBurst = performance.now();
    progress(`burst: creating ${O.pods} pods (${O.podCpu}, ${O.podMemory})`);
    const created = boundedAll(O.pods, 50, (i) => createPod(api, ns, benchPod(`burst-${i}`, { schedulerName: 'kube-mesos', app: 'burst', cpu: O.podCpu, memory: O.podMemory, spread: false })));
    const timeout = sleep(O.timeoutS * 1000).then(() => {
      throw new Error(`only ${watch.boundAt.size} of ${O.pods} pods bound within ${O.timeoutS} s`);
    });
    await Promise.race([Promise.all([created, watch.bound(O.pods)]), timeout]);
    const tPlaced = Math.max(...watch.boundAt.values()) - tBurst;
    progress(`burst placed in ${round(tPlaced / 1000, 1)} s; ${O.afterS} s more`);
    await sleep(O.afterS * 1000);
    sampling = false;
    await sampler;
    for (const s of samples) s.t -= tBurst;
    await watch.stop();
    // kube-mesos' own view of its holds (arrival → ACCEPT/DECLINE in its event loop), beside the emulator's below.
    const ownHolds = sched.message<{ offerHeld: { buckets: { le: string; count: number }[]; count: number } }>((m) => 'offerHeld' in m, 10_000);
    process.kill(sched.pid, 'SIGUSR2');
    const ownRaw = (await ownHolds).offerHeld;
    const own = { count: ownRaw.count, buckets: ownRaw.buckets.map((b) => ({ le: b.le === '+Inf' ? Infinity : Number(b.le), count: b.count })) };
    const final = await allocation('agents=1');
    const km = final.frameworks.find((f) => f.name === 'kube-mesos')!;
    const bf = final.frameworks.find((f) => f.name === 'batch')!;

    // The batch framework's fair share: DRF gives kube-mesos its demand (below half the cluster) and the batch framework
    // the rest, in whole tasks around kube-mesos' pods on each agent. It is back at it when its share is within one task
    // of that. (Between such moments its share dips as its own tasks end: their resources wait for the next allocation.)
    const cluster = { agents: O.agents, agentCpus: O.agentCpus, agentMemMb: O.agentMemMb, totalCpus: final.total.cpus, totalMemMb: final.total.mem };
    const task = { cpus: O.taskCpus, memMb: O.taskMemMb };
    const oneTask = Math.max(task.cpus / cluster.totalCpus, task.memMb / cluster.totalMemMb);
    const attainableBefore = attainableShare(cluster, task, {});
    const attainableAfter = attainableShare(cluster, task, km.used_by_agent ?? {});
    const before = samples.filter((s) => s.t < 0 && s.t >= -10_000).map((s) => s.batch);
    const after = samples.filter((s) => s.t >= tPlaced).map((s) => s.batch);
    const target = attainableAfter - oneTask;
    const back = backAfter(samples, tPlaced, target);
    const kmSettled = settledAt(samples, 0.001);
    const backAfterSettled = kmSettled === undefined ? undefined : backAfter(samples, kmSettled, target).ms;
    const kmShare = km.dominant_share;
    const holds = km.offer_hold_ms;
    const offerHoldMs = Number(O.kubeMesosSet.find(([k]) => k === 'mesos.offerHold')?.[1]?.replace(/s$/, '') ?? 5) * 1000;
    const timeline = samples.filter((s, i) => i % 5 === 0 && s.t >= -5000).map((s) => [round(s.t / 1000, 1), round(s.km), round(s.batch)]);
    out = {
      bench: 'sharing',
      agents: O.agents,
      pods: O.pods,
      pod: `${O.podCpu}/${O.podMemory}`,
      batch_task: `${O.taskCpus} cpu/${O.taskMemMb} MB/${O.taskSeconds / 2}–${(O.taskSeconds * 3) / 2} s, refuse ${O.refuseSeconds} s`,
      allocation_interval_ms: O.allocationIntervalMs,
      kube_mesos_set: Object.fromEntries(O.kubeMesosSet),
      burst_placed_s: round(tPlaced / 1000, 2),
      burst_pods_per_s: Math.round(O.pods / (tPlaced / 1000)),
      shares: {
        kube_mesos_final: round(kmShare),
        batch_before: { mean: round(before.reduce((a, b) => a + b, 0) / Math.max(1, before.length)), at_attainable: round(before.filter((b) => b >= attainableBefore - oneTask).length / Math.max(1, before.length), 2) },
        batch_after_placed: { mean: round(after.reduce((a, b) => a + b, 0) / Math.max(1, after.length)), at_target: round(after.filter((b) => b >= target).length / Math.max(1, after.length), 2) },
        batch_drf_fair_share: round(Math.max(0.5, 1 - kmShare)),
        batch_attainable: { before: round(attainableBefore), after: round(attainableAfter) },
        batch_target: round(target),
        kube_mesos_settled_s: kmSettled === undefined ? null : round(kmSettled / 1000, 1),
        batch_back_after_kube_mesos_settled_intervals: backAfterSettled === undefined ? null : round(backAfterSettled / O.allocationIntervalMs, 2),
        batch_at_placed: round(back.atPlaced),
        batch_back_after_placed_ms: back.ms === undefined ? null : Math.round(back.ms),
        batch_back_after_placed_intervals: back.ms === undefined ? null : round(back.ms / O.allocationIntervalMs, 2),
        batch_min_during_burst: round(Math.min(...samples.filter((s) => s.t >= 0 && s.t <= tPlaced).map((s) => s.batch))),
      },
      kube_mesos: {
        offer_hold_config_ms: offerHoldMs,
        offer_hold_ms: { n: holds.length, p50: percentile(holds, 50), p99: percentile(holds, 99), max: holds.length ? Math.max(...holds) : null },
        offer_hold_ms_by_outcome: Object.fromEntries(Object.entries(km.offer_hold_ms_by_outcome).map(([k, v]) => [k, { n: v.length, p50: percentile(v, 50), p99: percentile(v, 99), max: v.length ? Math.max(...v) : null }])),
        holds_over_config: holds.filter((h) => h > offerHoldMs).length,
        // The scheduler's histogram (bucket-interpolated): the hold in its own hands; the rest of the emulator's figure
        // is the way of the offer to it and of the answer back (transport, event-loop lag).
        offer_hold_own_ms: { n: own.count, p50: msOf(histogramQuantile(own.buckets, 0.5)), p99: msOf(histogramQuantile(own.buckets, 0.99)), over_config: own.count - (own.buckets.find((b) => b.le >= offerHoldMs / 1000)?.count ?? own.count) },
        offers: km.offers,
        calls: km.calls,
        declines_by_refuse_seconds: km.declines_by_refuse_seconds,
        reoffers_after_decline: reofferSummary(km.reoffers),
        kube_mesos_offered_cpus_after_placed_max: Math.max(0, ...samples.filter((s) => s.t > tPlaced + O.allocationIntervalMs).map((s) => s.kmOfferedCpus)),
      },
      batch: { offers: bf.offers, calls: bf.calls, offer_hold_ms: { p50: percentile(bf.offer_hold_ms, 50), p99: percentile(bf.offer_hold_ms, 99) } },
      timeline_s_km_batch: timeline,
      load_avg: { before: loadBefore, after: loadAvg() },
    };
  } finally {
    for (const c of children.reverse()) await c.stop(5000).catch(() => undefined);
    await cp.stop().catch((err: unknown) => progress(`stopping the control plane: ${String(err)}`));
    api.close();
    if (env.BENCH_SHARING_KEEP_LOGS !== '1') await rm(work, { recursive: true, force: true });
    else progress(`logs kept in ${work}`);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`sharing bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
