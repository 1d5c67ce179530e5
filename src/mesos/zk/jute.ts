/**
 * Jute, ZooKeeper's wire serialisation: big-endian ints and longs, length-prefixed buffers and strings (-1 = null),
 * vectors as a count then items. Only what the client needs; frames are length-prefixed too (see FrameDecoder).
 */

/** A frame or record that does not parse: the connection is broken, not the process. */
export class ZkProtocolError extends Error {
  override name = 'ZkProtocolError';
}

export class JuteWriter {
  private chunks: Buffer[] = [];
  private size = 0;

  int(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n | 0);
    return this.push(b);
  }
  long(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt.asIntN(64, n));
    return this.push(b);
  }
  bool(v: boolean): this {
    return this.push(Buffer.from([v ? 1 : 0]));
  }
  buffer(b: Buffer | null): this {
    if (b === null) return this.int(-1);
    this.int(b.length);
    return this.push(b);
  }
  string(s: string | null): this {
    return this.buffer(s === null ? null : Buffer.from(s, 'utf8'));
  }
  stringVector(v: string[]): this {
    this.int(v.length);
    for (const s of v) this.string(s);
    return this;
  }

  /** The record as it goes on the wire: 4-byte length, then the bytes. */
  frame(): Buffer {
    const len = Buffer.alloc(4);
    len.writeInt32BE(this.size);
    return Buffer.concat([len, ...this.chunks], this.size + 4);
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }

  private push(b: Buffer): this {
    this.chunks.push(b);
    this.size += b.length;
    return this;
  }
}

/** ZooKeeper's Stat of a znode (the fields the client exposes). */
export interface ZkStat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  /** Session id of the owner of an ephemeral node, 0 otherwise. */
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

export class JuteReader {
  private off: number;
  constructor(private readonly buf: Buffer, offset = 0) {
    this.off = offset;
  }
  get remaining(): number {
    return this.buf.length - this.off;
  }
  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.off);
    this.off += 4;
    return v;
  }
  long(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.off);
    this.off += 8;
    return v;
  }
  bool(): boolean {
    this.need(1);
    return this.buf[this.off++] !== 0;
  }
  buffer(): Buffer | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < 0) throw new ZkProtocolError(`negative length ${len}`);
    this.need(len);
    const b = this.buf.subarray(this.off, this.off + len);
    this.off += len;
    return b;
  }
  string(): string | null {
    const b = this.buffer();
    return b === null ? null : b.toString('utf8');
  }
  stringVector(): string[] {
    const n = this.int();
    if (n === -1) return [];
    if (n < 0 || n > this.remaining / 4) throw new ZkProtocolError(`bad vector length ${n}`);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string() ?? '');
    return out;
  }
  stat(): ZkStat {
    return {
      czxid: this.long(),
      mzxid: this.long(),
      ctime: this.long(),
      mtime: this.long(),
      version: this.int(),
      cversion: this.int(),
      aversion: this.int(),
      ephemeralOwner: this.long(),
      dataLength: this.int(),
      numChildren: this.int(),
      pzxid: this.long(),
    };
  }
  private need(n: number): void {
    if (this.off + n > this.buf.length) throw new ZkProtocolError(`record truncated: need ${n} bytes at offset ${this.off}, have ${this.buf.length - this.off}`);
  }
}

/** Splits a byte stream into length-prefixed frames; chunks may split a frame anywhere. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly maxFrameBytes = 16 * 1024 * 1024) {}

  /** The whole frames completed by `chunk`; throws ZkProtocolError on a length beyond the limit. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Buffer[] = [];
    let off = 0;
    while (this.pending.length - off >= 4) {
      const len = this.pending.readInt32BE(off);
      if (len < 0 || len > this.maxFrameBytes) throw new ZkProtocolError(`frame length ${len} outside 0..${this.maxFrameBytes}`);
      if (this.pending.length - off - 4 < len) break;
      frames.push(this.pending.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    this.pending = this.pending.subarray(off);
    return frames;
  }
}
