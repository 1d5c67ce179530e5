/**
 * PKCS#10 certificate signing requests for kubelet client certificates, with Node's crypto only (no openssl on an
 * agent): ECDSA P-256 keys, subject `O=system:nodes, CN=system:node:<name>`, no attributes or extensions — what the
 * kubelet's own TLS bootstrap sends (k8s.io/client-go/util/certificate/csr). `parseCsr` reads one back and checks its
 * signature, so whoever approves a CSR can verify exactly what it asks for.
 */
import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SAN = '2.5.29.17';

// ---- DER writing --------------------------------------------------------------------------------------------------

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const b: number[] = [p & 0x7f];
    for (let v = p >> 7; v > 0; v >>= 7) b.unshift(0x80 | (v & 0x7f));
    out.push(...b);
  }
  return tlv(0x06, Buffer.from(out));
}

const rdn = (type: string, value: string) => set(seq(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))));

export interface CsrSubject {
  commonName: string;
  organizations: string[];
}

/** A new ECDSA P-256 key pair, as the kubelet generates for its client certificate. */
export function newNodeKey(): { privateKey: KeyObject; privateKeyPem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, privateKeyPem: privateKey.export({ type: 'sec1', format: 'pem' }).toString() };
}

/** A PEM `CERTIFICATE REQUEST` for `subject`, signed with `key` (ECDSA P-256, SHA-256). */
export function buildCsr(key: KeyObject, subject: CsrSubject): string {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const name = seq(...subject.organizations.map((o) => rdn(OID_O, o)), rdn(OID_CN, subject.commonName));
  const info = seq(tlv(0x02, Buffer.from([0])), name, spki, Buffer.from([0xa0, 0x00]));
  const sig = sign('sha256', info, { key, dsaEncoding: 'der' });
  const der = seq(info, seq(oid(OID_ECDSA_SHA256)), tlv(0x03, Buffer.concat([Buffer.from([0]), sig])));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`;
}

// ---- DER reading --------------------------------------------------------------------------------------------------

interface Node {
  tag: number;
  /** The whole element (tag, length, body). */
  raw: Buffer;
  body: Buffer;
}

function read(buf: Buffer, at: number): Node {
  if (at + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[at];
  let n = buf[at + 1];
  let off = at + 2;
  if (n & 0x80) {
    const k = n & 0x7f;
    if (k === 0 || k > 4 || off + k > buf.length) throw new Error('bad DER length');
    n = 0;
    for (let i = 0; i < k; i++) n = n * 256 + buf[off + i];
    off += k;
  }
  if (off + n > buf.length) throw new Error('truncated DER');
  return { tag, raw: buf.subarray(at, off + n), body: buf.subarray(off, off + n) };
}

function children(n: Node): Node[] {
  const out: Node[] = [];
  for (let at = 0; at < n.body.length; ) {
    const c = read(n.body, at);
    out.push(c);
    at += c.raw.length;
  }
  return out;
}

function oidString(b: Buffer): string {
  const out = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (const x of b.subarray(1)) {
    v = v * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      out.push(v);
      v = 0;
    }
  }
  return out.join('.');
}

export interface ParsedCsr {
  subject: CsrSubject & { other: string[] };
  /** Attributes (extension requests included) present: a kubelet client CSR has none. */
  attributes: number;
  /** Subject alternative names of the extension request (a kubelet serving CSR's hostnames and IPs). */
  san: { dns: string[]; ips: string[]; other: number };
  /** OIDs of requested extensions other than the subject alternative name. */
  otherExtensions: string[];
  keyType: string | undefined;
  signatureValid: boolean;
}

/** Reads a PEM CSR; throws on anything that is not one. */
export function parseCsr(pem: string): ParsedCsr {
  const m = /-----BEGIN CERTIFICATE REQUEST-----([\s\S]+?)-----END CERTIFICATE REQUEST-----/.exec(pem);
  if (!m) throw new Error('not a PEM CERTIFICATE REQUEST');
  const der = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  const top = read(der, 0);
  if (top.tag !== 0x30 || top.raw.length !== der.length) throw new Error('CSR is not one DER SEQUENCE');
  const [info, alg, sigBits] = children(top);
  if (!info || !alg || !sigBits || info.tag !== 0x30 || sigBits.tag !== 0x03) throw new Error('CSR structure is wrong');
  const [version, name, spki, attrs] = children(info);
  if (!version || version.tag !== 0x02 || !name || name.tag !== 0x30 || !spki || spki.tag !== 0x30) throw new Error('CSR info structure is wrong');
  const subject: ParsedCsr['subject'] = { commonName: '', organizations: [], other: [] };
  for (const r of children(name))
    for (const atv of children(r)) {
      const [t, v] = children(atv);
      const type = oidString(t.body);
      const value = v.body.toString('utf8');
      if (type === OID_CN) subject.commonName = value;
      else if (type === OID_O) subject.organizations.push(value);
      else subject.other.push(`${type}=${value}`);
    }
  const algOid = oidString(children(alg)[0]?.body ?? Buffer.alloc(1));
  const key = createPublicKey({ key: spki.raw, format: 'der', type: 'spki' });
  const sig = sigBits.body.subarray(1);
  let signatureValid = false;
  if (algOid === OID_ECDSA_SHA256) signatureValid = verify('sha256', info.raw, { key, dsaEncoding: 'der' }, sig);
  const san: ParsedCsr['san'] = { dns: [], ips: [], other: 0 };
  const otherExtensions: string[] = [];
  for (const attr of attrs && attrs.tag === 0xa0 ? children(attrs) : []) {
    const [t, values] = children(attr);
    if (oidString(t.body) !== OID_EXTENSION_REQUEST) continue;
    for (const exts of children(values))
      for (const ext of children(exts)) {
        const parts = children(ext);
        const id = oidString(parts[0].body);
        if (id !== OID_SAN) {
          otherExtensions.push(id);
          continue;
        }
        for (const gn of children(read(parts[parts.length - 1].body, 0))) {
          if (gn.tag === 0x82) san.dns.push(gn.body.toString('latin1'));
          else if (gn.tag === 0x87 && gn.body.length === 4) san.ips.push([...gn.body].join('.'));
          else if (gn.tag === 0x87 && gn.body.length === 16) san.ips.push(ipv6(gn.body));
          else san.other++;
        }
      }
  }
  return { subject, attributes: attrs && attrs.tag === 0xa0 ? children(attrs).length : 0, san, otherExtensions, keyType: key.asymmetricKeyType, signatureValid };
}

function ipv6(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/**
 * Why a CSR is not a kubelet serving-certificate request for `nodeName` whose names are all the Node's own, or
 * undefined when it is (what kube-controller-manager leaves to an external approver for signer
 * kubernetes.io/kubelet-serving): subject `O=system:nodes, CN=system:node:<name>`, at least one DNS name or IP, each
 * DNS name one of the Node's Hostname/InternalDNS/ExternalDNS addresses, each IP one of its InternalIP/ExternalIP
 * addresses, no other names or extensions.
 */
export function checkServingCsr(pem: string, nodeName: string, addresses: readonly { type: string; address: string }[]): string | undefined {
  let p: ParsedCsr;
  try {
    p = parseCsr(pem);
  } catch (err) {
    return `unreadable CSR: ${(err as Error).message}`;
  }
  if (!p.signatureValid) return 'CSR signature does not verify (ECDSA P-256 with SHA-256 expected)';
  if (p.subject.commonName !== `system:node:${nodeName}`) return `CSR asks for "${p.subject.commonName}", not system:node:${nodeName}`;
  if (p.subject.organizations.length !== 1 || p.subject.organizations[0] !== 'system:nodes') return `CSR organizations ${JSON.stringify(p.subject.organizations)} are not ["system:nodes"]`;
  if (p.subject.other.length > 0) return `CSR subject has other fields: ${p.subject.other.join(', ')}`;
  if (p.otherExtensions.length > 0) return `CSR requests other extensions: ${p.otherExtensions.join(', ')}`;
  if (p.san.other > 0) return 'CSR names something other than DNS names and IP addresses';
  if (p.san.dns.length + p.san.ips.length === 0) return 'CSR names no DNS name or IP address';
  const dns = new Set(addresses.filter((a) => ['Hostname', 'InternalDNS', 'ExternalDNS'].includes(a.type)).map((a) => a.address));
  const ips = new Set(addresses.filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => a.address));
  const foreignDns = p.san.dns.filter((d) => !dns.has(d));
  if (foreignDns.length) return `CSR names DNS ${foreignDns.join(', ')}, not among the Node's addresses`;
  const foreignIps = p.san.ips.filter((i) => !ips.has(i));
  if (foreignIps.length) return `CSR names IP ${foreignIps.join(', ')}, not among the Node's addresses`;
  return undefined;
}

/** Why a CSR is not a client-certificate request for exactly `nodeName`, or undefined when it is. */
export function checkNodeCsr(pem: string, nodeName: string): string | undefined {
  let p: ParsedCsr;
  try {
    p = parseCsr(pem);
  } catch (err) {
    return `unreadable CSR: ${(err as Error).message}`;
  }
  if (!p.signatureValid) return 'CSR signature does not verify (ECDSA P-256 with SHA-256 expected)';
  if (p.subject.commonName !== `system:node:${nodeName}`) return `CSR asks for "${p.subject.commonName}", not system:node:${nodeName}`;
  if (p.subject.organizations.length !== 1 || p.subject.organizations[0] !== 'system:nodes') return `CSR organizations ${JSON.stringify(p.subject.organizations)} are not ["system:nodes"]`;
  if (p.subject.other.length > 0) return `CSR subject has other fields: ${p.subject.other.join(', ')}`;
  if (p.attributes > 0) return 'CSR carries attributes (extensions); a kubelet client CSR has none';
  return undefined;
}
