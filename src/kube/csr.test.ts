import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCsr, checkNodeCsr, newNodeKey, parseCsr } from './csr.js';

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
    expect(parseCsr(pem)).toEqual({ subject: { commonName: 'system:node:agent-7', organizations: ['system:nodes'], other: [] }, attributes: 0, keyType: 'ec', signatureValid: true });
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
