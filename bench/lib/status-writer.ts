/**
 * The one status patch a kubelet writes when it starts a pod (the hollow kubelet's `runningPodStatus`: phase Running,
 * conditions, container statuses; strategic merge on pods/status), for bench contenders that have no kubelet: the
 * limit-kubelet binder and the kubelet stand-in of kube-scheduler's Nodes. Own transport, the bench's client limits.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { runningPodStatus } from '../../src/executor/hollow-kubelet.js';
import type { KubeHttp } from '../../src/kube/http.js';

export interface StatusPod {
  metadata: { name: string; namespace: string };
  spec: { containers?: unknown[] };
}

export class RunningStatusWriter {
  private ip = 0;
  written = 0;
  failed = 0;

  constructor(private readonly http: KubeHttp) {}

  /** Patches the pod to Running; not awaited by callers (a kubelet's writes do not hold up its next pod). */
  write(pod: StatusPod): void {
    const ip = this.ip++;
    const podIP = `10.${128 + ((ip >> 16) & 127)}.${(ip >> 8) & 255}.${ip & 255}`;
    const status = runningPodStatus(pod as unknown as V1Pod, { hostIP: '100.64.0.1', podIP, now: new Date() });
    const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`;
    void this.http.request('PATCH', path, { body: { status }, contentType: 'application/strategic-merge-patch+json' }).then(
      (r) => (r.status === 200 ? this.written++ : this.failed++),
      () => this.failed++,
    );
  }
}
