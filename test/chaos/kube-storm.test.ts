// Chaos: 429 and 5xx storms on Kubernetes writes. The scheduler and the executors reach the API server through a
// fault-injecting proxy (test/support/fault-proxy.ts); for the storm, a seeded share of every write (POST, PUT, PATCH,
// DELETE) is answered 429 with Retry-After: 1, or 500/503. Meanwhile the Deployment scales up and an executor is
// killed, so bindings, status writes, events and failover deletes all have to get through. No write may be lost
// (everything converges: every pod Running on its task, the lost ones replaced), nothing crashes, nothing runs twice
// at any sample, and a client told Retry-After waits at least that long before trying the same write again.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processesIn, stateExecutors } from '../support/executors.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { SafetyMonitor, checkInvariants, formatFigures, waitForInvariants, type InvariantInput } from '../support/invariants.js';
import { controlPlaneInfo, kubectl } from '../support/kube.js';
import { startTestSandbox, type TestSandbox } from '../support/sandbox.js';
import { plainDeployment, sampler, seconds } from './chaos.js';

const STORM_MS = 20_000;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
let proxy: FaultProxy;
let t: TestSandbox;
let sample: () => Promise<InvariantInput>;

/** The test's own actions go straight to the API server (not through the storm). */
async function direct(args: string[], input?: string): Promise<string> {
  const r = await kubectl(['-n', t.ns.name, ...args], { kubeconfig: controlPlaneInfo().kubeconfigPath, input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  proxy = await startFaultProxy(mkdtempSync(join(tmpdir(), 'kube-mesos-chaos-storm-')));
  // The proxy speaks plain HTTP and cannot carry a node's client certificate: executors use the proxied shared
  // credential (the pool.executorKubeconfig opt-out), so their writes meet the storm too.
  t = await startTestSandbox('chaos-storm', { agents: 3, zones: ['a'], kubeconfig: proxy.kubeconfigPath, set: [['pool.executorKubeconfig', proxy.kubeconfigPath]] });
  await direct(['apply', '-f', '-'], plainDeployment('web', t.schedulerName, 6, { 'kube-mesos.io/failover-after': '3s' }));
  sample = sampler(t.sb.mesosUrl, t.ns.name);
  await waitForInvariants(sample, { sinceMs: Date.now(), timeoutMs: 120_000 });
}, 240_000);

afterAll(async () => {
  await t?.stop();
  await proxy?.close();
}, 60_000);

it('429/5xx storm on writes: nothing lost, nothing twice, no crash; Retry-After honoured; everything converges', async () => {
  const monitor = new SafetyMonitor(sample, 250);
  const stormAt = Date.now();
  const isWrite = (r: { method: string }) => WRITES.has(r.method);
  const tooMany = proxy.add({ match: isWrite, status: 429, retryAfter: '1', probability: 0.3 });
  const unavailable = proxy.add({ match: isWrite, status: 503, probability: 0.15 });
  const internal = proxy.add({ match: isWrite, status: 500, probability: 0.1 });
  // During the storm: more pods to bind, and an executor killed (its pods deleted and replaced).
  await direct(['scale', 'deployment/web', '--replicas=12']);
  const s0 = await sample();
  const exec = (await stateExecutors(t)).find((e) => e.state !== 'terminated' && e.tasks.length > 0)!;
  const victim = new Set(s0.pods.filter((p) => p.metadata.annotations?.['kube-mesos.io/executor-id'] === exec.id).map((p) => p.metadata.uid));
  const pid = processesIn(exec.directory).find((p) => p.cmdline.includes('executor'))?.pid;
  expect(pid).toBeDefined();
  process.kill(pid!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, Math.max(0, stormAt + STORM_MS - Date.now())));
  const injected = { 429: tooMany.injected(), 503: unavailable.injected(), 500: internal.injected() };
  tooMany.remove();
  unavailable.remove();
  internal.remove();
  const calmAt = Date.now();

  const recovered = await waitForInvariants(sample, {
    sinceMs: stormAt,
    timeoutMs: 120_000,
    requireReachable: true,
    extra: (s) => {
      const running = s.pods.filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp).length;
      const old = s.pods.filter((p) => victim.has(p.metadata.uid)).length;
      return running !== 12 ? `${running}/12 pods Running` : old > 0 ? `${old} pods of the killed executor not replaced` : undefined;
    },
  });
  const safety = await monitor.stop();
  // Retry-After: after a 429 the same write comes again no sooner than the second it was told. The same write: method,
  // path, client and body. The scheduler and an executor both write a pod's status, and one client may send another
  // write to the same path meanwhile (a newer status), which is not the retry; events all share one path.
  const gaps: number[] = [];
  const early: string[] = [];
  const log = proxy.log.filter((r) => r.at >= stormAt);
  log.forEach((r, i) => {
    if (r.injected !== 429 || r.path.endsWith('/events')) return;
    const next = log.slice(i + 1).find((n) => n.method === r.method && n.path === r.path && n.userAgent === r.userAgent && n.body === r.body);
    if (!next) return;
    gaps.push(next.at - r.at);
    // 1 s asked; a few ms of slack for the two clocks (the client's timer and the proxy's receipt).
    if (next.at - r.at < 990) early.push(`${r.method} ${r.path} (${r.userAgent}) again after ${next.at - r.at} ms`);
  });
  const final = checkInvariants(await sample());
  const writes = log.filter((r) => r.at < calmAt && WRITES.has(r.method)).length;
  console.log(
    formatFigures('kube-write-storm', final, {
      pods: 12,
      stormS: seconds(calmAt - stormAt),
      writes,
      faults429: injected[429],
      faults503: injected[503],
      faults500: injected[500],
      retriedAfter429: gaps.length,
      minGapAfter429Ms: gaps.length ? Math.min(...gaps) : -1,
      convergedAfterCalmS: seconds(Math.max(0, stormAt + recovered.recoveredMs - calmAt)),
      safetySamples: safety.samples,
      violations: safety.violations.length,
    }),
  );
  expect(safety.violations).toEqual([]);
  expect(final.holds).toBe(true);
  expect(injected[429] + injected[503] + injected[500]).toBeGreaterThan(10);
  expect(t.sb.scheduler.readiness().ready).toBe(true);
  expect(gaps.length).toBeGreaterThan(0);
  expect(early).toEqual([]);
}, 240_000);
