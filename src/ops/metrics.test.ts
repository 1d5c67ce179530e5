import { readFileSync } from 'node:fs';
import { createRegistry } from '../telemetry/metrics.js';
import { SchedulerMetrics } from './metrics.js';
import { renderMetricsDoc } from './metrics-doc.js';

async function names(): Promise<string[]> {
  const registry = createRegistry();
  new SchedulerMetrics(registry);
  return (await registry.getMetricsAsJSON()).map((m) => m.name);
}

describe('SchedulerMetrics', () => {
  it('creates every metric issue 9 names, prefixed kube_mesos_', async () => {
    const all = await names();
    for (const n of all) expect(n).toMatch(/^kube_mesos_[a-z_]+$/);
    expect(all).toEqual(
      expect.arrayContaining([
        'kube_mesos_pending_pods',
        'kube_mesos_scheduling_cycle_duration_seconds',
        'kube_mesos_pod_scheduling_duration_seconds',
        'kube_mesos_offers_received_total',
        'kube_mesos_offers_declined_total',
        'kube_mesos_offers_accepted_total',
        'kube_mesos_offers_rescinded_total',
        'kube_mesos_pod_launches_total',
        'kube_mesos_task_updates_total',
        'kube_mesos_kubelets',
        'kube_mesos_zone_healthy',
        'kube_mesos_mesos_connection_state',
        'kube_mesos_mesos_reconnects_total',
        'kube_mesos_reconciliation_duration_seconds',
        'kube_mesos_leader',
      ]),
    );
  });

  it('docs/metrics.md is current (regenerate with `npx tsx src/ops/gen-metrics-doc.ts`)', () => {
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderMetricsDoc());
  });

  it('docs/metrics.md lists every registered scheduler metric', async () => {
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]));
    for (const n of await names()) expect([n, documented.has(n)]).toEqual([n, true]);
  });

  it('several instances live side by side on their own registries', async () => {
    const a = createRegistry();
    const b = createRegistry();
    const ma = new SchedulerMetrics(a);
    new SchedulerMetrics(b);
    ma.offersReceived.inc(2);
    expect(await a.getSingleMetricAsString('kube_mesos_offers_received_total')).toContain('kube_mesos_offers_received_total 2');
    expect(await b.getSingleMetricAsString('kube_mesos_offers_received_total')).toContain('kube_mesos_offers_received_total 0');
  });

  it('set* helpers replace their series, so vanished zones and states disappear', async () => {
    const registry = createRegistry();
    const m = new SchedulerMetrics(registry);
    m.setKubelets([
      { zone: 'a', state: 'ready', count: 2 },
      { zone: 'b', state: 'ready', count: 1 },
      { zone: 'a', state: 'ready', count: 1 },
    ]);
    m.setKubelets([{ zone: 'c', state: 'draining', count: 4 }]);
    const kubelets = await registry.getSingleMetricAsString('kube_mesos_kubelets');
    expect(kubelets).toContain('kube_mesos_kubelets{zone="c",state="draining"} 4');
    expect(kubelets).not.toContain('zone="a"');

    m.setZoneHealth([['a', true], ['b', false]]);
    const zones = await registry.getSingleMetricAsString('kube_mesos_zone_healthy');
    expect(zones).toContain('kube_mesos_zone_healthy{zone="a"} 1');
    expect(zones).toContain('kube_mesos_zone_healthy{zone="b"} 0');

    m.setTaskStates([['TASK_RUNNING', 5], ['TASK_STAGING', 1]]);
    expect(await registry.getSingleMetricAsString('kube_mesos_tasks')).toContain('kube_mesos_tasks{state="TASK_RUNNING"} 5');

    m.setAgents([{ zone: 'a', state: 'lost', count: 3 }]);
    expect(await registry.getSingleMetricAsString('kube_mesos_agents')).toContain('kube_mesos_agents{zone="a",state="lost"} 3');
  });

  it('connection state is one-hot and leader is 0/1', async () => {
    const registry = createRegistry();
    const m = new SchedulerMetrics(registry);
    m.setMesosConnectionState('connecting');
    m.setLeader(true);
    const text = await registry.metrics();
    expect(text).toContain('kube_mesos_mesos_connection_state{state="connecting"} 1');
    expect(text).toContain('kube_mesos_mesos_connection_state{state="subscribed"} 0');
    expect(text).toContain('kube_mesos_mesos_connection_state{state="disconnected"} 0');
    expect(text).toContain('kube_mesos_leader 1');
  });

  it('failover_held_pods reports each reason, 0 when nothing is held', async () => {
    const registry = createRegistry();
    const m = new SchedulerMetrics(registry);
    m.setFailoverHeld([['safety-stop', 7]]);
    let text = await registry.getSingleMetricAsString('kube_mesos_failover_held_pods');
    expect(text).toContain('kube_mesos_failover_held_pods{reason="safety-stop"} 7');
    m.setFailoverHeld([]);
    text = await registry.getSingleMetricAsString('kube_mesos_failover_held_pods');
    expect(text).toContain('kube_mesos_failover_held_pods{reason="safety-stop"} 0');
  });

  it('histograms observe in seconds into their buckets', async () => {
    const registry = createRegistry();
    const m = new SchedulerMetrics(registry);
    m.schedulingCycleDuration.observe(0.003);
    m.reconciliationDuration.observe({ kind: 'explicit' }, 1.2);
    const text = await registry.metrics();
    expect(text).toContain('kube_mesos_scheduling_cycle_duration_seconds_bucket{le="0.0025"} 0');
    expect(text).toContain('kube_mesos_scheduling_cycle_duration_seconds_bucket{le="0.005"} 1');
    expect(text).toContain('kube_mesos_reconciliation_duration_seconds_count{kind="explicit"} 1');
  });
});

describe('the process registry', () => {
  it('serves the standard process metrics unprefixed and kube_mesos_build_info with the package version', async () => {
    const registry = createRegistry({ defaultMetrics: true });
    const text = await registry.metrics();
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).not.toContain('kube_mesos_process_');
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(text).toContain(`kube_mesos_build_info{version="${version}",node_version="${process.version}",platform="${process.platform}/`);
    expect(text).toMatch(/^kube_mesos_build_info\{[^}]*\} 1$/m);
  });
});
