import { describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { renderKubeconfig } from './kubeconfig.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('renderKubeconfig', () => {
  it.each([
    [{ server: 'https://127.0.0.1:6443', caPem: CA, token: 't0k' }, 'admin', undefined],
    [{ server: 'https://127.0.0.1:1', caPem: CA, token: 'x', user: 'system:kube-controller-manager', namespace: 'kube-system' }, 'system:kube-controller-manager', 'kube-system'],
  ])('is read back by client-node (%#)', (spec, user, namespace) => {
    const kc = new KubeConfig();
    kc.loadFromString(renderKubeconfig(spec));
    expect(kc.getCurrentCluster()?.server).toBe(spec.server);
    expect(Buffer.from(kc.getCurrentCluster()!.caData!, 'base64').toString()).toBe(CA);
    expect(kc.getCurrentUser()).toMatchObject({ name: user, token: spec.token });
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe(namespace);
  });
});
