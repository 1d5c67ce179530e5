/**
 * The kube-mesos scheduler service alone in its own process (so its CPU and RSS are measured apart from the emulator and
 * the hollow kubelets). Reports `ready` once it has had offers from every agent. Child of e2e.bench.ts.
 */
import { loadConfig } from '../../src/config/config.js';
import { startSchedulerService } from '../../src/scheduler/service.js';
import { createLogger } from '../../src/telemetry/log.js';
import { childOptions, report } from './child.js';
import { loadKubeConfig } from './kube.js';

export interface SchedulerChildOptions {
  kubeconfig: string;
  mesosUrl: string;
  agents: number;
  qps: number;
  burst: number;
  /** Extra dotted-path config overrides. */
  set: [string, string][];
}

async function main(): Promise<void> {
  const o = childOptions<SchedulerChildOptions>();
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
      report({ ready: true });
    }
  }, 200);
  process.on('SIGTERM', () => {
    void (async () => {
      clearInterval(ready);
      await service.stop();
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench scheduler: ${String(err)}\n`);
  process.exit(1);
});
