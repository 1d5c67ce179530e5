import type { ScorePlugin } from '../framework.js';

/** Only these controllers' pods are steered by the annotation, as in kube-scheduler 1.20. */
const KINDS = new Set(['ReplicationController', 'ReplicaSet']);

/**
 * kube-scheduler 1.20's NodePreferAvoidPods: an agent whose Node's `scheduler.alpha.kubernetes.io/preferAvoidPods`
 * names the pod's controller (kind and uid) scores 0, every other 100; weight 10000, so it outweighs every other score
 * but never filters.
 */
export const nodePreferAvoidPodsScore: ScorePlugin<{ kind: string; uid: string }> = {
  name: 'NodePreferAvoidPods',
  normalize: 'none',
  prepare: (pod, st) => {
    const { ownerKind, ownerUid } = pod.pod;
    if (!st.hasAvoidPods || !ownerKind || !ownerUid || !KINDS.has(ownerKind)) return undefined;
    return { data: { kind: ownerKind, uid: ownerUid }, weight: 10000 };
  },
  score: (c, a) => {
    const avoid = a.view.avoidControllers;
    if (avoid) for (const x of avoid) if (x.kind === c.kind && x.uid === c.uid) return 0;
    return 100;
  },
};
