// Starts ONE real control plane (etcd + kube-apiserver + kube-controller-manager) for the integration run, in a
// daemon process (controlplane-daemon.ts), installing it first if the cache is empty. Publishes its
// coordinates through KUBE_MESOS_TEST_CONTROLPLANE (a JSON file) and KUBE_MESOS_TEST_KUBECONFIG.
// Jest loads this file as CommonJS: it may import Node built-ins only.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GlobalState {
  daemon: ChildProcess;
  stateDir: string;
}
export const STATE_KEY = '__kubeMesosTestControlPlane';

/** Same resolution as `kube-mesos control-plane --cache-dir`: $KUBE_MESOS_CACHE, else ~/.cache/kube-mesos. */
function cacheDir(): string {
  return process.env.KUBE_MESOS_CACHE || join(process.env.XDG_CACHE_HOME || join(process.env.HOME || homedir(), '.cache'), 'kube-mesos');
}

export default async function globalSetup(_globalConfig: unknown, projectConfig: { rootDir: string }): Promise<void> {
  const root = projectConfig.rootDir;
  const stateDir = mkdtempSync(join(tmpdir(), 'kube-mesos-test-'));
  const daemon = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test/support/controlplane-daemon.ts'), '--state-dir', stateDir, '--cache-dir', cacheDir()],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  (globalThis as Record<string, unknown>)[STATE_KEY] = { daemon, stateDir } satisfies GlobalState;
  const infoPath = await new Promise<string>((resolve, reject) => {
    let out = '';
    daemon.stdout!.setEncoding('utf8');
    daemon.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const m = /^READY (.+)$/m.exec(out);
      if (m) resolve(m[1].trim());
    });
    daemon.on('error', reject);
    daemon.on('exit', (code, sig) => reject(new Error(`the test control plane exited (${sig ?? `code ${code}`}) before it was ready; see the lines above`)));
  });
  process.env.KUBE_MESOS_TEST_CONTROLPLANE = infoPath;
  process.env.KUBE_MESOS_TEST_KUBECONFIG = join(stateDir, 'cp', 'kubeconfig');
  // Do not let the daemon's pipes keep Jest alive; teardown stops it, and it stops itself if our end closes.
  daemon.unref();
  (daemon.stdout as unknown as { unref?: () => void }).unref?.();
  (daemon.stdin as unknown as { unref?: () => void }).unref?.();
}
