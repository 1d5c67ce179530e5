/**
 * The kube-mesos scheduler service alone in its own process (so its CPU and RSS are measured apart from the emulator and
 * the hollow kubelets). Reports `ready` once it has had offers from every agent. Child of e2e.bench.ts.
 */
import { loadConfig } from '../../src/config/config.js';
import { startSchedulerService } from '../../src/scheduler/service.js';
import { createLogger } from '../../src/telemetry/log.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { childOptions, report } from './child.js';
import { startProfiler, type Profiler } from './profiler.js';
import { loadKubeConfig } from './kube.js';

export interface SchedulerChildOptions {
  kubeconfig: string;
  mesosUrl: string;
  agents: number;
  qps: number;
  burst: number;
  /** Write a CPU profile of this process here (source-mapped). */
  profileFile?: string;
  /** Extra dotted-path config overrides. */
  set: [string, string][];
  /**
   * Diagnostic only: also run a cycle every `placement.cycleInterval`, to measure what the service's wake-up logic costs
   * (a wake while a timer for a later offer expiry is set is dropped). Off in the reported figures.
   */
  eagerCycles?: boolean;
}

async function main(): Promise<void> {
  const o = childOptions<SchedulerChildOptions>();
  // Profiled from ready on: module loading and subscription are not what the run measures.
  let profiler: Profiler | undefined;
  const cfg = loadConfig({
    flags: [
      ['mesos.masters', o.mesosUrl],
      ['kube.kubeconfig', o.kubeconfig],
      ['kube.qps', String(o.qps)],
      ['kube.burst', String(o.burst)],
      ['pool.kubeletMode', 'hollow'],
      ['pool.executorCommand', 'inprocess'],
      ['ops.logLevel', 'warn'],
      ...o.set,
    ],
  });
  if (!cfg.ok) throw new Error(cfg.errors.join('; '));
  const log = createLogger({ level: 'warn', name: 'bench-scheduler' });
  const service = await startSchedulerService({ config: cfg.config, kubeconfig: loadKubeConfig(o.kubeconfig), log, executorCommand: 'inprocess', executorKubeconfig: o.kubeconfig });
  const ready = setInterval(() => {
    const s = service.core.debugState();
    if (s.subscribed && s.agents.length >= o.agents) {
      clearInterval(ready);
      void (async () => {
        if (o.profileFile) profiler = await startProfiler(o.profileFile);
        report({ ready: true });
      })();
    }
  }, 200);
  if (o.eagerCycles) setInterval(() => service.core.runCycle(), cfg.config.placement.cycleInterval).unref();
  // A once-a-second line in the log: where pods wait (queue, offers, tasks) when the run is slow; per second, the cycles
  // (count, mean ms), offers in/declined, pod tasks that reached their agent (mean ms from the ACCEPT) and Bindings
  // written (mean ms of the call).
  let launchesBefore = 0;
  const before = new Map<string, number>();
  const delta = async (name: string, suffix = '', call?: string) => {
    const m = await service.registry.getSingleMetric(name)?.get();
    const values = (m?.values ?? []) as { value: number; metricName?: string; labels?: Record<string, unknown> }[];
    const v = values.filter((x) => (suffix === '' || x.metricName === `${name}${suffix}`) && (call === undefined || x.labels?.call === call)).reduce((a, x) => a + x.value, 0);
    const k = `${name}${suffix}${call ?? ''}`;
    const d = v - (before.get(k) ?? 0);
    before.set(k, v);
    return d;
  };
  const meanMs = async (hist: string, call?: string) => {
    const sum = await delta(hist, '_sum', call);
    const count = await delta(hist, '_count', call);
    return { n: count, ms: count ? Math.round((sum / count) * 1000) : null };
  };
  const timeline = setInterval(() => void line(), 1000);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const line = async () => {
    const lag = { p99: Math.round(loop.percentile(99) / 1e6), max: Math.round(loop.max / 1e6) };
    loop.reset();
    const s = service.core.debugState();
    const launches = (await service.metrics.podLaunches.get()).values[0]?.value ?? 0;
    const stages = {
      cycles: await meanMs('kube_mesos_scheduling_cycle_duration_seconds'),
      offersIn: await delta('kube_mesos_offers_received_total'),
      declined: await delta('kube_mesos_offers_declined_total'),
      reached: await meanMs('kube_mesos_task_reached_agent_duration_seconds'),
      bound: await meanMs('kube_mesos_binding_duration_seconds'),
      acceptCalls: await meanMs('kube_mesos_mesos_call_duration_seconds', 'ACCEPT'),
      ackCalls: await meanMs('kube_mesos_mesos_call_duration_seconds', 'ACKNOWLEDGE'),
    };
    process.stderr.write(`${JSON.stringify({ t: new Date().toISOString().slice(11, 23), lag, queue: s.queue, offersHeld: s.offersHeld, tasks: s.tasks, kubelets: s.kubelets.length, launches: launches - launchesBefore, suppressed: s.suppressed, ...stages })}\n`);
    launchesBefore = launches;
  };
  timeline.unref();
  // SIGUSR2: one JSON line with the scheduler's own offer hold histogram (kube_mesos_offer_held_duration_seconds), to set
  // against the hold the emulator measures (offer sent → answer received, transport and event-loop lag included).
  process.on('SIGUSR2', () => {
    void (async () => {
      const m = await service.metrics.offerHeldDuration.get();
      const buckets = m.values.filter((v) => v.metricName?.endsWith('_bucket')).map((v) => ({ le: String(v.labels.le), count: v.value })) // as text: JSON has no Infinity;
      report({ offerHeld: { buckets, count: m.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0 } });
    })();
  });
  process.on('SIGTERM', () => {
    void (async () => {
      clearInterval(ready);
      // A stop that hangs must not lose the CPU profile, which is written on a clean exit.
      await Promise.race([service.stop(), new Promise((r) => setTimeout(r, 3000))]);
      await profiler?.stop();
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench scheduler: ${String(err)}\n`);
  process.exit(1);
});
