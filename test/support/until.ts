/**
 * The one polling wait for tests: resolves once `cond` holds, or fails the test after `timeoutMs` naming `what`.
 * Await an event with it; never a fixed sleep.
 */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
