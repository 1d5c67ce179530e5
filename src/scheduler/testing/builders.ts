// Fluent builders for the framework core's tests: aPod('web').cpu('2').owned().build(),
// anOffer('a1').zone('z1').cpus(2).build(), statusOf(task).state('TASK_RUNNING').withoutUuid().build().
import type { V1OwnerReference, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import type { Offer, Resource, TaskInfo, TaskState, TaskStatus, TaskStatusReason } from '../../mesos/types.js';

const scalar = (name: string, value: number): Resource => ({ name, type: 'SCALAR', scalar: { value }, allocation_info: { role: '*' } });

/** A pending pod of the kube-mesos scheduler in namespace `ns`, uid `uid-<name>`, requesting 500m / 256Mi. */
export class PodBuilder {
  private readonly pod: V1Pod;
  constructor(name: string) {
    this.pod = {
      metadata: { namespace: 'ns', name, uid: `uid-${name}`, resourceVersion: '1', creationTimestamp: new Date(0) },
      spec: { schedulerName: 'kube-mesos', containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '500m', memory: '256Mi' } } }] },
      status: { phase: 'Pending' },
    };
  }
  cpu(cpu: string): this {
    this.pod.spec!.containers[0].resources!.requests!.cpu = cpu;
    return this;
  }
  memory(memory: string): this {
    this.pod.spec!.containers[0].resources!.requests!.memory = memory;
    return this;
  }
  /** Controlled by a ReplicaSet (uid rs1 unless given): evictable, deleted rather than re-created on loss. */
  owned(uid = 'rs1', kind = 'ReplicaSet'): this {
    const ref: V1OwnerReference = { apiVersion: 'apps/v1', kind, name: kind.toLowerCase(), uid, controller: true };
    this.pod.metadata!.ownerReferences = [ref];
    return this;
  }
  annotations(a: Record<string, string>): this {
    this.pod.metadata!.annotations = { ...this.pod.metadata!.annotations, ...a };
    return this;
  }
  labels(l: Record<string, string>): this {
    this.pod.metadata!.labels = { ...this.pod.metadata!.labels, ...l };
    return this;
  }
  spec(extra: Partial<V1PodSpec>): this {
    Object.assign(this.pod.spec!, extra);
    return this;
  }
  build(): V1Pod {
    return structuredClone(this.pod);
  }
}

export const aPod = (name: string): PodBuilder => new PodBuilder(name);

let offerSeq = 0;

/** An offer of 4 cpus, 8192 MB, 10000 MB disk (role *) from agent `<agent>` (hostname `<agent>.example`), region r1. */
export class OfferBuilder {
  private zoneName: string | undefined;
  private res = { cpus: 4, mem: 8192, disk: 10000 };
  constructor(private readonly agent: string) {}
  zone(z: string): this {
    this.zoneName = z;
    return this;
  }
  cpus(n: number): this {
    this.res.cpus = n;
    return this;
  }
  mem(n: number): this {
    this.res.mem = n;
    return this;
  }
  build(): Offer {
    return {
      id: { value: `o${++offerSeq}` },
      framework_id: { value: 'fw' },
      agent_id: { value: this.agent },
      hostname: `${this.agent}.example`,
      resources: [scalar('cpus', this.res.cpus), scalar('mem', this.res.mem), scalar('disk', this.res.disk)],
      ...(this.zoneName !== undefined ? { domain: { fault_domain: { region: { name: 'r1' }, zone: { name: this.zoneName } } } } : {}),
    };
  }
}

export const anOffer = (agent: string): OfferBuilder => new OfferBuilder(agent);

/** A task status update; with a uuid (to be acknowledged) unless `withoutUuid()`. */
export class StatusBuilder {
  private readonly s: TaskStatus;
  constructor(taskId: string, agentId?: string) {
    this.s = { task_id: { value: taskId }, state: 'TASK_RUNNING', ...(agentId ? { agent_id: { value: agentId } } : {}), uuid: new Uint8Array([1, 2, 3]) };
  }
  state(state: TaskState): this {
    this.s.state = state;
    return this;
  }
  reason(reason: TaskStatusReason): this {
    this.s.reason = reason;
    return this;
  }
  executor(executorId: string): this {
    this.s.executor_id = { value: executorId };
    return this;
  }
  /** As reconciliation answers: nothing to acknowledge. */
  withoutUuid(): this {
    delete this.s.uuid;
    return this;
  }
  build(): TaskStatus {
    return { ...this.s };
  }
}

/** An update for a task the test launched (its id and agent). */
export const statusOf = (task: Pick<TaskInfo, 'task_id' | 'agent_id'>): StatusBuilder => new StatusBuilder(task.task_id.value, task.agent_id.value);
/** An update for a task named by id (e.g. one the core has never seen). */
export const statusFor = (taskId: string, agentId?: string): StatusBuilder => new StatusBuilder(taskId, agentId);
