// Chaos: the scheduler restarts into trouble. Real `kube-mesos scheduler` processes (scheduler-proc.ts) on an emulator
// of our own, reaching the API server through the fault proxy; the safety invariant is sampled from the first fault
// to the end of the file and must hold at every sample.
//   framework-id read failing with 503 at start: the scheduler is killed and restarts while every read of its state
//   ConfigMap answers 503 → it retries with backoff, never subscribes as a new framework, kills no task.
//   failover_timeout expiry: the scheduler is away past its failover timeout (the emulator lets it elapse now) and
//   Mesos removes the framework, killing its tasks → on return the scheduler registers anew, says so in its log, and
//   every pod is replaced, each once, nothing twice.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { SafetyMonitor, checkInvariants, formatFigures, waitForInvariants, type InvariantInput } from '../support/invariants.js';
import { controlPlaneInfo, createTestNamespace, kubectl, waitFor, type TestNamespace } from '../support/kube.js';
import { ROOT } from '../support/sandbox.js';
import { activeTasks, completedTasks, mesosState, plainDeployment, sampler, seconds } from './chaos.js';
import { startSchedulerProc, type SchedulerProc } from './scheduler-proc.js';

const suffix = randomBytes(3).toString('hex');
const schedulerName = `kube-mesos-chaos-restart-${suffix}`;
const STATE_CM = 'kube-mesos-state';
const logDir = mkdtempSync(join(tmpdir(), 'kube-mesos-chaos-restart-logs-'));
let emu: RunningEmulator;
let ns: TestNamespace;
let proxy: FaultProxy;
let sample: () => Promise<InvariantInput>;
let monitor: SafetyMonitor | undefined;
const procs: SchedulerProc[] = [];
const uidsSeen = new Set<string>();

function scheduler(name: string): SchedulerProc {
  const p = startSchedulerProc({
    name,
    masterUrl: emu.url,
    kubeconfig: proxy.kubeconfigPath,
    namespace: ns.name,
    logDir,
    // pool.executorKubeconfig: the proxy speaks plain HTTP and cannot carry a node's client certificate.
    set: [`kube.schedulerName=${schedulerName}`, `pool.executorKubeconfig=${proxy.kubeconfigPath}`, 'pool.kubeletMode=hollow', `pool.executorCommand='${process.execPath}' '${join(ROOT, 'dist/cli/main.js')}' executor`, 'placement.cycleInterval=50ms'],
  });
  procs.push(p);
  return p;
}

const subscribedId = (p: SchedulerProc) => p.lines.find((l) => l.msg === 'subscribed to Mesos')?.frameworkId as string | undefined;

async function storedFrameworkId(): Promise<string | undefined> {
  const r = await kubectl(['-n', ns.name, 'get', 'configmap', STATE_CM, '-o', 'jsonpath={.data.framework-id}'], { kubeconfig: controlPlaneInfo().kubeconfigPath, allowFailure: true });
  return r.code === 0 ? r.stdout.trim() || undefined : undefined;
}

beforeAll(async () => {
  ns = await createTestNamespace('chaos-restart');
  proxy = await startFaultProxy(mkdtempSync(join(tmpdir(), 'kube-mesos-chaos-restart-')));
  emu = await startEmulator({
    listen: '127.0.0.1:0',
    agents: 2,
    zones: ['a'],
    region: 'r1',
    agentResources: 'cpus:4;mem:8192;disk:10000;ports:[31000-31100]',
    executorMode: 'process',
    hostnamePrefix: `chaos-restart-${suffix}-`,
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    workDir: mkdtempSync(join(tmpdir(), 'kube-mesos-chaos-restart-emu-')),
  });
  const base = sampler(emu.url, ns.name);
  sample = async () => {
    const s = await base();
    for (const p of s.pods) uidsSeen.add(p.metadata.uid);
    return s;
  };
  const first = scheduler('first');
  await waitFor(() => first.has('subscribed to Mesos'), { timeoutMs: 90_000, what: 'the first scheduler to subscribe' });
  const r = await kubectl(['-n', ns.name, 'apply', '-f', '-'], { kubeconfig: controlPlaneInfo().kubeconfigPath, input: plainDeployment('web', schedulerName, 6) });
  if (r.code !== 0) throw new Error(r.stderr);
  await waitForInvariants(sample, { sinceMs: Date.now(), timeoutMs: 120_000 });
}, 240_000);

afterAll(async () => {
  await monitor?.stop();
  for (const p of procs) await p.stop();
  await emu?.stop();
  await proxy?.close();
  await ns?.delete();
}, 90_000);

