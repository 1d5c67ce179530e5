import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { BUILD_INFO } from './build.js';

export const BUILD_INFO_METRIC = 'kube_mesos_build_info';

/**
 * The project's own prom-client registry (never the global one), so several instances can live in one process (tests,
 * sandbox). With `defaultMetrics` it carries the standard process and Node.js metrics, unprefixed as every exporter names
 * them (`process_cpu_seconds_total`, `process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, …) so stock
 * dashboards find them, and `kube_mesos_build_info`.
 */
export function createRegistry(opts: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics) {
    collectDefaultMetrics({ register: registry });
    registerBuildInfo(registry);
  }
  return registry;
}

/** `kube_mesos_build_info{version,node_version,platform} 1`, as `kubernetes_build_info` is. */
export function registerBuildInfo(registry: Registry): void {
  if (registry.getSingleMetric(BUILD_INFO_METRIC)) return;
  const g = new Gauge({
    name: BUILD_INFO_METRIC,
    help: 'Always 1; the labels say which kube-mesos build this is (version, Node.js version, platform).',
    labelNames: ['version', 'node_version', 'platform'],
    registers: [registry],
  });
  g.set({ version: BUILD_INFO.version, node_version: BUILD_INFO.nodeVersion, platform: BUILD_INFO.platform }, 1);
}
