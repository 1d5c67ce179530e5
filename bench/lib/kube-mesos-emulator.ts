/**
 * The Mesos side of the kube-mesos contender, in its own process: the emulator with N agents in 3 zones whose executors run
 * in-process (hollow kubelets, one shared pod informer). Their bindings use the bench's client QPS/burst. Child of e2e.bench.ts.
 */
import { startEmulator } from '../../src/emulator/index.js';
import { createExecutorFactory } from '../../src/executor/inprocess.js';
import { KubeHttp } from '../../src/kube/http.js';
import { createLogger } from '../../src/telemetry/log.js';
import { createRegistry } from '../../src/telemetry/metrics.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { childOptions, report } from './child.js';
import { startProfiler } from './profiler.js';
import { loadKubeConfig } from './kube.js';

export interface EmulatorChildOptions {
  kubeconfig: string;
  agents: number;
  zones: string[];
  agentResources: string;
  allocationIntervalMs: number;
  schedulerName: string;
  qps: number;
  burst: number;
  /** Write a CPU profile of this process here (source-mapped). */
  profileFile?: string;
  inflight: number;
}

async function main(): Promise<void> {
  const o = childOptions<EmulatorChildOptions>();
  const log = createLogger({ level: 'warn', name: 'bench-emulator' });
  const http = new KubeHttp(loadKubeConfig(o.kubeconfig), { qps: o.qps, burst: o.burst, maxInFlight: o.inflight });
  const registry = createRegistry();
  // The scheduler writes the Bindings (on TASK_STARTING); the executors share one transport for their own writes.
  const factory = createExecutorFactory({ http, schedulerName: o.schedulerName, log, registry });
  const emu = await startEmulator({
    listen: '127.0.0.1:0',
    agents: o.agents,
    zones: o.zones,
    region: 'r1',
    agentResources: o.agentResources,
    allocationIntervalMs: o.allocationIntervalMs,
    executorMode: 'inprocess',
    executorFactory: factory,
    log,
  });
  const profiler = o.profileFile ? await startProfiler(o.profileFile) : undefined;
  report({ ready: true, url: emu.url });
  // A once-a-second line in the log: the master's counters, the executors' shared transport (requests running and
  // queued), bindings and the sum of their latencies, and task updates sent.
  const value = async (name: string, series?: string) => {
    const m = await registry.getSingleMetric(name)?.get();
    const values = (m?.values ?? []) as { value: number; metricName?: string }[];
    return values.filter((v) => series === undefined || v.metricName === series).reduce((a, v) => a + v.value, 0);
  };
  // Event-loop delay over each second (p99 and max, ms): how long a ready callback waited for the loop.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  setInterval(() => {
    void (async () => {
      const lag = { p99: Math.round(loop.percentile(99) / 1e6), max: Math.round(loop.max / 1e6) };
      loop.reset();
      const line = {
        t: new Date().toISOString().slice(11, 23),
        lag,
        ...emu.master.stats,
        http: http.limiterState,
        bindings: await value('kube_mesos_executor_bindings_total'),
        bindingSecondsSum: Math.round(await value('kube_mesos_executor_binding_duration_seconds', 'kube_mesos_executor_binding_duration_seconds_sum')),
        updates: await value('kube_mesos_executor_task_updates_total'),
        statusWrites: await value('kube_mesos_hollow_pod_status_writes_total'),
      };
      process.stderr.write(`${JSON.stringify(line)}\n`);
    })();
  }, 1000).unref();
  process.on('SIGTERM', () => {
    void (async () => {
      await Promise.race([Promise.all([emu.stop(), factory.close()]), new Promise((r) => setTimeout(r, 3000))]);
      await profiler?.stop();
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench emulator: ${String(err)}\n`);
  process.exit(1);
});
