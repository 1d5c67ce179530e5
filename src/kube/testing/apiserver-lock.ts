// A cross-process readers/writer lock for integration tests that share one control plane: a test that stops
// kube-apiserver takes the writer side; a test whose timings or single calls an outage would spoil takes a reader side.
// Files in `dir` (one per holder, named with the pid so a crashed holder's file is recognised and ignored).
import { mkdirSync, openSync, closeSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const WRITER = 'writer';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holders(dir: string, prefix: string): string[] {
  return readdirSync(dir).filter((f) => {
    if (!f.startsWith(prefix)) return false;
    const pid = Number(f.split('-')[1]);
    if (Number.isInteger(pid) && !alive(pid)) {
      try {
        unlinkSync(join(dir, f));
      } catch {
        /* someone else cleaned it */
      }
      return false;
    }
    return true;
  });
}

function tryCreate(path: string): boolean {
  try {
    closeSync(openSync(path, 'wx'));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unique = () => `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

/** Runs `fn` while no one disrupts kube-apiserver (any number of readers at once). */
export async function withStableApiserver<T>(dir: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const mine = join(dir, `reader-${unique()}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    tryCreate(mine);
    // Announce first, then look: a writer that announced concurrently sees us, or we see it.
    if (holders(dir, WRITER).length === 0) break;
    unlinkSync(mine);
    if (Date.now() > deadline) throw new Error('timed out waiting for a kube-apiserver disruption to end');
    await pause(200);
  }
  try {
    return await fn();
  } finally {
    unlinkSync(mine);
  }
}

/** Runs `fn` (which may stop/start kube-apiserver) once no reader holds the lock; one writer at a time. */
export async function withApiserverDisruption<T>(dir: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const mine = join(dir, `${WRITER}-${unique()}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (holders(dir, WRITER).length === 0 && tryCreate(mine) && holders(dir, WRITER).length === 1) break;
    try {
      unlinkSync(mine);
    } catch {
      /* not created */
    }
    if (Date.now() > deadline) throw new Error('timed out waiting for another kube-apiserver disruption to end');
    await pause(200 + Math.random() * 200);
  }
  try {
    while (holders(dir, 'reader-').length > 0) {
      if (Date.now() > deadline) throw new Error('timed out waiting for tests that need a stable kube-apiserver');
      await pause(200);
    }
    return await fn();
  } finally {
    unlinkSync(mine);
  }
}
