import { describe, expect, it } from '@jest/globals';
import { buildCsr, newNodeKey } from '../kube/csr.js';
import { decodeIdentityMessage, encodeIdentityMessage, type IdentityMessage } from '../kube/node-identity-messages.js';
import { silentLogger } from '../telemetry/log.js';
import { Effects } from './effects.js';
import { NodeIdentityIssuer } from './node-identity.js';
import { CoreState } from './state.js';
import { FakeKube, FakeMesos } from './testing/fakes.js';

const csrFor = (cn: string, o = ['system:nodes']) => buildCsr(newNodeKey().privateKey, { commonName: cn, organizations: o });
const csrMessage = (nodeName: string, csr = csrFor(`system:node:${nodeName}`)) => encodeIdentityMessage({ type: 'NODE_CSR', nodeName, csr });

function setup(o: { maxConcurrent?: number; configured?: boolean } = {}) {
  const state = new CoreState({ nowMs: 0 });
  const mesos = new FakeMesos();
  const kube = new FakeKube();
  const results: [string, number][] = [];
  let now = 0;
  const fx = new Effects({ mesos, kube, clock: { now: () => now }, log: silentLogger(), metrics: { nodeCertificate: (r: string, s: number) => results.push([r, s]) } as never });
  const issuer = new NodeIdentityIssuer(state, fx, o.configured === false ? undefined : { server: 'https://api:6443', caData: 'Q0E=', maxConcurrent: o.maxConcurrent });
  // Agent a1 hosts node-a1 with kubelet executor kubelet.a1.x (launched by this scheduler).
  state.tasks.launchKubelet('a1', 'kubelet.a1.x', 'node-a1', 0);
  const replies = () => mesos.messages.map((m) => ({ to: `${m.agentId}/${m.executorId}`, ...(decodeIdentityMessage(m.data) as { ok: true; value: IdentityMessage }).value }));
  return { state, mesos, kube, fx, issuer, results, replies, advance: (ms: number) => (now += ms) };
}

