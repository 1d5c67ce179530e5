/**
 * With consolidation on, new kubelets start only for pods no running kubelet can take (as Karpenter launches capacity
 * only for pods that do not fit): pass 1 places on agents with a kubelet, pass 2 places the rest on agents without one.
 * Pure.
 */
import { plan } from './plan.js';
import type { AgentView, Plan, PlanConfig, PodSpecView } from './types.js';

export function planExistingKubeletsFirst(views: readonly AgentView[], pods: readonly PodSpecView[], cfg: PlanConfig): Plan {
  const withKubelet = views.map((v) => (v.kubelet ? v : { ...v, unschedulable: true }));
  const first = plan(withKubelet, pods, cfg);
  if (first.unschedulable.length === 0) return first;
  const rest = new Set(first.unschedulable.map((u) => u.podKey));
  const withoutKubelet = views.map((v) => (v.kubelet ? { ...v, unschedulable: true } : v));
  const second = plan(withoutKubelet, pods.filter((p) => rest.has(p.key)), cfg);
  return {
    placements: [...first.placements, ...second.placements],
    unschedulable: second.unschedulable,
    kubeletsToLaunch: second.kubeletsToLaunch,
  };
}
