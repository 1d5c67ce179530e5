import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATION_AGENT_ID } from '../names.js';
import { seededRandom } from '../time/backoff.js';
import { hostPortsOf, isFinished, placedPod } from './pods.js';
import { CoreState } from './state.js';
import type { TaskRecord } from './tasks.js';

/** What every agent's pods are, from scratch: each task's pod in task order, then the pods bound without a task. */
function fromScratch(s: CoreState): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (agentId: string, what: string) => {
    const list = out.get(agentId) ?? [];
    list.push(what);
    out.set(agentId, list);
  };
  const seen = new Set<string>();
  for (const t of s.tasks.all()) {
    const pod = s.pods.get(t.podUid);
    if (!pod) continue;
    seen.add(t.podUid);
    add(t.agentId, summary(placedPod(pod, t.hostPorts, t), pod));
  }
  for (const pod of s.pods.values()) {
    const uid = pod.metadata!.uid!;
    if (seen.has(uid) || !pod.spec?.nodeName || isFinished(pod)) continue;
    const agentId = pod.metadata?.annotations?.[ANNOTATION_AGENT_ID] ?? s.agentByNode.get(pod.spec.nodeName);
    if (agentId) add(agentId, summary(placedPod(pod, hostPortsOf(pod)), pod));
  }
  return out;
}

/** A PlacedPod and the pod object it came from, as one comparable string. */
const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;
function summary(p: { uid: string; requests?: { cpus: number; mem: number; disk: number }; hostPorts: number[]; terminating?: boolean }, pod: V1Pod): string {
  if (!objectIds.has(pod)) objectIds.set(pod, nextObjectId++);
  return `${p.uid}#${objectIds.get(pod)} ${p.requests?.cpus}/${p.requests?.mem}/${p.requests?.disk} ports=${p.hostPorts.join(',')} term=${p.terminating}`;
}

const AGENTS = ['a0', 'a1', 'a2', 'a3'];
const NODES = ['n0', 'n1', 'n2', 'n3', 'n4'];

function pod(uid: string, r: () => number): V1Pod {
  const bound = r() < 0.7;
  const phases = ['Pending', 'Running', 'Running', 'Succeeded', 'Failed'];
  return {
    metadata: {
      uid,
      name: uid,
      namespace: 'default',
      annotations: r() < 0.2 ? { [ANNOTATION_AGENT_ID]: AGENTS[Math.floor(r() * AGENTS.length)] } : {},
      ...(r() < 0.1 ? { deletionTimestamp: new Date(0) } : {}),
    },
    spec: {
      nodeName: bound ? NODES[Math.floor(r() * NODES.length)] : undefined,
      containers: [{ name: 'c', resources: { requests: { cpu: `${1 + Math.floor(r() * 4)}00m` } }, ports: r() < 0.2 ? [{ containerPort: 80, hostPort: 8000 + Math.floor(r() * 3) }] : [] }],
    },
    status: { phase: phases[Math.floor(r() * phases.length)] },
  };
}

function task(id: string, podUid: string, r: () => number): TaskRecord {
  return {
    taskId: id,
    podKey: `default/${podUid}`,
    podUid,
    agentId: AGENTS[Math.floor(r() * AGENTS.length)],
    executorId: 'e',
    state: 'ASSUMED',
    bound: false,
    launchedAtMs: 0,
    lastUpdateMs: 0,
    cpus: 0.1 + Math.floor(r() * 3) / 10,
    mem: 64,
    disk: 0,
    hostPorts: r() < 0.2 ? [9000] : [],
  };
}

function indexed(s: CoreState): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of AGENTS) {
    const list = s.placed.forAgent(a);
    if (list.length > 0) out.set(a, list.map((p) => summary(p, s.pods.get(p.uid)!)));
  }
  return out;
}

describe('PlacedPodIndex', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('gives every agent the pods a rebuild from scratch gives, after every change (seed %i)', (seed) => {
    const r = seededRandom(seed);
    const s = new CoreState({ nowMs: 0 });
    const uids = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    let nextTask = 0;
    for (let step = 0; step < 400; step++) {
      const x = r();
      if (x < 0.3) {
        const uid = pick(uids);
        s.pods.set(uid, pod(uid, r));
      }
      else if (x < 0.4) s.pods.delete(pick(uids));
      else if (x < 0.55) s.tasks.assume(task(`t${nextTask++}`, pick(uids), r), 0);
      else if (x < 0.65) {
        // adopt: sometimes a new record for an id the registry has (its place in the order is kept), maybe elsewhere
        const known = [...s.tasks.all()];
        const id = known.length > 0 && r() < 0.7 ? pick(known).taskId : `t${nextTask++}`;
        s.tasks.adopt({ ...task(id, pick(uids), r), state: 'TASK_RUNNING' });
      } else if (x < 0.8) {
        const known = [...s.tasks.all()];
        if (known.length > 0) s.tasks.forget(pick(known).taskId, 0);
      } else if (x < 0.9) s.agentByNode.set(pick(NODES), pick(AGENTS));
      else if (x < 0.97) s.agentByNode.delete(pick(NODES));
      else s.pods.clear();
      // The pod map's writes keep the pod's place in the order as a Map does: set again in place, deleted then set last.
      if (step % 3 === 0 || r() < 0.5) expect(indexed(s)).toEqual(fromScratch(s));
    }
    expect(indexed(s)).toEqual(fromScratch(s));
  });

  it('keeps an unchanged agent\'s array and PlacedPods, and makes a new array for an agent that changed', () => {
    const s = new CoreState({ nowMs: 0 });
    const r = seededRandom(9);
    const plain = (uid: string, nodeName?: string): V1Pod => ({ metadata: { uid, name: uid, namespace: 'default' }, spec: { nodeName, containers: [] }, status: { phase: 'Running' } });
    s.agentByNode.set('n0', 'a0');
    s.pods.set('p0', plain('p0', 'n0'));
    s.pods.set('p1', plain('p1'));
    s.tasks.assume({ ...task('t1', 'p1', r), agentId: 'a1' }, 0);
    const a0 = s.placed.forAgent('a0');
    const a1 = s.placed.forAgent('a1');
    expect(a0.map((p) => p.uid)).toEqual(['p0']);
    expect(a1.map((p) => p.uid)).toEqual(['p1']);
    // p1 bound to n0 now, but it has a task: it stays on a1 and does not count on a0.
    s.pods.set('p1', plain('p1', 'n0'));
    expect(s.placed.forAgent('a0')).toBe(a0);
    const a1After = s.placed.forAgent('a1');
    expect(a1After).not.toBe(a1);
    expect(a1After.map((p) => p.uid)).toEqual(['p1']);
    // Its task ends: the pod is counted where its Node is.
    s.tasks.forget('t1', 0);
    expect(s.placed.forAgent('a1')).toEqual([]);
    expect(s.placed.forAgent('a0').map((p) => p.uid)).toEqual(['p0', 'p1']);
    // Unrelated writes leave both alone.
    const a0Now = s.placed.forAgent('a0');
    s.pods.set('p9', plain('p9'));
    expect(s.placed.forAgent('a0')).toBe(a0Now);
    expect(s.placed.forAgent('a0')[0]).toBe(a0Now[0]);
  });
});
