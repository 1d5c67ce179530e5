/**
 * Applies the `delivery` configuration: starts the artifact server when `delivery.serve.listen` is set and works out
 * the ExecutorInfo's command, URIs and container (executor-delivery.ts). Called once by the scheduler command.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { KubeMesosConfig } from '../config/config.js';
import type { Logger } from '../telemetry/log.js';
import { startArtifactServer, type ArtifactSpec, type RunningArtifactServer } from './artifact-server.js';
import { executorDelivery, KUBELET_FILE, type ExecutorDelivery } from './executor-delivery.js';

export const BUNDLE_NAME = `kube-mesos-executor-${process.platform}-${process.arch}.tgz`;

/** Where `npm run bundle:executor` puts the bundle, relative to the compiled program (dist/delivery/ → dist/artifacts/). */
export function builtBundlePath(): string {
  return new URL(`../artifacts/${BUNDLE_NAME}`, import.meta.url).pathname;
}

export interface DeliverySetup {
  delivery: ExecutorDelivery;
  server?: RunningArtifactServer;
}

export class DeliveryConfigError extends Error {
  override name = 'DeliveryConfigError';
}

function parseListen(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(s.slice(i + 1)) };
}

/** Throws DeliveryConfigError with the key at fault when the settings cannot work. */
export async function setupDelivery(c: KubeMesosConfig, o: { log: Logger; preinstalledCommand: string; bundlePath?: string }): Promise<DeliverySetup> {
  const d = c.delivery;
  let server: RunningArtifactServer | undefined;
  if (d.serve.listen) {
    const artifacts: ArtifactSpec[] = [];
    const bundlePath = d.serve.bundlePath || o.bundlePath || builtBundlePath();
    if (d.mode === 'fetch' && !d.executorBundleUrl) {
      if (!existsSync(bundlePath)) throw new DeliveryConfigError(`delivery.serve.bundlePath: no executor bundle at ${bundlePath} (build one with \`npm run bundle:executor\`)`);
      artifacts.push({ name: BUNDLE_NAME, path: bundlePath });
    }
    if (d.serve.kubeletPath && !d.kubeletUrl) artifacts.push({ name: KUBELET_FILE, path: d.serve.kubeletPath });
    let tls: { cert: Buffer; key: Buffer } | undefined;
    if (d.serve.tlsCertFile) {
      try {
        tls = { cert: await readFile(d.serve.tlsCertFile), key: await readFile(d.serve.tlsKeyFile) };
      } catch (err) {
        throw new DeliveryConfigError(`delivery.serve.tlsCertFile/tlsKeyFile: ${(err as Error).message}`);
      }
    }
    try {
      server = await startArtifactServer({ artifacts, listen: parseListen(d.serve.listen), ...(d.serve.advertiseUrl ? { advertiseUrl: d.serve.advertiseUrl } : {}), ...(tls ? { tls } : {}), log: o.log });
    } catch (err) {
      throw new DeliveryConfigError(`delivery.serve: ${(err as Error).message}`);
    }
  }
  const r = executorDelivery({
    mode: d.mode,
    preinstalledCommand: o.preinstalledCommand,
    bundleUrl: d.executorBundleUrl || server?.artifacts.get(BUNDLE_NAME)?.url,
    image: d.image,
    kubeletUrl: d.kubeletUrl || server?.artifacts.get(KUBELET_FILE)?.url,
    kubeletMode: c.pool.kubeletMode,
    kubeletCommand: c.pool.kubeletCommand,
  });
  if (!r.ok) {
    await server?.stop();
    throw new DeliveryConfigError(r.error);
  }
  o.log.info({ mode: d.mode, command: r.value.command, uris: r.value.uris.map((u) => u.value), image: d.image || undefined }, 'executor delivery');
  return { delivery: r.value, ...(server ? { server } : {}) };
}
