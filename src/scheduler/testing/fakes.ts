// Recording fakes of the core's ports for the scheduler's tests.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { OfferOperation, TaskInfo, TaskStatus } from '../../mesos/types.js';
import { ServiceUnavailableError } from '../../mesos/errors.js';
import type { BindOutcome, KubePort, MesosPort, NodeCertificateResult } from '../ports.js';
import type { FrameworkMetrics } from '../effects.js';

/** Metrics that record nothing: tests spread it and override the one they watch. */
export const noMetrics: FrameworkMetrics = {
  offersReceived: () => {},
  offersDeclined: () => {},
  offersAccepted: () => {},
  offersRescinded: () => {},
  launches: () => {},
  taskState: () => {},
  cycle: () => {},
  podScheduled: () => {},
  pending: () => {},
};

export class FakeMesos implements MesosPort {
  accepts: { offerIds: string[]; operations: OfferOperation[]; refuse: number }[] = [];
  declines: { offerIds: string[]; refuse: number }[] = [];
  acks: TaskStatus[] = [];
  kills: string[] = [];
  revives = 0;
  suppresses = 0;
  /** true: the master answers 503 (the call was not applied); an Error: the call fails with it (e.g. a lost answer). */
  failAccept: boolean | Error = false;
  async accept(offerIds: string[], operations: OfferOperation[], refuse: number) {
    this.accepts.push({ offerIds, operations, refuse });
    if (this.failAccept === true) throw new ServiceUnavailableError('master is not the leader', 'http://master/api/v1/scheduler');
    if (this.failAccept) throw this.failAccept;
  }
  async decline(offerIds: string[], refuse: number) {
    this.declines.push({ offerIds, refuse });
  }
  async acknowledge(s: TaskStatus) {
    this.acks.push(s);
  }
  reconciles: { taskId: string; agentId?: string }[][] = [];
  async reconcile(tasks: { taskId: string; agentId?: string }[]) {
    this.reconciles.push(tasks);
  }
  async kill(taskId: string) {
    this.kills.push(taskId);
  }
  async revive() {
    this.revives++;
  }
  async suppress() {
    this.suppresses++;
  }
  shutdowns: string[] = [];
  async shutdownExecutor(executorId: string) {
    this.shutdowns.push(executorId);
  }
  messages: { agentId: string; executorId: string; data: Uint8Array }[] = [];
  async message(agentId: string, executorId: string, data: Uint8Array) {
    this.messages.push({ agentId, executorId, data });
  }
  tasks(): TaskInfo[] {
    return this.accepts.flatMap((a) => a.operations.flatMap((o) => o.launch?.task_infos ?? []));
  }
}

export class FakeKube implements KubePort {
  /** Bindings written: pod name, node, annotations. */
  bindings: [string, string, Record<string, string>][] = [];
  /** What the next Bindings answer (default: bound). */
  bindAnswers: BindOutcome[] = [];
  /** The signal each Binding was given, in order. */
  bindSignals: (AbortSignal | undefined)[] = [];
  /** When set, a Binding with no queued answer waits on it (e.g. a Retry-After that ends on abort). */
  bindHold: ((signal?: AbortSignal) => Promise<BindOutcome>) | undefined;
  async bindPod(p: V1Pod, node: string, annotations: Record<string, string>, signal?: AbortSignal): Promise<BindOutcome> {
    this.bindings.push([p.metadata!.name!, node, annotations]);
    this.bindSignals.push(signal);
    return this.bindAnswers.shift() ?? (this.bindHold ? this.bindHold(signal) : { kind: 'bound' });
  }
  /** CSRs submitted: node name, requester. */
  csrs: [string, string][] = [];
  /** Answers the certificate requests, in order; default: a fake certificate. Pending ones wait for `releaseCsrs`. */
  csrAnswer: (nodeName: string) => NodeCertificateResult = (n) => ({ ok: true, certificatePem: `CERT ${n}`, csrName: `csr-${n}` });
  csrGate: Promise<void> | undefined;
  csrInFlight = 0;
  csrMaxInFlight = 0;
  async issueNodeCertificate(req: { nodeName: string; csrPem: string; requester: string }): Promise<NodeCertificateResult> {
    this.csrs.push([req.nodeName, req.requester]);
    this.csrInFlight++;
    this.csrMaxInFlight = Math.max(this.csrMaxInFlight, this.csrInFlight);
    await this.csrGate;
    this.csrInFlight--;
    return this.csrAnswer(req.nodeName);
  }
  unschedulable: [string, string][] = [];
  scheduled: [string, string][] = [];
  warnings: [string, string][] = [];
  deleted: [string, number][] = [];
  recreated: string[] = [];
  async reportUnschedulable(p: V1Pod, m: string) {
    this.unschedulable.push([p.metadata!.name!, m]);
  }
  async reportScheduled(p: V1Pod, node: string) {
    this.scheduled.push([p.metadata!.name!, node]);
  }
  async reportWarning(p: V1Pod, reason: string) {
    this.warnings.push([p.metadata!.name!, reason]);
  }
  /** Pods failed (phase Failed): name, reason. */
  failed: [string, string][] = [];
  async failPod(p: V1Pod, reason: string) {
    this.failed.push([p.metadata!.name!, reason]);
  }
  /** Fail the next this-many deletes with a 503 (retries must follow). */
  failDeletes = 0;
  deleteAttempts = 0;
  async deletePod(p: V1Pod, grace: number) {
    this.deleteAttempts++;
    if (this.failDeletes > 0) {
      this.failDeletes--;
      throw new Error('delete pod: ServiceUnavailable: 503');
    }
    this.deleted.push([p.metadata!.name!, grace]);
  }
  awaitingGone: [string, string][] = [];
  async reportAwaitingGone(p: V1Pod, message: string) {
    this.awaitingGone.push([p.metadata!.name!, message]);
  }
  async recreatePod(p: V1Pod) {
    this.recreated.push(p.metadata!.name!);
  }
  evicted: string[] = [];
  evictAnswer: 'evicted' | 'blocked' | 'gone' = 'evicted';
  async evictPod(p: V1Pod) {
    this.evicted.push(p.metadata!.name!);
    return this.evictAnswer;
  }
  cordoned: string[] = [];
  deletedNodes: string[] = [];
  async cordonNode(n: string) {
    this.cordoned.push(n);
  }
  uncordoned: string[] = [];
  async uncordonNode(n: string) {
    this.uncordoned.push(n);
  }
  nodeWarnings: [string, string, string][] = [];
  async reportNodeWarning(n: string, reason: string, message: string) {
    this.nodeWarnings.push([n, reason, message]);
  }
  async deleteNode(n: string) {
    this.deletedNodes.push(n);
  }
  createdVolumes: [V1PersistentVolume, string, string][] = [];
  async createPersistentVolume(pv: V1PersistentVolume, claim: V1PersistentVolumeClaim, nodeName: string) {
    this.createdVolumes.push([pv, claim.metadata!.name!, nodeName]);
  }
  deletedVolumes: string[] = [];
  async deletePersistentVolume(pv: V1PersistentVolume) {
    this.deletedVolumes.push(pv.metadata!.name!);
  }
}

