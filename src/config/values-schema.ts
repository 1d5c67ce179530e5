/**
 * The Helm chart's values.schema.json: the scheduler's own sections (placement, pool, failover, the mesos/kube keys the
 * chart passes through, and everything extraConfig may hold) generated from CONFIG_SCHEMA, around the chart's own keys.
 * Regenerate with `npx tsx src/config/gen-schema.ts`; a test fails when the file is stale.
 */
import { CONFIG_SCHEMA } from './config.js';
import { configField, configJsonSchema, DURATION_PATTERN, fieldJsonSchema, sectionJsonSchema, type JsonSchema } from './json-schema.js';

const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, ...extra });
const bool = (description: string): JsonSchema => ({ type: 'boolean', description });
const obj = (description: string): JsonSchema => ({ type: 'object', description });
const list = (description: string, items: JsonSchema = { type: 'object' }): JsonSchema => ({ type: 'array', description, items });
const closed = (description: string, properties: Record<string, JsonSchema>): JsonSchema => ({ type: 'object', description, properties, additionalProperties: false });
/** A chart key that is a scheduler key under another name: the scheduler's schema, the chart's description. */
const from = (path: string): JsonSchema => {
  // the chart's defaults live in values.yaml (they may differ, e.g. mesos.masters)
  const { default: _default, ...schema } = fieldJsonSchema(configField(path), path);
  return schema;
};
const port = (description: string): JsonSchema => ({ type: 'integer', minimum: 1, maximum: 65535, description });

