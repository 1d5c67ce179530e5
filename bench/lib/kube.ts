/** What the end-to-end bench does to the API server itself: namespaces, Nodes, pods, a raw pod watch. */
import { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp, type RawWatchEvent } from '../../src/kube/http.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const APP_LABEL = 'kube-mesos.io/bench';

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** A transport that never throttles: for the bench's own setup, pod creation and watching (not a contender). */
export function unthrottled(kc: KubeConfig, maxInFlight: number): KubeHttp {
  return new KubeHttp(kc, { qps: 1e6, burst: 1e6, maxInFlight, timeoutMs: 120_000 });
}

async function must(http: KubeHttp, method: string, path: string, body?: unknown, contentType?: string, okStatuses = [200, 201, 202], query?: Record<string, string>): Promise<unknown> {
  const res = await http.request(method, path, { body, contentType, query });
  if (!okStatuses.includes(res.status)) throw new Error(`${method} ${path}: HTTP ${res.status} ${res.error?.message ?? JSON.stringify(res.body).slice(0, 300)}`);
  return res.body;
}

export async function createNamespace(http: KubeHttp, name: string): Promise<void> {
  await must(http, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, undefined, [201, 409]);
}

/** Runs `fn(i)` for i in [0, n) with at most `concurrency` at once. */
export async function boundedAll(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

export interface NodeSpec {
  name: string;
  zone: string;
  cpu: string;
  memory: string;
  pods: number;
}

/**
 * Creates a Ready Node without taints, as a kubelet would have registered it. The TaintNodesByCondition admission plugin adds
 * node.kubernetes.io/not-ready on create, so the taint is removed right after (as the Node's owner does once Ready).
 */
export async function createReadyNode(http: KubeHttp, n: NodeSpec): Promise<void> {
  const capacity = { cpu: n.cpu, memory: n.memory, pods: String(n.pods) };
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await must(http, 'POST', '/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', [ZONE_LABEL]: n.zone, 'topology.kubernetes.io/region': 'r1' } },
    spec: {},
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bench node', lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  }, undefined, [201, 409]);
  await must(http, 'PATCH', `/api/v1/nodes/${n.name}`, { spec: { taints: null } }, 'application/merge-patch+json');
}

export interface PodTemplate {
  schedulerName: string;
  /** Value of APP_LABEL; the topology spread selects on it. */
  app: string;
  cpu: string;
  memory: string;
  spread: boolean;
}

export function benchPod(name: string, t: PodTemplate): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { [APP_LABEL]: t.app } },
    spec: {
      schedulerName: t.schedulerName,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'k8s.gcr.io/pause:3.2', resources: { requests: { cpu: t.cpu, memory: t.memory } } }],
      ...(t.spread
        ? { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { [APP_LABEL]: t.app } } }] }
        : {}),
    },
  };
}

export async function createPod(http: KubeHttp, ns: string, pod: object): Promise<void> {
  await must(http, 'POST', `/api/v1/namespaces/${ns}/pods`, pod, undefined, [201]);
}

/**
 * Deletes every pod of the namespace without grace (nothing runs them) and waits until they are gone, then the namespace's
 * events: what one contender leaves behind must not slow the next one down. A deletecollection of 5000 pods can time out
 * in the API server while the deletion goes on; it is simply repeated.
 */
