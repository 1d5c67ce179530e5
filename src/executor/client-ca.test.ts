import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigFlag, resolveClientCa } from './client-ca.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'client-ca-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const kubeconfig = (cluster: string) => `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443", ${cluster} } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`;

describe('resolveClientCa', () => {
  it('uses the configured file first', () => {
    expect(resolveClientCa({ configured: '/etc/kubernetes/pki/ca.crt', kubeletArgs: [], target: join(dir, 'ca') })).toEqual({ ok: true, file: '/etc/kubernetes/pki/ca.crt', from: 'environment' });
  });
  it("writes the kubeconfig's inline CA (the last --kubeconfig flag wins)", () => {
    writeFileSync(join(dir, 'kc'), kubeconfig(`certificate-authority-data: ${Buffer.from('PEM').toString('base64')}`));
    const target = join(dir, 'client-ca.crt');
    expect(resolveClientCa({ configured: undefined, kubeletArgs: ['--kubeconfig=/nope', '--v=2', `--kubeconfig=${join(dir, 'kc')}`], target })).toEqual({ ok: true, file: target, from: 'kubeconfig' });
    expect(readFileSync(target, 'utf8')).toBe('PEM');
  });
  it("names the kubeconfig's CA file", () => {
    writeFileSync(join(dir, 'kc'), kubeconfig('certificate-authority: /pki/ca.crt'));
    expect(resolveClientCa({ configured: undefined, kubeletArgs: [`--kubeconfig=${join(dir, 'kc')}`], target: join(dir, 'x') })).toEqual({ ok: true, file: '/pki/ca.crt', from: 'kubeconfig' });
  });
  it('says why there is none', () => {
    expect(resolveClientCa({ configured: undefined, kubeletArgs: [], target: join(dir, 'x') })).toEqual({ ok: false, reason: 'the kubelet has no --kubeconfig' });
    writeFileSync(join(dir, 'kc'), kubeconfig('insecure-skip-tls-verify: true'));
    expect(resolveClientCa({ configured: undefined, kubeletArgs: [`--kubeconfig=${join(dir, 'kc')}`], target: join(dir, 'x') })).toEqual({ ok: false, reason: `${join(dir, 'kc')} names no certificate authority for its current cluster` });
    expect(resolveClientCa({ configured: undefined, kubeletArgs: [`--kubeconfig=${join(dir, 'missing')}`], target: join(dir, 'x') })).toMatchObject({ ok: false, reason: expect.stringContaining('cannot read') });
  });
  it('kubeconfigFlag', () => {
    expect(kubeconfigFlag(['--a', '--kubeconfig=/x'])).toBe('/x');
    expect(kubeconfigFlag([])).toBeUndefined();
  });
});
