// Stops the control plane global-setup.ts started (the daemon stops its children and removes its data dir).
import { rmSync } from 'node:fs';

const STATE_KEY = '__kubeMesosTestControlPlane';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>)[STATE_KEY] as
    | { daemon: import('node:child_process').ChildProcess; stateDir: string }
    | undefined;
  if (!state) return;
  const { daemon, stateDir } = state;
  if (daemon.exitCode === null && daemon.signalCode === null) {
    const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
    daemon.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 30_000)));
    if ((await Promise.race([exited, late])) === 'late') {
      daemon.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  }
  rmSync(stateDir, { recursive: true, force: true });
  delete (globalThis as Record<string, unknown>)[STATE_KEY];
}
