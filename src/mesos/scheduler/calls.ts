/**
 * Pure builders of v1 scheduler calls (mesos-go's scheduler/calls): each returns the call to send, without
 * framework_id (the session fills it in) and without I/O.
 */
import type { AgentID, ExecutorID, Filters, FrameworkInfo, KillPolicy, OfferID, OfferOperation, SchedulerCall, TaskID, TaskStatus } from '../types.js';

const id = (value: string): { value: string } => ({ value });
const withFilters = (filters?: Filters) => (filters ? { filters } : {});

export function subscribe(framework: FrameworkInfo, suppressedRoles: string[]): SchedulerCall {
  return {
    type: 'SUBSCRIBE',
    subscribe: { framework_info: framework, ...(suppressedRoles.length ? { suppressed_roles: suppressedRoles } : {}) },
    ...(framework.id ? { framework_id: framework.id } : {}),
  };
}

export function accept(offerIds: string[], operations: OfferOperation[], filters?: Filters): SchedulerCall {
  return { type: 'ACCEPT', accept: { offer_ids: offerIds.map(id), operations, ...withFilters(filters) } };
}

export function decline(offerIds: string[], filters?: Filters): SchedulerCall {
  return { type: 'DECLINE', decline: { offer_ids: offerIds.map(id), ...withFilters(filters) } };
}

/** The ACKNOWLEDGE for an update, or why there is none: Mesos rejects acks of updates without a uuid. */
export function acknowledge(status: TaskStatus): SchedulerCall | 'no-uuid' | 'no-agent-id' {
  if (!status.uuid || status.uuid.length === 0) return 'no-uuid';
  if (!status.agent_id) return 'no-agent-id';
  return { type: 'ACKNOWLEDGE', acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid } };
}

/** Explicit reconciliation of the given tasks; an empty list asks for implicit reconciliation (all tasks). */
export function reconcile(tasks: Array<{ taskId: string; agentId?: string }>): SchedulerCall {
  return {
    type: 'RECONCILE',
    reconcile: { tasks: tasks.map((t) => ({ task_id: id(t.taskId) as TaskID, ...(t.agentId ? { agent_id: id(t.agentId) as AgentID } : {}) })) },
  };
}

export function kill(taskId: string, agentId?: string, killPolicy?: KillPolicy): SchedulerCall {
  return { type: 'KILL', kill: { task_id: id(taskId), ...(agentId ? { agent_id: id(agentId) } : {}), ...(killPolicy ? { kill_policy: killPolicy } : {}) } };
}

export function revive(roles?: string[]): SchedulerCall {
  return { type: 'REVIVE', revive: roles?.length ? { roles } : {} };
}

export function suppress(roles?: string[]): SchedulerCall {
  return { type: 'SUPPRESS', suppress: roles?.length ? { roles } : {} };
}

export function updateFramework(info: FrameworkInfo, suppressedRoles?: string[]): SchedulerCall {
  return { type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: info, ...(suppressedRoles ? { suppressed_roles: suppressedRoles } : {}) } };
}

export function teardown(): SchedulerCall {
  return { type: 'TEARDOWN' };
}

export function shutdown(executorId: string, agentId: string): SchedulerCall {
  return { type: 'SHUTDOWN', shutdown: { executor_id: id(executorId) as ExecutorID, agent_id: id(agentId) } };
}

export function acceptInverseOffers(inverseOfferIds: string[], filters?: Filters): SchedulerCall {
  return { type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: inverseOfferIds.map(id) as OfferID[], ...withFilters(filters) } };
}

export function declineInverseOffers(inverseOfferIds: string[], filters?: Filters): SchedulerCall {
  return { type: 'DECLINE_INVERSE_OFFERS', decline_inverse_offers: { inverse_offer_ids: inverseOfferIds.map(id) as OfferID[], ...withFilters(filters) } };
}

export function message(agentId: string, executorId: string, data: Uint8Array): SchedulerCall {
  return { type: 'MESSAGE', message: { agent_id: id(agentId), executor_id: id(executorId), data } };
}

/** The roles a framework subscribes with (for SUPPRESS without roles). */
export function frameworkRoles(framework: FrameworkInfo): string[] {
  if (framework.roles?.length) return framework.roles;
  return [framework.role ?? '*'];
}
