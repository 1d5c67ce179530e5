// PodDisruptionBudgets for preemption (placement/preemption.ts picks victims that violate as few as possible, as
// kube-scheduler's DefaultPreemption does) and the policy API version the cluster serves: policy/v1 from Kubernetes 1.21,
// policy/v1beta1 before (1.20, which the tests run, serves only v1beta1; 1.25 serves only v1). The Eviction body and
// the PDB informer both use the discovered version.
import type { PdbView } from '../placement/preemption.js';
import type { V1LabelSelector } from '../placement/types.js';
import { KubeHttp } from './http.js';
import { httpListWatch, ResilientInformer, type InformerOptions, type KubeObject } from './informer.js';

export type PolicyVersion = 'policy/v1' | 'policy/v1beta1';

/**
 * The policy API version to use: policy/v1 when the API server lists `poddisruptionbudgets` there, else
 * policy/v1beta1. A discovery that fails (no answer, 5xx) says so in `error` and falls back to v1beta1 only if v1beta1
 * answers; otherwise v1, the version current clusters serve.
 */
export async function discoverPolicyVersion(http: Pick<KubeHttp, 'request'>): Promise<{ version: PolicyVersion; error?: string }> {
  const serves = async (v: PolicyVersion): Promise<boolean | string> => {
    const res = await http.request('GET', `/apis/${v}`, { timeoutMs: 15_000 });
    if (res.status === 404) return false;
    if (res.status !== 200) return `GET /apis/${v}: ${res.status === 0 ? (res.error?.message ?? 'no answer') : `HTTP ${res.status}`}`;
    const resources = (res.body as { resources?: { name?: string }[] } | undefined)?.resources ?? [];
    return resources.some((r) => r.name === 'poddisruptionbudgets');
  };
  const v1 = await serves('policy/v1');
  if (v1 === true) return { version: 'policy/v1' };
  const beta = await serves('policy/v1beta1');
  if (beta === true) return { version: 'policy/v1beta1', ...(typeof v1 === 'string' ? { error: v1 } : {}) };
  const error = [v1, beta].filter((x): x is string => typeof x === 'string').join('; ');
  return { version: 'policy/v1', ...(error ? { error } : {}) };
}

interface PdbObject extends KubeObject {
  metadata?: { namespace?: string; name?: string; resourceVersion?: string; uid?: string };
  spec?: { selector?: V1LabelSelector | null };
  status?: { disruptionsAllowed?: number; disruptedPods?: Record<string, string> | null };
}

/** What preemption reads of a PDB. A PDB without a selector selects nothing (policy/v1; v1beta1's "all" is not kept). */
export function pdbView(o: PdbObject): PdbView | undefined {
  const namespace = o.metadata?.namespace;
  if (!namespace || !o.spec?.selector) return undefined;
  const allowed = o.status?.disruptionsAllowed;
  return {
    namespace,
    selector: o.spec.selector,
    // A PDB the disruption controller has not processed yet allows nothing, as kube-scheduler reads it.
    disruptionsAllowed: typeof allowed === 'number' && Number.isFinite(allowed) ? allowed : 0,
    disruptedPods: Object.keys(o.status?.disruptedPods ?? {}),
  };
}

/** The cluster's PDBs (all namespaces), as PdbViews rebuilt once per change. */
export class PodDisruptionBudgets {
  private cached: readonly PdbView[] | undefined = [];
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly informer: ResilientInformer<PdbObject>) {
    const changed = () => {
      this.cached = undefined;
      for (const l of this.listeners) l();
    };
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
  }

  static watch(http: KubeHttp, version: PolicyVersion, opts: InformerOptions = {}): PodDisruptionBudgets {
    const source = httpListWatch<PdbObject>(http, { path: `/apis/${version}/poddisruptionbudgets` });
    return new PodDisruptionBudgets(new ResilientInformer(source, { name: 'poddisruptionbudgets', ...opts }));
  }

  onChange(l: () => void): void {
    this.listeners.push(l);
  }

  views(): readonly PdbView[] {
    if (!this.cached) this.cached = this.informer.list().flatMap((o) => pdbView(o) ?? []);
    return this.cached;
  }

  get ready(): Promise<void> {
    return this.informer.ready;
  }

  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  start(): void {
    this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}
