import { DEFAULT_EXTENDED } from '../placement/filters/extended-resources.js';
import type { AgentInfo } from '../mesos/types.js';
import { KubeConfig } from '@kubernetes/client-node';
import { HeldEventsDriver, obtainNodeCredential } from './node-identity.js';
import { InformerPodSource, nodePodInformer } from './pod-source.js';
import { KubeClient } from '../kube/client.js';
import { KubeHttp, type KubeHttpOptions } from '../kube/http.js';
import { ExecutorClient, ExecutorEnvError, executorOptionsFromEnv } from '../mesos/executor.js';
import type { ExecutorTransport } from '../mesos/executor-transport.js';
import type { Logger } from '../telemetry/log.js';
import { userAgent } from '../telemetry/build.js';
import { KUBELET_SUPERVISION_DEFAULTS, parseExecutorEnv, type ExecutorEnv } from './env.js';
import { KubeletExecutor, type ExecutorExit, type Kubelet } from './executor.js';
import { HollowKubelet } from './hollow-kubelet.js';
import { createKubeletApi } from './kube-api.js';
import { parseNodeRuntimeEnv, type NodeRuntimeEnv } from './node-env.js';
import { NodeRuntime } from './node-runtime.js';
import type { ExecutorMetrics } from './metrics.js';
import type { PodSource } from './pod-source.js';
import { detectMachine, GiveUpDriver, kubeletFlags, openTasks, RealKubelet, type KubeletSpawner, type MachineResources } from './real-kubelet.js';
import { LABEL_AGENT_ID } from '../names.js';

/** The executor's environment is unusable: every problem, each naming its variable. */
export class ExecutorConfigError extends Error {
  override name = 'ExecutorConfigError';
  constructor(readonly problems: string[]) {
    super(`bad executor environment:\n  ${problems.join('\n  ')}`);
  }
}

export interface ParsedExecutorEnv {
  kube: ExecutorEnv;
  mesos: ReturnType<typeof executorOptionsFromEnv>;
  /** Real mode: the node-local runtime settings (from the agent's environment). */
  node?: NodeRuntimeEnv;
}

/** Both halves of the environment (KUBE_MESOS_* from the scheduler, MESOS_* from the agent); throws ExecutorConfigError. */
export function parseFullEnv(env: Record<string, string | undefined>): ParsedExecutorEnv {
  const problems: string[] = [];
  const kube = parseExecutorEnv(env);
  if (!kube.ok) problems.push(...kube.errors);
  let mesos: ParsedExecutorEnv['mesos'] | undefined;
  try {
    mesos = executorOptionsFromEnv(env);
  } catch (err) {
    if (!(err instanceof ExecutorEnvError)) throw err;
    problems.push(...err.problems.map((p) => `${p.variable}: ${p.message}`));
  }
  if (kube.ok && kube.value.kubeletMode === 'real' && mesos && !mesos.sandbox) problems.push('KUBE_MESOS_KUBELET_MODE=real needs MESOS_SANDBOX (or MESOS_DIRECTORY): the kubelet\'s root dir, certificates and logs go there');
  const node = kube.ok && kube.value.kubeletMode === 'real' ? parseNodeRuntimeEnv(env) : undefined;
  if (node && !node.ok) problems.push(...node.errors);
  if (problems.length > 0 || !kube.ok || !mesos) throw new ExecutorConfigError(problems);
  return { kube: kube.value, mesos, node: node?.ok ? node.value : undefined };
}

/** Loads a kubeconfig file into a KubeHttp (the shared opt-out credential); throws ExecutorConfigError with the path on failure. */
export function kubeHttpFromFile(path: string, opts?: KubeHttpOptions): KubeHttp {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
    return new KubeHttp(kc, { userAgent: userAgent('kube-mesos-executor'), ...opts });
  } catch (err) {
    throw new ExecutorConfigError([`KUBE_MESOS_KUBECONFIG=${path}: ${(err as Error).message}`]);
  }
}

