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
    const retarget = ns !== 'kube-mesos' || sa !== 'kube-mesos';
    // Objects in kube-mesos' own namespace move with it; those elsewhere (kube-node-lease) stay, with per-install binding names.
    const ownNamespace = o.metadata.namespace === 'kube-mesos';
    if (ownNamespace) o.metadata.namespace = ns;
    if (o.kind === 'ServiceAccount') o.metadata.name = sa;
    if (retarget && (o.kind === 'ClusterRoleBinding' || (o.kind === 'RoleBinding' && !ownNamespace))) o.metadata.name = `${o.metadata.name}:${ns}:${sa}`;
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
