/**
 * How the kubelet executor reaches a Mesos agent — pure: the ExecutorInfo's command, its CommandInfo.uris and
 * (image mode) its ContainerInfo, from the delivery settings and the artifact URLs. docs/executor.md, "Delivery".
 *
 * - `fetch`: the agent's fetcher downloads the executor bundle (a tarball with node, extracted) and, for real kubelets,
 *   the kubelet binary (executable) into the sandbox; both `cache: true`, so each agent downloads each version once.
 *   The command runs the bundle from `$MESOS_SANDBOX`.
 * - `image`: the executor runs in a Mesos container from a Docker image that has `kube-mesos` on its PATH
 *   (ContainerInfo type MESOS, the agent's unified containerizer); the kubelet is still fetched when a URL is given.
 * - `preinstalled`: the command the operator configured (or this scheduler's own binary, for development); nothing
 *   is fetched. Agents must have kube-mesos installed.
 */
import type { CommandURI, ContainerInfo } from '../mesos/types.js';

export type DeliveryMode = 'preinstalled' | 'fetch' | 'image';

export interface DeliveryInput {
  mode: DeliveryMode;
  /** `preinstalled`: the shell command that starts the executor. */
  preinstalledCommand: string;
  /** `fetch`: the executor bundle's URL. */
  bundleUrl?: string;
  /** `image`: the Docker image (e.g. `registry.example.com/kube-mesos:0.1.0`). */
  image?: string;
  /** The kubelet binary's URL; with it the kubelet is fetched and run from the sandbox (real mode only). */
  kubeletUrl?: string;
  kubeletMode: 'hollow' | 'real';
  /** The kubelet command when nothing is fetched for it (pool.kubeletCommand). */
  kubeletCommand: string;
}

export interface ExecutorDelivery {
  /** Shell command of the ExecutorInfo. */
  command: string;
  uris: CommandURI[];
  container?: ContainerInfo;
  /** KUBE_MESOS_KUBELET_COMMAND (real mode). */
  kubeletCommand?: string;
}

/** Where the bundle unpacks: `<sandbox>/kube-mesos/bin/kube-mesos` (scripts/bundle-executor.mjs). */
export const BUNDLE_ENTRY = 'kube-mesos/bin/kube-mesos';
export const BUNDLE_FILE = 'kube-mesos-executor.tgz';
export const KUBELET_FILE = 'kubelet';

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz|zip)$/i;

function checkUrl(field: string, v: string | undefined): string | undefined {
  if (!v) return `${field} is required`;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `${field} "${v}" is not a URL`;
  }
  if (!['http:', 'https:', 'file:'].includes(u.protocol)) return `${field} "${v}" must be an http, https or file URL (what the Mesos fetcher takes without extra plugins)`;
  return undefined;
}

export function executorDelivery(i: DeliveryInput): { ok: true; value: ExecutorDelivery } | { ok: false; error: string } {
  const uris: CommandURI[] = [];
  let kubeletCommand: string | undefined = i.kubeletMode === 'real' ? i.kubeletCommand : undefined;
  if (i.kubeletUrl && i.kubeletMode === 'real') {
    const bad = checkUrl('delivery.kubeletUrl', i.kubeletUrl);
    if (bad) return { ok: false, error: bad };
    uris.push({ value: i.kubeletUrl, executable: true, extract: false, cache: true, output_file: KUBELET_FILE });
    // Expanded by the executor's `/bin/sh -c 'exec <command> "$@"'`, where MESOS_SANDBOX is set.
    kubeletCommand = `"$MESOS_SANDBOX/${KUBELET_FILE}"`;
  }
  switch (i.mode) {
    case 'preinstalled':
      if (!i.preinstalledCommand.trim()) return { ok: false, error: 'delivery.mode preinstalled needs a command (pool.executorCommand)' };
      return { ok: true, value: { command: i.preinstalledCommand, uris, ...(kubeletCommand ? { kubeletCommand } : {}) } };
    case 'fetch': {
      const bad = checkUrl('delivery.executorBundleUrl (or a served bundle)', i.bundleUrl);
      if (bad) return { ok: false, error: bad };
      const path = new URL(i.bundleUrl!).pathname;
      // The fetcher extracts by file name; a URL without an archive suffix is stored under one.
      const bundle: CommandURI = { value: i.bundleUrl!, extract: true, executable: false, cache: true, ...(ARCHIVE.test(path) ? {} : { output_file: BUNDLE_FILE }) };
      return { ok: true, value: { command: `exec "$MESOS_SANDBOX/${BUNDLE_ENTRY}" executor`, uris: [bundle, ...uris], ...(kubeletCommand ? { kubeletCommand } : {}) } };
    }
    case 'image': {
      if (!i.image?.trim()) return { ok: false, error: 'delivery.image is required with delivery.mode image' };
      const container: ContainerInfo = { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: i.image.trim() } } } };
      return { ok: true, value: { command: 'exec kube-mesos executor', uris, container, ...(kubeletCommand ? { kubeletCommand } : {}) } };
    }
  }
}
