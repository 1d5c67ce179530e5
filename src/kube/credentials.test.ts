// Credential reload and proxy-url: a client certificate rotated on disk is used for new connections without a restart,
// a token file is re-read, and a kubeconfig's proxy-url is honoured (HTTP CONNECT), against local TLS servers whose CA and
// certificates are minted as the control plane's are (src/controlplane/certs.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { ensurePki, type Pki } from '../controlplane/certs.js';
import { KubeHttp } from './http.js';

let dir: string;
let pki: Pki;

/** A client certificate for user `cn`, signed by the test CA, written to `<name>.crt`/`<name>.key`. */
function mintClientCert(cn: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}/O=kube-mesos-test`], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-CAcreateserial', '-out', cert, '-days', '1'], { stdio: 'ignore' });
  return { cert, key };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kube-mesos-creds-'));
  pki = await ensurePki(join(dir, 'pki'));
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function stop(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

describe('client certificate rotation', () => {
  it('a rotated certificate and key on disk are used after the refresh interval, without a restart', async () => {
    // an API server stand-in that requires a client certificate from the CA and answers with its CN, as the user name
    const server = https.createServer({ key: await readText(pki.serverKey), cert: await readText(pki.serverCert), ca: await readText(pki.caCert), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ user: peer.subject?.CN }));
    });
    const port = await listen(server);
    const alice = mintClientCert('alice', 'alice');
    const certFile = join(dir, 'client.crt');
    const keyFile = join(dir, 'client.key');
    writeFileSync(certFile, await readText(alice.cert));
    writeFileSync(keyFile, await readText(alice.key));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caFile: pki.caCert }],
      users: [{ name: 'u', certFile, keyFile }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    let t = 1_000_000;
    const h = new KubeHttp(kc, { authRefreshMs: 10_000, now: () => t });
    try {
      expect((await h.request('GET', '/api/v1/pods')).body).toEqual({ user: 'alice' });

      const bob = mintClientCert('bob', 'bob');
      writeFileSync(certFile, await readText(bob.cert));
      writeFileSync(keyFile, await readText(bob.key));
      // within the refresh interval the credentials in use stay (no file reads on the hot path)
      expect((await h.request('GET', '/api/v1/pods')).body).toEqual({ user: 'alice' });
      expect(h.tlsReloads).toBe(0);

      t += 10_000;
      expect((await h.request('GET', '/api/v1/pods')).body).toEqual({ user: 'bob' });
      expect(h.tlsReloads).toBe(1);
      // an unchanged certificate at the next refresh keeps the connection pool
      t += 10_000;
      expect((await h.request('GET', '/api/v1/pods')).body).toEqual({ user: 'bob' });
      expect(h.tlsReloads).toBe(1);
    } finally {
      h.close();
      await stop(server);
    }
  });
});

describe('token file', () => {
  it('is re-read at each refresh, so a rotated service-account token is sent', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const port = await listen(server);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first-token\n');
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    let t = 0;
    const h = new KubeHttp(kc, { tokenFile, authRefreshMs: 1000, now: () => t });
    try {
      await h.request('GET', '/api/v1/nodes');
      writeFileSync(tokenFile, 'second-token\n');
      await h.request('GET', '/api/v1/nodes');
      t += 1000;
      await h.request('GET', '/api/v1/nodes');
      expect(seen).toEqual(['Bearer first-token', 'Bearer first-token', 'Bearer second-token']);
    } finally {
      h.close();
      await stop(server);
    }
  });
});

describe('kubeconfig proxy-url', () => {
  it('tunnels requests through the proxy with HTTP CONNECT', async () => {
    const server = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url })));
    const port = await listen(server);
    const connects: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      connects.push(req.url ?? '');
      const [host, p] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(p), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    const proxyPort = await listen(proxy);
    const kc = new KubeConfig();
    kc.loadFromString(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true, 'proxy-url': `http://127.0.0.1:${proxyPort}` } }],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const h = new KubeHttp(kc);
    try {
      const r = await h.request('GET', '/api/v1/pods', { query: { limit: 1 } });
      expect(r).toMatchObject({ status: 200, body: { path: '/api/v1/pods?limit=1' } });
      expect(connects).toEqual([`127.0.0.1:${port}`]);
    } finally {
      h.close();
      await stop(server);
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('refuses a proxy-url it cannot use, naming it', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', proxyUrl: 'ftp://proxy:21' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    expect(() => new KubeHttp(kc)).toThrow('kubeconfig proxy-url ftp://proxy:21: expected an http://, https:// or socks5:// URL');
  });
});

async function readText(path: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8');
}
