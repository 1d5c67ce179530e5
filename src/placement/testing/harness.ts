// Runs one filter or score against a fresh working copy, for table tests.
import { makePodCtx, normalizeScores, type FilterPlugin, type ScorePlugin } from '../framework.js';
import { CycleState } from '../state.js';
import type { AgentView, PlanConfig, PodSpecView } from '../types.js';
import { testConfig } from './builders.js';

/** Per agent: undefined when it passes, else its reasons joined with '; ' (prefixed '!' when unresolvable). */
export function runFilter<D>(f: FilterPlugin<D>, pod: PodSpecView, agents: AgentView[], cfg: PlanConfig = testConfig()): (string | undefined)[] {
  const st = new CycleState(agents, cfg);
  const ctx = makePodCtx(pod, st);
  const d = f.prepare(ctx, st);
  return st.agents.map((a) => {
    if (d === undefined) return undefined;
    const s = f.filter(d, a, ctx, st);
    return s ? `${s.unresolvable ? '!' : ''}${s.reasons.join('; ')}` : undefined;
  });
}

/** Normalised 0..100 scores of every agent (all treated as feasible); undefined when the score does not apply. */
export function runScore<D>(s: ScorePlugin<D>, pod: PodSpecView, agents: AgentView[], cfg: PlanConfig = testConfig()): number[] | undefined {
  const st = new CycleState(agents, cfg);
  const ctx = makePodCtx(pod, st);
  const p = s.prepare(ctx, st);
  if (!p) return undefined;
  const raw = new Float64Array(agents.length);
  st.agents.forEach((a, i) => (raw[i] = s.score(p.data, a, ctx, st)));
  normalizeScores(raw, agents.length, s.normalize);
  return [...raw].map((x) => Math.round(x));
}