export async function deleteAllPods(http: KubeHttp, ns: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await http.request('DELETE', `/api/v1/namespaces/${ns}/pods`, { body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 } });
    const left = await http.request('GET', `/api/v1/namespaces/${ns}/pods`, { query: { limit: 1 } });
    if (left.status === 200 && ((left.body as { items?: unknown[] }).items ?? []).length === 0) break;
    if (Date.now() > deadline) throw new Error(`pods of ${ns} still there after ${timeoutMs} ms (last delete: HTTP ${res.status})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  await must(http, 'DELETE', `/api/v1/namespaces/${ns}/events`);
}

/** Deletes the Nodes the hollow kubelets registered (label kube-mesos.io/agent-id) and every node Lease. */
export async function deleteKubeletNodes(http: KubeHttp): Promise<void> {
  await must(http, 'DELETE', '/api/v1/nodes', undefined, undefined, [200], { labelSelector: 'kube-mesos.io/agent-id' });
  await must(http, 'DELETE', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases');
}

export async function nodeZones(http: KubeHttp): Promise<Map<string, string>> {
  const body = (await must(http, 'GET', '/api/v1/nodes')) as { items: { metadata: { name: string; labels?: Record<string, string> } }[] };
  return new Map(body.items.map((n) => [n.metadata.name, n.metadata.labels?.[ZONE_LABEL] ?? '']));
}

interface RawPod {
  metadata: { name: string; resourceVersion?: string };
  spec: { nodeName?: string };
  status?: { phase?: string };
}

/**
 * Watches a namespace's pods and records, in this process's clock, when each pod was first seen bound, and to which node,
 * and when it was first seen with status.phase Running. `start()` resolves once the watch is established (list first,
 * then watch from its resourceVersion).
 */
export class BindWatch {
  readonly boundAt = new Map<string, number>();
  readonly nodeOf = new Map<string, string>();
  readonly runningAt = new Map<string, number>();
  private runningWaiters: { n: number; resolve: () => void }[] = [];
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(
    private readonly http: KubeHttp,
    private readonly ns: string,
    private readonly onBound?: (pod: string, node: string) => void,
  ) {}

  async start(): Promise<void> {
    const res = await this.http.request('GET', `/api/v1/namespaces/${this.ns}/pods`, { query: { limit: 1 } });
    if (res.status !== 200) throw new Error(`listing pods in ${this.ns}: HTTP ${res.status}`);
    let rv = (res.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const loop = async () => {
      while (!this.abort.signal.aborted) {
        const end = await this.http.watch(
          `/api/v1/namespaces/${this.ns}/pods`,
          { resourceVersion: rv, timeoutSeconds: 900, allowWatchBookmarks: true },
          (ev: RawWatchEvent) => {
            const pod = ev.object as unknown as RawPod;
            if (pod.metadata?.resourceVersion) rv = pod.metadata.resourceVersion;
            if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && pod.spec?.nodeName) this.seen(pod.metadata.name, pod.spec.nodeName);
            if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && pod.status?.phase === 'Running') this.seenRunning(pod.metadata.name);
          },
          { signal: this.abort.signal, idleMs: 960_000 },
        );
        if (end.kind === 'failed') await new Promise((r) => setTimeout(r, 200));
      }
    };
    this.running = loop();
  }

  /** Resolves when at least `n` pods were seen bound. */
  bound(n: number): Promise<void> {
    if (this.boundAt.size >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Resolves when at least `n` pods were seen Running. */
  runningCount(n: number): Promise<void> {
    if (this.runningAt.size >= n) return Promise.resolve();
    return new Promise((resolve) => this.runningWaiters.push({ n, resolve }));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private seen(name: string, node: string): void {
    if (this.boundAt.has(name)) return;
    this.boundAt.set(name, performance.now());
    this.nodeOf.set(name, node);
    this.onBound?.(name, node);
    const size = this.boundAt.size;
    this.waiters = this.waiters.filter((w) => (size >= w.n ? (w.resolve(), false) : true));
  }

  private seenRunning(name: string): void {
    if (this.runningAt.has(name)) return;
    this.runningAt.set(name, performance.now());
    const size = this.runningAt.size;
    this.runningWaiters = this.runningWaiters.filter((w) => (size >= w.n ? (w.resolve(), false) : true));
  }
}

/** apiserver_request_total summed by "VERB resource[/subresource]" (from the API server's /metrics). */
export async function apiRequestCounts(http: KubeHttp): Promise<Map<string, number>> {
  const res = await http.request('GET', '/metrics');
  const out = new Map<string, number>();
  if (res.status !== 200 || typeof res.body !== 'string') return out;
  for (const line of res.body.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    // Failed requests apart, with their code (e.g. `PATCH pods/status 409`).
    const code = labels.code && !labels.code.startsWith('2') ? ` ${labels.code}` : '';
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}${code}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/** Requests between two readings: the total and the largest kinds (WATCH excluded: long-running). */
export function requestDelta(before: Map<string, number>, after: Map<string, number>, top = 10): { total: number; top: Record<string, number> } {
  const d: [string, number][] = [];
  for (const [k, v] of after) {
    const n = v - (before.get(k) ?? 0);
    if (n > 0 && !k.startsWith('WATCH')) d.push([k, n]);
  }
  d.sort((a, b) => b[1] - a[1]);
  return { total: d.reduce((s, [, n]) => s + n, 0), top: Object.fromEntries(d.slice(0, top)) };
}

/** Node Leases renewed at or after `sinceMs` (epoch ms): kubelets that registered (or renewed) since then. */
export async function freshLeases(http: KubeHttp, sinceMs: number): Promise<number> {
  const body = (await must(http, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases')) as { items?: { spec?: { renewTime?: string } }[] };
  // renewTime has microseconds; compare at second resolution, rounding down the start.
  const since = Math.floor(sinceMs / 1000) * 1000;
  return (body.items ?? []).filter((l) => l.spec?.renewTime && Date.parse(l.spec.renewTime) >= since).length;
}
