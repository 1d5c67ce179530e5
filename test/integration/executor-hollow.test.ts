// The kubelet executor against the real control plane (Node authorizer, NodeRestriction): a scripted in-test agent (an
// ExecutorTransport) drives the real ExecutorClient and plays the scheduler's part with the scheduler's own code — it
// answers the executor's CSR MESSAGE with a certificate issued through the certificates API, and binds each pod on its
// TASK_STARTING. In process mode the executor runs as system:node:<name> from that certificate; in-process mode shares
// the test's transport. The executor runs the hollow kubelet for its node and reports task states.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoordinationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { InformerPodSource, schedulerPodInformer } from '../../src/executor/pod-source.js';
import { parseFullEnv, runExecutor } from '../../src/executor/runtime.js';
import type { ExecutorExit } from '../../src/executor/executor.js';
import { KubeHttp } from '../../src/kube/http.js';
import { bindPodWithAnnotations, type BindingOutcome } from '../../src/kube/binding.js';
import { KubeClient } from '../../src/kube/client.js';
import { issueNodeCertificate } from '../../src/kube/node-certificates.js';
import { decodeIdentityMessage, encodeIdentityMessage } from '../../src/kube/node-identity-messages.js';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResilientInformer } from '../../src/kube/informer.js';
import type { ExecutorTransport } from '../../src/mesos/executor-transport.js';
import type { ExecutorCall, ExecutorEvent, TaskInfo, TaskStatus } from '../../src/mesos/types.js';
import { silentLogger } from '../../src/telemetry/log.js';
import { controlPlaneInfo, createTestNamespace, testKubeConfig, waitFor, type TestNamespace } from '../support/kube.js';

/**
 * A Mesos agent reduced to its executor API (records UPDATEs, acknowledges them, lets the test send events), and the
 * scheduler behind it: CSR MESSAGEs are answered with a certificate, the first TASK_STARTING of a task binds its pod
 * (a Binding that cannot be written kills the task, as the scheduler does).
 */
class ScriptedAgent implements ExecutorTransport {
  readonly updates: TaskStatus[] = [];
  readonly bindings = new Map<string, BindingOutcome>();
  certificatesIssued = 0;
  private onEvent: ((ev: ExecutorEvent) => void) | undefined;
  private onClose: ((err?: Error) => void) | undefined;
  private readonly admin = new KubeClient(testKubeConfig());

  constructor(
    private readonly agentId: string,
    private readonly nodeName: string,
    private readonly pods: () => Map<string, { namespace: string; name: string; uid: string }>,
  ) {}

  private async answerCsr(data: Uint8Array): Promise<void> {
    const m = decodeIdentityMessage(data);
    if (!m.ok || m.value.type !== 'NODE_CSR') throw new Error(`unexpected executor MESSAGE: ${m.ok ? m.value.type : m.error}`);
    const r = await issueNodeCertificate(this.admin, { nodeName: this.nodeName, csrPem: m.value.csr, requester: 'executor-hollow test' });
    if (!r.ok) throw new Error(r.error);
    this.certificatesIssued++;
    const cluster = testKubeConfig().getCurrentCluster()!;
    const caData = cluster.caData ?? (cluster.caFile ? (await import('node:fs')).readFileSync(cluster.caFile).toString('base64') : undefined);
    this.send({ type: 'MESSAGE', message: { data: encodeIdentityMessage({ type: 'NODE_CERTIFICATE', nodeName: this.nodeName, certificate: r.certificatePem, server: cluster.server, caData }) } });
  }

  private async bind(status: TaskStatus): Promise<void> {
    const taskId = status.task_id.value;
    const pod = this.pods().get(taskId);
    if (!pod || this.bindings.has(taskId)) return;
    const annotations = { 'kube-mesos.io/task-id': taskId, 'kube-mesos.io/agent-id': this.agentId, 'kube-mesos.io/executor-id': `kubelet-${this.agentId}` };
    const out = await bindPodWithAnnotations(this.admin, { ...pod, nodeName: this.nodeName, annotations }, { attempts: 2 });
    this.bindings.set(taskId, out);
    if (out.kind === 'rejected' || out.kind === 'failed') this.send({ type: 'KILL', kill: { task_id: status.task_id } });
  }

  closeAdmin(): void {
    this.admin.http.close();
  }

  async subscribe(call: ExecutorCall, onEvent: (ev: ExecutorEvent) => void, onClose: (err?: Error) => void): Promise<void> {
    this.onEvent = onEvent;
    this.onClose = onClose;
    queueMicrotask(() =>
      onEvent({
        type: 'SUBSCRIBED',
        subscribed: {
          executor_info: { executor_id: call.executor_id, framework_id: call.framework_id },
          framework_info: { user: 'root', name: 'kube-mesos', id: call.framework_id },
          agent_info: { id: { value: this.agentId }, hostname: 'agent.test' },
        } as never,
      }),
    );
  }

