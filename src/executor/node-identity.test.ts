import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { selfSignedCertificate } from '../ops/auth.js';
import { decodeIdentityMessage, encodeIdentityMessage, type IdentityMessage } from '../kube/node-identity-messages.js';
import type { ExecutorEvent } from '../mesos/types.js';
import { silentLogger } from '../telemetry/log.js';
import { HeldEventsDriver, obtainNodeCredential } from './node-identity.js';
import type { ExecutorStatusUpdate } from './executor.js';

/** The executor client as the exchange sees it; `answer` plays the scheduler for each CSR message. */
class FakeChannel extends EventEmitter {
  state = 'subscribed';
  sent: IdentityMessage[] = [];
  updates: ExecutorStatusUpdate[] = [];
  answer: ((m: IdentityMessage) => IdentityMessage | undefined) | undefined;
  async message(data: Uint8Array): Promise<void> {
    const m = decodeIdentityMessage(data);
    if (!m.ok) throw new Error(m.error);
    this.sent.push(m.value);
    const reply = this.answer?.(m.value);
    if (reply) queueMicrotask(() => this.deliver(reply));
  }
  deliver(m: IdentityMessage): void {
    this.emit('event', { type: 'MESSAGE', message: { data: encodeIdentityMessage(m) } } satisfies ExecutorEvent);
  }
  start(): void {}
  async stop(): Promise<void> {}
  async update(s: ExecutorStatusUpdate): Promise<void> {
    this.updates.push(s);
  }
}

const opts = (channel: FakeChannel, extra: Partial<Parameters<typeof obtainNodeCredential>[0]> = {}) => ({ channel, nodeName: 'node-1', timeoutMs: 2000, resendMs: 50, log: silentLogger(), ...extra });

describe('obtainNodeCredential', () => {
  it('a certificate for another key is refused with the reason', async () => {
    const ch = new FakeChannel();
    const other = await selfSignedCertificate(['node-1']);
    ch.answer = () => ({ type: 'NODE_CERTIFICATE', nodeName: 'node-1', certificate: other.cert, server: 'https://api:6443' });
    const r = await obtainNodeCredential(opts(ch));
    expect(r).toEqual({ ok: false, error: 'the certificate the scheduler sent is unusable: it is not for this executor\'s key' });
    expect(ch.sent[0]).toMatchObject({ type: 'NODE_CSR', nodeName: 'node-1', csr: expect.stringContaining('BEGIN CERTIFICATE REQUEST') });
  });

  it('a final denial ends the wait at once with the scheduler\'s reason', async () => {
    const ch = new FakeChannel();
    ch.answer = () => ({ type: 'NODE_CSR_DENIED', nodeName: 'node-1', error: 'executor x is not the kubelet executor', retryable: false });
    expect(await obtainNodeCredential(opts(ch, { timeoutMs: 60_000 }))).toEqual({ ok: false, error: 'executor x is not the kubelet executor' });
  });

  it('unanswered, the CSR is resent until the timeout, which names the last retryable answer', async () => {
    const ch = new FakeChannel();
    let n = 0;
    ch.answer = () => (++n === 2 ? { type: 'NODE_CSR_DENIED', nodeName: 'node-1', error: 'API: 503', retryable: true } : undefined);
    const r = await obtainNodeCredential(opts(ch, { timeoutMs: 400 }));
    expect(r).toEqual({ ok: false, error: 'no node certificate from the scheduler within 0s (last answer: API: 503)' });
    expect(ch.sent.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ch.sent.map((m) => (m.type === 'NODE_CSR' ? m.csr : '')))).toHaveProperty('size', 1); // one key, one CSR
  });

  it('not subscribed yet: the CSR goes out on SUBSCRIBED (the kubeconfig written from the answer: test/integration/executor-hollow)', async () => {
    const ch = new FakeChannel();
    ch.state = 'connecting';
    ch.answer = () => ({ type: 'NODE_CSR_DENIED', nodeName: 'node-1', error: 'no', retryable: false });
    const p = obtainNodeCredential(opts(ch, { resendMs: 20 }));
    await new Promise((r) => setTimeout(r, 100));
    expect(ch.sent).toEqual([]);
    ch.state = 'subscribed';
    ch.emit('subscribed');
    expect(await p).toEqual({ ok: false, error: 'no' });
    expect(ch.sent).toHaveLength(1);
  });
});

describe('HeldEventsDriver', () => {
  it('holds events until the executor starts, then hands them over in order', () => {
    const ch = new FakeChannel();
    const d = new HeldEventsDriver(ch);
    ch.emit('event', { type: 'SUBSCRIBED', subscribed: {} } as never);
    ch.emit('event', { type: 'LAUNCH', launch: { task: { task_id: { value: 't1' } } } } as never);
    const seen: string[] = [];
    d.on('event', (ev) => seen.push(ev.type));
    expect(seen).toEqual([]);
    d.start();
    ch.emit('event', { type: 'KILL', kill: { task_id: { value: 't1' } } } as never);
    expect(seen).toEqual(['SUBSCRIBED', 'LAUNCH', 'KILL']);
  });

  it('a held LAUNCH is reported TASK_STARTING at once (the scheduler binds meanwhile), and only once', async () => {
    const ch = new FakeChannel();
    const d = new HeldEventsDriver(ch);
    ch.emit('event', { type: 'LAUNCH', launch: { task: { task_id: { value: 't1' } } } } as never);
    expect(ch.updates.map((u) => [u.task_id.value, u.state])).toEqual([['t1', 'TASK_STARTING']]);
    d.start();
    await d.update({ task_id: { value: 't1' }, state: 'TASK_STARTING' });
    await d.update({ task_id: { value: 't1' }, state: 'TASK_RUNNING' });
    expect(ch.updates.map((u) => [u.task_id.value, u.state])).toEqual([['t1', 'TASK_STARTING'], ['t1', 'TASK_RUNNING']]);
  });

  it('failHeld fails the tasks of held LAUNCHes with the reason', async () => {
    const ch = new FakeChannel();
    const d = new HeldEventsDriver(ch);
    ch.emit('event', { type: 'LAUNCH', launch: { task: { task_id: { value: 't1' } } } } as never);
    ch.emit('event', { type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks: [{ task_id: { value: 't2' } }] } } } as never);
    expect(await d.failHeld('no node identity for node-1: timed out')).toBe(2);
    expect(ch.updates.filter((u) => u.state !== 'TASK_STARTING')).toEqual([
      { task_id: { value: 't1' }, state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: 'no node identity for node-1: timed out' },
      { task_id: { value: 't2' }, state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: 'no node identity for node-1: timed out' },
    ]);
  });
});
