import { createServer } from 'node:net';

/** A port that was free on 127.0.0.1 a moment ago (bind port 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}

/** `n` distinct free ports (held open together so they cannot collide with each other). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => {
      const srv = createServer();
      srv.unref();
      return new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        srv.on('error', reject);
        srv.listen(0, host, () => resolve(srv));
      });
    }),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    return typeof a === 'object' && a ? a.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}
