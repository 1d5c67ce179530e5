import { leaderFromChildren, masterInfoToUrl, parseZkUrl, redactUrl } from './master-info.js';

describe('parseZkUrl', () => {
  it.each([
    ['zk://zk1:2181/mesos', { servers: [{ host: 'zk1', port: 2181 }], path: '/mesos' }],
    ['zk://zk1,zk2:2182,10.0.0.3:3000/mesos', { servers: [{ host: 'zk1', port: 2181 }, { host: 'zk2', port: 2182 }, { host: '10.0.0.3', port: 3000 }], path: '/mesos' }],
    ['zk://zk1:2181/mesos/', { servers: [{ host: 'zk1', port: 2181 }], path: '/mesos' }],
    ['zk://zk1/a/b/c', { servers: [{ host: 'zk1', port: 2181 }], path: '/a/b/c' }],
    ['zk://[::1]:2181,[fe80::1]/mesos', { servers: [{ host: '::1', port: 2181 }, { host: 'fe80::1', port: 2181 }], path: '/mesos' }],
    ['zk://user:pa%40ss@zk1:2181/mesos', { servers: [{ host: 'zk1', port: 2181 }], path: '/mesos', auth: { scheme: 'digest', auth: 'user:pa@ss' } }],
    ['zk://u:p:q@zk1/mesos', { servers: [{ host: 'zk1', port: 2181 }], path: '/mesos', auth: { scheme: 'digest', auth: 'u:p:q' } }],
  ])('%s', (url, want) => {
    expect(parseZkUrl(url)).toEqual(want);
  });

  it.each([
    ['http://zk1:2181/mesos', /must start with zk:\/\//],
    ['zk://zk1:2181', /no znode path/],
    ['zk://zk1:2181/', /no znode path/],
    ['zk:///mesos', /no hosts/],
    ['zk://zk1,,zk2/mesos', /empty host/],
    ['zk://zk1:0/mesos', /not a port/],
    ['zk://zk1:70000/mesos', /not a port/],
    ['zk://zk1:abc/mesos', /not a port/],
    ['zk://::1:2181/mesos', /IPv6/],
    ['zk://[::1/mesos', /unclosed/],
    ['zk://zk1/mesos//x', /not a valid znode path/],
    ['zk://zk1/mesos/../x', /not a valid znode path/],
    ['zk://zk1/mesos?x=1', /query/],
    ['zk://user@zk1/mesos', /user:password/],
    ['zk://zk_1!/mesos', /not a host name/],
  ])('rejects %s', (url, why) => {
    expect(() => parseZkUrl(url)).toThrow(why);
  });

  it('does not echo credentials in errors', () => {
    expect(() => parseZkUrl('zk://alice:s3cret@zk1:99999/mesos')).toThrow(/zk:\/\/\*\*\*@zk1/);
    expect(() => parseZkUrl('zk://alice:s3cret@zk1:99999/mesos')).not.toThrow(/s3cret/);
  });
});

describe('leaderFromChildren', () => {
  it.each<[string, string[], string | undefined]>([
    ['none', [], undefined],
    ['single', ['json.info_0000000003'], 'json.info_0000000003'],
    ['lowest sequence wins, not first listed', ['json.info_0000000012', 'json.info_0000000007', 'json.info_0000000009'], 'json.info_0000000007'],
    ['numeric, not lexical', ['json.info_100', 'json.info_99'], 'json.info_99'],
    ['protobuf info_ nodes are ignored even when lower', ['info_0000000001', 'json.info_0000000002'], 'json.info_0000000002'],
    ['only protobuf nodes: no leader', ['info_0000000001', 'info_0000000002'], undefined],
    ['other children and malformed suffixes ignored', ['log_replicas', 'json.info_', 'json.info_12x', 'json.info_0000000040'], 'json.info_0000000040'],
  ])('%s', (_name, children, want) => {
    expect(leaderFromChildren(children)).toBe(want);
  });
});

describe('masterInfoToUrl', () => {
  // As a Mesos 1.x master writes it into ZooKeeper.
  const real = {
    address: { hostname: 'master-1.example', ip: '10.1.2.3', port: 5050 },
    hostname: 'master-1.example',
    id: '5a9b-1',
    ip: 50462986, // 10.1.2.3 as s_addr on little-endian
    pid: 'master@10.1.2.3:5050',
    port: 5050,
    version: '1.11.0',
  };
  it.each<[string, unknown, object, string]>([
    ['hostname first', real, {}, 'http://master-1.example:5050'],
    ['preferIp uses address.ip', real, { preferIp: true }, 'http://10.1.2.3:5050'],
    ['https scheme', real, { scheme: 'https' }, 'https://master-1.example:5050'],
    ['address.port over port', { ...real, address: { ...real.address, port: 5051 } }, {}, 'http://master-1.example:5051'],
    ['no address: top-level hostname', { hostname: 'm2', port: 5050 }, {}, 'http://m2:5050'],
    ['no address, no hostname: packed ip', { ip: 16777343, port: 5050 }, {}, 'http://127.0.0.1:5050'],
    ['preferIp with only packed ip', { hostname: 'm', ip: 50462986, port: 5050 }, { preferIp: true }, 'http://10.1.2.3:5050'],
    ['only pid', { pid: 'master@192.168.0.9:5099' }, {}, 'http://192.168.0.9:5099'],
    ['empty hostname falls back to ip', { address: { hostname: '', ip: '10.0.0.1', port: 5050 } }, {}, 'http://10.0.0.1:5050'],
    ['IPv6 bracketed', { address: { ip: 'fd00::5', port: 5050 } }, {}, 'http://[fd00::5]:5050'],
  ])('%s', (_name, info, opts, want) => {
    const r = masterInfoToUrl(Buffer.from(JSON.stringify(info)), opts);
    expect(r).toEqual(expect.objectContaining({ ok: true, url: want }));
  });

  it('carries the master id', () => {
    expect(masterInfoToUrl(JSON.stringify(real))).toEqual({ ok: true, url: 'http://master-1.example:5050', id: '5a9b-1' });
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '\n\x08protobuf', /not JSON/],
    ['array', '[1]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['no host', '{"port":5050}', /no hostname, ip or pid/],
    ['no port', '{"hostname":"m"}', /no valid port/],
    ['bad port', '{"hostname":"m","port":70000}', /no valid port/],
    ['string port', '{"hostname":"m","port":"5050"}', /no valid port/],
  ])('%s → a reason, not a throw', (_name, data, why) => {
    const r = masterInfoToUrl(data);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });
});

describe('redactUrl (issue 16 item 6)', () => {
  it.each([
    ['zk://ops:s3cret@z1:2181,z2:2181/mesos', 'zk://***@z1:2181,z2:2181/mesos'],
    ['https://ops:s3cret@m1:5050/api', 'https://***@m1:5050/api'],
    ['http://m1:5050', 'http://m1:5050'],
    ['//u:p@m1:5050/x', '//***@m1:5050/x'],
    ['not a url', 'not a url'],
  ])('%s → %s', (url, want) => {
    expect(redactUrl(url)).toBe(want);
  });
});