describe('NodeIdentityIssuer', () => {
  it('issues a certificate to the executor it launched on the agent, for that agent\'s node, and replies by MESSAGE', async () => {
    const { issuer, fx, kube, replies, results, advance } = setup();
    kube.csrGate = Promise.resolve().then(() => void advance(250));
    issuer.onMessage('a1', 'kubelet.a1.x', csrMessage('node-a1'));
    await fx.drain();
    expect(kube.csrs).toEqual([['node-a1', 'mesos executor kubelet.a1.x on agent a1']]);
    expect(replies()).toEqual([{ to: 'a1/kubelet.a1.x', type: 'NODE_CERTIFICATE', nodeName: 'node-a1', certificate: 'CERT node-a1', server: 'https://api:6443', caData: 'Q0E=' }]);
    expect(results).toEqual([['issued', 0.25]]);
  });

  it.each<[string, string, string, Uint8Array, RegExp]>([
    ['another executor on the agent', 'a1', 'kubelet.a1.other', csrMessage('node-a1'), /executor kubelet\.a1\.other is not the kubelet executor kube-mesos runs on agent a1 \(that is kubelet\.a1\.x\)/],
    ['another node\'s name', 'a1', 'kubelet.a1.x', csrMessage('node-a2'), /asks for node node-a2; that agent's node is node-a1/],
    ['a CSR for another node under its own name', 'a1', 'kubelet.a1.x', csrMessage('node-a1', csrFor('system:node:node-a2')), /CSR asks for "system:node:node-a2", not system:node:node-a1/],
    ['a CSR with extra organizations', 'a1', 'kubelet.a1.x', csrMessage('node-a1', csrFor('system:node:node-a1', ['system:nodes', 'system:masters'])), /organizations .* are not \["system:nodes"\]/],
    ['an unknown agent', 'a9', 'kubelet.a9.x', csrMessage('node-a9'), /agent a9 is not known/],
  ])('denies %s: NODE_CSR_DENIED, a Node event, a metric, no CSR submitted', async (_name, agentId, executorId, data, error) => {
    const { issuer, fx, kube, replies, results } = setup();
    issuer.onMessage(agentId, executorId, data);
    await fx.drain();
    expect(kube.csrs).toEqual([]);
    expect(replies()).toEqual([expect.objectContaining({ to: `${agentId}/${executorId}`, type: 'NODE_CSR_DENIED', error: expect.stringMatching(error) })]);
    expect(kube.nodeWarnings).toEqual([[expect.any(String), 'NodeCertificateDenied', expect.stringMatching(error)]]);
    expect(results.map((r) => r[0])).toEqual(['denied']);
  });

  it('ignores a MESSAGE that is not a node-identity message (garbage, no crash, no reply)', async () => {
    const { issuer, fx, replies, results } = setup();
    issuer.onMessage('a1', 'kubelet.a1.x', new TextEncoder().encode('{"kind":"other"}'));
    issuer.onMessage('a1', 'kubelet.a1.x', new Uint8Array([0xff, 0xfe, 0x00]));
    issuer.onMessage('a1', 'kubelet.a1.x', undefined);
    await fx.drain();
    expect(replies()).toEqual([]);
    expect(results.map((r) => r[0])).toEqual(['invalid', 'invalid', 'invalid']);
  });

  it('an API failure is a retryable denial with the reason; a resent CSR after success gets the same certificate without a new request', async () => {
    const { issuer, fx, kube, replies } = setup();
    kube.csrAnswer = () => ({ ok: false, error: 'creating the CSR: Retryable (503): etcd', retryable: true });
    const msg = csrMessage('node-a1');
    issuer.onMessage('a1', 'kubelet.a1.x', msg);
    await fx.drain();
    expect(replies()[0]).toMatchObject({ type: 'NODE_CSR_DENIED', retryable: true, error: expect.stringMatching(/failed: creating the CSR: Retryable \(503\): etcd/) });
    kube.csrAnswer = (n) => ({ ok: true, certificatePem: `CERT ${n}`, csrName: 'c' });
    issuer.onMessage('a1', 'kubelet.a1.x', msg);
    await fx.drain();
    issuer.onMessage('a1', 'kubelet.a1.x', msg);
    await fx.drain();
    expect(kube.csrs).toHaveLength(2);
    expect(replies().slice(1).map((r) => r.type)).toEqual(['NODE_CERTIFICATE', 'NODE_CERTIFICATE']);
  });

  it('a burst is issued concurrently up to the limit, a duplicate in flight is not submitted twice', async () => {
    const { state, issuer, fx, kube, replies } = setup({ maxConcurrent: 4 });
    let release!: () => void;
    kube.csrGate = new Promise<void>((r) => (release = r));
    for (let i = 0; i < 20; i++) state.tasks.launchKubelet(`b${i}`, `kubelet.b${i}.x`, `node-b${i}`, 0);
    const msgs = Array.from({ length: 20 }, (_, i) => csrMessage(`node-b${i}`));
    msgs.forEach((m, i) => issuer.onMessage(`b${i}`, `kubelet.b${i}.x`, m));
    issuer.onMessage('b0', 'kubelet.b0.x', msgs[0]); // resent while in flight
    await new Promise((r) => setImmediate(r));
    expect(kube.csrInFlight).toBe(4);
    release();
    await fx.drain();
    expect(kube.csrMaxInFlight).toBe(4);
    expect(kube.csrs).toHaveLength(20);
    expect(new Set(replies().map((r) => r.to)).size).toBe(20);
  });

  it('without an API server address it denies, saying so', async () => {
    const { issuer, fx, replies } = setup({ configured: false });
    issuer.onMessage('a1', 'kubelet.a1.x', csrMessage('node-a1'));
    await fx.drain();
    expect(replies()[0]).toMatchObject({ type: 'NODE_CSR_DENIED', retryable: false, error: expect.stringMatching(/issues no node certificates/) });
  });
});