export function valuesJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Values of the kube-mesos chart',
    description: 'Generated from the scheduler\'s config schema (src/config/config.ts) by `npx tsx src/config/gen-schema.ts`; do not edit.',
    type: 'object',
    properties: {
      global: obj('Values shared with a parent chart (unused here).'),
      nameOverride: str('Replaces the chart name in object names.'),
      fullnameOverride: str('Replaces the whole object name.'),
      image: closed('The kube-mesos image.', {
        repository: str('Image repository.', { minLength: 1 }),
        tag: { type: ['string', 'number'], description: 'Image tag; empty = the chart\'s appVersion.' },
        digest: str('Image digest; wins over the tag.', { pattern: '^([a-z0-9]+:[a-f0-9]{32,})?$' }),
        pullPolicy: { type: 'string', enum: ['IfNotPresent', 'Always', 'Never'], description: 'Image pull policy.' },
      }),
      imagePullSecrets: list('Secrets for pulling the image.'),
      replicas: { type: 'integer', minimum: 0, description: 'Scheduler replicas; more than one runs leader election.' },
      leaderElection: closed('Leader election on a Lease.', {
        enabled: { enum: ['auto', true, false, 'true', 'false'], description: '"auto" (on when replicas > 1), true or false.' },
        leaseDuration: from('kube.leaseDuration'),
        renewDeadline: from('kube.renewDeadline'),
        retryPeriod: from('kube.retryPeriod'),
      }),
      mesos: closed('The Mesos framework.', {
        masters: { ...from('mesos.masters'), minItems: 1 },
        frameworkName: from('mesos.frameworkName'),
        roles: from('mesos.roles'),
        user: from('mesos.user'),
        failoverTimeout: from('mesos.failoverTimeout'),
        checkpoint: from('mesos.checkpoint'),
        contentType: from('mesos.contentType'),
        offerHold: from('mesos.offerHold'),
        refuseSeconds: closed('refuse_seconds on DECLINE.', { waiting: from('mesos.refuseSeconds.waiting'), idle: from('mesos.refuseSeconds.idle') }),
        webuiUrl: from('mesos.webuiUrl'),
        principal: from('mesos.principal'),
        credentials: closed('The principal\'s secret.', {
          existingSecret: str('An existing Secret holding it.'),
          secret: str('The secret itself (the chart creates a Secret).'),
          key: str('Key of the secret in the Secret.', { minLength: 1 }),
        }),
        ca: closed('CA bundle for https masters.', {
          pem: str('PEM bundle, inline.'),
          existingConfigMap: str('An existing ConfigMap holding it.'),
          key: str('Key of the bundle.', { minLength: 1 }),
        }),
      }),
      kube: closed('Kubernetes.', {
        schedulerName: from('kube.schedulerName'),
        qps: from('kube.qps'),
        burst: from('kube.burst'),
      }),
      placement: sectionJsonSchema(CONFIG_SCHEMA.placement, 'placement', 'Placement defaults (docs/configuration.md, section placement).'),
      pool: sectionJsonSchema(CONFIG_SCHEMA.pool, 'pool', 'The elastic kubelet pool (docs/configuration.md, section pool).'),
      delivery: closed('How the kubelet executor reaches the Mesos agents (docs/executor.md "Delivery").', {
        mode: from('delivery.mode'),
        executorBundleUrl: from('delivery.executorBundleUrl'),
        kubeletUrl: from('delivery.kubeletUrl'),
        image: from('delivery.image'),
        serve: closed('The scheduler\'s artifact server.', {
          port: { type: 'integer', minimum: 0, maximum: 65535, description: 'Its port on the pod and the Service; 0 = off.' },
          advertiseUrl: from('delivery.serve.advertiseUrl'),
          kubeletPath: from('delivery.serve.kubeletPath'),
        }),
      }),
      failover: sectionJsonSchema(CONFIG_SCHEMA.failover, 'failover', 'Failover (docs/configuration.md, section failover).'),
      ops: closed('The ops server and logs.', {
        port: port('Port of the ops server and the Service.'),
        logLevel: from('ops.logLevel'),
        secure: from('ops.secure'),
      }),
      extraConfig: { ...configJsonSchema(), description: 'Any other scheduler configuration, merged last; the scheduler\'s whole config schema.' },
      extraEnv: list('Extra environment variables.'),
      extraVolumes: list('Extra volumes.'),
      extraVolumeMounts: list('Extra volume mounts.'),
      serviceAccount: closed('The ServiceAccount.', { create: bool('Create it.'), name: str('Its name.'), annotations: obj('Its annotations.') }),
      rbac: closed('RBAC objects.', { create: bool('Create them.') }),
      service: closed('The ops Service.', { type: { type: 'string', enum: ['ClusterIP', 'NodePort', 'LoadBalancer'], description: 'Service type.' }, annotations: obj('Its annotations.') }),
      metrics: closed('Prometheus Operator objects.', {
        serviceMonitor: closed('The ServiceMonitor.', {
          enabled: bool('Create it.'),
          namespace: str('Its namespace.'),
          interval: str('Scrape interval.', { pattern: DURATION_PATTERN }),
          scrapeTimeout: str('Scrape timeout.', { pattern: DURATION_PATTERN }),
          labels: obj('Its labels.'),
          insecureSkipVerify: bool('Skip verifying the ops server\'s certificate.'),
        }),
        prometheusRule: closed('The PrometheusRule.', {
          enabled: bool('Create it.'),
          namespace: str('Its namespace.'),
          labels: obj('Its labels.'),
          selector: str('Label matchers of this release\'s series.'),
          podsPendingFor: str('How long pods may wait with no launch.', { pattern: DURATION_PATTERN }),
          notSubscribedFor: str('How long the framework may be unsubscribed.', { pattern: DURATION_PATTERN }),
          alertLabels: obj('Extra labels of every alert.'),
          additionalRules: list('More rules.'),
        }),
      }),
      networkPolicy: closed('The NetworkPolicy.', {
        enabled: bool('Create it.'),
        ingress: closed('Ingress to the ops port.', { from: list('Allowed peers; [] = any.') }),
        egress: closed('Egress.', { ports: list('Allowed destination ports; [] = all egress.'), to: list('Allowed destinations; [] = anywhere.') }),
      }),
      podDisruptionBudget: closed('The PodDisruptionBudget.', {
        enabled: bool('Create it.'),
        maxUnavailable: { type: ['integer', 'string'], description: 'Most pods down by voluntary disruption.' },
        minAvailable: { type: ['integer', 'string'], description: 'Least pods up; empty = use maxUnavailable.' },
      }),
      resources: obj('Container resources.'),
      startupProbe: obj('Startup probe.'),
      livenessProbe: obj('Liveness probe.'),
      readinessProbe: obj('Readiness probe.'),
      podSecurityContext: obj('Pod securityContext.'),
      securityContext: obj('Container securityContext.'),
      podAnnotations: obj('Pod annotations.'),
      podLabels: obj('Pod labels.'),
      priorityClassName: str('PriorityClass of the scheduler pods.'),
      nodeSelector: obj('Node selector.'),
      tolerations: list('Tolerations.'),
      affinity: obj('Affinity.'),
      topologySpreadConstraints: list('Topology spread constraints.'),
      tests: closed('`helm test`.', { image: str('Image of the test pod; empty = the kube-mesos image.') }),
    },
    additionalProperties: false,
  };
}

/** The file's text: stable key order, two-space indent, final newline. */
export function renderValuesSchema(): string {
  return JSON.stringify(valuesJsonSchema(), null, 2) + '\n';
}
