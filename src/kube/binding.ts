/**
 * One pod's Binding with the task annotations, as the scheduler writes it once the pod's task reached its agent: a
 * single `pods/binding` POST (uid precondition; the API server copies the Binding's annotations onto the pod), with
 * transient errors retried. After any failure the pod itself says what happened: gone, replaced (other uid), already
 * bound to this Node (a re-launch, or a pod its author bound: the annotations are refreshed), bound elsewhere, being
 * deleted — or nothing yet, and the Binding is tried again.
 *
 * An aborted `signal` (the task ended) stops the waiting — the backoff here and any Retry-After in the transport — and
 * no further POST goes out: `cancelled`. A POST already sent is never cut; if it bound the pod, the outcome says so.
 */
import { Backoff, sleep as realSleep } from '../time/backoff.js';
import type { KubeClient } from './client.js';

export type BindingOutcome = { kind: 'bound' | 'already-bound' | 'cancelled' } | { kind: 'rejected' | 'failed'; message: string };

export interface BindingTarget {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  annotations: Record<string, string>;
}

export async function bindPodWithAnnotations(
  kube: KubeClient,
  t: BindingTarget,
  o: { attempts?: number; random?: () => number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void>; signal?: AbortSignal } = {},
): Promise<BindingOutcome> {
  const pod = `${t.namespace}/${t.name}`;
  const path = `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.name)}/binding`;
  const body = {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: t.name, namespace: t.namespace, uid: t.uid, annotations: t.annotations },
    target: { apiVersion: 'v1', kind: 'Node', name: t.nodeName },
  };
  const backoff = new Backoff({ initialMs: 250, maxMs: 4000, random: o.random });
  const sleep = o.sleep ?? realSleep;
  const attempts = o.attempts ?? 6;
  const signal = o.signal;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (signal?.aborted) return { kind: 'cancelled' };
    const r = await kube.raw('POST', path, { body, discardBody: true, retrySignal: signal });
    if (r.ok) return { kind: 'bound' };
    if (r.notSent) return { kind: 'cancelled' }; // aborted while it waited for the client's rate limiter
    last = `${r.kind} (${r.status}): ${r.message}`;
    // Also after an abort: a POST whose answer was lost may have bound the pod here, so this GET is never cancelled.
    const got = await kube.getPod(t.namespace, t.name);
    const p = got.ok ? got.value : undefined;
    const boundHere = p?.metadata?.uid === t.uid && p.spec?.nodeName === t.nodeName;
    if (boundHere && signal?.aborted) return { kind: 'already-bound' };
    if (signal?.aborted) return { kind: 'cancelled' };
    if (!got.ok && got.kind === 'NotFound') return { kind: 'rejected', message: `pod ${pod} not found` };
    if (p) {
      if (p.metadata?.uid !== t.uid) return { kind: 'rejected', message: `pod ${pod} has uid ${p.metadata?.uid}, the task is for uid ${t.uid}` };
      const boundTo = p.spec?.nodeName;
      if (boundHere) {
        if (Object.entries(t.annotations).some(([k, v]) => p.metadata?.annotations?.[k] !== v)) {
          const a = await kube.patchPodAnnotations(t.namespace, t.name, t.annotations);
          if (!a.ok && a.kind !== 'NotFound') return { kind: 'failed', message: `pod ${pod} is bound to ${t.nodeName} but its task annotations could not be written: ${a.kind}: ${a.message}` };
        }
        return { kind: 'already-bound' };
      }
      if (boundTo) return { kind: 'rejected', message: `pod ${pod} is already bound to node ${boundTo}` };
      if (p.metadata?.deletionTimestamp) return { kind: 'rejected', message: `pod ${pod} is being deleted` };
    }
    if (r.kind !== 'Retryable' && r.kind !== 'Conflict') break;
    if (attempt < attempts) await sleep(backoff.next(), signal);
  }
  if (signal?.aborted) return { kind: 'cancelled' };
  return { kind: 'failed', message: `could not bind pod ${pod} to node ${t.nodeName}: ${last}` };
}
