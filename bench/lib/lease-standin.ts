/**
 * Node heartbeats for the bench's Nodes (opt-in, BENCH_E2E_NODE_LEASES=1): a kubelet renews its Node's Lease in
 * kube-node-lease every 10 s (kubelet 1.20: a quarter of the 40 s lease duration), whoever schedules its pods. kube-mesos'
 * hollow kubelets do; the Nodes of limit, limit-kubelet and kube-scheduler have no kubelet, so without this their runs put
 * ~100 fewer writes a second on the shared API server. This stand-in makes the same merge patch as the hollow kubelets
 * (src/executor/kube-api.ts), spread evenly over the interval. Child of e2e.bench.ts.
 */
import { KubeHttp } from '../../src/kube/http.js';
import { childOptions, report } from './child.js';
import { loadKubeConfig } from './kube.js';

export interface LeaseStandinOptions {
  kubeconfig: string;
  nodes: string[];
  qps: number;
  burst: number;
  inflight: number;
  /** Renew interval per Node (ms); default 10 000 as kubelet 1.20. */
  intervalMs?: number;
}

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
const DURATION_S = 40;

async function main(): Promise<void> {
  const o = childOptions<LeaseStandinOptions>();
  const http = new KubeHttp(loadKubeConfig(o.kubeconfig), { qps: o.qps, burst: o.burst, maxInFlight: o.inflight });
  const interval = o.intervalMs ?? 10_000;
  const spec = (node: string) => ({ holderIdentity: node, leaseDurationSeconds: DURATION_S, renewTime: new Date().toISOString().replace('Z', '000Z') });
  let renewed = 0;
  let failed = 0;
  for (const node of o.nodes) {
    const r = await http.request('POST', LEASES, { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: node, namespace: 'kube-node-lease' }, spec: spec(node) } });
    if (r.status !== 201 && r.status !== 409) throw new Error(`create Lease ${node}: HTTP ${r.status}`);
  }
  report({ ready: true });
  setInterval(() => report({ renewed, failed }), 1000).unref();
  process.on('SIGTERM', () => process.exit(0));
  // One Node every interval / n ms, round robin: each Node renewed once per interval, evenly spread as 1000 kubelets are.
  const step = interval / o.nodes.length;
  const t0 = Date.now();
  for (let i = 0; ; i++) {
    const due = t0 + i * step;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const node = o.nodes[i % o.nodes.length];
    void http
      .request('PATCH', `${LEASES}/${encodeURIComponent(node)}`, { body: { spec: spec(node) }, contentType: 'application/merge-patch+json' })
      .then((r) => (r.status === 200 ? renewed++ : failed++), () => failed++);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`lease stand-in: ${String(err)}\n`);
  process.exit(1);
});
