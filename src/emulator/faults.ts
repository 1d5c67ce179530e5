/**
 * Protocol faults beyond agents and zones, for chaos tests (`/emulator/faults`): ACCEPT calls whose request or response
 * is lost, and status updates the master sends twice with the same uuid (as it does when an acknowledgement is lost and
 * the agent retries). Plain state; the HTTP layer and the status update manager consult it.
 */

export type AcceptFaultMode = 'lose-request' | 'lose-response';

export interface AcceptFault {
  /** lose-request: the connection drops before the master sees the call; lose-response: the master applies it, the answer is lost. */
  mode: AcceptFaultMode;
  /** How many more ACCEPT calls it applies to. */
  remaining: number;
  /** The connection hangs this long before it drops (as a request timeout would end it). */
  delayMs: number;
}

export interface FaultsView {
  accept: AcceptFault | null;
  duplicateUpdates: boolean;
  acceptsLost: number;
  updatesDuplicated: number;
  /** Offer ids of the ACCEPT calls lost before the master saw them (their resources must come back: a DECLINE or rescind). */
  lostRequestOffers: string[];
}

const MAX_DELAY_MS = 600_000;

export class ProtocolFaults {
  private accept: AcceptFault | undefined;
  duplicateUpdates = false;
  acceptsLost = 0;
  updatesDuplicated = 0;
  private readonly lostRequestOffers: string[] = [];

  /** The fault for the ACCEPT call (of these offers) being received, if one is armed (consumes one use). */
  takeAccept(offerIds: readonly string[]): AcceptFault | undefined {
    const f = this.accept;
    if (!f) return undefined;
    f.remaining--;
    if (f.remaining <= 0) this.accept = undefined;
    this.acceptsLost++;
    if (f.mode === 'lose-request') this.lostRequestOffers.push(...offerIds);
    return { ...f };
  }

  /**
   * Applies a `POST /emulator/faults` body: `{"accept": {"mode": "lose-response", "count": 1, "delayMs": 0} | null,
   * "duplicateUpdates": true}`; keys left out stay as they are. An error names the field.
   */
  set(body: Record<string, unknown>): { ok: true; value: FaultsView } | { ok: false; error: string } {
    const known = ['accept', 'duplicateUpdates'];
    const unknown = Object.keys(body).find((k) => !known.includes(k));
    if (unknown) return { ok: false, error: `unknown field "${unknown}" (accept, duplicateUpdates)` };
    let accept = this.accept;
    if (body.accept === null) accept = undefined;
    else if (body.accept !== undefined) {
      const a = body.accept as Record<string, unknown>;
      if (typeof a !== 'object' || Array.isArray(a)) return { ok: false, error: '"accept" must be an object or null' };
      if (a.mode !== 'lose-request' && a.mode !== 'lose-response') return { ok: false, error: '"accept.mode" must be "lose-request" or "lose-response"' };
      const count = a.count ?? 1;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1_000_000) return { ok: false, error: '"accept.count" must be a whole number from 1 to 1000000' };
      const delayMs = a.delayMs ?? 0;
      if (typeof delayMs !== 'number' || !(delayMs >= 0) || delayMs > MAX_DELAY_MS) return { ok: false, error: `"accept.delayMs" must be a number from 0 to ${MAX_DELAY_MS}` };
      accept = { mode: a.mode, remaining: count, delayMs };
    }
    if (body.duplicateUpdates !== undefined && typeof body.duplicateUpdates !== 'boolean') return { ok: false, error: '"duplicateUpdates" must be true or false' };
    this.accept = accept;
    if (typeof body.duplicateUpdates === 'boolean') this.duplicateUpdates = body.duplicateUpdates;
    return { ok: true, value: this.view() };
  }

  view(): FaultsView {
    return { accept: this.accept ? { ...this.accept } : null, duplicateUpdates: this.duplicateUpdates, acceptsLost: this.acceptsLost, updatesDuplicated: this.updatesDuplicated, lostRequestOffers: [...this.lostRequestOffers] };
  }
}
