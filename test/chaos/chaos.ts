// Shared pieces of the chaos scenarios: sampling the invariant checker's input from the API and the emulator, fault
// injection, and the one line of figures each scenario prints.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { DeploymentInput, InvariantInput, PodInput, TaskInput } from '../support/invariants.js';
import { testKubeConfig } from '../support/kube.js';

export interface StateFramework {
  id: string;
  active?: boolean;
  tasks: (TaskInput & { statuses?: { state: string; reason?: string }[] })[];
  unreachable_tasks?: TaskInput[];
  completed_tasks?: TaskInput[];
}

export interface MesosState {
  frameworks: StateFramework[];
  slaves: { id: string; hostname: string; state?: string; domain?: { fault_domain?: { zone?: { name: string } } } }[];
}

export async function mesosState(mesosUrl: string): Promise<MesosState> {
  const res = await fetch(`${mesosUrl}/state`);
  if (!res.ok) throw new Error(`GET ${mesosUrl}/state: ${res.status}`);
  return (await res.json()) as MesosState;
}

/** Tasks not yet ended (running, starting, unreachable…), of every framework. */
export function activeTasks(s: MesosState): TaskInput[] {
  return s.frameworks.flatMap((f) => [...f.tasks, ...(f.unreachable_tasks ?? [])]);
}

export function completedTasks(s: MesosState): TaskInput[] {
  return s.frameworks.flatMap((f) => f.completed_tasks ?? []);
}

/**
 * Samples the checker's input: every pod of `namespace` (through the API, cheaper than kubectl per sample), the
 * Deployments there, plus `expect` for sets of bare pods that should be Running, and the master's tasks.
 */
export function sampler(mesosUrl: string, namespace: string, expect: DeploymentInput[] = []): () => Promise<InvariantInput> {
  const kc = testKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  return async () => {
    const [pods, deps, state] = await Promise.all([core.listNamespacedPod({ namespace }), apps.listNamespacedDeployment({ namespace }), mesosState(mesosUrl)]);
    const deployments: DeploymentInput[] = deps.items.map((d) => ({
      namespace,
      name: d.metadata!.name!,
      replicas: d.spec?.replicas ?? 1,
      matchLabels: d.spec?.selector.matchLabels ?? {},
    }));
    return {
      pods: pods.items.map((p) => ({
        metadata: {
          namespace: p.metadata?.namespace,
          name: p.metadata!.name!,
          uid: p.metadata!.uid!,
          labels: p.metadata?.labels,
          annotations: p.metadata?.annotations,
          deletionTimestamp: p.metadata?.deletionTimestamp ? String(p.metadata.deletionTimestamp) : undefined,
        },
        spec: { nodeName: p.spec?.nodeName },
        status: { phase: p.status?.phase },
      })) satisfies PodInput[],
      tasks: activeTasks(state),
      deployments: [...deployments, ...expect],
    };
  };
}

/** POSTs a fault to the emulator (`agents/{id}/partition`, `zones/b/fail`, `leader/failover`, …). */
export async function fault(mesosUrl: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${mesosUrl}/emulator/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST /emulator/${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** A Deployment of `replicas` small pods (no spread), each with the given annotations. */
export function plainDeployment(name: string, schedulerName: string, replicas: number, annotations: Record<string, string> = {}, cpu = '100m', memory = '64Mi'): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name} }
      annotations: ${JSON.stringify(annotations)}
    spec:
      schedulerName: ${schedulerName}
      terminationGracePeriodSeconds: 0
      containers:
      - name: ${name}
        image: nginx
        resources: { requests: { cpu: ${cpu}, memory: ${memory} } }
`;
}

/** A bare pod; `reschedule` sets kube-mesos.io/reschedule-on-loss. */
export function barePod(name: string, schedulerName: string, labels: Record<string, string>, annotations: Record<string, string> = {}): string {
  return `
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
  annotations: ${JSON.stringify(annotations)}
spec:
  schedulerName: ${schedulerName}
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: nginx
    resources: { requests: { cpu: 100m, memory: 64Mi } }
`;
}

export const seconds = (ms: number) => Math.round(ms / 100) / 10;
