/**
 * A pod's own preferences and the agents not offered right now (docs/scheduling.md, "Preferences and offers").
 *
 * kube-scheduler scores every Node; kube-mesos scores the agents offered in the cycle. An agent whose offer is still
 * with Mesos (its rest refused for a few seconds after a launch, or offered to another framework) is not in the running,
 * so a pod that prefers it — by preferred node affinity or by tolerating its PreferNoSchedule taint where the others'
 * are not tolerated — would land on a Node it likes less. This finds those pods: the placement's agent is beaten on the
 * pod's static preferences by an agent that is not offered, passes the pod's static filters and had room for it in
 * its latest offer. The cycle lets such a pod wait a bounded time for that agent (delay scheduling). Pure.
 */
import { tolerates } from './framework.js';
import { compileNodeSelectorTerms, podNodeMatcher, type NodeLike } from './selectors.js';
import type { AgentView, Placement, PodSpecView, Res } from './types.js';

/** What an agent not offered right now had in its latest offer, less what was launched there since; undefined = unknown. */
export type RoomOf = (agentId: string) => { cpus: number; mem: number } | undefined;

interface StaticScore {
  /** Sum of the weights of the preferred node affinity terms the agent matches (higher is better). */
  affinity: number;
  /** Untolerated PreferNoSchedule taints (fewer is better). */
  untolerated: number;
}

/**
 * The placements whose pod prefers an agent that is not offered: podKey → that agent. `executor` is what a new
 * kubelet needs on an agent without one.
 */
export function preferredElsewhere(views: readonly AgentView[], placements: readonly Placement[], pods: readonly PodSpecView[], room: RoomOf, executor: Res): Map<string, string> {
  const out = new Map<string, string>();
  if (placements.length === 0) return out;
  const byKey = new Map(pods.map((p) => [p.key, p]));
  const withPreference = placements.filter((pl) => {
    const pod = byKey.get(pl.podKey);
    return pod !== undefined && preferredTerms(pod).length > 0;
  });
  let tainted = false;
  const idle: AgentView[] = [];
  const byId = new Map<string, AgentView>();
  for (const v of views) {
    if (!tainted && v.taints.length > 0) tainted = v.taints.some((t) => t.effect === 'PreferNoSchedule');
    if (v.offered.length === 0 && !v.unschedulable) idle.push(v);
  }
  if (idle.length === 0 || (!tainted && withPreference.length === 0)) return out;
  for (const v of views) byId.set(v.id, v);
  const frontiers = new Map<string, { agent: string; score: StaticScore }[]>();
  for (const pl of tainted ? placements : withPreference) {
    const pod = byKey.get(pl.podKey);
    const chosen = byId.get(pl.agentId);
    if (!pod || !chosen) continue;
    const sig = JSON.stringify([pod.nodeName ?? '', pod.nodeSelector ?? null, pod.affinity?.nodeAffinity ?? null, pod.tolerations]);
    let frontier = frontiers.get(sig);
    if (!frontier) frontiers.set(sig, (frontier = idleFrontier(idle, pod)));
    if (frontier.length === 0) continue;
    const here = staticScore(chosen, pod, softTolerationsOf(pod));
    for (const f of frontier) {
      if (!better(f.score, here)) continue;
      const r = room(f.agent);
      const v = byId.get(f.agent)!;
      const need = v.kubelet ? pod.requests : { cpus: pod.requests.cpus + executor.cpus, mem: pod.requests.mem + executor.mem };
      if (r && r.cpus >= need.cpus && r.mem >= need.mem) {
        out.set(pl.podKey, f.agent);
        break;
      }
    }
  }
  return out;
}

/** The idle agents that pass the pod's static filters, with their static scores, best first. */
function idleFrontier(idle: readonly AgentView[], pod: PodSpecView): { agent: string; score: StaticScore }[] {
  const matches = podNodeMatcher(pod.nodeSelector, pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
  const softTolerations = softTolerationsOf(pod);
  const out: { agent: string; score: StaticScore }[] = [];
  for (const v of idle) {
    const node: NodeLike = { labels: v.labels, name: v.nodeName ?? v.hostname };
    if (pod.nodeName && pod.nodeName !== node.name) continue;
    if (matches && !matches(node)) continue;
    if (v.taints.some((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.tolerations, t))) continue;
    out.push({ agent: v.id, score: staticScore(v, pod, softTolerations) });
  }
  return out.sort((a, b) => b.score.affinity - a.score.affinity || a.score.untolerated - b.score.untolerated);
}

/** `a` is at least as good on both and better on one. */
function better(a: StaticScore, b: StaticScore): boolean {
  return a.affinity >= b.affinity && a.untolerated <= b.untolerated && (a.affinity > b.affinity || a.untolerated < b.untolerated);
}

/** `softTolerations`: the pod's tolerations that apply to PreferNoSchedule taints. */
function staticScore(v: AgentView, pod: PodSpecView, softTolerations: PodSpecView['tolerations']): StaticScore {
  let affinity = 0;
  const node: NodeLike = { labels: v.labels, name: v.nodeName ?? v.hostname };
  for (const t of preferredTerms(pod)) if (t.weight > 0 && compiled(t.preference)(node)) affinity += t.weight;
  let untolerated = 0;
  for (const t of v.taints) if (t.effect === 'PreferNoSchedule' && !tolerates(softTolerations, t)) untolerated++;
  return { affinity, untolerated };
}

function preferredTerms(pod: PodSpecView) {
  return pod.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
}

const compiledTerms = new WeakMap<object, (n: NodeLike) => boolean>();
function compiled(term: Parameters<typeof compileNodeSelectorTerms>[0][number]): (n: NodeLike) => boolean {
  let f = compiledTerms.get(term);
  if (!f) compiledTerms.set(term, (f = compileNodeSelectorTerms([term])));
  return f;
}

/** The pod's tolerations that apply to PreferNoSchedule taints. */
function softTolerationsOf(pod: PodSpecView): PodSpecView['tolerations'] {
  return pod.tolerations.filter((x) => !x.effect || x.effect === 'PreferNoSchedule');
}
