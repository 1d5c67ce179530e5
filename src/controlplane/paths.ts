import { access, constants, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The servers `install` builds; kube-scheduler is built for completeness (kube-mesos is the scheduler). */
export const SERVERS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Server = (typeof SERVERS)[number];
/** Everything `install` builds in one make: the servers plus the node side's kubelet. */
export const BUILT = [...SERVERS, 'kubelet'] as const;
export type Built = (typeof BUILT)[number];

/**
 * Bump when the servers' recipe changes so an old cache is rebuilt. Adding a binary to the build is not such a change:
 * a stamp without it keeps its servers and only the missing binary is built (the kubelet joined this way, detected
 * from `versions.kubelet`). Bumping it for that would also make every older checkout sharing the cache see "not
 * installed" and rebuild all of it.
 */
export const RECIPE_VERSION = 1;
/** Stamps written with recipe 2 by an interim version of this change mean recipe 1 plus the kubelet. */
const SAME_RECIPE = new Set([RECIPE_VERSION, 2]);

export interface Stamp {
  recipe: number;
  /** Debian source package version the servers were built from. */
  sourceVersion: string;
  /** `<binary> --version` output, e.g. "Kubernetes v1.20.2"; no kubelet in a stamp from before the kubelet was built. */
  versions: Record<Server, string> & Partial<Record<'kubelet', string>>;
  builtAt: string;
  buildSeconds: number;
}

export const cacheLayout = (cacheDir: string) => ({
  bin: join(cacheDir, 'bin'),
  stamp: join(cacheDir, 'stamp.json'),
  build: join(cacheDir, 'build'),
  buildLog: join(cacheDir, 'build.log'),
  kubelet: join(cacheDir, 'bin', 'kubelet'),
  /** build/pause/linux/pause.c of the tree the binaries came from, kept for the node images after the tree is removed. */
  pauseSource: join(cacheDir, 'src', 'pause.c'),
  binary: (s: Built) => join(cacheDir, 'bin', s),
});

/** The stamp if every server binary is present and executable and the recipe still fits them, else null. */
export async function readInstalled(cacheDir: string): Promise<Stamp | null> {
  const layout = cacheLayout(cacheDir);
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(layout.stamp, 'utf8')) as Stamp;
  } catch {
    return null;
  }
  if (!SAME_RECIPE.has(stamp.recipe)) return null;
  try {
    await Promise.all(SERVERS.map((s) => access(layout.binary(s), constants.X_OK)));
  } catch {
    return null;
  }
  return stamp;
}

/** The kubelet's version from the stamp if it was built by this recipe and is executable, else null. */
export async function readKubeletInstalled(cacheDir: string): Promise<string | null> {
  const stamp = await readInstalled(cacheDir);
  const version = stamp?.versions.kubelet;
  if (!version) return null;
  try {
    await access(cacheLayout(cacheDir).kubelet, constants.X_OK);
  } catch {
    return null;
  }
  return version;
}
