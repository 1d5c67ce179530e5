/**
 * The executor's own small HTTP listener: `/metrics` (its registry: executor, hollow kubelet, Kubernetes client, process
 * metrics) and `/healthz`. Off unless `kube-mesos executor --metrics-listen host:port` is given.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { parseListen } from '../ops/server.js';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Starts listening; rejects with the address in the message when it cannot (EADDRINUSE, a bad address). */
export async function startMetricsServer(registry: Registry, listen: string): Promise<MetricsServer> {
  const addr = parseListen(listen);
  if (!addr.ok) throw new TypeError(`--metrics-listen: ${addr.error}`);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`metrics server: cannot listen on ${listen}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const host = bound.address === '0.0.0.0' ? '127.0.0.1' : bound.address === '::' ? '::1' : bound.address;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
