/**
 * The dashboard's API: `GET /api/dashboard` (the framework's DashboardState, plus each agent's Mesos state when a fault
 * API is given) and, in the sandbox only, `POST /api/faults/{agents/:id|zones/:zone}/{fail|recover}`.
 */
import express, { type Request, type Response } from 'express';
import type { DashboardAgent, DashboardState, FaultAction, FaultAgent, FaultApi } from './types.js';

export interface DashboardRouterOptions {
  /** The framework's view; `undefined` while there is none (a standby replica, or still starting). */
  state: () => DashboardState | undefined;
  /** Why there is no state, for the page (default: "the scheduler is not running here yet"). */
  unavailable?: () => string;
  /** Sandbox only: fail/recover agents and zones, and the emulator's view of each agent. */
  faults?: FaultApi;
}

/** What the agent's Mesos master says about it (sandbox only). */
export interface AgentMesosState {
  state: string;
  reachable: boolean;
}

export type DashboardViewAgent = DashboardAgent & { mesos?: AgentMesosState };

/** The JSON `GET /api/dashboard` answers. */
export interface DashboardView extends Omit<DashboardState, 'zones'> {
  zones: { name: string; agents: DashboardViewAgent[] }[];
  /** `available`: the fault buttons work; `error` says why not when a fault API is configured but does not answer. */
  faults: { available: boolean; error?: string };
}

// Mesos agent ids (`<uuid>-S<n>`), hostnames and zone names (label values) all fit; anything else is a typo or a probe.
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/** Joins the framework's view with the emulator's agent states. Pure; agents the emulator does not list get none. */
export function dashboardView(state: DashboardState, faults: { agents?: readonly FaultAgent[]; error?: string } | undefined): DashboardView {
  const byId = new Map((faults?.agents ?? []).map((a) => [a.id, a]));
  return {
    ...state,
    zones: state.zones.map((z) => ({
      name: z.name,
      agents: z.agents.map((a) => {
        const m = byId.get(a.id);
        return m ? { ...a, mesos: { state: m.state, reachable: m.reachable } } : { ...a };
      }),
    })),
    faults: !faults ? { available: false } : faults.agents ? { available: true } : { available: false, error: faults.error ?? 'fault API did not answer' },
  };
}

function isAction(s: string): s is FaultAction {
  return s === 'fail' || s === 'recover';
}

export function dashboardRouter(o: DashboardRouterOptions): express.Router {
  const router = express.Router();
  const faults = o.faults;

  router.get('/api/dashboard', async (_req: Request, res: Response) => {
    res.set('cache-control', 'no-store');
    const state = o.state();
    if (!state) {
      res.status(503).json({ error: o.unavailable?.() ?? 'the scheduler is not running here yet' });
      return;
    }
    let f: { agents?: FaultAgent[]; error?: string } | undefined;
    if (faults) {
      const r = await faults.agents();
      f = r.ok ? { agents: r.value } : { error: r.error };
    }
    res.status(200).json(dashboardView(state, f));
  });

  const act = (kind: 'agents' | 'zones') => async (req: Request, res: Response) => {
    res.set('cache-control', 'no-store');
    const target = String(req.params.target);
    const action = String(req.params.action);
    if (!faults) {
      res.status(501).json({ error: 'fault injection is available only in the sandbox' });
      return;
    }
    // A cross-site form can post only simple content types; asking for JSON keeps other web pages from pressing the buttons.
    if (!req.is('application/json')) {
      res.status(415).json({ error: 'send Content-Type: application/json' });
      return;
    }
    if (!isAction(action)) {
      res.status(404).json({ error: `unknown action "${action}": use fail or recover` });
      return;
    }
    if (!ID.test(target)) {
      res.status(400).json({ error: `${kind === 'agents' ? 'agent id' : 'zone'} "${target.slice(0, 80)}" is not valid (letters, digits, . _ : -, at most 200)` });
      return;
    }
    const r = kind === 'agents' ? await faults.agent(target, action) : await faults.zone(target, action);
    if (!r.ok) {
      res.status(r.status).json({ error: r.error });
      return;
    }
    res.status(200).json({ ok: true, action, [kind === 'agents' ? 'agent' : 'zone']: target, result: r.value });
  };
  router.post('/api/faults/agents/:target/:action', act('agents'));
  router.post('/api/faults/zones/:target/:action', act('zones'));
  router.all('/api/faults/{*rest}', (req: Request, res: Response) => {
    res.status(req.method === 'POST' ? 404 : 405).json({ error: `use POST /api/faults/agents/<id>/<fail|recover> or /api/faults/zones/<zone>/<fail|recover>` });
  });
  return router;
}
