import type { Result } from '../client.js';
import type { LeaseApi, LeaseRecord, StoredLease } from '../leader.js';

/** An in-memory Lease with resourceVersion conflicts, and a switch to make every call fail as if the server were down. */
export class FakeLease implements LeaseApi {
  lease: StoredLease | null = null;
  down = false;
  private rv = 0;

  async get(): Promise<Result<StoredLease | null>> {
    await Promise.resolve();
    if (this.down) return { ok: false, kind: 'Retryable', status: 0, message: 'down' };
    return { ok: true, value: this.lease && structuredClone(this.lease) };
  }

  async create(record: LeaseRecord): Promise<Result<StoredLease>> {
    await Promise.resolve();
    if (this.down) return { ok: false, kind: 'Retryable', status: 0, message: 'down' };
    if (this.lease) return { ok: false, kind: 'AlreadyExists', status: 409, message: 'exists' };
    this.lease = { record: { ...record }, resourceVersion: String(++this.rv) };
    return { ok: true, value: structuredClone(this.lease) };
  }

  async update(record: LeaseRecord, resourceVersion: string): Promise<Result<StoredLease>> {
    await Promise.resolve();
    if (this.down) return { ok: false, kind: 'Retryable', status: 0, message: 'down' };
    if (!this.lease) return { ok: false, kind: 'NotFound', status: 404, message: 'no lease' };
    if (this.lease.resourceVersion !== resourceVersion) return { ok: false, kind: 'Conflict', status: 409, message: 'conflict' };
    this.lease = { record: { ...record }, resourceVersion: String(++this.rv) };
    return { ok: true, value: structuredClone(this.lease) };
  }
}
