/**
 * Resolves true once `ok()` holds, false after `timeoutMs`. `ok` is checked now and whenever the owner calls every
 * function in `waiters` (on each event it records).
 */
export function waitUntil(waiters: Set<() => void>, ok: () => boolean, timeoutMs: number): Promise<boolean> {
  if (ok()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = () => {
      if (!ok()) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve(true);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      resolve(false);
    }, timeoutMs);
    waiters.add(check);
  });
}
