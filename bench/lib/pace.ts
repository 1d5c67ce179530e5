/**
 * Pods created at a steady rate (the paced mode of e2e.bench.ts): request i goes out at `start + dueMs[i]` (not "as fast
 * as possible", not held back by a slow answer), with at most `maxInFlight` requests open: past that the API server is
 * not keeping up, and waiting shows as creation lag instead of opening ever more TLS connections (each a handshake the
 * API server pays for). Records when each request was sent and answered on this process's clock.
 */
import type { KubeHttp } from '../../src/kube/http.js';
import { createPod } from './kube.js';

export interface PacedCreation {
  startMs: number;
  /** Per pod i: request sent, answer received (undefined if it failed). */
  sentAt: number[];
  answeredAt: (number | undefined)[];
  failures: string[];
}

export async function createPaced(
  http: KubeHttp,
  ns: string,
  dueMs: readonly number[],
  maxInFlight: number,
  pod: (i: number) => { name: string; body: object },
  onSent: (name: string, at: number) => void,
): Promise<PacedCreation> {
  const startMs = performance.now() + 20;
  const sentAt: number[] = [];
  const answeredAt: (number | undefined)[] = [];
  const failures: string[] = [];
  const all: Promise<void>[] = [];
  let open = 0;
  let slotFreed: (() => void) | undefined;
  for (let i = 0; i < dueMs.length; i++) {
    const wait = startMs + dueMs[i] - performance.now();
    if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
    while (open >= maxInFlight) await new Promise<void>((r) => (slotFreed = r));
    const { name, body } = pod(i);
    const t = performance.now();
    sentAt.push(t);
    onSent(name, t);
    open++;
    all.push(
      createPod(http, ns, body)
        .then(
          () => void (answeredAt[i] = performance.now()),
          (err: unknown) => void failures.push(`${name}: ${String(err)}`),
        )
        .finally(() => {
          open--;
          slotFreed?.();
          slotFreed = undefined;
        }),
    );
  }
  await Promise.all(all);
  return { startMs, sentAt, answeredAt, failures };
}
