import { dump } from 'js-yaml';

export interface KubeconfigSpec {
  server: string;
  /** PEM of the CA that signed the server's certificate. */
  caPem: string;
  token: string;
  user?: string;
  cluster?: string;
  /** Default namespace of the context. */
  namespace?: string;
}

/** A kubeconfig (YAML) with one cluster, one bearer-token user and one current context. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  const cluster = spec.cluster ?? 'kube-mesos';
  const user = spec.user ?? 'admin';
  const context = `${user}@${cluster}`;
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: spec.server, 'certificate-authority-data': Buffer.from(spec.caPem).toString('base64') } }],
    users: [{ name: user, user: { token: spec.token } }],
    contexts: [{ name: context, context: { cluster, user, ...(spec.namespace ? { namespace: spec.namespace } : {}) } }],
    'current-context': context,
    preferences: {},
  });
}
