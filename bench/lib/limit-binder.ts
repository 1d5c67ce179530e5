/**
 * The ceiling: no placement at all. Watches pending pods of its scheduler name and binds each to the next Node round-robin,
 * `inflight` bindings at once, under the same client QPS/burst as every contender. With `statusWrites`, each bound pod
 * also gets the one status patch to Running a kubelet writes (the hollow kubelet's `runningPodStatus`, on a second transport with the
 * same limits, as the in-process executors have): the ceiling for pods that a kubelet then starts. Child of e2e.bench.ts.
 */
import { KubeHttp, type RawWatchEvent } from '../../src/kube/http.js';
import { KubeClient } from '../../src/kube/client.js';
import { RunningStatusWriter } from './status-writer.js';
import { childOptions, report } from './child.js';
import { loadKubeConfig } from './kube.js';

export interface LimitBinderOptions {
  kubeconfig: string;
  schedulerName: string;
  nodes: string[];
  qps: number;
  burst: number;
  inflight: number;
  statusWrites?: boolean;
}

interface RawPod {
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string };
  spec: { nodeName?: string; schedulerName?: string; containers?: unknown[] };
}

async function main(): Promise<void> {
  const o = childOptions<LimitBinderOptions>();
  const http = new KubeHttp(loadKubeConfig(o.kubeconfig), { qps: o.qps, burst: o.burst, maxInFlight: o.inflight });
  const client = new KubeClient(http);
  const statusWriter = o.statusWrites ? new RunningStatusWriter(new KubeHttp(loadKubeConfig(o.kubeconfig), { qps: o.qps, burst: o.burst, maxInFlight: o.inflight })) : undefined;
  const queue: RawPod[] = [];
  const queued = new Set<string>();
  let next = 0;
  let bound = 0;
  let failed = 0;
  const sleepers: (() => void)[] = [];
  const wakeOne = () => sleepers.shift()?.();
  const enqueue = (pod: RawPod) => {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (pod.spec.nodeName || queued.has(key)) return;
    queued.add(key);
    queue.push(pod);
    wakeOne();
  };
  const worker = async () => {
    for (;;) {
      const pod = queue.shift();
      if (!pod) {
        await new Promise<void>((r) => sleepers.push(r));
        continue;
      }
      const node = o.nodes[next++ % o.nodes.length];
      const r = await client.bindPod(pod.metadata.namespace, pod.metadata.name, pod.metadata.uid, node);
      if (r.ok) {
        bound++;
        statusWriter?.write(pod);
      }
      else if (r.kind === 'Retryable') queue.push(pod);
      else failed++;
    }
  };
  const fieldSelector = `spec.schedulerName=${o.schedulerName},spec.nodeName=`;
  const list = await http.request('GET', '/api/v1/pods', { query: { fieldSelector } });
  if (list.status !== 200) throw new Error(`list pods: HTTP ${list.status}`);
  const body = list.body as { items: RawPod[]; metadata: { resourceVersion: string } };
  for (const p of body.items) enqueue(p);
  let rv = body.metadata.resourceVersion;
  for (let i = 0; i < o.inflight; i++) void worker();
  report({ ready: true });
  setInterval(() => report({ bound, failed, statusFailed: statusWriter?.failed ?? 0 }), 1000).unref();
  const stop = new AbortController();
  process.on('SIGTERM', () => {
    stop.abort();
    process.exit(0);
  });
  while (!stop.signal.aborted) {
    await http.watch(
      '/api/v1/pods',
      { fieldSelector, resourceVersion: rv, timeoutSeconds: 900 },
      (ev: RawWatchEvent) => {
        const pod = ev.object as unknown as RawPod;
        if (pod.metadata?.resourceVersion) rv = pod.metadata.resourceVersion;
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') enqueue(pod);
      },
      { signal: stop.signal, idleMs: 960_000 },
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`limit binder: ${String(err)}\n`);
  process.exit(1);
});
