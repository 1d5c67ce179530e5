import { cniConflist, containerdConfig, kubeletConfiguration, runtimeKubeletFlags, runtimeLayout, slotNetwork } from './node-config.js';
import { parseNodeRuntimeEnv } from './node-env.js';

describe('slotNetwork', () => {
  it.each([
    [1, { bridge: 'kmbr1', subnet: '10.90.1.0/24', gateway: '10.90.1.1', network: 'kube-mesos-1', kubeletPort: 12252, healthzPort: 12253 }],
    [254, { bridge: 'kmbr254', subnet: '10.90.254.0/24', gateway: '10.90.254.1', network: 'kube-mesos-254', kubeletPort: 12758, healthzPort: 12759 }],
  ])('slot %i gets its own bridge, subnet and ports', (slot, want) => {
    expect(slotNetwork(slot)).toEqual({ slot, ...want });
  });

  it('follows the pod network and port base it is given', () => {
    expect(slotNetwork(3, { podNetwork: '172.20.0.0/16', portBase: 20000 })).toMatchObject({ subnet: '172.20.3.0/24', kubeletPort: 20006, healthzPort: 20007 });
  });

  it.each([0, 255, 1.5])('refuses slot %p', (slot) => expect(() => slotNetwork(slot)).toThrow(RangeError));
});

describe('runtime configuration', () => {
  const layout = runtimeLayout('/sb', '/run/kube-mesos', 2);
  const net = slotNetwork(2);

  it('keeps sockets under the runtime dir (short unix socket paths) and state in the sandbox', () => {
    expect(layout.socket).toBe('/run/kube-mesos/slot-2/containerd.sock');
    expect(layout.containerdRoot).toBe('/sb/runtime/containerd/root');
    expect(layout.hostBinds.map((b) => b.target)).toEqual(['/var/log/pods', '/var/log/containers', '/var/lib/kubelet']);
    expect(layout.hostBinds.every((b) => b.source.startsWith('/sb/runtime/host/'))).toBe(true);
  });

  it('gives containerd its own root, state, sockets, runc root and CNI dir, restrict_oom_score_adj and the mirrors', () => {
    const toml = containerdConfig({ layout, runc: '/usr/sbin/runc', cniBinDir: '/usr/lib/cni', sandboxImage: 'registry.kube-mesos.local/pause:3.4', mirrors: { 'registry.kube-mesos.local': 'http://127.0.0.1:5000' } });
    for (const line of [
      'root = "/sb/runtime/containerd/root"',
      'state = "/sb/runtime/containerd/state"',
      '  address = "/run/kube-mesos/slot-2/containerd.sock"',
      '  address = "/run/kube-mesos/slot-2/containerd.sock.ttrpc"',
      '  restrict_oom_score_adj = true',
      '  sandbox_image = "registry.kube-mesos.local/pause:3.4"',
      '        Root = "/run/kube-mesos/slot-2/runc"',
      '        SystemdCgroup = false',
      '    conf_dir = "/sb/runtime/cni/net.d"',
      '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."registry.kube-mesos.local"]',
      '  endpoint = ["http://127.0.0.1:5000"]',
    ]) {
      expect(toml.split('\n')).toContain(line);
    }
  });

  it('gives the CNI bridge network its own bridge, subnet and IPAM data dir', () => {
    const c = JSON.parse(cniConflist(net, '/sb/runtime/cni/ipam')) as { name: string; plugins: { type: string; bridge?: string; ipam?: { ranges: { subnet: string }[][]; dataDir: string } }[] };
    expect(c.name).toBe('kube-mesos-2');
    expect(c.plugins[0]).toMatchObject({ type: 'bridge', bridge: 'kmbr2', ipam: { ranges: [[{ subnet: '10.90.2.0/24' }]], dataDir: '/sb/runtime/cni/ipam' } });
    expect(c.plugins[1].type).toBe('portmap');
  });

  it('binds the kubelet to the node IP and its slot ports, nests pods in the cgroup root, keeps host iptables alone', () => {
    const k = JSON.parse(kubeletConfiguration({ nodeIp: '192.0.2.2', net, cgroupRoot: '/kube-mesos-emulator/abc', volumePluginDir: '/sb/vp' })) as Record<string, unknown>;
    expect(k).toMatchObject({
      kind: 'KubeletConfiguration',
      address: '192.0.2.2',
      port: 12254,
      healthzPort: 12255,
      readOnlyPort: 0,
      cgroupRoot: '/kube-mesos-emulator/abc',
      cgroupDriver: 'cgroupfs',
      oomScoreAdj: 0,
      makeIPTablesUtilChains: false,
      volumePluginDir: '/sb/vp',
    });
    expect(runtimeKubeletFlags({ kubeletConfig: '/sb/k.yaml', socket: layout.socket, nodeIp: '192.0.2.2', rootDir: layout.kubeletRoot })).toEqual(
      expect.arrayContaining(['--root-dir=/var/lib/kube-mesos/slot-2/kubelet', '--config=/sb/k.yaml', '--container-runtime=remote', '--container-runtime-endpoint=unix:///run/kube-mesos/slot-2/containerd.sock', '--node-ip=192.0.2.2']),
    );
  });

  it('admits no anonymous caller: the API server by its client certificate (x509 against the given CA), others by token; every request authorized by SubjectAccessReview', () => {
    const k = JSON.parse(kubeletConfiguration({ nodeIp: '192.0.2.2', net, cgroupRoot: '/r', volumePluginDir: '/vp', clientCaFile: '/sb/kubelet/client-ca.crt' })) as Record<string, unknown>;
    expect(k.authentication).toEqual({ anonymous: { enabled: false }, webhook: { enabled: true, cacheTTL: '2m' }, x509: { clientCAFile: '/sb/kubelet/client-ca.crt' } });
    expect(k.authorization).toMatchObject({ mode: 'Webhook' });
    const noCa = JSON.parse(kubeletConfiguration({ nodeIp: '192.0.2.2', net, cgroupRoot: '/r', volumePluginDir: '/vp' })) as Record<string, unknown>;
    expect(noCa.authentication).toEqual({ anonymous: { enabled: false }, webhook: { enabled: true, cacheTTL: '2m' } });
    expect(noCa.serverTLSBootstrap).toBeUndefined();
  });

  it('asks the cluster for its serving certificate only when told to (it needs a node identity)', () => {
    const k = JSON.parse(kubeletConfiguration({ nodeIp: '192.0.2.2', net, cgroupRoot: '/r', volumePluginDir: '/vp', serverTlsBootstrap: true })) as Record<string, unknown>;
    expect(k.serverTLSBootstrap).toBe(true);
  });
});

