import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCsr, checkNodeCsr, checkServingCsr, newNodeKey, parseCsr } from './csr.js';

describe('node CSRs', () => {
  const { privateKey } = newNodeKey();
  const pem = buildCsr(privateKey, { commonName: 'system:node:agent-7', organizations: ['system:nodes'] });

  it('openssl reads the CSR, verifies its signature and sees the subject', () => {
    const dir = mkdtempSync(join(tmpdir(), 'csr-'));
    try {
      writeFileSync(join(dir, 'x.csr'), pem);
      const out = execFileSync('openssl', ['req', '-in', join(dir, 'x.csr'), '-noout', '-verify', '-subject'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out.replace(/\s+/g, ' ')).toMatch(/subject=O ?= ?system:nodes, CN ?= ?system:node:agent-7/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parseCsr reads back what buildCsr wrote, with a valid signature', () => {
    expect(parseCsr(pem)).toEqual({ subject: { commonName: 'system:node:agent-7', organizations: ['system:nodes'], other: [] }, attributes: 0, san: { dns: [], ips: [], other: 0 }, otherExtensions: [], keyType: 'ec', signatureValid: true });
  });

  it('accepts exactly the node it is for', () => {
    expect(checkNodeCsr(pem, 'agent-7')).toBeUndefined();
    expect(checkNodeCsr(pem, 'agent-8')).toBe('CSR asks for "system:node:agent-7", not system:node:agent-8');
  });

  it('refuses other organizations, a tampered signature and garbage', () => {
    const admin = buildCsr(privateKey, { commonName: 'system:node:agent-7', organizations: ['system:nodes', 'system:masters'] });
    expect(checkNodeCsr(admin, 'agent-7')).toMatch(/organizations \["system:nodes","system:masters"\]/);
    const der = Buffer.from(pem.split('\n').slice(1, -2).join(''), 'base64');
    der[der.length - 5] ^= 0xff;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(checkNodeCsr(tampered, 'agent-7')).toMatch(/signature does not verify|unreadable/);
    expect(checkNodeCsr('hello', 'agent-7')).toBe('unreadable CSR: not a PEM CERTIFICATE REQUEST');
  });

  it('reads an openssl-made CSR with an extension request and reports the attribute', () => {
    const dir = mkdtempSync(join(tmpdir(), 'csr-'));
    try {
      execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'k.pem')]);
      execFileSync('openssl', ['req', '-new', '-key', join(dir, 'k.pem'), '-subj', '/O=system:nodes/CN=system:node:agent-7', '-addext', 'subjectAltName=DNS:evil', '-out', join(dir, 'x.csr')]);
      const openssl = execFileSync('cat', [join(dir, 'x.csr')], { encoding: 'utf8' });
      expect(checkNodeCsr(openssl, 'agent-7')).toBe('CSR carries attributes (extensions); a kubelet client CSR has none');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kubelet serving CSRs (checkServingCsr)', () => {
  // What kubelet 1.20 sends with serverTLSBootstrap: an ECDSA P-256 key, O=system:nodes, CN=system:node:<name>, and
  // its hostname and node IPs as subject alternative names — made here by openssl.
  const dir = mkdtempSync(join(tmpdir(), 'serving-csr-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const csr = (subj: string, san?: string, extra: string[] = []): string => {
    const key = join(dir, `k${Math.random()}.pem`);
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    return execFileSync('openssl', ['req', '-new', '-sha256', '-key', key, '-subj', subj, ...(san ? ['-addext', `subjectAltName=${san}`] : []), ...extra], { encoding: 'utf8' });
  };
  const addresses = [
    { type: 'InternalIP', address: '192.0.2.5' },
    { type: 'Hostname', address: 'agent-5' },
  ];

  it('accepts names that are all the Node\'s own; parses DNS and IP names', () => {
    const pem = csr('/O=system:nodes/CN=system:node:agent-5', 'DNS:agent-5,IP:192.0.2.5');
    expect(parseCsr(pem).san).toEqual({ dns: ['agent-5'], ips: ['192.0.2.5'], other: 0 });
    expect(checkServingCsr(pem, 'agent-5', addresses)).toBeUndefined();
  });

  it.each([
    ['another node', '/O=system:nodes/CN=system:node:agent-6', 'DNS:agent-5', 'agent-5', /asks for "system:node:agent-6"/],
    ['an IP not the Node\'s', '/O=system:nodes/CN=system:node:agent-5', 'DNS:agent-5,IP:10.0.0.1', 'agent-5', /IP 10\.0\.0\.1, not among/],
    ['a DNS name not the Node\'s', '/O=system:nodes/CN=system:node:agent-5', 'DNS:kubernetes.default.svc', 'agent-5', /DNS kubernetes\.default\.svc, not among/],
    ['no names', '/O=system:nodes/CN=system:node:agent-5', undefined, 'agent-5', /names no DNS name or IP/],
    ['an email name', '/O=system:nodes/CN=system:node:agent-5', 'email:a@b.c', 'agent-5', /something other than DNS names/],
    ['another organization', '/O=system:masters/CN=system:node:agent-5', 'DNS:agent-5', 'agent-5', /organizations \["system:masters"\]/],
  ])('refuses %s', (_name, subj, san, node, reason) => {
    expect(checkServingCsr(csr(subj, san), node, addresses)).toMatch(reason);
  });

  it('refuses extensions other than the names (e.g. a CA flag)', () => {
    const pem = csr('/O=system:nodes/CN=system:node:agent-5', 'DNS:agent-5', ['-addext', 'basicConstraints=critical,CA:TRUE']);
    expect(checkServingCsr(pem, 'agent-5', addresses)).toMatch(/other extensions: 2\.5\.29\.19/);
  });
});
