/**
 * Scripted loopback HTTP servers standing in for a Mesos master / agent, for the client contract tests.
 * Each test scripts what the server answers; the server records every request it got.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContentType } from '../../src/mesos/codec.js';
import { encodeRecord } from '../../src/mesos/recordio.js';

export interface Recorded<C> {
  call: C;
  headers: http.IncomingHttpHeaders;
  /** Client port of the TCP connection, to tell connections apart. */
  remotePort: number;
  contentType: ContentType;
}

export interface Exchange<C> extends Recorded<C> {
  req: http.IncomingMessage;
  res: http.ServerResponse;
}

export interface ScriptedServerOptions<C> {
  decodeCall: (buf: Uint8Array, ct: ContentType) => C;
  tls?: { key: string; cert: string };
  port?: number;
}

/** A loopback server; `handle` decides the answer to each decoded call (default: 202). */
export class ScriptedServer<C extends { type?: string }> {
  readonly requests: Recorded<C>[] = [];
  readonly openStreams = new Set<http.ServerResponse>();
  handle: (ex: Exchange<C>) => void = (ex) => {
    ex.res.writeHead(202).end();
  };
  private server!: http.Server;
  private waiters: Array<() => void> = [];
  port = 0;
  private constructor(private readonly opts: ScriptedServerOptions<C>) {}

  static async start<C extends { type?: string }>(opts: ScriptedServerOptions<C>): Promise<ScriptedServer<C>> {
    const s = new ScriptedServer<C>(opts);
    await s.listen(opts.port ?? 0);
    return s;
  }

  get url(): string {
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  private async listen(port: number): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const ct = (req.headers['content-type'] ?? 'application/x-protobuf') as ContentType;
        let call: C;
        try {
          call = this.opts.decodeCall(new Uint8Array(Buffer.concat(chunks)), ct);
        } catch (err) {
          res.writeHead(400).end(`bad call: ${(err as Error).message}`);
          return;
        }
        const rec: Recorded<C> = { call, headers: req.headers, remotePort: req.socket.remotePort ?? 0, contentType: ct };
        this.requests.push(rec);
        try {
          this.handle({ ...rec, req, res });
        } finally {
          const w = this.waiters;
          this.waiters = [];
          for (const f of w) f();
        }
      });
    };
    this.server = this.opts.tls ? https.createServer({ key: this.opts.tls.key, cert: this.opts.tls.cert }, handler) : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Starts a chunked event stream (status 200) and returns a writer for events. */
  openStream(res: http.ServerResponse, ct: ContentType, headers: Record<string, string> = {}): void {
    res.writeHead(200, { 'Content-Type': ct, 'Transfer-Encoding': 'chunked', ...headers });
    res.flushHeaders();
    this.openStreams.add(res);
    res.on('close', () => this.openStreams.delete(res));
  }

  writeRecord(res: http.ServerResponse, payload: Uint8Array): void {
    res.write(encodeRecord(payload));
  }

  /** Resolves once `pred` holds over the recorded requests (checked after each request), or rejects on timeout. */
  async waitFor(pred: (reqs: Recorded<C>[]) => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.requests)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.requests.map((r) => r.call.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  count(type: string): number {
    return this.requests.filter((r) => r.call.type === type).length;
  }

  /** Drops every open connection (as a crashing process would) and stops listening. */
  async close(): Promise<void> {
    for (const s of this.openStreams) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port (an agent restart). */
  async restart(): Promise<void> {
    await this.listen(this.port);
  }
}

/** Resolves when `emitter`-style subscription `on(event)` fires with a value matching `pred`. */
export function nextEvent<T>(on: (h: (v: T) => void) => void, pred: (v: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const t = setTimeout(() => {
      done = true;
      reject(new Error('timed out waiting for an event'));
    }, timeoutMs);
    on((v) => {
      if (done || !pred(v)) return;
      done = true;
      clearTimeout(t);
      resolve(v);
    });
  });
}

/** A self-signed certificate for 127.0.0.1, made with the openssl CLI. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kube-mesos-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