describe('parseNodeRuntimeEnv', () => {
  it('defaults to a containerd of its own with Debian\'s binaries and the sandbox registry\'s pause image', () => {
    const r = parseNodeRuntimeEnv({});
    expect(r).toEqual({
      ok: true,
      value: expect.objectContaining({ runtime: 'containerd', containerd: '/usr/bin/containerd', runc: '/usr/sbin/runc', cniBinDir: '/usr/lib/cni', pauseImage: 'registry.kube-mesos.local/pause:3.4', runtimeDir: '/run/kube-mesos', mirrors: {}, nodeIp: undefined }),
    });
  });

  it('reads mirrors, node IP, pod network and port base', () => {
    const r = parseNodeRuntimeEnv({
      KUBE_MESOS_REGISTRY_MIRRORS: '{"registry.kube-mesos.local":"http://127.0.0.1:5000/"}',
      KUBE_MESOS_NODE_IP: '192.0.2.2',
      KUBE_MESOS_POD_NETWORK: '172.20.0.0/16',
      KUBE_MESOS_KUBELET_PORT_BASE: '20000',
    });
    expect(r.ok && r.value).toMatchObject({ mirrors: { 'registry.kube-mesos.local': 'http://127.0.0.1:5000' }, nodeIp: '192.0.2.2', slots: { podNetwork: '172.20.0.0/16', portBase: 20000 } });
  });

  it('names every bad variable', () => {
    const r = parseNodeRuntimeEnv({
      KUBE_MESOS_CONTAINER_RUNTIME: 'docker',
      KUBE_MESOS_CONTAINERD: 'containerd',
      KUBE_MESOS_REGISTRY_MIRRORS: '{"registry.kube-mesos.local":"ftp://x"}',
      KUBE_MESOS_NODE_IP: '127.0.0.1',
      KUBE_MESOS_POD_NETWORK: '10.0.0.0/8',
      KUBE_MESOS_KUBELET_PORT_BASE: '80',
    });
    expect(r.ok).toBe(false);
    const text = r.ok ? '' : r.errors.join('\n');
    for (const v of ['KUBE_MESOS_CONTAINER_RUNTIME', 'KUBE_MESOS_CONTAINERD', 'KUBE_MESOS_REGISTRY_MIRRORS', 'KUBE_MESOS_NODE_IP', 'KUBE_MESOS_POD_NETWORK', 'KUBE_MESOS_KUBELET_PORT_BASE']) {
      expect(text).toContain(v);
    }
    expect(parseNodeRuntimeEnv({ KUBE_MESOS_REGISTRY_MIRRORS: '[oops' }).ok).toBe(false);
  });
});
