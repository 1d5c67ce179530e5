/**
 * The CA a real kubelet authenticates the API server's client certificate by (`authentication.x509.clientCAFile`):
 * `KUBE_MESOS_KUBELET_CLIENT_CA` when the operator names one, else the CA of the kubeconfig the kubelet is given — on a
 * kubeadm-style cluster the same CA signs kube-apiserver's `--kubelet-client-certificate`, and the sandbox's control
 * plane does the same.
 */
import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

/** The `--kubeconfig=` among the kubelet's flags (the last one wins, as for the kubelet). */
export function kubeconfigFlag(args: readonly string[]): string | undefined {
  let out: string | undefined;
  for (const a of args) if (a.startsWith('--kubeconfig=')) out = a.slice('--kubeconfig='.length);
  return out;
}

export type ClientCa = { ok: true; file: string; from: 'environment' | 'kubeconfig' } | { ok: false; reason: string };

/** Resolves (and for a kubeconfig's inline CA, writes to `target`) the client CA file. */
export function resolveClientCa(o: { configured: string | undefined; kubeletArgs: readonly string[]; target: string }): ClientCa {
  if (o.configured) return { ok: true, file: o.configured, from: 'environment' };
  const path = kubeconfigFlag(o.kubeletArgs);
  if (!path) return { ok: false, reason: 'the kubelet has no --kubeconfig' };
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (err) {
    return { ok: false, reason: `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const cluster = kc.getCurrentCluster();
  if (cluster?.caFile) return { ok: true, file: cluster.caFile, from: 'kubeconfig' };
  if (cluster?.caData) {
    writeFileSync(o.target, Buffer.from(cluster.caData, 'base64'), { mode: 0o644 });
    return { ok: true, file: o.target, from: 'kubeconfig' };
  }
  return { ok: false, reason: `${path} names no certificate authority for its current cluster` };
}
