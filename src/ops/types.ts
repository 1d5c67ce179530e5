/**
 * What the ops layer shows and drives, declared here and implemented outside: the scheduler's views produce
 * `DashboardState`, the sandbox implements `FaultApi`. ops/ imports neither of them.
 */

/** One line of the dashboard's recent-events list. */
export interface RecentEvent {
  atMs: number;
  type: 'Normal' | 'Warning';
  reason: string;
  object: string;
  message: string;
}

export interface DashboardPod {
  key: string;
  phase: string;
  taskState: string;
}

export interface DashboardAgent {
  id: string;
  hostname: string;
  nodeName: string;
  kubelet: string | null;
  pods: DashboardPod[];
  used: { cpus: number; mem: number };
  /** What the agent's latest offers held: roughly its free resources. */
  free: { cpus: number; mem: number };
  lastOfferAgoMs: number;
  /** Failover counts it lost (unreachable, FAILURE): its pods are replaced after their failover-after. */
  lost: boolean;
}

export interface DashboardState {
  atMs: number;
  subscribed: boolean;
  frameworkId: string | undefined;
  zones: { name: string; agents: DashboardAgent[] }[];
  pending: { key: string; message: string; sinceMs: number }[];
  events: RecentEvent[];
  /** Zones failover considers failed (nothing is placed there). */
  unhealthyZones: string[];
  totals: { agents: number; kubelets: number; tasks: number; pending: number; offersHeld: number };
}

// ---- fault injection (the sandbox's dashboard buttons) ----

export type FaultAction = 'fail' | 'recover';
export const FAULT_ACTIONS: readonly FaultAction[] = ['fail', 'recover'];

/** An agent as the emulator sees it: `state` is the master's view (active, disconnected, unreachable, gone). */
export interface FaultAgent {
  id: string;
  hostname: string;
  zone?: string;
  state: string;
  reachable: boolean;
}

/** Expected outcomes are values: `status` is the HTTP status to pass on (404 unknown agent, 502 emulator unreachable…). */
export type FaultResult<T> = { ok: true; value: T } | { ok: false; status: number; error: string };

export interface FaultApi {
  agents(): Promise<FaultResult<FaultAgent[]>>;
  agent(id: string, action: FaultAction): Promise<FaultResult<{ id: string; state: string; reachable: boolean }>>;
  zone(zone: string, action: FaultAction): Promise<FaultResult<{ zone: string; agents: string[] }>>;
}
