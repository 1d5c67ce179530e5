/**
 * RecordIO framing as Mesos streams events: each record is `<decimal length>\n<length bytes>`.
 * The decoder is incremental (frames may be split anywhere across chunks) and never waits for a frame it will
 * refuse anyway: a malformed or oversized length is an error as soon as it is seen.
 */

export class RecordIOError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordIOError';
  }
}

export interface RecordIOOptions {
  /** Largest accepted record payload in bytes; default 16 MiB. */
  maxFrameBytes?: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

export class RecordIODecoder {
  private readonly maxFrameBytes: number;
  private readonly maxDigits: number;
  /** Digits of the length header read so far (only while `remaining` is -1). */
  private header = '';
  /** Payload bytes still missing for the current frame, or -1 while reading a header. */
  private remaining = -1;
  private frameLength = 0;
  private parts: Uint8Array[] = [];
  private failed: RecordIOError | undefined;

  constructor(opts: RecordIOOptions = {}) {
    const max = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`maxFrameBytes must be a non-negative integer, got ${max}`);
    this.maxFrameBytes = max;
    this.maxDigits = String(max).length;
  }

  /** Feeds bytes; returns the records completed by them, in order. Throws RecordIOError on malformed framing. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    const out: Uint8Array[] = [];
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.remaining < 0) {
        // Reading a length header.
        const b = chunk[i++]!;
        if (b === NEWLINE) {
          if (this.header.length === 0) this.fail('empty record length');
          const len = Number(this.header);
          if (len > this.maxFrameBytes) this.fail(`record of ${len} bytes exceeds the limit of ${this.maxFrameBytes} bytes`);
          this.header = '';
          this.frameLength = len;
          this.remaining = len;
          if (len === 0) {
            out.push(new Uint8Array(0));
            this.remaining = -1;
          }
          continue;
        }
        if (b < DIGIT_0 || b > DIGIT_9) {
          this.fail(`invalid byte 0x${b.toString(16).padStart(2, '0')} in record length${this.header ? ` after "${this.header}"` : ''}`);
        }
        this.header += String.fromCharCode(b);
        if (this.header.length > this.maxDigits) {
          // Any longer length exceeds the limit: fail now rather than wait for the newline.
          this.fail(`record length "${this.header}…" exceeds the limit of ${this.maxFrameBytes} bytes (too many digits)`);
        }
        continue;
      }
      // Reading a payload.
      const take = Math.min(this.remaining, n - i);
      if (take === this.frameLength) {
        out.push(chunk.subarray(i, i + take)); // whole frame inside this chunk: no copy
      } else {
        this.parts.push(chunk.subarray(i, i + take));
        if (take === this.remaining) out.push(concat(this.parts, this.frameLength));
      }
      i += take;
      this.remaining -= take;
      if (this.remaining === 0) {
        this.remaining = -1;
        this.parts = [];
      }
    }
    return out;
  }

  /** True when a partial header or payload is buffered. */
  get midFrame(): boolean {
    return this.header.length > 0 || this.remaining >= 0;
  }

  /** Call at end of stream: throws RecordIOError if it ended inside a frame. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.remaining >= 0) {
      this.fail(`stream ended in the middle of a record (${this.frameLength - this.remaining} of ${this.frameLength} bytes)`);
    }
    if (this.header.length > 0) this.fail(`stream ended in the middle of a record length ("${this.header}")`);
  }

  private fail(message: string): never {
    this.failed = new RecordIOError(message);
    throw this.failed;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Frames one record: `<decimal length>\n<payload>`. */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  const header = Buffer.from(`${payload.length}\n`, 'latin1');
  const out = Buffer.allocUnsafe(header.length + payload.length);
  header.copy(out, 0);
  out.set(payload, header.length);
  return out;
}

/** Yields the records of a byte stream; throws RecordIOError on bad framing or if the stream ends mid-record. */
export async function* readRecords(src: AsyncIterable<Uint8Array>, opts?: RecordIOOptions): AsyncGenerator<Uint8Array> {
  const decoder = new RecordIODecoder(opts);
  for await (const chunk of src) {
    for (const record of decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) yield record;
  }
  decoder.end();
}
