/**
 * A kubelet stand-in for Nodes that have none (kube-scheduler's run): watches the pods bound to the bench's Nodes that are
 * still Pending and writes, once per pod, the status patch to Running a kubelet writes when it starts a pod (the same
 * writer as limit-kubelet's, bench/lib/status-writer.ts), so create→Running can be measured for kube-scheduler as for the
 * contenders whose pods a kubelet starts. Child of e2e.bench.ts (paced mode).
 */
import { KubeHttp, type RawWatchEvent } from '../../src/kube/http.js';
import { childOptions, report } from './child.js';
import { loadKubeConfig } from './kube.js';
import { RunningStatusWriter, type StatusPod } from './status-writer.js';

export interface KubeletStandinOptions {
  kubeconfig: string;
  nodes: string[];
  qps: number;
  burst: number;
  inflight: number;
}

interface RawPod extends StatusPod {
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string };
  spec: { nodeName?: string; containers?: unknown[] };
  status?: { phase?: string };
}

async function main(): Promise<void> {
  const o = childOptions<KubeletStandinOptions>();
  const http = new KubeHttp(loadKubeConfig(o.kubeconfig), { qps: o.qps, burst: o.burst, maxInFlight: o.inflight });
  const writer = new RunningStatusWriter(new KubeHttp(loadKubeConfig(o.kubeconfig), { qps: o.qps, burst: o.burst, maxInFlight: o.inflight }));
  const nodes = new Set(o.nodes);
  const started = new Set<string>();
  const start = (pod: RawPod) => {
    if (!pod.spec?.nodeName || !nodes.has(pod.spec.nodeName) || pod.status?.phase !== 'Pending' || started.has(pod.metadata.uid)) return;
    started.add(pod.metadata.uid);
    writer.write(pod);
  };
  const fieldSelector = 'spec.nodeName!=,status.phase=Pending';
  const list = await http.request('GET', '/api/v1/pods', { query: { fieldSelector } });
  if (list.status !== 200) throw new Error(`list pods: HTTP ${list.status}`);
  const body = list.body as { items: RawPod[]; metadata: { resourceVersion: string } };
  for (const p of body.items) start(p);
  let rv = body.metadata.resourceVersion;
  report({ ready: true });
  setInterval(() => report({ written: writer.written, failed: writer.failed }), 1000).unref();
  const stop = new AbortController();
  process.on('SIGTERM', () => {
    stop.abort();
    process.exit(0);
  });
  while (!stop.signal.aborted) {
    const end = await http.watch(
      '/api/v1/pods',
      { fieldSelector, resourceVersion: rv, timeoutSeconds: 900 },
      (ev: RawWatchEvent) => {
        const pod = ev.object as unknown as RawPod;
        if (pod.metadata?.resourceVersion) rv = pod.metadata.resourceVersion;
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') start(pod);
      },
      { signal: stop.signal, idleMs: 960_000 },
    );
    if (end.kind === 'failed') await new Promise((r) => setTimeout(r, 200));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`kubelet stand-in: ${String(err)}\n`);
  process.exit(1);
});
