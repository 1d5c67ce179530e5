import { rbacObjects } from './rbac.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

describe('manifests/rbac.yaml', () => {
  const objs = rbacObjects();
  const byKind = (k: string) => objs.filter((o) => o.kind === k);

  it('has the ServiceAccount, ClusterRole(+Binding), namespaced Role(+Binding), the auth-delegator binding and the ops reader roles; nothing in kube-node-lease (kubelets renew their own Leases)', () => {
    expect(objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      'Namespace//kube-mesos',
      'ServiceAccount/kube-mesos/kube-mesos',
      'ClusterRole//kube-mesos',
      'ClusterRoleBinding//kube-mesos',
      'Role/kube-mesos/kube-mesos',
      'RoleBinding/kube-mesos/kube-mesos',
      'ClusterRoleBinding//kube-mesos:auth-delegator',
      'ClusterRole//kube-mesos-metrics-reader',
      'ClusterRole//kube-mesos-ops-viewer',
    ]);
  });

  // Least privilege: exactly these verbs, no wildcards, no secrets.
  it.each([
    ['ClusterRole', '', 'pods', 'create,delete,get,list,patch,watch'],
    ['ClusterRole', '', 'pods/binding', 'create'],
    ['ClusterRole', '', 'pods/status', 'patch'],
    ['ClusterRole', '', 'pods/eviction', 'create'],
    ['ClusterRole', '', 'events', 'create,patch'],
    ['ClusterRole', '', 'nodes', 'delete,get,list,patch,watch'],
    ['ClusterRole', 'certificates.k8s.io', 'certificatesigningrequests', 'create,get,list,watch'],
    ['ClusterRole', 'certificates.k8s.io', 'certificatesigningrequests/approval', 'update'],
    ['ClusterRole', 'certificates.k8s.io', 'signers', 'approve'],
    ['ClusterRole', 'policy', 'poddisruptionbudgets', 'list,watch'],
    ['ClusterRole', '', 'persistentvolumeclaims', 'get,list,patch,watch'],
    ['ClusterRole', '', 'persistentvolumes', 'create,delete,get,list,watch'],
    ['ClusterRole', 'storage.k8s.io', 'storageclasses', 'get,list,watch'],
    ['Role', 'coordination.k8s.io', 'leases', 'create,get,update'],
    ['Role', '', 'configmaps', 'create,get,update'],
  ])('%s grants %s/%s: %s', (kind, group, resource, verbs) => {
    const rules = objs.find((o) => o.kind === kind && o.metadata.name === 'kube-mesos')!.rules as Rule[];
    const got = rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.verbs);
    expect(got.sort().join(',')).toBe(verbs);
  });

  it('grants nothing beyond the table above', () => {
    const all = [...byKind('ClusterRole'), ...byKind('Role')].flatMap((o) => o.rules as Rule[]);
    expect(all.flatMap((r) => r.resources ?? []).sort()).toEqual(
      ['certificatesigningrequests', 'certificatesigningrequests/approval', 'configmaps', 'events', 'leases', 'nodes', 'persistentvolumeclaims', 'persistentvolumes', 'poddisruptionbudgets', 'pods', 'pods/binding', 'pods/eviction', 'pods/status', 'signers', 'storageclasses'].sort(),
    );
    // Approving is limited to the kubelet client signer.
    const signers = (objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'kube-mesos')!.rules as (Rule & { resourceNames?: string[] })[]).find((r) => r.resources.includes('signers'))!;
    expect(signers.resourceNames).toEqual(['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving']);
    expect(JSON.stringify(all)).not.toContain('*');
  });

  it('re-targets namespace and ServiceAccount for other installs', () => {
    const o = rbacObjects({ namespace: 'test-1', serviceAccount: 'sched', omitNamespace: true });
    expect(o.find((x) => x.kind === 'Namespace')).toBeUndefined();
    expect(o.find((x) => x.kind === 'Role')!.metadata.namespace).toBe('test-1');
    const crb = o.find((x) => x.kind === 'ClusterRoleBinding')!;
    expect(crb.metadata.name).toBe('kube-mesos:test-1:sched');
    expect(crb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'sched', namespace: 'test-1' }]);
    expect(o.find((x) => x.kind === 'RoleBinding' && x.metadata.namespace === 'test-1')!.subjects).toEqual([{ kind: 'ServiceAccount', name: 'sched', namespace: 'test-1' }]);
  });
});
