import type { V1Pod } from '@kubernetes/client-node';
import type { InverseOffer, Offer } from '../mesos/types.js';
import type { EvictResult } from '../pool/maintenance.js';
import { silentLogger } from '../telemetry/log.js';
import { FrameworkCore } from './framework.js';
import type { KubePort, MesosPort } from './ports.js';
import { TEST_CORE_CONFIG } from './testing/core-harness.js';

const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }];
const inverseOffer = (id: string, agentId: string): InverseOffer => ({ id: { value: id }, framework_id: { value: 'fw' }, agent_id: { value: agentId }, unavailability: { start: { nanoseconds: 1_700_000_030_000 * 1e6 } } });

// ---- wired into the framework core (its events and cycle), with recording fakes for the ports ---------------------------

describe('maintenance through FrameworkCore', () => {
  const scalar = (name: string, value: number) => ({ name, type: 'SCALAR' as const, scalar: { value }, allocation_info: { role: '*' } });
  let seq = 0;
  const coreOffer = (agent: string, unavailable = false): Offer => ({
    id: { value: `co${++seq}` },
    framework_id: { value: 'fw' },
    agent_id: { value: agent },
    hostname: agent,
    resources: [scalar('cpus', 4), scalar('mem', 8192), scalar('disk', 10000)],
    domain: { fault_domain: { region: { name: 'r1' }, zone: { name: 'z1' } } },
    ...(unavailable ? { unavailability: { start: { nanoseconds: 1 } } } : {}),
  });
  const pendingPod = (name: string): V1Pod => ({
    metadata: { namespace: 'ns', name, uid: `uid-${name}`, resourceVersion: '1', creationTimestamp: new Date(0), ownerReferences: owner },
    spec: { schedulerName: 'kube-mesos', containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '500m', memory: '256Mi' } } }] },
    status: { phase: 'Pending' },
  });

  async function setupCore() {
    const calls: string[] = [];
    const accepts: { agent: string; pods: string[] }[] = [];
    let evictAnswer: EvictResult = 'evicted';
    const mesos: MesosPort = {
      accept: async (_ids: string[], ops: { launch?: { task_infos?: { agent_id: { value: string }; name: string }[] } }[]) => {
        const infos = ops.flatMap((o) => o.launch?.task_infos ?? []);
        accepts.push({ agent: infos[0]?.agent_id.value ?? '', pods: infos.map((t) => t.name) });
      },
      decline: async (ids: string[], r: number) => void calls.push(`decline-offers ${ids.length} ${r}`),
      acknowledge: async () => undefined,
      reconcile: async () => undefined,
      kill: async (taskId: string) => void calls.push(`kill ${taskId}`),
      revive: async () => undefined,
      suppress: async () => undefined,
      shutdownExecutor: async () => undefined,
      acceptInverseOffers: async (ids: string[], r: number) => void calls.push(`accept ${ids.join(',')} ${r}`),
      declineInverseOffers: async (ids: string[], r: number) => void calls.push(`decline ${ids.join(',')} ${r}`),
    };
    const kube: KubePort = {
      reportUnschedulable: async () => undefined,
      reportScheduled: async () => undefined,
      reportWarning: async (p: V1Pod, reason: string) => void calls.push(`warn ${p.metadata!.name} ${reason}`),
      deletePod: async () => undefined,
      recreatePod: async () => undefined,
      evictPod: async (p: V1Pod) => {
        calls.push(`evict ${p.metadata!.name}`);
        return evictAnswer;
      },
      cordonNode: async (n: string) => void calls.push(`cordon ${n}`),
      deleteNode: async () => undefined,
      uncordonNode: async (n: string) => void calls.push(`uncordon ${n}`),
    };
    let now = 1000;
    const core = new FrameworkCore({
      mesos,
      kube,
      clock: { now: () => now },
      log: silentLogger(),
      config: TEST_CORE_CONFIG,
    });
    core.onSubscribed('fw');
    return { core, calls, accepts, advance: (ms: number) => (now += ms), setEvict: (a: EvictResult) => (evictAnswer = a) };
  }

  it('INVERSE_OFFERS drain the agent: offers from it are not used, its pods are evicted, then the inverse offer is accepted', async () => {
    const h = await setupCore();
    const web = pendingPod('web');
    h.core.onPodUpsert(web);
    h.core.handleEvent({ type: 'OFFERS', offers: { offers: [coreOffer('a1')] } });
    h.core.runCycle();
    await h.core.drain();
    expect(h.accepts).toEqual([{ agent: 'a1', pods: [expect.stringContaining('web')] }]);
    const taskId = h.core.tasks.forPod('uid-web')!.taskId;
    h.core.handleEvent({ type: 'UPDATE', update: { status: { task_id: { value: taskId }, agent_id: { value: 'a1' }, state: 'TASK_RUNNING' } } });
    h.core.onPodUpsert({ ...web, spec: { ...web.spec!, nodeName: 'a1' }, status: { phase: 'Running' } });

    h.core.handleEvent({ type: 'INVERSE_OFFERS', inverse_offers: { inverse_offers: [inverseOffer('io1', 'a1')] } });
    expect(h.core.maintenance.isDraining('a1')).toBe(true);
    // a new pod arrives with offers from a1 (under maintenance) and a2: it goes to a2, a1's offers are declined
    h.core.onPodUpsert(pendingPod('api'));
    h.core.handleEvent({ type: 'OFFERS', offers: { offers: [coreOffer('a1', true), coreOffer('a2')] } });
    h.core.runCycle();
    await h.core.drain();
    expect(h.accepts.map((a) => a.agent)).toEqual(['a1', 'a2']);
    expect(h.calls).toEqual(['decline-offers 1 30', 'cordon a1', 'evict web']);
    h.calls.length = 0;
    // the evicted pod's task ends and the pod is gone: the next cycle accepts
    h.core.handleEvent({ type: 'UPDATE', update: { status: { task_id: { value: taskId }, agent_id: { value: 'a1' }, state: 'TASK_KILLED' } } });
    h.core.onPodDelete(web);
    h.core.runCycle();
    await h.core.drain();
    expect(h.calls.filter((c) => c.startsWith('accept'))).toEqual(['accept io1 60']);
    // RESCIND_INVERSE_OFFER and an offer without unavailability: the maintenance is over, a1 is usable again
    h.core.handleEvent({ type: 'RESCIND_INVERSE_OFFER', rescind_inverse_offer: { inverse_offer_id: { value: 'io1' } } });
    h.core.handleEvent({ type: 'OFFERS', offers: { offers: [coreOffer('a1')] } });
    h.core.runCycle();
    await h.core.drain();
    expect(h.core.maintenance.isDraining('a1')).toBe(false);
    expect(h.calls).toContain('uncordon a1');
  });

  it('a PDB-blocked eviction declines the inverse offer and warns on the pod', async () => {
    const h = await setupCore();
    const db = pendingPod('db');
    h.core.onPodUpsert(db);
    h.core.handleEvent({ type: 'OFFERS', offers: { offers: [coreOffer('a1')] } });
    h.core.runCycle();
    await h.core.drain();
    h.core.onPodUpsert({ ...db, spec: { ...db.spec!, nodeName: 'a1' }, status: { phase: 'Running' } });
    h.setEvict('blocked');
    h.core.handleEvent({ type: 'INVERSE_OFFERS', inverse_offers: { inverse_offers: [inverseOffer('io1', 'a1')] } });
    h.core.runCycle();
    await h.core.drain();
    h.advance(100);
    h.core.runCycle();
    await h.core.drain();
    expect(h.calls).toEqual(['cordon a1', 'evict db', 'warn db MaintenanceBlocked', 'decline io1 5']);
  });
});
