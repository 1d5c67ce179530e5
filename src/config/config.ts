/**
 * The framework's configuration: one typed schema, read as defaults ← YAML file ← environment (`KUBE_MESOS_<SECTION>_<KEY>`)
 * ← flags (`--set section.key=value` and a few named flags). Pure: the CLI reads the file and passes env and flags in.
 */
import { load as loadYaml, YAMLException } from 'js-yaml';
import { redactUrl } from '../mesos/zk/master-info.js';
import { bool, duration, int, isField, num, oneOf, quantity, str, strList, type Field, type Infer, type Section } from './schema.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ATTRIBUTE = /^[A-Za-z0-9_.\-/]+$/;
const HTTP_URL = /^https?:\/\/[^\s/?#]+(\/\S*)?$/;
const FETCH_URL = /^(https?:\/\/[^\s/?#]+|file:\/\/)\/\S*$/;
const LISTEN = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):([0-5]?\d{1,4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/;

const MASTER_EXPECTED = 'expected http(s)://host:port or zk://host:port/path';

/** One Mesos master URL: `http(s)://host[:port]` (a path is ignored by the client) or `zk://host:port[,host:port…]/path`. */
export function checkMasterUrl(s: string): string | undefined {
  const shown = redactUrl(s);
  if (s.startsWith('zk://')) {
    const m = /^zk:\/\/(?:[^@/\s]+@)?([^/\s]+)(\/\S+)$/.exec(s);
    if (m && m[1].split(',').every(hostPort)) return undefined;
    return `"${shown}" is not a ZooKeeper URL (expected zk://host:port[,host:port...]/path)`;
  }
  if (/^https?:\/\//.test(s)) {
    try {
      const u = new URL(s);
      if (u.username !== '' || u.password !== '') return `"${shown}" carries credentials in the URL (use mesos.principal and mesos.secretFile: a URL is logged)`;
      if (u.hostname !== '' && (u.port === '' || Number(u.port) > 0)) return undefined;
    } catch {
      // falls through to the error below
    }
  }
  return `"${shown}" is not a Mesos master URL (${MASTER_EXPECTED})`;
}

function hostPort(s: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(s);
  return m !== null && Number(m[2]) <= 65535;
}

function checkRole(role: string): string | undefined {
  if (role === '*') return undefined;
  const ok = role.split('/').every((seg) => /^[^\s\\/.\-*][^\s\\/]*$/.test(seg) || /^\.[^\s\\/.][^\s\\/]*$/.test(seg));
  return ok ? undefined : `"${role}" is not a Mesos role (expected "*" or names without spaces, not starting with "-" or ".", "/" for hierarchy)`;
}

/** The whole schema. Keys are camelCase; env names are derived: mesos.failoverTimeout ↔ KUBE_MESOS_MESOS_FAILOVER_TIMEOUT. */
export const CONFIG_SCHEMA = {
  mesos: {
    masters: strList({
      default: ['http://127.0.0.1:5050'],
      doc: 'Mesos masters: a list of http(s)://host:port URLs tried in order (redirects to the leader are followed), or one zk://host:port[,host:port]/path URL for ZooKeeper leader detection.',
      minItems: 1,
      // zk://h1:2181,h2:2181/mesos has commas of its own
      split: (s) => (s.trim().startsWith('zk://') ? [s] : s.split(',')),
      item: checkMasterUrl,
      whole: (list) => (list.length > 1 && list.some((m) => m.startsWith('zk://')) ? 'a zk:// URL must be the only entry' : undefined),
    }),
    scheme: oneOf(['http', 'https'] as const, {
      default: 'http',
      doc: 'Scheme for masters found through ZooKeeper: Mesos\' MasterInfo carries only host and port, so TLS has to be configured. Set `https` whenever `principal` is set, or the basic-auth secret travels unencrypted. http(s):// URLs in `masters` keep their own scheme.',
    }),
    contentType: oneOf(['protobuf', 'json'] as const, { default: 'protobuf', doc: 'Encoding of scheduler API calls and events.' }),
    principal: str({ default: '', doc: 'Principal for HTTP basic authentication and the FrameworkInfo; empty = no authentication.' }),
    secretFile: str({ default: '', doc: 'File holding the secret for `principal` (e.g. a mounted Kubernetes Secret). Read at start; the secret never appears in config or logs.' }),
    caFile: str({ default: '', doc: 'PEM CA bundle for https masters; empty = the system roots.' }),
    failoverTimeout: duration({ default: '168h', min: '1m', max: '8760h', doc: 'How long Mesos keeps the framework\'s tasks running while the scheduler is away (FrameworkInfo.failover_timeout). At least 1m: with 0 Mesos kills every task of the framework the moment its connection drops.' }),
    frameworkName: str({ default: 'kube-mesos', pattern: /^\S.*$/, allowed: 'a non-empty name', allowEmpty: false, doc: 'FrameworkInfo.name, shown in the Mesos UI.' }),
    user: str({ default: '', doc: 'FrameworkInfo.user: the Unix user executors run as; empty = the user the scheduler runs as.' }),
    roles: strList({ default: ['*'], minItems: 1, item: checkRole, doc: 'Mesos roles the framework subscribes with (MULTI_ROLE); pods choose among them with `kube-mesos.io/roles`.' }),
    checkpoint: bool({ default: true, doc: 'FrameworkInfo.checkpoint: tasks survive an agent restart.' }),
    webuiUrl: str({ default: '', pattern: HTTP_URL, allowed: 'an http(s) URL', doc: 'FrameworkInfo.webui_url (e.g. the dashboard\'s URL); empty = none.' }),
    heartbeatMissLimit: int({ default: 5, min: 1, max: 100, doc: 'Missed heartbeats after which the event stream is treated as dead and the scheduler re-subscribes.' }),
    refuseSeconds: {
      waiting: duration({ default: '1s', min: '0s', max: '1h', unit: 's', doc: 'refuse_seconds on DECLINE while pods are waiting (short, so offers come back soon). The value is in seconds.' }),
      idle: duration({ default: '5m', min: '0s', max: '24h', unit: 's', doc: 'refuse_seconds on DECLINE when nothing is pending (long, so other frameworks get the resources). The value is in seconds.' }),
    },
    offerHold: duration({ default: '5s', min: '500ms', max: '5m', doc: 'Longest time an offer is kept unused while pods wait (they may fit it in a later cycle); it is declined with `refuseSeconds.waiting` a tenth of the hold (at most 1 s) before the hold ends, so that the answer is at the master within it. While pods keep arriving (one queued in the last second) offers are kept the same way even with the queue empty; once none came for a second and nothing is pending, they are declined with `refuseSeconds.idle` and offers are suppressed.' }),
    reviveMinInterval: duration({ default: '1s', min: '0s', max: '1h', doc: 'REVIVE rate limit: one per interval on average; two may go out back to back after a quiet spell.' }),
    implicitReconcileInterval: duration({ default: '5m', min: '10s', max: '24h', doc: 'Period of implicit task reconciliation (explicit reconciliation runs after every SUBSCRIBED).' }),
  },
  kube: {
    kubeconfig: str({ default: '', doc: 'Path to a kubeconfig; empty = $KUBECONFIG, then ~/.kube/config, then the in-cluster service account.' }),
    namespace: str({ default: 'kube-mesos', pattern: DNS_LABEL, allowEmpty: false, allowed: 'a DNS label', doc: 'Namespace of the framework\'s own objects (Lease, state ConfigMap, events about itself).' }),
    schedulerName: str({ default: 'kube-mesos', pattern: DNS_SUBDOMAIN, allowEmpty: false, allowed: 'a DNS subdomain', doc: 'Pods with this `spec.schedulerName` are scheduled by kube-mesos.' }),
    qps: num({ default: 50, min: 1, doc: 'Client-side rate limit for Kubernetes API requests (per second).' }),
    burst: int({ default: 100, min: 1, doc: 'Burst allowed above `qps`.' }),
    leaderElect: bool({ default: false, doc: 'Run leader election on a Lease so that several replicas can run (one active, the others standby).' }),
    leaseName: str({ default: 'kube-mesos-scheduler', pattern: DNS_SUBDOMAIN, allowEmpty: false, allowed: 'a DNS subdomain', doc: 'Name of the coordination.k8s.io Lease used for leader election.' }),
    leaseDuration: duration({ default: '15s', min: '1s', max: '1h', doc: 'How long a standby waits before taking over a lease that is not renewed.' }),
    renewDeadline: duration({ default: '10s', min: '1s', max: '1h', doc: 'How long the leader keeps trying to renew before it gives up leadership; must be less than `leaseDuration`.' }),
    retryPeriod: duration({ default: '2s', min: '100ms', max: '1h', doc: 'Interval between lease acquire/renew attempts; must be less than `renewDeadline`.' }),
    stateConfigMap: str({ default: 'kube-mesos-state', pattern: DNS_SUBDOMAIN, allowEmpty: false, allowed: 'a DNS subdomain', doc: 'ConfigMap holding the framework id and other state that must survive restarts.' }),
  },
  placement: {
    defaultScoring: oneOf(['spread', 'binpack'] as const, { default: 'spread', doc: 'Scoring for pods without a `kube-mesos.io/placement` annotation.' }),
    preferExistingKubelet: bool({ default: true, doc: 'Prefer agents that already run a kubelet executor over starting a new one.' }),
    defaultRequests: {
      cpu: quantity({ of: 'cpu', default: '100m', min: '1m', doc: 'CPU charged for a container that requests none. The value is in cores.' }),
      memory: quantity({ of: 'memory', default: '128Mi', min: '1Mi', doc: 'Memory charged for a container that requests none. The value is in Mesos megabytes (MiB).' }),
    },
    zoneAttribute: str({ default: '', pattern: ATTRIBUTE, allowed: 'a Mesos attribute name', doc: 'Agent attribute naming the zone; empty = the offer\'s fault domain.' }),
    regionAttribute: str({ default: '', pattern: ATTRIBUTE, allowed: 'a Mesos attribute name', doc: 'Agent attribute naming the region; empty = the offer\'s fault domain.' }),
    maxBatch: int({ default: 500, min: 1, max: 100_000, doc: 'Most pods placed in one scheduling cycle.' }),
    cycleInterval: duration({ default: '100ms', min: '0s', max: '1m', doc: 'Minimum time between scheduling cycles; new pods and offers arriving meanwhile are batched.' }),
    bindOnAccept: bool({
      default: false,
      doc: "Write a pod's Binding as soon as the Mesos master accepted its launch, instead of when its task reaches the agent (the executor's TASK_STARTING, which executors then do not send): pods are bound sooner and each costs one status update and acknowledgement fewer. A launch that fails before reaching the agent then leaves the pod bound to that Node: it is failed (event BoundWithoutTask) and its controller replaces it — a bare pod is lost, where by default it would be placed again. Experimental (docs/performance.md).",
    }),
    preferenceWait: duration({
      default: '3s',
      min: '0s',
      max: '10m',
      doc: "Longest a pod waits for an agent that is not offered right now but that its own preferences (preferred node affinity, PreferNoSchedule taints it tolerates) rank above the offered ones, and that had room for it in its latest offer; then it is placed on what is offered. 0 = never wait (docs/scheduling.md).",
    }),
  },
  pool: {
    executorCpus: num({ default: 0.25, min: 0.01, doc: 'CPUs reserved for each kubelet executor.' }),
    executorMem: quantity({ of: 'memory', default: '128Mi', min: '32Mi', doc: 'Memory reserved for each kubelet executor. The value is in Mesos megabytes (MiB).' }),
    maxPodsPerKubelet: int({ default: 110, min: 1, max: 10_000, doc: 'Most pods one kubelet runs (as the kubelet\'s --max-pods).' }),
    minPerZone: int({ default: 0, min: 0, doc: 'Warm kubelets kept in every zone even when idle.' }),
    max: int({ default: 0, min: 0, doc: 'Most kubelets overall; 0 = unlimited.' }),
    maxPerZone: int({ default: 0, min: 0, doc: 'Most kubelets per zone; 0 = unlimited.' }),
    idleTimeout: duration({ default: '10m', min: '0s', max: '168h', doc: 'A kubelet without pods for this long is removed and its resources go back to Mesos.' }),
    daemonSetPodsKeepKubelet: bool({ default: false, doc: "A kubelet whose only pods are DaemonSet pods counts as idle unless this is true (cluster-autoscaler does not count DaemonSet pods either): after `idleTimeout` it is removed, its Node deleted and the DaemonSet's pod with it." }),
    scaleDownUtilization: num({ default: 0.5, min: 0, max: 1, doc: 'With consolidation on, kubelets below this utilisation whose pods fit elsewhere are drained.' }),
    consolidation: bool({ default: false, doc: 'Drain under-utilised kubelets (Eviction API, PodDisruptionBudgets respected) to pack pods onto fewer agents.' }),
    consolidationDelay: duration({ default: '10m', min: '0s', max: '168h', doc: 'How long a kubelet must stay under `scaleDownUtilization` before consolidation drains it.' }),
    drainTimeout: duration({ default: '10m', min: '1s', max: '168h', doc: 'A consolidation drain not finished after this long (a PodDisruptionBudget keeps refusing evictions) is abandoned: the Node is uncordoned and a DrainAbandoned event says why.' }),
    maxConcurrentScaleDowns: int({ default: 1, min: 1, doc: 'Most kubelets being drained or removed at the same time.' }),
    kubeletMode: oneOf(['real', 'hollow'] as const, { default: 'real', doc: '`real` runs `kubeletCommand` under the executor; `hollow` runs the built-in stand-in (tests, the sandbox).' }),
    kubeletCommand: str({ default: 'kubelet', allowEmpty: false, pattern: /\S/, allowed: 'a command', doc: 'The kubelet binary the executor starts in `real` mode.' }),
    kubeletExtraFlags: strList({
      default: [],
      item: (f) => (f.startsWith('--') ? undefined : `"${f}" is not a flag (expected --name or --name=value)`),
      doc: 'Extra flags passed to every real kubelet.',
    }),
    executorCommand: str({ default: '', doc: 'Command the Mesos agent runs for the executor; empty = this kube-mesos binary with `executor`.' }),
    executorKubeconfig: str({
      default: '',
      doc: 'INSECURE opt-out of node identities: path, on the Mesos agents, of a kubeconfig every executor and kubelet uses instead of its own `system:node:<name>` certificate (a shared credential on every agent). Empty (the default) = each executor obtains a node certificate through the scheduler (docs/executor.md, "Node identity").',
    }),
    nodeApiServer: str({ default: '', pattern: /^https?:\/\/\S+$/, allowed: 'an http(s):// URL', doc: 'API server URL the executors\' node kubeconfigs point at, as the agents reach it; empty = the server of the scheduler\'s own kubeconfig.' }),
    nodeCertificateConcurrency: int({ default: 32, min: 1, max: 1000, doc: 'Node certificates (CSR create, approve, signed) the scheduler issues at the same time; more executors asking wait in line.' }),
  },
  delivery: {
    mode: oneOf(['preinstalled', 'fetch', 'image'] as const, {
      default: 'preinstalled',
      doc: 'How the executor reaches an agent: `fetch` = the agent\'s fetcher downloads the executor bundle (and the kubelet) into the sandbox; `image` = a Mesos container from `delivery.image`; `preinstalled` = `pool.executorCommand` (or this binary) is already on every agent. See docs/executor.md.',
    }),
    executorBundleUrl: str({ default: '', pattern: FETCH_URL, allowed: 'an http(s):// or file:// URL', doc: 'URL of the executor bundle (`npm run bundle:executor`) for `fetch`; empty = the one the scheduler serves (`delivery.serve.bundlePath`).' }),
    kubeletUrl: str({ default: '', pattern: FETCH_URL, allowed: 'an http(s):// or file:// URL', doc: 'URL of the kubelet binary agents fetch in `real` kubelet mode; empty = the one the scheduler serves (`delivery.serve.kubeletPath`), else `pool.kubeletCommand` on the agent.' }),
    image: str({ default: '', doc: 'Docker image with `kube-mesos` on its PATH for `image` delivery (run by the agent\'s Mesos containerizer).' }),
    serve: {
      listen: str({ default: '', pattern: LISTEN, allowed: 'host:port, port 0-65535', doc: 'host:port of the scheduler\'s artifact server (serves the bundle and kubelet below to agents); empty = off.' }),
      advertiseUrl: str({ default: '', pattern: HTTP_URL, allowed: 'an http(s):// URL', doc: 'Base URL agents reach the artifact server at (e.g. `http://kube-mesos.kube-system.svc:10252`); empty = the listen address.' }),
      bundlePath: str({ default: '', doc: 'The executor bundle file the artifact server serves; empty = the bundle built next to this program (`dist/artifacts/`).' }),
      kubeletPath: str({ default: '', doc: 'The kubelet binary the artifact server serves; empty = none.' }),
      tlsCertFile: str({ default: '', doc: 'PEM certificate for an https artifact server (with `tlsKeyFile`).' }),
      tlsKeyFile: str({ default: '', doc: 'PEM private key for an https artifact server.' }),
    },
  },
  failover: {
    defaultFailoverAfter: duration({ default: '5m', min: '0s', max: '168h', doc: 'How long after its agent or zone is lost a pod is replaced, unless its toleration or `kube-mesos.io/failover-after` says otherwise.' }),
    zoneUnhealthyFraction: num({ default: 0.55, min: 0.01, max: 1, doc: 'A zone is unhealthy when at least this fraction of its agents is lost.' }),
    safetyStopFraction: num({ default: 0.7, min: 0.01, max: 1, doc: 'If more than this fraction of all agents (or every zone) looks lost at once, the framework assumes it is cut off itself and replaces nothing.' }),
    replacementsPerMinute: int({ default: 600, min: 1, doc: 'Most replacement pods created per minute (token bucket refill).' }),
    replacementBurst: int({ default: 100, min: 1, doc: 'Replacement pods that may be created at once before `replacementsPerMinute` applies.' }),
    nodeEvictionRate: num({ default: 0.1, min: 0, max: 100, doc: 'Agents per second whose pods may be replaced in a healthy (or fully disrupted) zone, as kube-controller-manager --node-eviction-rate.' }),
    secondaryNodeEvictionRate: num({ default: 0.01, min: 0, max: 100, doc: 'Agents per second in a zone with at least `zoneUnhealthyFraction` of its agents lost (--secondary-node-eviction-rate); 0 in zones of at most `largeClusterSizeThreshold` agents.' }),
    largeClusterSizeThreshold: int({ default: 50, min: 0, max: 100000, doc: 'Zones with at most this many agents stop replacements altogether while unhealthy (--large-cluster-size-threshold).' }),
    rebalance: bool({ default: false, doc: 'After a zone recovers, move pods back gradually within their disruption budgets.' }),
  },
  storage: {
    agentWorkDir: str({
      default: '/var/lib/mesos',
      allowEmpty: false,
      pattern: /^\/\S*$/,
      allowed: 'an absolute path',
      doc: 'The Mesos agents\' `--work_dir`; `{agentId}` is replaced by the agent id. A Mesos volume lives at `<agentWorkDir>/volumes/roles/<role>/<persistence id>` on its agent, the path of the local PersistentVolume kube-mesos writes for it (docs/stateful.md).',
    }),
  },
  ops: {
    listen: str({
      default: '0.0.0.0:10251',
      allowEmpty: false,
      pattern: /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):([0-5]?\d{1,4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/,
      allowed: 'host:port, port 0-65535',
      doc: 'Address of the ops server: /healthz, /readyz, /metrics, /debug/state and the dashboard.',
    }),
    secure: bool({
      default: true,
      doc: 'Serve HTTPS and require Kubernetes delegated authentication and authorization (TokenReview + SubjectAccessReview, as kube-scheduler\'s secure port) for /metrics, /debug/state and the dashboard; /healthz and /readyz stay open. `false` (plain HTTP, no authentication) is allowed only on a loopback `listen` address, e.g. the sandbox.',
    }),
    tlsCertFile: str({ default: '', doc: 'PEM serving certificate of the ops server; empty = a self-signed one is made at start (as kube-scheduler does).' }),
    tlsKeyFile: str({ default: '', doc: 'PEM private key for `tlsCertFile`.' }),
    authCacheTTL: duration({ default: '10s', min: '0s', max: '10m', doc: 'How long a TokenReview or SubjectAccessReview answer is reused.' }),
    logLevel: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info', doc: 'Log level of the JSON logs.' }),
  },
} as const satisfies Section;

export type KubeMesosConfig = Infer<typeof CONFIG_SCHEMA>;

export type ConfigResult = { ok: true; config: KubeMesosConfig } | { ok: false; errors: string[] };

/** Flags as `[dotted.path, value]` pairs (later wins) or a record. */
export type FlagOverrides = readonly (readonly [string, string])[] | Readonly<Record<string, string>>;

export interface LoadConfigInput {
  /** The YAML config file's text, if there is one. */
  fileText?: string;
  /** Used only for the file's name in messages. */
  fileName?: string;
  env?: Readonly<Record<string, string | undefined>>;
  flags?: FlagOverrides;
}

export const ENV_PREFIX = 'KUBE_MESOS_';

interface Leaf {
  path: string;
  field: Field<unknown>;
}

function leaves(section: Section, prefix = ''): Leaf[] {
  return Object.entries(section).flatMap(([k, v]) => (isField(v) ? [{ path: prefix + k, field: v }] : leaves(v, `${prefix}${k}.`)));
}

const LEAVES = leaves(CONFIG_SCHEMA);
const BY_PATH = new Map(LEAVES.map((l) => [l.path, l]));

/** `mesos.failoverTimeout` → `KUBE_MESOS_MESOS_FAILOVER_TIMEOUT`. */
export function envName(path: string): string {
  return ENV_PREFIX + path.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase();
}

const BY_ENV = new Map(LEAVES.map((l) => [envName(l.path), l]));
const SECTION_ENV_PREFIXES = Object.keys(CONFIG_SCHEMA).map((s) => `${envName(s)}_`);

/** Every key with its field, in schema order (for docs and tooling). */
export function configKeys(): readonly { path: string; env: string; field: Field<unknown> }[] {
  return LEAVES.map((l) => ({ path: l.path, env: envName(l.path), field: l.field }));
}

function sectionAt(path: string): Section | undefined {
  let s: Section | Field<unknown> = CONFIG_SCHEMA;
  for (const k of path === '' ? [] : path.split('.')) {
    if (isField(s) || !Object.hasOwn(s, k)) return undefined;
    s = s[k];
  }
  return isField(s) ? undefined : s;
}

function unknownKey(path: string): string {
  const dot = path.lastIndexOf('.');
  const parent = dot < 0 ? '' : path.slice(0, dot);
  const key = path.slice(dot + 1);
  const section = sectionAt(parent);
  if (!section) return unknownKey(parent);
  const known = Object.keys(section);
  const near = known.filter((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
  const hint = near.length > 0 ? `did you mean ${near.map((k) => (parent ? `${parent}.${k}` : k)).join(' or ')}? ` : '';
  return `${path}: unknown key (${hint}known ${parent ? `keys in ${parent}` : 'sections'}: ${known.join(', ')})`;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

interface Override {
  path: string;
  raw: unknown;
  text: boolean;
  /** Where it came from, for messages: '' (file), 'KUBE_MESOS_…', '--set'. */
  source: string;
}

function fromFile(text: string, fileName: string, errors: string[]): Override[] {
  let doc: unknown;
  try {
    doc = loadYaml(text, { filename: fileName });
  } catch (err) {
    const msg = err instanceof YAMLException ? err.message : String(err);
    errors.push(`${fileName}: not valid YAML: ${msg}`);
    return [];
  }
  if (doc === undefined || doc === null) return [];
  const out: Override[] = [];
  const walk = (value: unknown, section: Section, prefix: string): void => {
    if (value === null) return; // `mesos:` with nothing under it
    if (typeof value !== 'object' || Array.isArray(value)) {
      errors.push(`${prefix === '' ? fileName : prefix.slice(0, -1)}: expected a mapping of keys, got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
      return;
    }
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const path = prefix + k;
      if (!Object.hasOwn(section, k)) {
        errors.push(unknownKey(path));
        continue;
      }
      const child = section[k];
      if (isField(child)) out.push({ path, raw: v, text: false, source: '' });
      else walk(v, child, `${path}.`);
    }
  };
  walk(doc, CONFIG_SCHEMA, '');
  return out;
}

function fromEnv(env: Readonly<Record<string, string | undefined>>, errors: string[]): Override[] {
  const out: Override[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(ENV_PREFIX)) continue;
    const leaf = BY_ENV.get(name);
    if (leaf) out.push({ path: leaf.path, raw: value, text: true, source: name });
    // Other KUBE_MESOS_* variables (e.g. test settings) are not config; only a known section's prefix makes a typo an error.
    else if (SECTION_ENV_PREFIXES.some((p) => name.startsWith(p))) {
      const known = [...BY_ENV.keys()];
      const near = known.filter((k) => editDistance(k, name) <= 3);
      const hint = near.length > 0 ? `did you mean ${near.join(' or ')}? ` : '';
      errors.push(`${name}: unknown configuration variable (${hint}see docs/configuration.md for the list)`);
    }
  }
  return out;
}

function fromFlags(flags: FlagOverrides, errors: string[]): Override[] {
  const pairs: (readonly [string, string])[] = Array.isArray(flags) ? [...(flags as readonly (readonly [string, string])[])] : Object.entries(flags);
  const out: Override[] = [];
  for (const [path, value] of pairs) {
    if (BY_PATH.has(path)) out.push({ path, raw: value, text: true, source: '--set' });
    else if (!/^[A-Za-z0-9_.]+$/.test(path)) errors.push(`--set ${JSON.stringify(path)}: not a configuration key (expected section.key, e.g. pool.idleTimeout)`);
    else if (sectionAt(path)) errors.push(`--set ${path}: is a section, set one of its keys (${Object.keys(sectionAt(path) ?? {}).join(', ')})`);
    else errors.push(`--set ${unknownKey(path)}`);
  }
  return out;
}

/**
 * Builds the configuration: defaults ← file ← env ← flags. Every problem is reported (not only the first), each line
 * naming the dotted key and what is allowed. The result is deeply frozen.
 */
export function loadConfig(input: LoadConfigInput = {}): ConfigResult {
  const errors: string[] = [];
  const overrides = [
    ...(input.fileText !== undefined ? fromFile(input.fileText, input.fileName ?? 'config file', errors) : []),
    ...fromEnv(input.env ?? {}, errors),
    ...fromFlags(input.flags ?? [], errors),
  ];
  const values = new Map<string, unknown>(LEAVES.map((l) => [l.path, l.field.default]));
  for (const o of overrides) {
    const r = BY_PATH.get(o.path)!.field.parse(o.raw, o.text);
    if (r.ok) values.set(o.path, r.value);
    else errors.push(`${o.path}${r.at ?? ''}${o.source ? ` (from ${o.source})` : ''}: ${r.error}`);
  }
  if (errors.length === 0) errors.push(...crossChecks((p) => values.get(p)));
  if (errors.length > 0) return { ok: false, errors: errors.map((e) => `config: ${e}`) };
  return { ok: true, config: build(CONFIG_SCHEMA, '', values) as KubeMesosConfig };
}

function build(section: Section, prefix: string, values: Map<string, unknown>): object {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section)) {
    const value = isField(v) ? values.get(prefix + k) : build(v, `${prefix}${k}.`, values);
    out[k] = Array.isArray(value) ? Object.freeze([...(value as unknown[])]) : value;
  }
  return Object.freeze(out);
}

function isLoopbackListen(listen: string): boolean {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):\d+$/.exec(listen.trim());
  const host = m ? (m[1] ?? m[2]) : '';
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === 'localhost';
}

/** Rules between keys, checked once every key is valid on its own. */
function crossChecks(get: (path: string) => unknown): string[] {
  const errors: string[] = [];
  const n = (p: string): number => get(p) as number;
  if (n('kube.renewDeadline') >= n('kube.leaseDuration')) errors.push('kube.renewDeadline: must be less than kube.leaseDuration');
  if (n('kube.retryPeriod') >= n('kube.renewDeadline')) errors.push('kube.retryPeriod: must be less than kube.renewDeadline');
  if (n('pool.maxPerZone') > 0 && n('pool.minPerZone') > n('pool.maxPerZone')) errors.push('pool.minPerZone: must not exceed pool.maxPerZone');
  if (get('delivery.mode') === 'image' && get('delivery.image') === '') errors.push('delivery.image: required with delivery.mode image');
  if (get('delivery.mode') === 'fetch' && get('delivery.executorBundleUrl') === '' && get('delivery.serve.listen') === '')
    errors.push('delivery.executorBundleUrl: set it, or delivery.serve.listen so the scheduler serves the bundle itself (delivery.mode fetch)');
  if ((get('delivery.serve.tlsCertFile') === '') !== (get('delivery.serve.tlsKeyFile') === '')) errors.push('delivery.serve.tlsCertFile: set both tlsCertFile and tlsKeyFile, or neither');
  if (!get('ops.secure') && !isLoopbackListen(get('ops.listen') as string)) {
    errors.push(`ops.secure: false serves metrics, debug state and the dashboard without authentication; allowed only on a loopback ops.listen (e.g. 127.0.0.1:10251), not ${String(get('ops.listen'))}`);
  }
  if ((get('ops.tlsCertFile') === '') !== (get('ops.tlsKeyFile') === '')) errors.push('ops.tlsCertFile: set ops.tlsCertFile and ops.tlsKeyFile together');
  if (get('mesos.secretFile') !== '' && get('mesos.principal') === '') errors.push('mesos.secretFile: set mesos.principal too (the secret belongs to a principal)');
  return errors;
}

/** The defaults alone (always valid). */
export function defaultConfig(): KubeMesosConfig {
  const r = loadConfig();
  if (!r.ok) throw new Error(`default configuration is invalid: ${r.errors.join('; ')}`);
  return r.config;
}

/** Turns repeated `--set a.b=value` flag values into overrides; a value without `=` is an error naming it. */
export function parseSetFlags(values: readonly string[]): { ok: true; flags: [string, string][] } | { ok: false; errors: string[] } {
  const flags: [string, string][] = [];
  const errors: string[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) errors.push(`config: --set ${JSON.stringify(v)}: expected section.key=value`);
    else flags.push([v.slice(0, eq).trim(), v.slice(eq + 1)]);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, flags };
}

/** Named flags a command may offer besides `--set`, each a shorthand for one key. Shape matches cli's `Flag`. */
export const CONFIG_FLAGS = {
  config: { type: 'string', value: '<file>', description: 'YAML configuration file (see docs/configuration.md)' },
  set: { type: 'string', multiple: true, value: '<key=value>', description: 'Set any configuration key, e.g. --set pool.idleTimeout=2m (repeatable; wins over file and environment)' },
  master: { type: 'string', value: '<urls>', description: 'Mesos masters (mesos.masters), comma-separated, or one zk:// URL' },
  'framework-name': { type: 'string', value: '<name>', description: 'Framework name (mesos.frameworkName)' },
  role: { type: 'string', value: '<roles>', description: 'Mesos roles, comma-separated (mesos.roles)' },
  kubeconfig: { type: 'string', value: '<file>', description: 'kubeconfig path (kube.kubeconfig); empty = $KUBECONFIG, ~/.kube/config, then in-cluster' },
  namespace: { type: 'string', value: '<ns>', description: 'Namespace of the framework\'s Lease and state (kube.namespace)' },
  'leader-elect': { type: 'boolean', description: 'Enable leader election for HA replicas (kube.leaderElect)' },
  listen: { type: 'string', value: '<host:port>', description: 'Ops server address (ops.listen)' },
  'log-level': { type: 'string', value: '<level>', description: 'Log level (ops.logLevel)' },
} as const;

const NAMED_FLAG_PATHS: Record<string, string> = {
  master: 'mesos.masters',
  'framework-name': 'mesos.frameworkName',
  role: 'mesos.roles',
  kubeconfig: 'kube.kubeconfig',
  namespace: 'kube.namespace',
  'leader-elect': 'kube.leaderElect',
  listen: 'ops.listen',
  'log-level': 'ops.logLevel',
};

/**
 * Flag values parsed by the CLI → overrides in precedence order: named flags, then `--set` (so `--set` wins on a clash).
 * `--config` is not an override; the CLI reads that file and passes its text as `fileText`.
 */
export function flagOverrides(values: Readonly<Record<string, string | boolean | string[] | undefined>>): { ok: true; flags: [string, string][] } | { ok: false; errors: string[] } {
  const flags: [string, string][] = [];
  for (const [name, path] of Object.entries(NAMED_FLAG_PATHS)) {
    const v = values[name];
    if (typeof v === 'string' || typeof v === 'boolean') flags.push([path, String(v)]);
  }
  const set = values.set;
  const r = parseSetFlags(Array.isArray(set) ? set : typeof set === 'string' ? [set] : []);
  return r.ok ? { ok: true, flags: [...flags, ...r.flags] } : r;
}
