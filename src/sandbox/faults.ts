/**
 * Fault injection for the sandbox's dashboard: fail or recover an agent or a whole zone of the Mesos emulator, and read
 * each agent's state as the emulator sees it. A thin client of the emulator's `/emulator/*` endpoints.
 */

import type { FaultAgent, FaultApi, FaultResult } from '../ops/types.js';

export interface EmulatorFaultsOptions {
  /** Per request; the dashboard polls every second, so a hung emulator must not pile requests up. Default 2 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** A FaultApi for the emulator at `mesosUrl` (e.g. `http://127.0.0.1:5050`). */
export function emulatorFaults(mesosUrl: string, o: EmulatorFaultsOptions = {}): FaultApi {
  let base: URL;
  try {
    base = new URL(mesosUrl);
  } catch {
    throw new TypeError(`emulator URL "${mesosUrl}" is not a URL`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`emulator URL "${mesosUrl}" must be http(s)`);
  const root = base.href.replace(/\/+$/, '');
  const timeoutMs = o.timeoutMs ?? 2000;
  const doFetch = o.fetch ?? fetch;

  async function call<T>(method: 'GET' | 'POST', path: string): Promise<FaultResult<T>> {
    let res: Response;
    try {
      res = await doFetch(`${root}${path}`, {
        method,
        headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
        body: method === 'POST' ? '{}' : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      return { ok: false, status: 502, error: `Mesos emulator at ${root} did not answer: ${(err as Error).message}` };
    }
    const text = await res.text().catch(() => '');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const msg = body && typeof body === 'object' && 'error' in body ? String((body as { error: unknown }).error) : text.trim() || res.statusText;
      // The emulator's own 4xx (unknown agent or zone, gone agent) are the caller's business; anything else is ours.
      return { ok: false, status: res.status >= 400 && res.status < 500 ? res.status : 502, error: msg };
    }
    if (body === undefined) return { ok: false, status: 502, error: `Mesos emulator answered ${path} with no JSON` };
    return { ok: true, value: body as T };
  }

  const seg = encodeURIComponent;
  return {
    async agents() {
      const r = await call<{ agents?: unknown }>('GET', '/emulator/agents');
      if (!r.ok) return r;
      if (!Array.isArray(r.value.agents)) return { ok: false, status: 502, error: 'Mesos emulator: /emulator/agents has no "agents" list' };
      return { ok: true, value: r.value.agents as FaultAgent[] };
    },
    async agent(id, action) {
      const r = await call<{ agent: { id: string; state: string; reachable: boolean } }>('POST', `/emulator/agents/${seg(id)}/${action}`);
      return r.ok ? { ok: true, value: r.value.agent } : r;
    },
    zone(zone, action) {
      return call<{ zone: string; agents: string[] }>('POST', `/emulator/zones/${seg(zone)}/${action}`);
    },
  };
}
