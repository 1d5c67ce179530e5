// The scheduler core's cycle at an everyday rate, without I/O: what one cycle costs in CPU when few pods arrive into a
// cluster that already runs many. The core (src/scheduler) runs on the recording fakes with an injected clock:
// offers for every agent, a steady state of running pods with zone spread, then cycles of a few new pods each, with
// the launches' TASK_STARTING / TASK_RUNNING updates and the pods' bound and Running events between cycles, as the
// scheduler sees them at 100 pods/s (ten cycles a second). Prints one JSON line.
//   node --import tsx --expose-gc bench/cycle.bench.ts [--agents 1000] [--running 4000] [--per-cycle 10] [--cycles 300] [--warm]
// --warm: a warm pool (pool.minPerZone) with a kubelet on every agent, as the e2e benchmark's kube-mesos contender.
import type { V1Pod } from '@kubernetes/client-node';
import type { OfferOperation, TaskInfo } from '../src/mesos/types.js';
import { DEFAULT_POOL_CONFIG } from '../src/pool/planner.js';
import { coreHarness } from '../src/scheduler/testing/core-harness.js';
import { anOffer, statusOf } from '../src/scheduler/testing/builders.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const AGENTS = arg('agents', 1000);
const RUNNING = arg('running', 4000);
const PER_CYCLE = arg('per-cycle', 10);
const CYCLES = arg('cycles', 300);
const WARM = process.argv.includes('--warm');
const ZONES = ['za', 'zb', 'zc'];
const AGENT = { cpus: 8, mem: 16384, disk: 100_000 };

const h = coreHarness({
  maxBatch: 500,
  poolReviewIntervalMs: 1000,
  ...(WARM ? { pool: { ...DEFAULT_POOL_CONFIG, minPerZone: Math.ceil(AGENTS / ZONES.length) } } : {}),
});
const { core, mesos } = h;

// What each agent has left, as the master would offer it again.
const free = new Map<string, { cpus: number; mem: number; disk: number }>();
for (let i = 0; i < AGENTS; i++) free.set(`agent-${i}`, { ...AGENT });
const zoneOf = (agentId: string) => ZONES[Number(agentId.slice('agent-'.length)) % ZONES.length];

function offerAgentsWithoutOffers(): void {
  const offers = [];
  for (const [id, f] of free) if (!core.offers.hasAgent(id) && f.cpus > 0.05) offers.push(anOffer(id).zone(zoneOf(id)).cpus(f.cpus).mem(f.mem).build());
  if (offers.length > 0) core.onOffers(offers);
}

let podSeq = 0;
function newPod(): V1Pod {
  const name = `p${podSeq++}`;
  return {
    metadata: { namespace: 'bench', name, uid: `uid-${name}`, resourceVersion: '1', labels: { app: 'bench' }, creationTimestamp: new Date(0) },
    spec: {
      schedulerName: 'kube-mesos',
      containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'bench' } } }],
    },
    status: { phase: 'Pending' },
  };
}

const pods = new Map<string, V1Pod>();
let acceptsSeen = 0;
let rv = 1;

/** The launches since the last call: their resources leave the agent's offers, their updates and pod events follow. */
function launched(): TaskInfo[] {
  const out: TaskInfo[] = [];
  for (const a of mesos.accepts.slice(acceptsSeen)) {
    for (const op of a.operations as OfferOperation[]) {
      for (const t of op.launch?.task_infos ?? []) {
        const f = free.get(t.agent_id.value)!;
        for (const r of [...(t.resources ?? []), ...((op.launch?.task_infos ?? [])[0] === t ? (t.executor?.resources ?? []) : [])]) {
          if (r.name === 'cpus') f.cpus -= r.scalar!.value;
          if (r.name === 'mem') f.mem -= r.scalar!.value;
        }
        out.push(t);
      }
    }
  }
  acceptsSeen = mesos.accepts.length;
  return out;
}

/** A launched task starts and runs; its pod shows the binding, then Running (new objects, as the informer gives them). */
function run(tasks: TaskInfo[]): void {
  for (const t of tasks) {
    const uid = core.tasks.get(t.task_id.value)?.podUid;
    core.onUpdate(statusOf(t).state('TASK_STARTING').build());
    const pod = uid === undefined ? undefined : pods.get(uid);
    const bound = pod && { ...pod, metadata: { ...pod.metadata, resourceVersion: String(++rv) }, spec: { ...pod.spec!, nodeName: t.agent_id.value } };
    if (bound) core.onPodUpsert(bound);
    core.onUpdate(statusOf(t).state('TASK_RUNNING').build());
    if (bound) core.onPodUpsert({ ...bound, metadata: { ...bound.metadata, resourceVersion: String(++rv) }, status: { phase: 'Running' } });
  }
}

function add(n: number): void {
  for (let i = 0; i < n; i++) {
    const p = newPod();
    pods.set(p.metadata!.uid!, p);
    core.onPodUpsert(p);
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  offerAgentsWithoutOffers();
  // The steady state: RUNNING pods placed in cycles of 500, every one running.
  const fillStart = cpuMs();
  for (let round = 0; WARM && [...core.tasks.allKubelets()].length < AGENTS && round < 50; round++) {
    h.advance(1000);
    core.runCycle();
    run(launched());
    await tick();
    offerAgentsWithoutOffers();
  }
  for (let placed = 0; placed < RUNNING; ) {
    const n = Math.min(500, RUNNING - placed);
    add(n);
    h.advance(100);
    core.runCycle();
    const tasks = launched();
    run(tasks);
    await tick();
    placed += n;
    offerAgentsWithoutOffers();
  }
  const fillMs = cpuMs() - fillStart;
  global.gc?.();

  const cycleMs: number[] = [];
  const roundMs: number[] = [];
  let placedInRounds = 0;
  for (let c = 0; c < CYCLES; c++) {
    const r0 = cpuMs();
    h.advance(100);
    add(PER_CYCLE);
    const c0 = cpuMs();
    const res = core.runCycle();
    cycleMs.push(cpuMs() - c0);
    placedInRounds += res.placed;
    run(launched());
    await tick();
    offerAgentsWithoutOffers();
    roundMs.push(cpuMs() - r0);
  }
  const q = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 100) / 100;
  };
  const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;
  console.log(
    JSON.stringify({
      bench: 'cycle',
      agents: AGENTS,
      running: core.tasks.taskCount,
      warm: WARM,
      perCycle: PER_CYCLE,
      cycles: CYCLES,
      placed: placedInRounds,
      fillCpuMs: Math.round(fillMs),
      cycleCpuMs: { mean: mean(cycleMs), p50: q(cycleMs, 0.5), p90: q(cycleMs, 0.9), p99: q(cycleMs, 0.99) },
      roundCpuMs: { mean: mean(roundMs), p50: q(roundMs, 0.5), p99: q(roundMs, 0.99) },
      rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
    }),
  );
}

void main();
