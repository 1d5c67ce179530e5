/**
 * The node-identity exchange between a kubelet executor and the scheduler, carried in Mesos MESSAGE calls and events
 * (executor → agent → master → scheduler, and back). JSON, versioned, at most 64 KiB. Pure: decoding never throws, a
 * malformed message is a value naming what is wrong (the sender is a process on an agent, so its bytes are untrusted).
 *
 * - `NODE_CSR` (executor → scheduler): a PKCS#10 request for `system:node:<nodeName>` (src/kube/csr.ts).
 * - `NODE_CERTIFICATE` (scheduler → executor): the signed client certificate and where the API server is.
 * - `NODE_CSR_DENIED` (scheduler → executor): why not; `retryable` says whether sending the CSR again may help.
 */

export const IDENTITY_MESSAGE_KIND = 'kube-mesos.io/node-identity';
export const IDENTITY_MESSAGE_VERSION = 1;
export const IDENTITY_MESSAGE_MAX_BYTES = 64 * 1024;

export type IdentityMessage =
  | { type: 'NODE_CSR'; nodeName: string; csr: string }
  | {
      type: 'NODE_CERTIFICATE';
      nodeName: string;
      /** PEM. */
      certificate: string;
      /** The API server URL the kubelet uses. */
      server: string;
      /** Base64 PEM CA bundle of the API server; absent: the system's. */
      caData?: string;
      insecureSkipTlsVerify?: boolean;
    }
  | { type: 'NODE_CSR_DENIED'; nodeName: string; error: string; retryable: boolean };

export function encodeIdentityMessage(m: IdentityMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ kind: IDENTITY_MESSAGE_KIND, version: IDENTITY_MESSAGE_VERSION, ...m }));
}

export type DecodedIdentityMessage = { ok: true; value: IdentityMessage } | { ok: false; error: string };

/** Reads a MESSAGE payload; `{ok:false}` names the problem (not ours, too large, not JSON, a field missing). */
export function decodeIdentityMessage(data: Uint8Array | undefined): DecodedIdentityMessage {
  if (!data || data.length === 0) return { ok: false, error: 'empty message' };
  if (data.length > IDENTITY_MESSAGE_MAX_BYTES) return { ok: false, error: `message of ${data.length} bytes exceeds ${IDENTITY_MESSAGE_MAX_BYTES}` };
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (err) {
    return { ok: false, error: `message is not UTF-8 JSON: ${(err as Error).message}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: 'message is not a JSON object' };
  const o = raw as Record<string, unknown>;
  if (o.kind !== IDENTITY_MESSAGE_KIND) return { ok: false, error: `message kind ${JSON.stringify(o.kind)} is not ${IDENTITY_MESSAGE_KIND}` };
  if (o.version !== IDENTITY_MESSAGE_VERSION) return { ok: false, error: `message version ${JSON.stringify(o.version)} is not ${IDENTITY_MESSAGE_VERSION}` };
  const str = (k: string): string | undefined => (typeof o[k] === 'string' && (o[k] as string).length > 0 ? (o[k] as string) : undefined);
  const missing = (...keys: string[]) => {
    const m = keys.filter((k) => str(k) === undefined);
    return m.length > 0 ? { ok: false as const, error: `${String(o.type)} message lacks ${m.join(', ')} (non-empty strings)` } : undefined;
  };
  switch (o.type) {
    case 'NODE_CSR':
      return missing('nodeName', 'csr') ?? { ok: true, value: { type: 'NODE_CSR', nodeName: str('nodeName')!, csr: str('csr')! } };
    case 'NODE_CERTIFICATE': {
      const bad = missing('nodeName', 'certificate', 'server');
      if (bad) return bad;
      if (o.caData !== undefined && typeof o.caData !== 'string') return { ok: false, error: 'NODE_CERTIFICATE caData must be a string' };
      return {
        ok: true,
        value: {
          type: 'NODE_CERTIFICATE',
          nodeName: str('nodeName')!,
          certificate: str('certificate')!,
          server: str('server')!,
          ...(str('caData') ? { caData: str('caData') } : {}),
          ...(o.insecureSkipTlsVerify === true ? { insecureSkipTlsVerify: true } : {}),
        },
      };
    }
    case 'NODE_CSR_DENIED':
      return missing('nodeName', 'error') ?? { ok: true, value: { type: 'NODE_CSR_DENIED', nodeName: str('nodeName')!, error: str('error')!, retryable: o.retryable === true } };
    default:
      return { ok: false, error: `unknown message type ${JSON.stringify(o.type)}` };
  }
}
