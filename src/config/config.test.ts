import { CONFIG_SCHEMA, checkMasterUrl, configKeys, defaultConfig, envName, flagOverrides, loadConfig, parseSetFlags, type LoadConfigInput } from './config.js';

function errorsOf(input: LoadConfigInput): string[] {
  const r = loadConfig(input);
  if (r.ok) throw new Error('expected the config to be rejected');
  return r.errors;
}

describe('loadConfig defaults', () => {
  it('is valid with nothing given and matches the documented defaults', () => {
    const c = defaultConfig();
    expect(c.mesos.masters).toEqual(['http://127.0.0.1:5050']);
    expect(c.mesos.failoverTimeout).toBe(7 * 24 * 3600 * 1000);
    expect(c.mesos.refuseSeconds).toEqual({ waiting: 1, idle: 300 });
    expect(c.mesos.roles).toEqual(['*']);
    expect(c.kube.leaseDuration).toBe(15_000);
    expect(c.placement.defaultRequests).toEqual({ cpu: 0.1, memory: 128 });
    expect(c.pool).toMatchObject({ executorCpus: 0.25, executorMem: 128, maxPodsPerKubelet: 110, idleTimeout: 600_000 });
    expect(c.failover.zoneUnhealthyFraction).toBe(0.55);
    expect(c.ops.listen).toBe('0.0.0.0:10251');
  });

  it('returns a deeply frozen object', () => {
    const c = defaultConfig();
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.mesos.refuseSeconds)).toBe(true);
    expect(Object.isFrozen(c.mesos.masters)).toBe(true);
  });

  it('treats an empty file and empty sections as defaults', () => {
    expect(loadConfig({ fileText: '' })).toEqual({ ok: true, config: defaultConfig() });
    expect(loadConfig({ fileText: 'mesos:\nkube:\n' })).toEqual({ ok: true, config: defaultConfig() });
  });
});

