import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type express from 'express';

export interface OpsServer {
  /** Where to reach it; an unspecified address (0.0.0.0, ::) is shown as loopback so the URL can be opened. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** `host:port`, `[::1]:port` or `:port` (all interfaces); port 0 picks a free one. */
export function parseListen(listen: string): { ok: true; host: string | undefined; port: number } | { ok: false; error: string } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(listen.trim());
  if (!m || Number(m[3]) > 65535) return { ok: false, error: `listen address "${listen}" is not host:port` };
  const host = m[1] ?? m[2];
  return { ok: true, host: host === '' ? undefined : host, port: Number(m[3]) };
}

/** A loopback host (127.0.0.0/8, ::1, localhost): the only place the ops server may run without TLS and auth. */
export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && (/^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === 'localhost');
}

/** Starts the ops server, HTTPS when `tls` is given; rejects (e.g. EADDRINUSE) with the address in the message. */
export async function startOpsServer(app: express.Application, listen: string, tls?: { cert: string; key: string }): Promise<OpsServer> {
  const addr = parseListen(listen);
  if (!addr.ok) throw new TypeError(addr.error);
  const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, app) : createServer(app);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`ops server: cannot listen on ${listen}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const host = bound.address === '0.0.0.0' ? '127.0.0.1' : bound.address === '::' ? '::1' : bound.address;
  const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${bound.port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port: bound.port,
    close(): Promise<void> {
      // Keep-alive connections (Prometheus, browsers) would hold close() open; end them.
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