it('framework-id read answering 503 at start: retried with backoff, same framework, no task killed', async () => {
  const [first] = procs;
  const fid = subscribedId(first)!;
  expect(await waitFor(storedFrameworkId, { timeoutMs: 30_000, what: 'the framework id stored' })).toBe(fid);
  const tasksBefore = new Set(activeTasks(await mesosState(emu.url)).map((x) => x.id));
  monitor = new SafetyMonitor(sample, 250);
  await first.kill9();
  const failing = proxy.add({ match: (r) => r.method === 'GET' && r.path.endsWith(`/configmaps/${STATE_CM}`), status: 503, times: 4 });
  const startedAt = Date.now();
  const second = scheduler('second');
  await waitFor(() => second.has('subscribed to Mesos'), { timeoutMs: 90_000, what: `the restarted scheduler to subscribe (log: ${logDir})` });
  const subscribeS = seconds(Date.now() - startedAt);
  const retries = second.lines.filter((l) => l.msg === 'cannot read the stored framework id; not subscribing until it is known');
  const waits = retries.map((l) => Number(l.retryInMs));
  // every run of the storm's check: the original tasks RUNNING at each sample, no new framework
  const recovered = await waitForInvariants(sample, {
    sinceMs: startedAt,
    timeoutMs: 60_000,
    requireReachable: true,
    extra: (s) => {
      const notRunning = s.tasks.filter((x) => tasksBefore.has(x.id) && x.state !== 'TASK_RUNNING');
      return notRunning.length ? `${notRunning.length} original tasks not RUNNING` : undefined;
    },
  });
  const state = await mesosState(emu.url);
  const final = checkInvariants(await sample());
  console.log(formatFigures('framework-id-503', final, { pods: 6, injected503: failing.injected(), retries: retries.length, retryWaitsMs: waits.join('/'), subscribeS, recoverS: seconds(recovered.recoveredMs), frameworks: state.frameworks.length, tasksEnded: completedTasks(state).length, safetySamples: monitor.samples }));
  expect(failing.injected()).toBe(4);
  expect(retries).toHaveLength(4);
  // backoff: each wait at least half the doubled base (equal jitter), growing
  waits.forEach((w, i) => expect(w).toBeGreaterThanOrEqual(250 * 2 ** i));
  expect(subscribedId(second)).toBe(fid);
  expect(state.frameworks.map((f) => f.id)).toEqual([fid]);
  expect(completedTasks(state)).toEqual([]);
  expect(new Set(activeTasks(state).map((x) => x.id))).toEqual(tasksBefore);
  expect(monitor.violations).toEqual([]);
}, 150_000);

it('failover_timeout expiry while the scheduler is away: it registers anew, says so, and every pod is replaced once', async () => {
  const second = procs[1];
  const fid = subscribedId(second)!;
  const podsBefore = (await sample()).pods.map((p) => p.metadata.uid);
  const oldTasks = new Set(activeTasks(await mesosState(emu.url)).map((x) => x.id));
  const uidsBefore = uidsSeen.size;
  await second.kill9();
  await waitFor(async () => (await mesosState(emu.url)).frameworks.find((f) => f.id === fid)?.active === false, { timeoutMs: 30_000, what: 'the master to see the framework disconnected' });
  const res = await fetch(`${emu.url}/emulator/frameworks/${encodeURIComponent(fid)}/expire`, { method: 'POST' });
  expect(res.status).toBe(200);
  const expiredAt = Date.now();
  // Mesos removed the framework: its tasks are gone from the master (killed with it).
  const afterExpiry = (await (await fetch(`${emu.url}/state`)).json()) as { frameworks: { id: string }[]; completed_frameworks: { id: string }[] };
  const stillActive = activeTasks(await mesosState(emu.url)).filter((x) => oldTasks.has(x.id)).length;
  const third = scheduler('third');
  const recovered = await waitForInvariants(sample, {
    sinceMs: expiredAt,
    timeoutMs: 120_000,
    requireReachable: true,
    extra: (s) => {
      const old = s.pods.filter((p) => podsBefore.includes(p.metadata.uid));
      const running = s.pods.filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp).length;
      return old.length ? `${old.length} pods of the removed framework not replaced` : running !== 6 ? `${running}/6 Running` : undefined;
    },
  });
  const newId = subscribedId(third);
  const said = third.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('Mesos removed this framework'));
  const final = checkInvariants(await sample());
  const safety = await monitor!.stop();
  monitor = undefined;
  console.log(formatFigures('failover-timeout-expiry', final, { pods: 6, oldTasks: oldTasks.size, oldTasksActiveAfterExpiry: stillActive, replacements: uidsSeen.size - uidsBefore, recoverS: seconds(recovered.recoveredMs), safetySamples: safety.samples, violations: safety.violations.length }));
  expect(oldTasks.size).toBe(6);
  expect(stillActive).toBe(0);
  expect(afterExpiry.frameworks.map((f) => f.id)).not.toContain(fid);
  expect(afterExpiry.completed_frameworks.map((f) => f.id)).toContain(fid);
  expect(said).toMatchObject({ frameworkId: fid });
  expect(newId).toBeDefined();
  expect(newId).not.toBe(fid);
  expect(await waitFor(async () => (await storedFrameworkId()) === newId, { timeoutMs: 30_000, what: 'the new framework id stored' })).toBe(true);
  expect(uidsSeen.size - uidsBefore).toBe(6);
  expect(safety.violations).toEqual([]);
  console.log(`chaos scheduler-restart safety: samples=${safety.samples} violations=${safety.violations.length}`);
}, 200_000);
