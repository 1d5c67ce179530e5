import type { Status } from './framework.js';

/**
 * kube-scheduler 1.20's FitError text: reasons counted over agents (each agent is a node, with or without its
 * kubelet yet), each "<count> <reason>", sorted as strings.
 * `0/9 nodes are available: 3 Insufficient cpu, 6 node(s) didn't match Pod's node affinity.`
 */
export function unschedulableMessage(total: number, statuses: readonly Status[]): { message: string; reasons: Record<string, number>; unresolvable: boolean } {
  const counts = new Map<string, number>();
  let unresolvable = statuses.length > 0;
  for (const s of statuses) {
    if (!s.unresolvable) unresolvable = false;
    for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const reasons: Record<string, number> = {};
  for (const [r, n] of counts) reasons[r] = n;
  const message = parts.length ? `0/${total} nodes are available: ${parts.join(', ')}.` : `0/${total} nodes are available.`;
  return { message, reasons, unresolvable };
}