describe('loadConfig reads every kind of value', () => {
  const file = `
mesos:
  masters: [https://m1:5050, https://m2:5050]
  contentType: json
  failoverTimeout: 1h30m
  roles: [prod, "*"]
  checkpoint: false
  refuseSeconds: { waiting: 500ms, idle: 10m }
kube:
  qps: 12.5
  leaderElect: true
placement:
  defaultRequests: { cpu: 250m, memory: 1Gi }
pool:
  executorCpus: 0.5
  kubeletExtraFlags: [--v=2]
  kubeletMode: hollow
`;
  it('from a YAML file', () => {
    const r = loadConfig({ fileText: file });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.mesos).toMatchObject({
      masters: ['https://m1:5050', 'https://m2:5050'],
      contentType: 'json',
      failoverTimeout: 5_400_000,
      roles: ['prod', '*'],
      checkpoint: false,
      refuseSeconds: { waiting: 0.5, idle: 600 },
    });
    expect(r.config.kube).toMatchObject({ qps: 12.5, leaderElect: true });
    expect(r.config.placement.defaultRequests).toEqual({ cpu: 0.25, memory: 1024 });
    expect(r.config.pool).toMatchObject({ executorCpus: 0.5, kubeletExtraFlags: ['--v=2'], kubeletMode: 'hollow' });
  });

  it('from the environment (text, lists comma-separated)', () => {
    const r = loadConfig({
      env: {
        KUBE_MESOS_MESOS_MASTERS: 'http://a:5050, http://b:5050',
        KUBE_MESOS_KUBE_LEADER_ELECT: 'TRUE',
        KUBE_MESOS_POOL_MAX_PER_ZONE: '7',
        KUBE_MESOS_MESOS_REFUSE_SECONDS_WAITING: '2s',
        KUBE_MESOS_PLACEMENT_DEFAULT_REQUESTS_MEMORY: '64Mi',
        PATH: '/usr/bin',
        // other components' variables share the prefix but not a section's: ignored, not errors
        KUBE_MESOS_TEST_KUBECONFIG: '/tmp/x',
        KUBE_MESOS_KUBELET_MODE: 'hollow',
        KUBE_MESOS_NODE_NAME: 'n1',
        KUBE_MESOS_LOG_LEVEL: 'debug',
        KUBE_MESOS_CACHE: '/tmp/c',
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.mesos.masters).toEqual(['http://a:5050', 'http://b:5050']);
    expect(r.config.kube.leaderElect).toBe(true);
    expect(r.config.pool.maxPerZone).toBe(7);
    expect(r.config.mesos.refuseSeconds.waiting).toBe(2);
    expect(r.config.placement.defaultRequests.memory).toBe(64);
  });

  it('accepts a single zk:// master written as a string', () => {
    const r = loadConfig({ fileText: 'mesos:\n  masters: zk://z1:2181,z2:2181/mesos\n' });
    expect(r.ok && r.config.mesos.masters).toEqual(['zk://z1:2181,z2:2181/mesos']);
    const e = loadConfig({ env: { KUBE_MESOS_MESOS_MASTERS: 'zk://z1:2181,z2:2181/mesos' } });
    expect(e.ok && e.config.mesos.masters).toEqual(['zk://z1:2181,z2:2181/mesos']);
  });
});

describe('precedence: defaults < file < env < flags', () => {
  const fileText = 'pool:\n  idleTimeout: 1m\n  max: 3\n  minPerZone: 1\n';
  const env = { KUBE_MESOS_POOL_IDLE_TIMEOUT: '2m', KUBE_MESOS_POOL_MAX: '4' };
  const flags: [string, string][] = [['pool.idleTimeout', '3m']];

  it.each<[string, LoadConfigInput, { idleTimeout: number; max: number; minPerZone: number }]>([
    ['defaults', {}, { idleTimeout: 600_000, max: 0, minPerZone: 0 }],
    ['file over defaults', { fileText }, { idleTimeout: 60_000, max: 3, minPerZone: 1 }],
    ['env over file', { fileText, env }, { idleTimeout: 120_000, max: 4, minPerZone: 1 }],
    ['flags over env', { fileText, env, flags }, { idleTimeout: 180_000, max: 4, minPerZone: 1 }],
    ['flags over file without env', { fileText, flags }, { idleTimeout: 180_000, max: 3, minPerZone: 1 }],
    ['later flag wins', { flags: [['pool.max', '1'], ['pool.max', '2']] }, { idleTimeout: 600_000, max: 2, minPerZone: 0 }],
  ])('%s', (_name, input, expected) => {
    const r = loadConfig(input);
    expect(r.ok).toBe(true);
    if (r.ok) expect({ idleTimeout: r.config.pool.idleTimeout, max: r.config.pool.max, minPerZone: r.config.pool.minPerZone }).toEqual(expected);
  });

  it('a bad value in a lower layer is still an error even if a higher layer overrides it', () => {
    expect(errorsOf({ fileText: 'pool:\n  max: -1\n', flags: [['pool.max', '2']] })).toEqual(['config: pool.max: -1 is out of range (allowed: at least 0)']);
  });
});

describe('loadConfig errors name the key and what is allowed', () => {
  it.each<[string, LoadConfigInput, string]>([
    // unknown keys
    ['unknown key in a section', { fileText: 'mesos:\n  mastrs: [http://a:5050]\n' }, 'config: mesos.mastrs: unknown key (did you mean mesos.masters? known keys in mesos: masters, scheme, contentType,'],
    ['unknown section', { fileText: 'mesoss:\n  masters: []\n' }, 'config: mesoss: unknown key (did you mean mesos? known sections: mesos, kube, placement, pool, delivery, failover, storage, ops)'],
    ['unknown nested key', { fileText: 'mesos:\n  refuseSeconds:\n    busy: 1s\n' }, 'config: mesos.refuseSeconds.busy: unknown key (known keys in mesos.refuseSeconds: waiting, idle)'],
    ['unknown env variable in a known section', { env: { KUBE_MESOS_POOL_IDLE_TIMOUT: '1m' } }, 'config: KUBE_MESOS_POOL_IDLE_TIMOUT: unknown configuration variable (did you mean KUBE_MESOS_POOL_IDLE_TIMEOUT?'],
    ['unknown --set key', { flags: [['ops.lissen', ':1']] }, 'config: --set ops.lissen: unknown key (did you mean ops.listen?'],
    ['--set on a section', { flags: { 'mesos.refuseSeconds': '1s' } }, 'config: --set mesos.refuseSeconds: is a section, set one of its keys (waiting, idle)'],
    // bad durations
    ['bad duration', { fileText: 'mesos:\n  failoverTimeout: 1w\n' }, 'config: mesos.failoverTimeout: "1w" is not a duration (expected e.g. 15s, 5m, 1h30m)'],
    ['duration as a bare number', { fileText: 'pool:\n  idleTimeout: 600\n' }, 'config: pool.idleTimeout: expected a duration such as 15s, 5m or 1h30m, got 600'],
    ['negative duration from env', { env: { KUBE_MESOS_KUBE_RETRY_PERIOD: '-2s' } }, 'config: kube.retryPeriod (from KUBE_MESOS_KUBE_RETRY_PERIOD): duration "-2s" must not be negative'],
    ['duration below its minimum', { flags: [['mesos.implicitReconcileInterval', '1s']] }, 'config: mesos.implicitReconcileInterval (from --set): 1s is out of range (allowed: 10s to 24h)'],
    // bad master URLs
    ['ftp master', { fileText: 'mesos:\n  masters: [http://a:5050, "ftp://x"]\n' }, 'config: mesos.masters[1]: "ftp://x" is not a Mesos master URL (expected http(s)://host:port or zk://host:port/path)'],
    ['master without scheme', { env: { KUBE_MESOS_MESOS_MASTERS: 'm1:5050' } }, 'config: mesos.masters[0] (from KUBE_MESOS_MESOS_MASTERS): "m1:5050" is not a Mesos master URL'],
    ['zk without path', { fileText: 'mesos:\n  masters: ["zk://z1:2181"]\n' }, 'config: mesos.masters[0]: "zk://z1:2181" is not a ZooKeeper URL (expected zk://host:port[,host:port...]/path)'],
    ['zk mixed with http', { fileText: 'mesos:\n  masters: ["zk://z1:2181/mesos", "http://a:5050"]\n' }, 'config: mesos.masters: a zk:// URL must be the only entry'],
    ['no masters', { fileText: 'mesos:\n  masters: []\n' }, 'config: mesos.masters: needs at least 1 entry'],
    // wrong types
    ['string for a number', { fileText: 'kube:\n  qps: fast\n' }, 'config: kube.qps: expected a number, got "fast"'],
    ['fraction for an integer', { fileText: 'pool:\n  maxPodsPerKubelet: 1.5\n' }, 'config: pool.maxPodsPerKubelet: expected a whole number, got 1.5'],
    ['number for a boolean', { fileText: 'mesos:\n  checkpoint: 1\n' }, 'config: mesos.checkpoint: expected true or false, got 1'],
    ['text for a boolean in env', { env: { KUBE_MESOS_POOL_CONSOLIDATION: 'yes' } }, 'config: pool.consolidation (from KUBE_MESOS_POOL_CONSOLIDATION): expected true or false, got "yes"'],
    ['mapping for a string', { fileText: 'kube:\n  namespace: { a: 1 }\n' }, 'config: kube.namespace: expected a string, got a mapping'],
    ['list entry of the wrong type', { fileText: 'mesos:\n  roles: ["*", 5]\n' }, 'config: mesos.roles[1]: expected a string, got 5'],
    ['scalar for a section', { fileText: 'mesos: http://a:5050\n' }, 'config: mesos: expected a mapping of keys, got "http://a:5050"'],
    ['list at the top', { fileText: '- a\n- b\n' }, 'config: config file: expected a mapping of keys, got a list'],
    ['enum', { fileText: 'placement:\n  defaultScoring: random\n' }, 'config: placement.defaultScoring: "random" is not allowed (expected one of spread, binpack)'],
    ['pattern', { fileText: 'kube:\n  namespace: Kube_Mesos\n' }, 'config: kube.namespace: "Kube_Mesos" is not allowed (expected a DNS label)'],
    ['bad quantity', { fileText: 'placement:\n  defaultRequests:\n    cpu: lots\n' }, 'config: placement.defaultRequests.cpu: "lots" is not a Kubernetes quantity (expected e.g. 250m, 0.5, 128Mi, 1Gi)'],
    ['bad role', { fileText: 'mesos:\n  roles: ["-prod"]\n' }, 'config: mesos.roles[0]: "-prod" is not a Mesos role'],
    ['bad kubelet flag', { fileText: 'pool:\n  kubeletExtraFlags: [v=2]\n' }, 'config: pool.kubeletExtraFlags[0]: "v=2" is not a flag (expected --name or --name=value)'],
    ['bad listen address', { flags: [['ops.listen', 'localhost:99999']] }, 'config: ops.listen (from --set): "localhost:99999" is not allowed (expected host:port, port 0-65535)'],
    // out of range
    ['fraction above 1', { fileText: 'failover:\n  zoneUnhealthyFraction: 1.5\n' }, 'config: failover.zoneUnhealthyFraction: 1.5 is out of range (allowed: 0.01 to 1)'],
    ['negative count', { env: { KUBE_MESOS_POOL_MIN_PER_ZONE: '-1' } }, 'config: pool.minPerZone (from KUBE_MESOS_POOL_MIN_PER_ZONE): -1 is out of range (allowed: at least 0)'],
    ['memory too small, written in bytes', { fileText: 'pool:\n  executorMem: 128\n' }, 'config: pool.executorMem: 128 is out of range (allowed: at least 32Mi); a plain number is bytes, write e.g. 128Mi'],
    ['heartbeat limit zero', { fileText: 'mesos:\n  heartbeatMissLimit: 0\n' }, 'config: mesos.heartbeatMissLimit: 0 is out of range (allowed: 1 to 100)'],
    // rules between keys
    ['renewDeadline ≥ leaseDuration', { fileText: 'kube:\n  leaseDuration: 10s\n  renewDeadline: 10s\n' }, 'config: kube.renewDeadline: must be less than kube.leaseDuration'],
    ['minPerZone > maxPerZone', { fileText: 'pool:\n  minPerZone: 3\n  maxPerZone: 2\n' }, 'config: pool.minPerZone: must not exceed pool.maxPerZone'],
    ['image delivery without an image', { fileText: 'delivery:\n  mode: image\n' }, 'config: delivery.image: required with delivery.mode image'],
    ['fetch delivery with nothing to fetch', { fileText: 'delivery:\n  mode: fetch\n' }, 'config: delivery.executorBundleUrl: set it, or delivery.serve.listen'],
    ['artifact server TLS half set', { fileText: 'delivery:\n  serve:\n    tlsCertFile: /c.pem\n' }, 'config: delivery.serve.tlsCertFile: set both tlsCertFile and tlsKeyFile, or neither'],
    ['a bundle URL the fetcher cannot take', { env: { KUBE_MESOS_DELIVERY_EXECUTOR_BUNDLE_URL: 'hdfs://nn/b.tgz' } }, 'config: delivery.executorBundleUrl (from KUBE_MESOS_DELIVERY_EXECUTOR_BUNDLE_URL): "hdfs://nn/b.tgz" is not allowed (expected an http(s):// or file:// URL)'],
    ['secret without principal', { fileText: 'mesos:\n  secretFile: /etc/secret\n' }, 'config: mesos.secretFile: set mesos.principal too (the secret belongs to a principal)'],
    // the file itself
    ['invalid YAML', { fileText: 'mesos: [\n', fileName: 'kube-mesos.yaml' }, 'config: kube-mesos.yaml: not valid YAML:'],
  ])('%s', (_name, input, expected) => {
    const errors = errorsOf(input);
    expect(errors).toHaveLength(1);
    expect(errors[0].startsWith(expected)).toBe(true);
  });

  it('reports every problem at once, not only the first', () => {
    const errors = errorsOf({ fileText: 'mesos:\n  failoverTimeout: soon\n  foo: 1\nkube:\n  burst: 0\n', env: { KUBE_MESOS_OPS_LOG_LEVEL: 'loud' } });
    expect(errors.map((e) => e.split(':')[1].trim().split(' ')[0])).toEqual(['mesos.foo', 'mesos.failoverTimeout', 'kube.burst', 'ops.logLevel']);
  });
});

// Issue 16 item 8: a duration past Node's timer maximum (2^31-1 ms, about 24.8 days) fires after 1 ms, so a large value
// became a busy loop (idleTimeout, implicit reconciliation); failover_timeout 0 makes Mesos kill every task on a disconnect.
describe('durations are bounded, naming the key', () => {
  it.each<[string, LoadConfigInput, string]>([
    ['pool.idleTimeout=720h', { flags: [['pool.idleTimeout', '720h']] }, 'config: pool.idleTimeout (from --set): 720h is out of range (allowed: 0s to 168h)'],
    ['implicitReconcileInterval=720h', { flags: [['mesos.implicitReconcileInterval', '720h']] }, 'config: mesos.implicitReconcileInterval (from --set): 720h is out of range (allowed: 10s to 24h)'],
    ['failoverTimeout=0s', { fileText: 'mesos:\n  failoverTimeout: 0s\n' }, 'config: mesos.failoverTimeout: 0s is out of range (allowed: 1m to 8760h)'],
    ['failoverTimeout in env', { env: { KUBE_MESOS_MESOS_FAILOVER_TIMEOUT: '30s' } }, 'config: mesos.failoverTimeout (from KUBE_MESOS_MESOS_FAILOVER_TIMEOUT): 30s is out of range (allowed: 1m to 8760h)'],
  ])('%s', (_name, input, expected) => {
    expect(errorsOf(input)).toEqual([expected]);
  });

  const durations = configKeys().filter((k) => k.field.type === 'duration');
  it.each(durations.map((k) => [k.path]))('%s has an upper bound named in its error', (path) => {
    const errors = errorsOf({ flags: [[path, '1000000h']] });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^config: ${path.replace(/\./g, '\\.')} \\(from --set\\): 1000000h is out of range \\(allowed: .* to \\d+[hms]\\)$`));
  });

  it('every duration that feeds a timer fits in one (failover timeout and refuse_seconds are sent to Mesos, not timed here)', () => {
    for (const k of durations) {
      if (k.path === 'mesos.failoverTimeout' || k.path.startsWith('mesos.refuseSeconds.')) continue;
      const r = k.field.parse('2147483648ms', true);
      expect({ path: k.path, ok: r.ok }).toEqual({ path: k.path, ok: false });
    }
  });
});

describe('checkMasterUrl', () => {
  it.each(['http://m:5050', 'https://m.example.com', 'http://[::1]:5050', 'zk://z:2181/mesos', 'zk://u:p@z1:2181,z2:2181/mesos/prod'])('accepts %s', (url) => {
    expect(checkMasterUrl(url)).toBeUndefined();
  });
  it.each(['ftp://x', 'm:5050', 'http://', 'zk://z:2181', 'zk://z/mesos', 'zk://z:99999/mesos', 'http://m:0'])('rejects %s', (url) => {
    expect(checkMasterUrl(url)).toEqual(expect.any(String));
  });
});

describe('environment names', () => {
  it.each([
    ['mesos.failoverTimeout', 'KUBE_MESOS_MESOS_FAILOVER_TIMEOUT'],
    ['mesos.refuseSeconds.waiting', 'KUBE_MESOS_MESOS_REFUSE_SECONDS_WAITING'],
    ['kube.qps', 'KUBE_MESOS_KUBE_QPS'],
    ['ops.logLevel', 'KUBE_MESOS_OPS_LOG_LEVEL'],
  ])('%s ↔ %s', (path, env) => expect(envName(path)).toBe(env));

  it('every key has its own environment variable', () => {
    const names = configKeys().map((k) => k.env);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThan(40);
  });

  it('every section name is a schema section', () => {
    expect(Object.keys(CONFIG_SCHEMA)).toEqual(['mesos', 'kube', 'placement', 'pool', 'delivery', 'failover', 'storage', 'ops']);
  });
});

describe('flags', () => {
  it('parses --set values and rejects ones without =', () => {
    expect(parseSetFlags(['pool.max=3', 'mesos.masters=http://a:5050,http://b:5050', 'kube.kubeconfig='])).toEqual({
      ok: true,
      flags: [
        ['pool.max', '3'],
        ['mesos.masters', 'http://a:5050,http://b:5050'],
        ['kube.kubeconfig', ''],
      ],
    });
    expect(parseSetFlags(['pool.max'])).toEqual({ ok: false, errors: ['config: --set "pool.max": expected section.key=value'] });
  });

  it('maps named flags to keys, with --set after them so it wins', () => {
    const r = flagOverrides({ master: 'zk://z:2181/mesos', 'leader-elect': true, set: ['kube.leaderElect=false'], config: 'x.yaml' });
    expect(r).toEqual({ ok: true, flags: [['mesos.masters', 'zk://z:2181/mesos'], ['kube.leaderElect', 'true'], ['kube.leaderElect', 'false']] });
    const c = r.ok ? loadConfig({ flags: r.flags }) : undefined;
    expect(c?.ok && c.config.kube.leaderElect).toBe(false);
    expect(c?.ok && c.config.mesos.masters).toEqual(['zk://z:2181/mesos']);
  });
});

// Issue 16 item 6: zk-detected masters were always http (basic-auth secrets in cleartext), and userinfo in a master
// URL reached logs and error messages verbatim.
describe('Mesos master transport security', () => {
  it('mesos.scheme selects https for masters found through ZooKeeper', () => {
    const r = loadConfig({ fileText: 'mesos:\n  masters: ["zk://z1:2181/mesos"]\n  scheme: https\n' });
    expect(r.ok && r.config.mesos.scheme).toBe('https');
    expect(defaultConfig().mesos.scheme).toBe('http');
    expect(errorsOf({ flags: [['mesos.scheme', 'ftp']] })).toEqual(['config: mesos.scheme (from --set): "ftp" is not allowed (expected one of http, https)']);
  });

  it('credentials in an http(s) master URL are refused without echoing them', () => {
    const errors = errorsOf({ fileText: 'mesos:\n  masters: ["https://ops:s3cret@m1:5050"]\n' });
    expect(errors).toEqual(['config: mesos.masters[0]: "https://***@m1:5050" carries credentials in the URL (use mesos.principal and mesos.secretFile: a URL is logged)']);
  });

  it('a malformed zk:// URL with digest credentials is reported without them', () => {
    const errors = errorsOf({ fileText: 'mesos:\n  masters: ["zk://ops:s3cret@z1/mesos"]\n' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('"zk://***@z1/mesos" is not a ZooKeeper URL');
    expect(errors[0]).not.toContain('s3cret');
  });
});

describe('ops server security (issue 16 item 9)', () => {
  it('is secure (HTTPS + delegated auth) by default', () => {
    expect(defaultConfig().ops.secure).toBe(true);
  });
  it('ops.secure=false is allowed on loopback only', () => {
    expect(loadConfig({ flags: [['ops.secure', 'false'], ['ops.listen', '127.0.0.1:10251']] }).ok).toBe(true);
    expect(loadConfig({ flags: [['ops.secure', 'false'], ['ops.listen', '[::1]:0']] }).ok).toBe(true);
    expect(errorsOf({ flags: [['ops.secure', 'false']] })).toEqual([
      'config: ops.secure: false serves metrics, debug state and the dashboard without authentication; allowed only on a loopback ops.listen (e.g. 127.0.0.1:10251), not 0.0.0.0:10251',
    ]);
  });
  it('a serving certificate needs its key', () => {
    expect(errorsOf({ flags: [['ops.tlsCertFile', '/etc/tls/tls.crt']] })).toEqual(['config: ops.tlsCertFile: set ops.tlsCertFile and ops.tlsKeyFile together']);
  });
});
