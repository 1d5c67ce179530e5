import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { isNewTaskState, podTaskState, type PodTaskState } from './pod-state.js';

/** A small builder: makePod().phase('Running').ready(true). */
function makePod() {
  const pod: V1Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'c' }] }, status: {} };
  const b = {
    phase(p: string) {
      pod.status!.phase = p;
      return b;
    },
    ready(r: boolean) {
      pod.status!.conditions = [{ type: 'Ready', status: r ? 'True' : 'False' }];
      return b;
    },
    deleting() {
      pod.metadata!.deletionTimestamp = new Date('2026-01-01T00:00:00Z');
      return b;
    },
    reason(reason: string, message: string) {
      pod.status!.reason = reason;
      pod.status!.message = message;
      return b;
    },
    exited(code: number) {
      pod.status!.containerStatuses = [{ name: 'c', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: code } } }];
      return b;
    },
    build: () => Object.freeze(pod) as V1Pod,
  };
  return b;
}

describe('podTaskState', () => {
  it.each<[string, V1Pod | undefined, PodTaskState]>([
    ['deleted', undefined, { state: 'TASK_KILLED', message: 'pod deleted' }],
    ['no status yet', makePod().build(), { state: 'TASK_STARTING' }],
    ['Pending', makePod().phase('Pending').build(), { state: 'TASK_STARTING' }],
    ['Unknown', makePod().phase('Unknown').build(), { state: 'TASK_STARTING' }],
    ['Running, Ready', makePod().phase('Running').ready(true).build(), { state: 'TASK_RUNNING', healthy: true }],
    ['Running, not Ready', makePod().phase('Running').ready(false).build(), { state: 'TASK_RUNNING', healthy: false }],
    ['Running, no conditions', makePod().phase('Running').build(), { state: 'TASK_RUNNING', healthy: false }],
    ['Succeeded', makePod().phase('Succeeded').build(), { state: 'TASK_FINISHED', message: 'pod succeeded' }],
    ['Failed, exit code', makePod().phase('Failed').exited(3).build(), { state: 'TASK_FAILED', message: 'container c exited with code 3' }],
    ['Failed, pod reason', makePod().phase('Failed').reason('Evicted', 'low on memory').build(), { state: 'TASK_FAILED', message: 'Evicted: low on memory' }],
    ['Failed, nothing known', makePod().phase('Failed').build(), { state: 'TASK_FAILED', message: 'pod failed' }],
    ['Running and being deleted', makePod().phase('Running').ready(true).deleting().build(), { state: 'TASK_KILLING', message: 'pod is being deleted' }],
    ['Pending and being deleted', makePod().phase('Pending').deleting().build(), { state: 'TASK_KILLING', message: 'pod is being deleted' }],
    ['Succeeded and being deleted', makePod().phase('Succeeded').deleting().build(), { state: 'TASK_FINISHED', message: 'pod succeeded' }],
  ])('%s', (_name, pod, want) => {
    expect(podTaskState(pod)).toEqual(want);
  });
});

describe('isNewTaskState', () => {
  it.each<[string, PodTaskState | undefined, PodTaskState, boolean]>([
    ['first update', undefined, { state: 'TASK_STARTING' }, true],
    ['same state', { state: 'TASK_STARTING' }, { state: 'TASK_STARTING' }, false],
    ['new state', { state: 'TASK_STARTING' }, { state: 'TASK_RUNNING', healthy: false }, true],
    ['health changed', { state: 'TASK_RUNNING', healthy: false }, { state: 'TASK_RUNNING', healthy: true }, true],
    ['health same', { state: 'TASK_RUNNING', healthy: true }, { state: 'TASK_RUNNING', healthy: true }, false],
    ['killing again', { state: 'TASK_KILLING' }, { state: 'TASK_KILLING', message: 'x' }, false],
  ])('%s', (_name, last, next, want) => {
    expect(isNewTaskState(last, next)).toBe(want);
  });
});
