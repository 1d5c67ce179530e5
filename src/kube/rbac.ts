import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

/** manifests/rbac.yaml, found from src/kube/ and from dist/kube/ alike. */
export const RBAC_MANIFEST_PATH = fileURLToPath(new URL('../../manifests/rbac.yaml', import.meta.url));

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
  [k: string]: unknown;
}

export interface RbacOptions {
  /** Namespace kube-mesos runs in (its Lease and state ConfigMap live there). Default `kube-mesos`. */
  namespace?: string;
  /** ServiceAccount name. Default `kube-mesos`. */
  serviceAccount?: string;
  /** Leave out the Namespace object (when it exists already). */
  omitNamespace?: boolean;
  manifestPath?: string;
}

/**
 * The RBAC objects of manifests/rbac.yaml, re-targeted at another namespace / ServiceAccount (for the sandbox and tests).
 * The ClusterRoleBinding gets a per-namespace name when the namespace is not the default, so installs don't clash.
 */
export function rbacObjects(opts: RbacOptions = {}): ManifestObject[] {
  const ns = opts.namespace ?? 'kube-mesos';
  const sa = opts.serviceAccount ?? 'kube-mesos';
  const docs = yaml.loadAll(readFileSync(opts.manifestPath ?? RBAC_MANIFEST_PATH, 'utf8')).filter(Boolean) as ManifestObject[];
  const out: ManifestObject[] = [];
  for (const doc of docs) {
    const o = structuredClone(doc);
    if (o.kind === 'Namespace') {
      if (opts.omitNamespace) continue;
      o.metadata.name = ns;
    }
    if (o.metadata.namespace) o.metadata.namespace = ns;
    if (o.kind === 'ServiceAccount') o.metadata.name = sa;
    if (o.kind === 'ClusterRoleBinding' && (ns !== 'kube-mesos' || sa !== 'kube-mesos')) o.metadata.name = `kube-mesos:${ns}:${sa}`;
    for (const s of o.subjects ?? []) {
      if (s.kind === 'ServiceAccount') {
        s.name = sa;
        s.namespace = ns;
      }
    }
    out.push(o);
  }
  return out;
}

/** The same objects as one multi-document YAML, e.g. for `kubectl apply -f -`. */
export function rbacYaml(opts: RbacOptions = {}): string {
  return rbacObjects(opts)
    .map((o) => yaml.dump(o))
    .join('---\n');
}
