import { Registry, collectDefaultMetrics } from 'prom-client';

/** The project's own prom-client registry (never the global one), so several instances can live in one process (tests, sandbox). */
export function createRegistry(opts: { defaultMetrics?: boolean; prefix?: string } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: opts.prefix ?? 'kube_mesos_' });
  return registry;
}
