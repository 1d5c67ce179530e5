// Seeded fuzz (issue 16): Mesos frames off the wire. RecordIO framing and event decoding (protobuf and JSON) may only
// fail with their documented errors (RecordIOError, CodecError naming the message or field), never hang.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CodecError, decodeExecutorEvent, decodeSchedulerEvent, encodeExecutorEvent, encodeSchedulerEvent, JSON_TYPE, PROTOBUF, type ContentType } from './codec.js';
import { withinHangBudget } from '../../test/support/fuzz.js';
import { executorEvents, schedulerEvents } from './proto/fixtures.js';
import { encodeRecord, RecordIODecoder, RecordIOError } from './recordio.js';

const SAMPLES: [ContentType, Uint8Array, 'scheduler' | 'executor'][] = [
  ...Object.values(schedulerEvents).flatMap((ev) => [PROTOBUF, JSON_TYPE].map((ct) => [ct, encodeSchedulerEvent(ev, ct), 'scheduler'] as [ContentType, Uint8Array, 'scheduler'])),
  ...Object.values(executorEvents).flatMap((ev) => [PROTOBUF, JSON_TYPE].map((ct) => [ct, encodeExecutorEvent(ev, ct), 'executor'] as [ContentType, Uint8Array, 'executor'])),
];

/** A valid event with some bytes flipped, cut short or spliced in. */
const mutated = fc
  .tuple(fc.nat(SAMPLES.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }), fc.option(fc.nat(), { nil: undefined }), fc.uint8Array({ maxLength: 8 }))
  .map(([i, flips, cut, insert]) => {
    const [ct, bytes, side] = SAMPLES[i]!;
    const b = Buffer.from(bytes);
    for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
    const cutAt = cut === undefined ? b.length : cut % (b.length + 1);
    return { ct, side, bytes: Buffer.concat([b.subarray(0, cutAt), insert, b.subarray(cutAt)]) };
  });

// A CodecError says which message or field it is about.
const NAMED = /mesos\.v1\.|^[a-z_]+(\[[^\]]+\])?(\.[a-z_]+(\[[^\]]+\])?)*: |unsupported content type|expected bytes/;

describe('Mesos frames under fuzz', () => {
  it('event decoding: a value or a CodecError naming the message or field', () => {
    fc.assert(
      fc.property(fc.oneof(mutated, fc.record({ ct: fc.constantFrom(PROTOBUF, JSON_TYPE), side: fc.constantFrom<'scheduler' | 'executor'>('scheduler', 'executor'), bytes: fc.uint8Array({ maxLength: 64 }) })), ({ ct, side, bytes }) => {
        const err = withinHangBudget(() => {
          try {
            if (side === 'scheduler') decodeSchedulerEvent(bytes, ct);
            else decodeExecutorEvent(bytes, ct);
            return undefined;
          } catch (e) {
            return e;
          }
        });
        if (err !== undefined) {
          expect(err).toBeInstanceOf(CodecError);
          expect((err as Error).message).toMatch(NAMED);
        }
      }),
      { seed: 16_004, numRuns: 2000 },
    );
  });

  it('RecordIO: arbitrary bytes in arbitrary chunks give records or a RecordIOError, and valid frames survive any split', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 24 }), { maxLength: 8 }), fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }), fc.nat(7), (noise, payloads, split) => {
        const err = withinHangBudget(() => {
          const d = new RecordIODecoder({ maxFrameBytes: 1024 });
          try {
            for (const c of noise) d.push(c);
            return undefined;
          } catch (e) {
            return e;
          }
        });
        if (err !== undefined) expect(err).toBeInstanceOf(RecordIOError);
        const got = withinHangBudget(() => {
          const clean = new RecordIODecoder({ maxFrameBytes: 1024 });
          const stream = Buffer.concat(payloads.map((p) => encodeRecord(p)));
          const out: Uint8Array[] = [];
          for (let i = 0; i < stream.length; i += split + 1) out.push(...clean.push(stream.subarray(i, i + split + 1)));
          return out;
        });
        expect(got.map((g) => Buffer.from(g).toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
      }),
      { seed: 16_005, numRuns: 2000 },
    );
  });
});
