import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run as defaultRun, tail, type Runner } from './exec.js';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /**
   * kube-apiserver's client certificate towards kubelets (logs, exec, port-forward): CN kube-apiserver-kubelet-client,
   * O system:masters, as kubeadm issues it, so a kubelet authenticates it by the cluster CA and its webhook authorizer
   * allows it.
   */
  kubeletClientCert: string;
  kubeletClientKey: string;
  /** Service-account signing key (private, PKCS#8) and its public half (SPKI). */
  saKey: string;
  saPub: string;
  tokensFile: string;
  adminToken: string;
  controllerManagerToken: string;
}

/** Names the serving certificate is valid for: loopback plus the in-cluster service names. */
export const SERVER_SANS = [
  'IP:127.0.0.1',
  'IP:10.0.0.1',
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
];

/** A CSV line of kube-apiserver's --token-auth-file: token,user,uid,"group1,group2". */
export function tokenLine(token: string, user: string, groups: string[] = []): string {
  if (!/^[A-Za-z0-9._-]+$/.test(token)) throw new Error('token must be URL-safe characters only');
  return `${token},${user},${user}${groups.length ? `,"${groups.join(',')}"` : ''}`;
}

/**
 * Creates (or reuses, when `dir` already holds them) a CA, a kube-apiserver serving certificate, the
 * service-account key pair and a token file with an admin (system:masters) and a controller-manager user.
 * Reuse keeps earlier tokens and service-account tokens valid across restarts of the same data dir.
 */
export async function ensurePki(dir: string, exec: Runner = defaultRun): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const p = (f: string) => join(dir, f);
  const pki = {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('apiserver.crt'),
    serverKey: p('apiserver.key'),
    kubeletClientCert: p('apiserver-kubelet-client.crt'),
    kubeletClientKey: p('apiserver-kubelet-client.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
    tokensFile: p('tokens.csv'),
  };
  const openssl = async (args: string[]) => {
    const r = await exec('openssl', args, { cwd: dir });
    if (r.code !== 0) throw new Error(`openssl ${args[0]} failed (exit ${r.code}):\n${tail(r.output)}`);
  };
  if (!(await exists(pki.caCert)) || !(await exists(pki.caKey))) {
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', pki.caKey, '-out', pki.caCert, '-days', '3650',
      '-subj', '/CN=kube-mesos-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  }
  if (!(await exists(pki.serverCert)) || !(await exists(pki.serverKey))) {
    const csr = p('apiserver.csr');
    const ext = p('apiserver.ext');
    await writeFile(ext, `subjectAltName=${SERVER_SANS.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', pki.serverKey, '-out', csr, '-subj', '/CN=kube-apiserver']);
    await openssl(['x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-out', pki.serverCert, '-days', '3650', '-extfile', ext]);
  }
  if (!(await exists(pki.kubeletClientCert)) || !(await exists(pki.kubeletClientKey))) {
    const csr = p('apiserver-kubelet-client.csr');
    const ext = p('apiserver-kubelet-client.ext');
    await writeFile(ext, 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', pki.kubeletClientKey, '-out', csr, '-subj', '/O=system:masters/CN=kube-apiserver-kubelet-client']);
    await openssl(['x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-out', pki.kubeletClientCert, '-days', '3650', '-extfile', ext]);
  }
  if (!(await exists(pki.saKey)) || !(await exists(pki.saPub))) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(pki.saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await writeFile(pki.saPub, publicKey.export({ type: 'spki', format: 'pem' }));
  }
  let adminToken: string;
  let controllerManagerToken: string;
  const existing = await readFile(pki.tokensFile, 'utf8').catch(() => '');
  const byUser = new Map(existing.split('\n').filter(Boolean).map((l) => [l.split(',')[1], l.split(',')[0]] as const));
  if (byUser.get('admin') && byUser.get('system:kube-controller-manager')) {
    adminToken = byUser.get('admin')!;
    controllerManagerToken = byUser.get('system:kube-controller-manager')!;
  } else {
    adminToken = randomBytes(24).toString('hex');
    controllerManagerToken = randomBytes(24).toString('hex');
    // The controller manager gets the built-in system:kube-controller-manager role through its user name.
    const lines = [tokenLine(adminToken, 'admin', ['system:masters']), tokenLine(controllerManagerToken, 'system:kube-controller-manager')];
    await writeFile(pki.tokensFile, lines.join('\n') + '\n', { mode: 0o600 });
  }
  return { ...pki, adminToken, controllerManagerToken };
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch {
    return false;
  }
}
