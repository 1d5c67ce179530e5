/**
 * Node heartbeats for the bench's Nodes (opt-in, BENCH_E2E_NODE_LEASES=1): a kubelet renews its Node's Lease in
 * kube-node-lease every 10 s (kubelet 1.20: a quarter of the 40 s lease duration), whoever schedules its pods. kube-mesos'
 * hollow kubelets do; the Nodes of limit, limit-kubelet and kube-scheduler have no kubelet, so without this their runs put
 * ~100 fewer writes a second on the shared API server. This stand-in renews through the hollow kubelets' own code
 * (src/executor/kube-api.ts: the same merge patch), spread evenly over the interval. Child of e2e.bench.ts.
 */
import { createKubeletApi } from '../../src/executor/kube-api.js';
import { KubeClient } from '../../src/kube/client.js';
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

const DURATION_S = 40;

async function main(): Promise<void> {
  const o = childOptions<LeaseStandinOptions>();
  const api = createKubeletApi(new KubeClient(new KubeHttp(loadKubeConfig(o.kubeconfig), { qps: o.qps, burst: o.burst, maxInFlight: o.inflight })));
  const interval = o.intervalMs ?? 10_000;
  const renew = (node: string, create = false) => api.renewNodeLease(node, { leaseDurationSeconds: DURATION_S, renewTime: new Date(), create });
  let renewed = 0;
  let failed = 0;
  for (const node of o.nodes) {
    const r = await renew(node, true);
    if (!r.ok) throw new Error(`create Lease ${node}: ${r.kind} (${r.status}): ${r.message}`);
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
    void renew(node).then((r) => (r.ok ? renewed++ : failed++), () => failed++);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`lease stand-in: ${String(err)}\n`);
  process.exit(1);
});
