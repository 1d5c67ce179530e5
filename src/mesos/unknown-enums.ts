import type { Logger } from 'pino';
import type { UnknownEnumValue } from './codec.js';

/** Most distinct unknown values remembered; beyond it they are no longer logged (a peer cannot grow our memory). */
const MAX_REMEMBERED = 256;

/**
 * A DecodeOptions.onUnknownEnum that logs each enum value a newer peer sends once, not on every event, so a master
 * upgraded ahead of the framework is visible in the logs without flooding them.
 */
export function logUnknownEnumsOnce(log: Logger, peer: string): (u: UnknownEnumValue) => void {
  const seen = new Set<string>();
  return (u) => {
    const key = `${u.enum}=${String(u.value)}`;
    if (seen.has(key) || seen.size >= MAX_REMEMBERED) return;
    seen.add(key);
    log.warn({ enum: u.enum, value: u.value }, `${peer} sent a ${u.enum} value this version does not know; kept as is`);
  };
}
