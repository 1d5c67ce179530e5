/**
 * Kubernetes client request metrics, as client-go's `rest_client_*` ones: requests by verb, resource and code, their
 * latency, and the time spent waiting for the client-side rate limiter. One set per registry: every KubeHttp given the
 * same registry shares it.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const LIMITER_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class KubeClientMetrics {
  readonly requests: Counter<'verb' | 'resource' | 'code'>;
  readonly requestDuration: Histogram<'verb' | 'resource'>;
  readonly rateLimiterDuration: Histogram<'verb'>;

  private static readonly byRegistry = new WeakMap<Registry, KubeClientMetrics>();

  /** The metrics on that registry, created on first use. */
  static for(registry: Registry): KubeClientMetrics {
    let m = KubeClientMetrics.byRegistry.get(registry);
    if (!m) KubeClientMetrics.byRegistry.set(registry, (m = new KubeClientMetrics(registry)));
    return m;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'kube_mesos_rest_client_requests_total',
      help: 'Kubernetes API requests by verb (get, list, watch, create, update, patch, delete), resource (pods, pods/binding, …) and HTTP code (<error> when no answer came).',
      labelNames: ['verb', 'resource', 'code'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'kube_mesos_rest_client_request_duration_seconds',
      help: 'Kubernetes API request latency, from sending to the whole answer read (watches: until the stream is open), by verb and resource.',
      labelNames: ['verb', 'resource'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.rateLimiterDuration = new Histogram({
      name: 'kube_mesos_rest_client_rate_limiter_duration_seconds',
      help: 'Time a Kubernetes API request waited for the client-side rate limiter (kube.qps, kube.burst) and in-flight bound, by verb.',
      labelNames: ['verb'],
      buckets: LIMITER_BUCKETS,
      registers,
    });
  }
}

/** The Kubernetes verb of a request (`GET` of a collection is `list`), as audit logs and client-go name it. */
export function requestVerb(method: string, path: string, watch = false): string {
  if (watch) return 'watch';
  switch (method.toUpperCase()) {
    case 'GET':
      return requestTarget(path).name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return method.toLowerCase();
  }
}

/** `pods`, `pods/binding`, `leases`… from an API path; `<other>` for anything else (discovery, /version). */
export function requestResource(path: string): string {
  const t = requestTarget(path);
  return t.resource === undefined ? '<other>' : t.subresource ? `${t.resource}/${t.subresource}` : t.resource;
}

function requestTarget(path: string): { resource?: string; name?: string; subresource?: string } {
  const segs = path.split('?')[0].split('/').filter(Boolean);
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) rest = segs.slice(2);
  else if (segs[0] === 'apis' && segs.length >= 3) rest = segs.slice(3);
  else return {};
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  return { resource: rest[0], name: rest[1], subresource: rest[2] };
}