export interface RunExecutorDeps {
  env: ParsedExecutorEnv;
  /**
   * A shared API transport and pod source (in-process executors of a test harness). Without it the executor builds its
   * own: from KUBE_MESOS_KUBECONFIG when set (pool.executorKubeconfig, the insecure opt-out), else from the node
   * certificate it obtains through the scheduler (node-identity.ts).
   */
  shared?: { http: KubeHttp; pods: PodSource };
  /** Options of the executor's own transport (e.g. the metrics registry). */
  httpOptions?: KubeHttpOptions;
  /** How often an unanswered CSR is sent again (default 5 s). */
  csrResendMs?: number;
  log: Logger;
  /** In-process mode: the emulator's transport instead of HTTP to the agent. */
  transport?: ExecutorTransport;
  shutdownTimeoutMs?: number;
  metrics?: ExecutorMetrics;
  /** Real kubelet mode: what the machine has (default: this host's CPUs and memory) and how the kubelet is started. */
  machine?: MachineResources;
  spawnKubelet?: KubeletSpawner;
}

/**
 * Connects to the agent, gets the executor its API credential (see RunExecutorDeps.shared), then wires the Kubernetes
 * calls and the kubelet (hollow, or a supervised real one) into one KubeletExecutor and runs it. Without a credential
 * the tasks LAUNCHed meanwhile fail with the reason and the executor ends with code 1.
 */
export async function runExecutor(deps: RunExecutorDeps, signal: AbortSignal): Promise<ExecutorExit> {
  const { kube, mesos } = deps.env;
  const log = deps.log.child({ executor: mesos.executorId });
  const client = new ExecutorClient({ ...mesos, transport: deps.transport, log: log.child({ component: 'executor-client' }) });
  const held = new HeldEventsDriver(client);
  if (deps.shared) return runWithApi(deps, { ...deps.shared, kubeconfigPath: kube.kubeconfig }, held, log, signal);
  let kc: KubeConfig;
  let kubeconfigPath = kube.kubeconfig;
  if (kubeconfigPath) {
    kc = new KubeConfig();
    try {
      kc.loadFromFile(kubeconfigPath);
    } catch (err) {
      throw new ExecutorConfigError([`KUBE_MESOS_KUBECONFIG=${kubeconfigPath}: ${(err as Error).message}`]);
    }
  } else {
    held.connect();
    const cred = await obtainNodeCredential({ channel: client, nodeName: kube.nodeName, sandbox: mesos.sandbox, timeoutMs: kube.certificateTimeoutMs, resendMs: deps.csrResendMs ?? 5000, log, signal });
    if (!cred.ok) {
      const failed = await held.failHeld(`no node identity for ${kube.nodeName}: ${cred.error}`);
      log.error({ error: cred.error, failedTasks: failed }, 'no node certificate: exiting');
      await client.stop().catch(() => undefined);
      return { code: signal.aborted ? 0 : 1, reason: `no node certificate: ${cred.error}` };
    }
    kc = cred.value.kubeConfig;
    kubeconfigPath = cred.value.kubeconfigPath;
  }
  const http = new KubeHttp(kc, { userAgent: userAgent('kube-mesos-executor'), ...deps.httpOptions });
  const informer = nodePodInformer(http, kube.nodeName, { log });
  informer.start();
  try {
    return await runWithApi(deps, { http, pods: new InformerPodSource(informer), kubeconfigPath }, held, log, signal);
  } finally {
    await informer.stop();
    http.close();
  }
}

