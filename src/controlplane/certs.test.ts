import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate, createPublicKey, createPrivateKey } from 'node:crypto';
import { ensurePki, tokenLine, type Pki } from './certs.js';

describe('tokenLine', () => {
  it.each([
    ['abc', 'admin', ['system:masters'], 'abc,admin,admin,"system:masters"'],
    ['abc', 'u', ['a', 'b'], 'abc,u,u,"a,b"'],
    ['abc', 'system:kube-controller-manager', [], 'abc,system:kube-controller-manager,system:kube-controller-manager'],
  ])('%s %s %p', (token, user, groups, want) => {
    expect(tokenLine(token, user, groups)).toBe(want);
  });
  it('rejects a token that would break the CSV', () => {
    expect(() => tokenLine('a,b', 'u')).toThrow(/URL-safe/);
  });
});

describe('ensurePki', () => {
  let dir: string;
  let pki: Pki;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pki-test-'));
    pki = await ensurePki(join(dir, 'pki'));
  }, 30_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('makes a serving certificate for loopback and the in-cluster names, signed by the CA', async () => {
    const ca = new X509Certificate(await readFile(pki.caCert));
    const srv = new X509Certificate(await readFile(pki.serverCert));
    expect(ca.ca).toBe(true);
    expect(srv.verify(ca.publicKey)).toBe(true);
    expect(srv.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(srv.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    expect(srv.checkHost('localhost')).toBe('localhost');
    expect(srv.checkHost('example.com')).toBeUndefined();
    expect(srv.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1'])); // serverAuth
  });

  it("makes kube-apiserver's kubelet client certificate (O=system:masters, CN=kube-apiserver-kubelet-client, clientAuth), signed by the CA", async () => {
    const ca = new X509Certificate(await readFile(pki.caCert));
    const c = new X509Certificate(await readFile(pki.kubeletClientCert));
    expect(c.verify(ca.publicKey)).toBe(true);
    expect(c.subject.split('\n').sort()).toEqual(['CN=kube-apiserver-kubelet-client', 'O=system:masters']);
    expect(c.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth only
    expect(c.checkPrivateKey(createPrivateKey(await readFile(pki.kubeletClientKey)))).toBe(true);
  });

  it('makes a matching service-account key pair', async () => {
    const pub = createPublicKey(await readFile(pki.saPub));
    const priv = createPrivateKey(await readFile(pki.saKey));
    expect(createPublicKey(priv).export({ type: 'spki', format: 'pem' })).toBe(pub.export({ type: 'spki', format: 'pem' }));
  });

  it('writes an admin in system:masters and a controller-manager user to the token file', async () => {
    const lines = (await readFile(pki.tokensFile, 'utf8')).trim().split('\n');
    expect(lines).toEqual([`${pki.adminToken},admin,admin,"system:masters"`, `${pki.controllerManagerToken},system:kube-controller-manager,system:kube-controller-manager`]);
    expect(pki.adminToken).not.toBe(pki.controllerManagerToken);
  });

  it('reuses everything on a second call (tokens and keys stay valid across restarts)', async () => {
    const before = await Promise.all([pki.caCert, pki.serverCert, pki.saKey].map((f) => readFile(f, 'utf8')));
    const again = await ensurePki(join(dir, 'pki'));
    expect(again).toEqual(pki);
    expect(await Promise.all([pki.caCert, pki.serverCert, pki.saKey].map((f) => readFile(f, 'utf8')))).toEqual(before);
  });
});
