import { FrameDecoder, JuteReader, JuteWriter, ZkProtocolError } from './jute.js';

describe('jute', () => {
  it('round-trips every type', () => {
    const buf = new JuteWriter()
      .int(-7)
      .long(0x1234_5678_9abc_def0n)
      .long(-1n)
      .bool(true)
      .bool(false)
      .buffer(Buffer.from([1, 2, 3]))
      .buffer(null)
      .string('json.info_0000000001')
      .string(null)
      .stringVector(['a', 'bé', ''])
      .toBuffer();
    const r = new JuteReader(buf);
    expect(r.int()).toBe(-7);
    expect(r.long()).toBe(0x1234_5678_9abc_def0n);
    expect(r.long()).toBe(-1n);
    expect(r.bool()).toBe(true);
    expect(r.bool()).toBe(false);
    expect([...(r.buffer() ?? [])]).toEqual([1, 2, 3]);
    expect(r.buffer()).toBeNull();
    expect(r.string()).toBe('json.info_0000000001');
    expect(r.string()).toBeNull();
    expect(r.stringVector()).toEqual(['a', 'bé', '']);
    expect(r.remaining).toBe(0);
  });

  it('encodes big-endian with a length prefix (the wire layout of a ping)', () => {
    expect(new JuteWriter().int(-2).int(11).frame().toString('hex')).toBe('00000008' + 'fffffffe' + '0000000b');
  });

  it.each<[string, Buffer, (r: JuteReader) => unknown]>([
    ['short int', Buffer.from([0, 0, 1]), (r) => r.int()],
    ['buffer longer than the record', Buffer.from([0, 0, 0, 9, 1, 2]), (r) => r.buffer()],
    ['negative buffer length', Buffer.from([0xff, 0xff, 0xff, 0xf0]), (r) => r.buffer()],
    ['vector count beyond the record', Buffer.from([0x7f, 0, 0, 0]), (r) => r.stringVector()],
    ['truncated stat', Buffer.alloc(67), (r) => r.stat()],
  ])('malformed: %s → ZkProtocolError', (_name, buf, read) => {
    expect(() => read(new JuteReader(buf))).toThrow(ZkProtocolError);
  });
});

describe('FrameDecoder', () => {
  const frames = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from('a longer frame of bytes')];
  const stream = Buffer.concat(frames.map((f) => new JuteWriter().buffer(f).toBuffer()));

  it.each([1, 2, 3, 7, stream.length])('splits a stream fed %i byte(s) at a time', (step) => {
    const d = new FrameDecoder();
    const out: string[] = [];
    for (let i = 0; i < stream.length; i += step) for (const f of d.push(stream.subarray(i, i + step))) out.push(f.toString());
    expect(out).toEqual(frames.map(String));
  });

  it('rejects a frame over the limit before buffering it', () => {
    const d = new FrameDecoder(10);
    expect(() => d.push(Buffer.from([0, 0, 0, 11]))).toThrow(ZkProtocolError);
  });
});
