// Elastic pool benchmark (issue 6): a burst of 500 pods on 50 agents that have no kubelet yet — time to the first pod
// Running and to all Running, kubelets started on demand. One process: control plane, emulator with in-process
// executors (hollow kubelets), scheduler service. Prints one JSON line. `npm run bench -- pool`.
// Knobs: BENCH_POOL_AGENTS (50), BENCH_POOL_PODS (500).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { startEmulator } from '../src/emulator/index.js';
import { createExecutorFactory } from '../src/executor/inprocess.js';
import { KubeHttp } from '../src/kube/http.js';
import { startSchedulerService } from '../src/scheduler/service.js';
import { createLogger } from '../src/telemetry/log.js';
import { startBenchControlPlane } from './lib/controlplane.js';
import { benchPod, boundedAll, createNamespace, createPod, loadKubeConfig } from './lib/kube.js';

const agents = Number(process.env.BENCH_POOL_AGENTS ?? 50);
const pods = Number(process.env.BENCH_POOL_PODS ?? 500);
const cacheDir = process.env.KUBE_MESOS_CACHE ?? join(homedir(), '.cache', 'kube-mesos');
const schedulerName = 'kube-mesos-bench-pool';

async function main(): Promise<void> {
  const log = createLogger({ level: 'error', name: 'bench-pool' });
  const cp = await startBenchControlPlane({ cacheDir });
  const kc = loadKubeConfig(cp.kubeconfigPath);
  const http = new KubeHttp(kc, { qps: 5000, burst: 5000, maxInFlight: 50 });
  const factory = createExecutorFactory({ http: new KubeHttp(kc, { qps: 5000, burst: 5000, maxInFlight: 100 }), schedulerName, log });
  const emu = await startEmulator({
    listen: '127.0.0.1:0',
    agents,
    zones: ['a', 'b', 'c'],
    region: 'r1',
    agentResources: 'cpus:8;mem:16384;disk:100000;ports:[31000-32000]',
    executorMode: 'inprocess',
    executorFactory: factory,
    log,
  });
  const cfg = loadConfig({
    flags: [
      ['mesos.masters', emu.url],
      ['kube.kubeconfig', cp.kubeconfigPath],
      ['kube.schedulerName', schedulerName],
      ['kube.qps', '5000'],
      ['kube.burst', '5000'],
      ['pool.kubeletMode', 'hollow'],
      ['ops.listen', '127.0.0.1:0'],
      ['placement.cycleInterval', '20ms'],
    ],
  });
  if (!cfg.ok) throw new Error(cfg.errors.join('; '));
  const svc = await startSchedulerService({ config: cfg.config, kubeconfig: kc, log, executorCommand: 'in-process', executorKubeconfig: cp.kubeconfigPath });
  await createNamespace(http, 'bench-pool');
  // Measured from a running scheduler: subscribed and offered every agent (start-up is not what this measures).
  const readyBy = Date.now() + 60_000;
  for (;;) {
    const s = svc.core.debugState();
    if (s.subscribed && s.agents.length >= agents) break;
    if (Date.now() > readyBy) throw new Error(`scheduler not ready: subscribed ${String(s.subscribed)}, ${s.agents.length}/${agents} agents offered`);
    await new Promise((res) => setTimeout(res, 50));
  }

  const t0 = Date.now();
  await boundedAll(pods, 50, (i) => createPod(http, 'bench-pool', benchPod(`p-${i}`, { schedulerName, app: 'pool', cpu: '250m', memory: '256Mi', spread: false })));
  const created = Date.now();
  let firstRunning: number | undefined;
  let allRunning: number | undefined;
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    const r = await http.request('GET', '/api/v1/namespaces/bench-pool/pods', { query: { fieldSelector: 'status.phase=Running' } });
    const n = (r.body as { items?: unknown[] } | undefined)?.items?.length ?? 0;
    if (n > 0 && firstRunning === undefined) firstRunning = Date.now();
    if (n >= pods) {
      allRunning = Date.now();
      break;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  const kubelets = [...svc.core.tasks.allKubelets()].length;
  console.log(
    JSON.stringify({
      bench: 'pool',
      agents,
      pods,
      create_s: (created - t0) / 1000,
      first_running_s: firstRunning === undefined ? null : (firstRunning - t0) / 1000,
      all_running_s: allRunning === undefined ? null : (allRunning - t0) / 1000,
      kubelets_started: kubelets,
      note: 'times from the first pod created, the scheduler subscribed and offered every agent; kubelets start with the first pod on each agent (no warm pool)',
    }),
  );
  await svc.stop();
  await factory.close();
  await emu.stop();
  await cp.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.log(JSON.stringify({ bench: 'pool', error: String(err) }));
    process.exit(1);
  },
);
