/**
 * Applies kube-scheduler's DefaultPreemption (placement/preemption.ts decides): for a pending pod that fits nowhere,
 * the chosen victims are deleted gracefully (DisruptionTarget condition, `Preempted` event), the pod's
 * status.nominatedNodeName names the agent, and lower-priority nominations there are cleared. The pod lands when Mesos
 * offers the freed room; plan() holds that room for it meanwhile.
 */
import { planPreemption, type NominatedPod } from '../placement/preemption.js';
import type { AgentView, PlanConfig, PodSpecView } from '../placement/types.js';
import type { Effects } from './effects.js';
import type { CoreState } from './state.js';

/** Preemption is costly (a dry run per candidate agent): at most this many pods try it per cycle, as kube-scheduler tries one per scheduling cycle. */
const MAX_PER_CYCLE = 4;

/** A nomination made here stands this long before the pod may preempt again (the informer shows it far sooner). */
const NOMINATION_HOLD_MS = 30_000;

export class Preemptor {
  /** podKey → the node this preemptor nominated and when: the pod's status shows it only once the informer catches up. */
  private readonly nominations = new Map<string, { nodeName: string; atMs: number }>();

  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly config: { plan: PlanConfig },
  ) {}

  /** `failed`: the pods this cycle's plan found no place for, highest priority first as the queue gave them. */
  run(views: readonly AgentView[], failed: readonly { podKey: string; unresolvable: boolean }[], considered: readonly PodSpecView[], now: number): number {
    const s = this.state;
    let lowest = Infinity;
    for (const v of views) for (const p of v.pods) if (p.priority !== undefined && p.priority < lowest) lowest = p.priority;
    if (lowest === Infinity) return 0;
    const byKey = new Map(considered.map((p) => [p.key, p]));
    const nominated: NominatedPod[] = [];
    for (const p of considered) if (p.nominatedNodeName) nominated.push({ podKey: p.key, priority: p.priority, nodeName: p.nominatedNodeName });
    let tried = 0;
    let preempted = 0;
    for (const u of failed) {
      if (tried >= MAX_PER_CYCLE) break;
      const view = byKey.get(u.podKey);
      if (!view || view.priority <= lowest || u.unresolvable || view.preemptionPolicy === 'Never') continue;
      const mine = this.nominations.get(view.key);
      // kube-scheduler's nominator: a pod whose victims are still going waits for them instead of preempting again.
      if (mine && now - mine.atMs < NOMINATION_HOLD_MS) continue;
      tried++;
      const r = planPreemption(views, view, this.config.plan, s.pdbs, nominated);
      if (!r.ok) {
        this.fx.log.debug({ pod: view.key, reason: r.reason }, 'no preemption');
        continue;
      }
      const pod = s.pods.get(view.uid);
      if (!pod) continue;
      const plan = r.plan;
      const message = `Preempted by ${view.namespace}/${view.name} on node ${plan.nodeName}`;
      for (const v of plan.victims) {
        if (v.terminating) continue;
        const victim = s.pods.get(v.uid);
        if (!victim) continue;
        this.fx.note('Normal', 'Preempted', `${v.namespace}/${v.name}`, message);
        this.fx.send(this.fx.kube.preemptPod?.(victim, message) ?? this.fx.kube.deletePod(victim, 30), 'preempt victim');
      }
      if (pod.status?.nominatedNodeName !== plan.nodeName) this.fx.send(this.fx.kube.setNominatedNode?.(pod, plan.nodeName) ?? Promise.resolve(), 'nominate');
      for (const key of plan.clearNominated) {
        const other = s.podByName(key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1));
        if (other) this.fx.send(this.fx.kube.setNominatedNode?.(other, null) ?? Promise.resolve(), 'clear nomination');
      }
      this.nominations.set(view.key, { nodeName: plan.nodeName, atMs: now });
      if (this.nominations.size > 10_000) this.nominations.delete(this.nominations.keys().next().value!);
      this.fx.note('Normal', 'Preempting', view.key, `${plan.victims.length} lower-priority pod(s) on ${plan.nodeName} make room (${plan.pdbViolations} PodDisruptionBudget violation(s))`);
      preempted++;
    }
    return preempted;
  }
}