  async call(call: ExecutorCall): Promise<void> {
    if (call.type === 'MESSAGE') {
      this.answerCsr(call.message.data).catch((err: unknown) => process.stderr.write(`scripted scheduler: ${String(err)}\n`));
      return;
    }
    if (call.type !== 'UPDATE') return;
    const status = call.update.status;
    this.updates.push(status);
    if (status.state === 'TASK_STARTING') this.bind(status).catch((err: unknown) => process.stderr.write(`scripted scheduler: ${String(err)}\n`));
    queueMicrotask(() => this.onEvent?.({ type: 'ACKNOWLEDGED', acknowledged: { task_id: status.task_id, uuid: status.uuid! } }));
  }

  close(): void {
    const c = this.onClose;
    this.onClose = undefined;
    c?.();
  }

  send(ev: ExecutorEvent): void {
    this.onEvent?.(ev);
  }

  states(taskId: string): string[] {
    return this.updates.filter((u) => u.task_id.value === taskId).map((u) => u.state);
  }
}

const core = () => testKubeConfig().makeApiClient(CoreV1Api);

function podManifest(name: string, annotations: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, annotations },
    spec: { schedulerName: 'kube-mesos', terminationGracePeriodSeconds: 5, containers: [{ name: 'main', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
  };
}

function taskFor(pod: V1Pod, taskId: string): TaskInfo {
  return {
    name: pod.metadata!.name!,
    task_id: { value: taskId },
    agent_id: { value: 'S-it' },
    labels: {
      labels: [
        { key: 'kube-mesos.io/pod-namespace', value: pod.metadata!.namespace! },
        { key: 'kube-mesos.io/pod-name', value: pod.metadata!.name! },
        { key: 'kube-mesos.io/pod-uid', value: pod.metadata!.uid! },
      ],
    },
    kill_policy: { grace_period: { nanoseconds: 2e9 } },
  };
}

describe.each([
  ['its own node certificate and node informer (process mode)', 'node'],
  ['a shared transport and scheduler informer (in-process mode)', 'shared'],
] as const)('kubelet executor, hollow mode, %s', (_label, sourceKind) => {
  let ns: TestNamespace;
  let agent: ScriptedAgent;
  let http: KubeHttp | undefined;
  let informer: ResilientInformer<V1Pod> | undefined;
  const sandbox = mkdtempSync(join(tmpdir(), 'executor-it-'));
  const launched = new Map<string, { namespace: string; name: string; uid: string }>();
  let abort: AbortController;
  let running: Promise<ExecutorExit>;
  const nodeName = `exec-it-${randomBytes(3).toString('hex')}`;
  const agentId = `S-${nodeName}`;
  const requests: string[] = [];

  beforeAll(async () => {
    ns = await createTestNamespace(`executor-${sourceKind}`);
    const env = parseFullEnv({
      MESOS_AGENT_ENDPOINT: '127.0.0.1:1',
      MESOS_FRAMEWORK_ID: 'fw-it',
      MESOS_EXECUTOR_ID: `kubelet-${agentId}`,
      MESOS_DIRECTORY: sandbox,
      MESOS_SANDBOX: sandbox,
      KUBE_MESOS_NODE_NAME: nodeName,
      KUBE_MESOS_NODE_LABELS: JSON.stringify({
        'kubernetes.io/hostname': nodeName,
        'topology.kubernetes.io/zone': 'zone-a',
        'topology.kubernetes.io/region': 'r1',
        'kube-mesos.io/agent-id': agentId,
        'kube-mesos.io/attribute-rack': 'r1',
      }),
      KUBE_MESOS_NODE_TAINTS: JSON.stringify([{ key: 'kube-mesos.io/test', value: 'x', effect: 'PreferNoSchedule' }]),
      KUBE_MESOS_NODE_CAPACITY: '{"cpu":"8","memory":"16384Mi","pods":"110"}',
      ...(sourceKind === 'shared' ? { KUBE_MESOS_KUBECONFIG: controlPlaneInfo().kubeconfigPath } : {}),
      KUBE_MESOS_KUBELET_MODE: 'hollow',
    });
    agent = new ScriptedAgent(agentId, nodeName, () => launched);
    abort = new AbortController();
    if (sourceKind === 'node') {
      running = runExecutor({ env, log: silentLogger(), transport: agent, shutdownTimeoutMs: 10_000 }, abort.signal);
      return;
    }
    const shared = new KubeHttp(testKubeConfig());
    http = shared;
    const request = shared.request.bind(shared);
    shared.request = (method, path, opts) => {
      requests.push(`${method} ${path}`);
      return request(method, path, opts);
    };
    informer = schedulerPodInformer(shared, 'kube-mesos');
    informer.start();
    running = runExecutor({ env, shared: { http: shared, pods: new InformerPodSource(informer) }, log: silentLogger(), transport: agent, shutdownTimeoutMs: 10_000 }, abort.signal);
  });

  afterAll(async () => {
    abort?.abort();
    await running;
    await informer?.stop();
    await core().deleteNode({ name: nodeName }).catch(() => {});
    await ns?.delete();
    http?.close();
    agent?.closeAdmin();
  });

  async function launch(name: string, annotations: Record<string, string> = {}): Promise<{ pod: V1Pod; taskId: string }> {
    const pod = await core().createNamespacedPod({ namespace: ns.name, body: podManifest(name, annotations) });
    const taskId = `${name}.${randomBytes(2).toString('hex')}`;
    launched.set(taskId, { namespace: ns.name, name, uid: pod.metadata!.uid! });
    agent.send({ type: 'LAUNCH', launch: { task: taskFor(pod, taskId) } });
    return { pod, taskId };
  }

  const until = (taskId: string, state: string) => waitFor(() => agent.states(taskId).includes(state), { timeoutMs: 20_000, what: `${taskId} ${state}; saw ${agent.states(taskId).join(',')}` });

  it('registers the Node with labels, taints and capacity, Ready, no not-ready taint, with a Lease', async () => {
    const node = await waitFor(
      async () => {
        const n = await core().readNode({ name: nodeName });
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        const notReadyTaint = (n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/not-ready');
        return ready && !notReadyTaint ? n : undefined;
      },
      { timeoutMs: 20_000, what: 'the Node Ready without the not-ready taint' },
    );
    expect(node.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': nodeName,
      'topology.kubernetes.io/zone': 'zone-a',
      'topology.kubernetes.io/region': 'r1',
      'kube-mesos.io/agent-id': agentId,
      'kube-mesos.io/attribute-rack': 'r1',
    });
    expect(node.spec?.taints).toEqual([{ key: 'kube-mesos.io/test', value: 'x', effect: 'PreferNoSchedule' }]);
    expect(node.status?.allocatable).toMatchObject({ cpu: '8', memory: '16Gi', pods: '110' }); // the API server canonicalizes 16384Mi
    const leases = testKubeConfig().makeApiClient(CoordinationV1Api);
    const lease = await waitFor(() => leases.readNamespacedLease({ name: nodeName, namespace: 'kube-node-lease' }).catch(() => undefined), { timeoutMs: 20_000, what: `the Lease of ${nodeName}` });
    expect(lease.spec?.holderIdentity).toBe(nodeName);
    expect(lease.spec?.leaseDurationSeconds).toBe(40);
    // Three writes register a new Node: the create carries the status (the API server keeps it), the not-ready taint the
    // admission plugin adds is cleared, the Lease is created without a failed patch first.
    if (sourceKind === 'shared') {
      const writes = requests.filter((r) => !r.startsWith('GET') && (r.includes('/nodes') || r.includes('/leases')));
      expect(writes).toEqual(['POST /api/v1/nodes', `PATCH /api/v1/nodes/${nodeName}`, 'POST /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases']);
    }
  });

  if (sourceKind === 'node') {
    it('runs as system:node:<name> from one certificate; its kubeconfig is 0600 in a 0700 directory of the sandbox', () => {
      expect(agent.certificatesIssued).toBe(1);
      expect(readdirSync(sandbox)).toEqual(['node-identity']);
      expect(statSync(join(sandbox, 'node-identity')).mode & 0o777).toBe(0o700);
      expect(statSync(join(sandbox, 'node-identity', 'kubeconfig')).mode & 0o777).toBe(0o600);
    });
  }

  it('LAUNCH: TASK_STARTING, the scheduler binds with the three annotations, then TASK_RUNNING (healthy)', async () => {
    const { pod, taskId } = await launch('web');
    await until(taskId, 'TASK_RUNNING');
    expect(agent.states(taskId)).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    const running = agent.updates.find((u) => u.task_id.value === taskId && u.state === 'TASK_RUNNING')!;
    expect(running.healthy).toBe(true);
    expect(running.source).toBe('SOURCE_EXECUTOR');
    const live = await core().readNamespacedPod({ name: 'web', namespace: ns.name });
    expect(live.metadata?.uid).toBe(pod.metadata?.uid);
    expect(live.spec?.nodeName).toBe(nodeName);
    expect(live.metadata?.annotations).toMatchObject({
      'kube-mesos.io/task-id': taskId,
      'kube-mesos.io/agent-id': agentId,
      'kube-mesos.io/executor-id': `kubelet-${agentId}`,
    });
    expect(live.status?.phase).toBe('Running');
    expect(live.status?.podIP).toMatch(/^10\./);
    expect(live.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // The scheduler's ONE write binds and annotates; the hollow kubelet's one status patch is the executor's only write.
    expect(agent.bindings.get(taskId)).toEqual({ kind: 'bound' });
    if (sourceKind === 'shared') {
      expect(requests.filter((r) => r.startsWith('POST') || r.startsWith('PATCH') || r.startsWith('PUT') || r.startsWith('DELETE')).filter((r) => r.includes('/pods/web'))).toEqual([
        `PATCH /api/v1/namespaces/${ns.name}/pods/web/status`,
      ]);
    }
  });

  it.each([
    ['0', 'TASK_FINISHED', 'Succeeded'],
    ['1', 'TASK_FAILED', 'Failed'],
  ])('hollow-exit-code %s gives %s', async (code, state, phase) => {
    const { taskId } = await launch(`job-${code}`, { 'kube-mesos.io/hollow-exit-code': code });
    await until(taskId, state);
    expect(agent.states(taskId)).toEqual(['TASK_STARTING', 'TASK_RUNNING', state]);
    const live = await core().readNamespacedPod({ name: `job-${code}`, namespace: ns.name });
    expect(live.status?.phase).toBe(phase);
  });

  it('KILL deletes the pod and gives TASK_KILLING then TASK_KILLED', async () => {
    const { taskId } = await launch('victim');
    await until(taskId, 'TASK_RUNNING');
    agent.send({ type: 'KILL', kill: { task_id: { value: taskId } } });
    await until(taskId, 'TASK_KILLED');
    expect(agent.states(taskId)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    await expect(core().readNamespacedPod({ name: 'victim', namespace: ns.name })).rejects.toMatchObject({ code: 404 });
  });

  it('a pod deleted by a user gives TASK_KILLED', async () => {
    const { taskId } = await launch('doomed');
    await until(taskId, 'TASK_RUNNING');
    await core().deleteNamespacedPod({ name: 'doomed', namespace: ns.name });
    await until(taskId, 'TASK_KILLED');
    expect(agent.states(taskId).at(-1)).toBe('TASK_KILLED');
  });

  it('a task for a pod that does not exist: the Binding is rejected, the task killed before binding', async () => {
    const ghost: V1Pod = { metadata: { name: 'ghost', namespace: ns.name, uid: '00000000-0000-0000-0000-000000000000' } };
    launched.set('ghost.1', { namespace: ns.name, name: 'ghost', uid: ghost.metadata!.uid! });
    agent.send({ type: 'LAUNCH', launch: { task: taskFor(ghost, 'ghost.1') } });
    await until('ghost.1', 'TASK_KILLED');
    expect(agent.bindings.get('ghost.1')).toEqual({ kind: 'rejected', message: expect.stringMatching(/not found/) });
    expect(agent.updates.filter((x) => x.task_id.value === 'ghost.1').map((u) => [u.state, u.reason])).toEqual([
      ['TASK_STARTING', undefined],
      ['TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH'],
    ]);
  });

  it('a pod bound to another node: the Binding is rejected, the task killed, the pod left alone', async () => {
    const pod = await core().createNamespacedPod({ namespace: ns.name, body: { ...podManifest('taken'), spec: { ...podManifest('taken').spec!, nodeName: 'some-other-node' } } });
    launched.set('taken.1', { namespace: ns.name, name: 'taken', uid: pod.metadata!.uid! });
    agent.send({ type: 'LAUNCH', launch: { task: taskFor(pod, 'taken.1') } });
    await until('taken.1', 'TASK_KILLED');
    expect(agent.bindings.get('taken.1')).toEqual({ kind: 'rejected', message: expect.stringMatching(/already bound to node some-other-node/) });
    const live = await core().readNamespacedPod({ name: 'taken', namespace: ns.name });
    expect(live.spec?.nodeName).toBe('some-other-node');
  });

  it('SHUTDOWN kills its pods, sends final updates and exits 0; the Node stays', async () => {
    const a = await launch('last-a');
    const b = await launch('last-b');
    await until(a.taskId, 'TASK_RUNNING');
    await until(b.taskId, 'TASK_RUNNING');
    agent.send({ type: 'SHUTDOWN' });
    const exit = await running;
    expect(exit.code).toBe(0);
    for (const t of [a, b]) {
      const last = agent.updates.filter((u) => u.task_id.value === t.taskId).at(-1)!;
      expect([last.state, last.message]).toEqual(['TASK_KILLED', 'pod deleted']); // gone before the final update, not given up on
      await expect(core().readNamespacedPod({ name: t.pod.metadata!.name!, namespace: ns.name })).rejects.toMatchObject({ code: 404 });
    }
    expect((await core().readNode({ name: nodeName })).metadata?.name).toBe(nodeName);
  });
});
