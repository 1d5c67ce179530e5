import type { V1Pod } from '@kubernetes/client-node';
import type { TaskState } from '../mesos/types.js';

/** The task state a pod implies, as the executor reports it to Mesos. */
export interface PodTaskState {
  state: TaskState;
  healthy?: boolean;
  message?: string;
}

/**
 * The pod → task state mapping, in one place. `undefined` pod = the pod is gone from the API server.
 * Pending (and Unknown) pods stay TASK_STARTING; a pod being deleted is TASK_KILLING until it is gone.
 */
export function podTaskState(pod: V1Pod | undefined): PodTaskState {
  if (pod === undefined) return { state: 'TASK_KILLED', message: 'pod deleted' };
  const phase = pod.status?.phase;
  if (phase === 'Succeeded') return { state: 'TASK_FINISHED', message: terminationMessage(pod) ?? 'pod succeeded' };
  if (phase === 'Failed') return { state: 'TASK_FAILED', message: terminationMessage(pod) ?? 'pod failed' };
  if (pod.metadata?.deletionTimestamp) return { state: 'TASK_KILLING', message: 'pod is being deleted' };
  if (phase === 'Running') {
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
    return { state: 'TASK_RUNNING', healthy: ready?.status === 'True' };
  }
  return { state: 'TASK_STARTING' };
}

/** The pod's own reason/message, else the first non-zero container exit. */
function terminationMessage(pod: V1Pod): string | undefined {
  const s = pod.status;
  if (s?.reason || s?.message) return [s.reason, s.message].filter(Boolean).join(': ');
  for (const cs of s?.containerStatuses ?? []) {
    const t = cs.state?.terminated;
    if (t && t.exitCode !== 0) return `container ${cs.name} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
  }
  return undefined;
}

/** Whether `next` is worth an update after `last` was sent: a new state, or a change of health while running. */
export function isNewTaskState(last: PodTaskState | undefined, next: PodTaskState): boolean {
  if (last === undefined) return true;
  if (last.state !== next.state) return true;
  return next.state === 'TASK_RUNNING' && last.healthy !== next.healthy;
}
