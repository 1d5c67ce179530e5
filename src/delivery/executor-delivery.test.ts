import { executorDelivery, type DeliveryInput } from './executor-delivery.js';

const base: DeliveryInput = { mode: 'fetch', preinstalledCommand: '/usr/bin/kube-mesos executor', kubeletMode: 'hollow', kubeletCommand: 'kubelet' };
const BUNDLE = 'http://sched:10252/artifacts/0123456789abcdef/kube-mesos-executor-linux-x64.tgz';

describe('executorDelivery', () => {
  it('fetch: the bundle is fetched (extract, cache, not executable) and run from $MESOS_SANDBOX', () => {
    const r = executorDelivery({ ...base, bundleUrl: BUNDLE });
    expect(r).toEqual({ ok: true, value: { command: 'exec "$MESOS_SANDBOX/kube-mesos/bin/kube-mesos" executor', uris: [{ value: BUNDLE, extract: true, executable: false, cache: true }] } });
  });

  it('fetch with a real kubelet URL: the kubelet is fetched executable, unextracted, cached, as "kubelet", and run from the sandbox', () => {
    const r = executorDelivery({ ...base, kubeletMode: 'real', bundleUrl: BUNDLE, kubeletUrl: 'https://a/k/kubelet-1.20' });
    expect(r.ok && r.value.uris[1]).toEqual({ value: 'https://a/k/kubelet-1.20', executable: true, extract: false, cache: true, output_file: 'kubelet' });
    expect(r.ok && r.value.kubeletCommand).toBe('"$MESOS_SANDBOX/kubelet"');
  });

  it('a hollow kubelet fetches no kubelet even when a URL is configured', () => {
    const r = executorDelivery({ ...base, bundleUrl: BUNDLE, kubeletUrl: 'https://a/kubelet' });
    expect(r.ok && r.value.uris.map((u) => u.value)).toEqual([BUNDLE]);
    expect(r.ok && r.value.kubeletCommand).toBeUndefined();
  });

  it('a bundle URL without an archive suffix is stored under one so the fetcher extracts it', () => {
    const r = executorDelivery({ ...base, bundleUrl: 'https://artifacts.example.com/download?id=7' });
    expect(r.ok && r.value.uris[0].output_file).toBe('kube-mesos-executor.tgz');
  });

  it('image: a MESOS container from the Docker image, kube-mesos from its PATH', () => {
    const r = executorDelivery({ ...base, mode: 'image', image: 'reg.example.com/kube-mesos:0.1.0' });
    expect(r).toEqual({ ok: true, value: { command: 'exec kube-mesos executor', uris: [], container: { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: 'reg.example.com/kube-mesos:0.1.0' } } } } } });
  });

  it('preinstalled: the configured command, nothing fetched, the configured kubelet', () => {
    const r = executorDelivery({ ...base, mode: 'preinstalled', kubeletMode: 'real' });
    expect(r).toEqual({ ok: true, value: { command: '/usr/bin/kube-mesos executor', uris: [], kubeletCommand: 'kubelet' } });
  });

  it.each([
    [{ mode: 'fetch' as const }, /delivery.executorBundleUrl \(or a served bundle\) is required/],
    [{ mode: 'fetch' as const, bundleUrl: 'not a url' }, /is not a URL/],
    [{ mode: 'fetch' as const, bundleUrl: 'hdfs://nn/x.tgz' }, /must be an http, https or file URL/],
    [{ mode: 'image' as const }, /delivery.image is required/],
    [{ mode: 'preinstalled' as const, preinstalledCommand: ' ' }, /needs a command/],
    [{ mode: 'fetch' as const, bundleUrl: BUNDLE, kubeletMode: 'real' as const, kubeletUrl: 'ftp://x/kubelet' }, /delivery.kubeletUrl "ftp:\/\/x\/kubelet" must be/],
  ])('%j is refused: %s', (over, error) => {
    const r = executorDelivery({ ...base, ...over });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(error);
  });
});
