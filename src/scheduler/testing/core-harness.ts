// A FrameworkCore on the recording fakes with an injected clock: the setup the core's tests share.
import { silentLogger } from '../../telemetry/log.js';
import { FrameworkCore, type FrameworkCoreConfig } from '../framework.js';
import { FakeKube, FakeMesos } from './fakes.js';

export const TEST_CORE_CONFIG: FrameworkCoreConfig = {
  plan: { executor: { cpus: 0.25, mem: 128, disk: 0 }, defaultScoring: 'spread', preferExistingKubelet: true, maxPodsPerKubelet: 110, defaultRoles: ['*'] },
  podDefaults: { cpus: 0.1, mem: 128, roles: ['*'] },
  executor: { command: 'kube-mesos executor', cpus: 0.25, mem: 128, kubeconfigPath: '/kc', kubeletMode: 'hollow', maxPods: 110 },
  agentInfo: {},
  offers: { refuseWhileWaitingSeconds: 1, refuseIdleSeconds: 300, reviveMinIntervalMs: 1000 },
  offerHoldMs: 5000,
  maxBatch: 1000,
  unschedulableReportIntervalMs: 60_000,
};

/** The core at t=1000 ms; `subscribed` (default true) has it SUBSCRIBED as framework "fw". */
export function coreHarness(over: Partial<FrameworkCoreConfig> = {}, o: { subscribed?: boolean } = {}) {
  let now = 1000;
  const mesos = new FakeMesos();
  const kube = new FakeKube();
  const core = new FrameworkCore({ mesos, kube, clock: { now: () => now }, log: silentLogger(), config: { ...TEST_CORE_CONFIG, ...over } });
  if (o.subscribed ?? true) core.onSubscribed('fw');
  return { core, mesos, kube, advance: (ms: number) => (now += ms), now: () => now };
}
