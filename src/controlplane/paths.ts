import { access, constants, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The servers `install` builds; kube-scheduler is built for completeness (kube-mesos is the scheduler). */
export const SERVERS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Server = (typeof SERVERS)[number];

/** Bump when the recipe changes so an old cache is rebuilt. */
export const RECIPE_VERSION = 1;

export interface Stamp {
  recipe: number;
  /** Debian source package version the servers were built from. */
  sourceVersion: string;
  /** `<server> --version` output, e.g. "Kubernetes v1.20.2". */
  versions: Record<Server, string>;
  builtAt: string;
  buildSeconds: number;
}

export const cacheLayout = (cacheDir: string) => ({
  bin: join(cacheDir, 'bin'),
  stamp: join(cacheDir, 'stamp.json'),
  build: join(cacheDir, 'build'),
  buildLog: join(cacheDir, 'build.log'),
  binary: (s: Server) => join(cacheDir, 'bin', s),
});

/** The stamp if every binary is present and executable and the recipe matches, else null. */
export async function readInstalled(cacheDir: string): Promise<Stamp | null> {
  const layout = cacheLayout(cacheDir);
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(layout.stamp, 'utf8')) as Stamp;
  } catch {
    return null;
  }
  if (stamp.recipe !== RECIPE_VERSION) return null;
  try {
    await Promise.all(SERVERS.map((s) => access(layout.binary(s), constants.X_OK)));
  } catch {
    return null;
  }
  return stamp;
}
