import { describe, expect, it } from '@jest/globals';
import { encodeRecord, readRecords, RecordIODecoder, RecordIOError } from './recordio.js';

const enc = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const text = (records: Uint8Array[]): string[] => records.map((r) => Buffer.from(r).toString('utf8'));

/** Feeds `input` to a decoder in chunks cut by `split` and returns all records. */
function decodeChunked(input: Uint8Array, split: (input: Uint8Array) => Uint8Array[], maxFrameBytes?: number): Uint8Array[] {
  const d = new RecordIODecoder({ maxFrameBytes });
  const out: Uint8Array[] = [];
  for (const c of split(input)) out.push(...d.push(c));
  d.end();
  return out;
}

const whole = (b: Uint8Array): Uint8Array[] => [b];
const byteByByte = (b: Uint8Array): Uint8Array[] => Array.from(b, (x) => Uint8Array.of(x));
/** Deterministic pseudo-random cut points (LCG, fixed seed). */
function randomCuts(seed: number) {
  return (b: Uint8Array): Uint8Array[] => {
    let s = seed;
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < b.length) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      const n = 1 + (s % 7);
      out.push(b.subarray(i, i + n));
      i += n;
    }
    return out;
  };
}

const splitters: [string, (b: Uint8Array) => Uint8Array[]][] = [
  ['one chunk', whole],
  ['one byte at a time', byteByByte],
  ['random cuts (seed 1)', randomCuts(1)],
  ['random cuts (seed 42)', randomCuts(42)],
];

const valid: [string, string, string[]][] = [
  ['single frame', '5\nhello', ['hello']],
  ['several frames in one chunk', '3\nabc2\nde1\nf', ['abc', 'de', 'f']],
  ['empty payload', '0\n', ['']],
  ['empty payloads around data', '0\n3\nxyz0\n', ['', 'xyz', '']],
  ['payload containing newlines and digits', '7\n1\n2\n3\n\n', ['1\n2\n3\n\n']],
  ['multibyte utf-8', `${Buffer.byteLength('zürich ✓')}\nzürich ✓`, ['zürich ✓']],
  ['no input', '', []],
];

describe('RecordIODecoder: valid streams', () => {
  const cases = valid.flatMap(([name, input, want]) => splitters.map(([how, split]) => [name, how, input, want, split] as const));
  it.each(cases)('%s, %s', (_name, _how, input, want, split) => {
    expect(text(decodeChunked(enc(input), split))).toEqual(want);
  });

  it('round-trips encodeRecord for binary payloads split anywhere', () => {
    const payloads = [0, 1, 2, 255, 1000, 70_000].map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 31) & 0xff));
    const stream = Buffer.concat(payloads.map((p) => encodeRecord(p)));
    for (const [, split] of splitters) {
      const got = decodeChunked(stream, split);
      expect(got.map((r) => Buffer.from(r))).toEqual(payloads.map((p) => Buffer.from(p)));
    }
  });

  it('encodeRecord writes the decimal length and a newline', () => {
    expect(Buffer.from(encodeRecord(enc('hello'))).toString()).toBe('5\nhello');
    expect(Buffer.from(encodeRecord(new Uint8Array(0))).toString()).toBe('0\n');
  });

  it('a frame exactly at the limit is accepted', () => {
    expect(text(decodeChunked(enc('4\nabcd'), whole, 4))).toEqual(['abcd']);
  });
});

const malformed: [string, string, RegExp][] = [
  ['non-digit in length', '1x\nabc', /invalid byte 0x78 in record length after "1"/],
  ['letters only', 'abc', /invalid byte 0x61/],
  ['empty length', '\nabc', /empty record length/],
  ['negative length', '-5\nhello', /invalid byte 0x2d/],
  ['space before newline', '5 \nhello', /invalid byte 0x20/],
  ['CRLF', '5\r\nhello', /invalid byte 0x0d/],
  ['JSON instead of RecordIO', '{"type":"SUBSCRIBED"}', /invalid byte 0x7b/],
  ['too many digits', '123456789012345678901234567890\n', /too many digits/],
  ['oversized frame', '2000\n', /record of 2000 bytes exceeds the limit of 1024 bytes/],
  ['garbage after a good frame', '2\nok!!', /invalid byte 0x21/],
];

describe('RecordIODecoder: malformed streams fail at once, never wait', () => {
  const cases = malformed.flatMap(([name, input, err]) => splitters.map(([how, split]) => [name, how, input, err, split] as const));
  it.each(cases)('%s, %s', (_name, _how, input, err, split) => {
    const d = new RecordIODecoder({ maxFrameBytes: 1024 });
    const thrown = (() => {
      try {
        for (const c of split(enc(input))) d.push(c);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(thrown).toBeInstanceOf(RecordIOError);
    expect((thrown as Error).message).toMatch(err);
    // The decoder stays failed.
    expect(() => d.push(enc('1\na'))).toThrow(RecordIOError);
  });

  it('the default limit is 16 MiB', () => {
    const d = new RecordIODecoder();
    expect(() => d.push(enc(`${16 * 1024 * 1024 + 1}\n`))).toThrow('record of 16777217 bytes exceeds the limit of 16777216 bytes');
    expect(new RecordIODecoder().push(enc(`${16 * 1024 * 1024}\n`))).toEqual([]);
  });

  it('rejects an invalid limit', () => {
    expect(() => new RecordIODecoder({ maxFrameBytes: -1 })).toThrow(RangeError);
  });
});

async function* chunks(parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield enc(p);
}

async function collect(src: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of src) out.push(Buffer.from(r).toString());
  return out;
}

describe('readRecords', () => {
  it('yields records across chunk boundaries', async () => {
    await expect(collect(readRecords(chunks(['3', '\nab', 'c4\nd', 'efg', '0\n'])))).resolves.toEqual(['abc', 'defg', '']);
  });

  it.each([
    ['in the middle of a payload', ['5\nhel'], /ended in the middle of a record \(3 of 5 bytes\)/],
    ['in the middle of a length', ['5\nhello12'], /ended in the middle of a record length \("12"\)/],
    ['right after a length', ['5\n'], /\(0 of 5 bytes\)/],
  ])('fails when the stream ends %s', async (_name, parts, err) => {
    await expect(collect(readRecords(chunks(parts)))).rejects.toThrow(err);
  });

  it('passes the frame limit on', async () => {
    await expect(collect(readRecords(chunks(['100\n']), { maxFrameBytes: 10 }))).rejects.toThrow(/exceeds the limit of 10 bytes/);
  });

  it('yields the records before a framing error', async () => {
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const r of readRecords(chunks(['2\nok', 'x']))) seen.push(Buffer.from(r).toString());
      })(),
    ).rejects.toThrow(RecordIOError);
    expect(seen).toEqual(['ok']);
  });
});