async function runWithApi(deps: RunExecutorDeps, k: { http: KubeHttp; pods: PodSource; kubeconfigPath: string | undefined }, client: HeldEventsDriver, log: Logger, signal: AbortSignal): Promise<ExecutorExit> {
  const { kube, mesos, node } = deps.env;
  const api = createKubeletApi(new KubeClient(k.http));
  const real = kube.kubeletMode === 'real';
  // Real mode: a kubelet that cannot be kept running fails every open task and ends the executor through this driver.
  const driver = real ? new GiveUpDriver(client) : undefined;
  // Node capacity: what the scheduler passed, else the agent's total resources from SUBSCRIBED (cpu, memory).
  const capacityFor = (agent?: AgentInfo): Record<string, string> => ({ ...agentCapacity(agent), ...kube.capacity });
  let kubelet: (agent?: AgentInfo) => Kubelet;
  if (real) {
    kubelet = (agent) => {
      const plan = kubeletFlags({
        nodeName: kube.nodeName,
        labels: kube.labels,
        taints: kube.taints,
        capacity: capacityFor(agent),
        kubeconfig: k.kubeconfigPath ?? '',
        sandbox: mesos.sandbox ?? '',
        machine: deps.machine ?? detectMachine(),
        extraFlags: kube.kubeletExtraFlags,
      });
      if (!plan.ok) {
        log.error({ error: plan.error }, 'cannot compute the kubelet flags');
        const message = `cannot compute the kubelet flags: ${plan.error}`;
        return { start: () => void driver!.failAll(openTasks(executor.taskStates), message), stop: async () => undefined };
      }
      for (const w of plan.value.warnings) log.warn(w);
      log.info({ args: plan.value.args, allocatable: plan.value.allocatable, labelsToPatch: plan.value.labelsToPatch, runtime: node?.runtime ?? 'none' }, 'real kubelet mode');
      const onGiveUp = (msg: string) => void driver!.failAll(openTasks(executor.taskStates), msg);
      if (node?.runtime === 'containerd') {
        return new NodeRuntime({
          nodeName: kube.nodeName,
          executorId: mesos.executorId,
          sandbox: mesos.sandbox ?? '',
          env: node,
          kubelet: { command: kube.kubeletCommand ?? 'kubelet', args: plan.value.args, paths: plan.value.paths, labelsToPatch: plan.value.labelsToPatch },
          policy: kube.kubeletSupervision ?? KUBELET_SUPERVISION_DEFAULTS,
          api,
          log,
          onGiveUp,
          // Under its own identity the kubelet asks for a serving certificate (the scheduler approves it, the cluster CA
          // signs it); with the shared opt-out credential nobody would approve it, so it keeps a self-signed one.
          serverTlsBootstrap: !kube.kubeconfig,
        });
      }
      return new RealKubelet({
        nodeName: kube.nodeName,
        command: kube.kubeletCommand ?? 'kubelet',
        args: plan.value.args,
        paths: plan.value.paths,
        policy: kube.kubeletSupervision ?? KUBELET_SUPERVISION_DEFAULTS,
        labelsToPatch: plan.value.labelsToPatch,
        api,
        spawn: deps.spawnKubelet,
        log,
        onGiveUp: (msg) => void driver!.failAll(openTasks(executor.taskStates), msg),
      });
    };
  } else {
    kubelet = (agent) =>
      new HollowKubelet({ nodeName: kube.nodeName, labels: kube.labels, taints: kube.taints, capacity: capacityFor(agent), api, pods: k.pods, log, metrics: deps.metrics });
  }
  const executor = new KubeletExecutor({
    config: kube,
    driver: driver ?? client,
    api,
    pods: k.pods,
    executorId: mesos.executorId,
    agentId: kube.labels[LABEL_AGENT_ID],
    shutdownTimeoutMs: deps.shutdownTimeoutMs ?? Math.max(1000, mesos.shutdownGracePeriodMs - 1000),
    log,
    metrics: deps.metrics,
    kubelet,
  });
  return executor.run(signal);
}

/**
 * The agent's total resources as Node capacity quantities, as a kubelet on that machine reports them: cpu (`8000m`),
 * memory (`16384Mi`), ephemeral-storage from `disk` (`100000Mi`), and Mesos scalars mapped to extended resources
 * (`gpus` → `nvidia.com/gpu`).
 */
export function agentCapacity(agent: AgentInfo | undefined, extended: Readonly<Record<string, string>> = DEFAULT_EXTENDED): Record<string, string> {
  const out: Record<string, string> = {};
  const sums = new Map<string, number>();
  for (const r of agent?.resources ?? []) if (r.scalar) sums.set(r.name, (sums.get(r.name) ?? 0) + r.scalar.value);
  const cpus = sums.get('cpus') ?? 0;
  const mem = sums.get('mem') ?? 0;
  const disk = sums.get('disk') ?? 0;
  if (cpus > 0) out.cpu = `${Math.round(cpus * 1000)}m`;
  if (mem > 0) out.memory = `${Math.round(mem)}Mi`;
  if (disk > 0) out['ephemeral-storage'] = `${Math.round(disk)}Mi`;
  for (const [kube, mesos] of Object.entries(extended)) {
    const n = Math.floor(sums.get(mesos) ?? 0);
    if (n > 0) out[kube] = String(n);
  }
  return out;
}
