import { describe, expect, it } from '@jest/globals';
import type protobuf from 'protobufjs';
import { mesosRoot } from './proto/index.js';
import {
  CodecError,
  decodeExecutorCall,
  decodeExecutorEvent,
  decodeMessage,
  decodeSchedulerCall,
  decodeSchedulerEvent,
  encodeExecutorCall,
  encodeExecutorEvent,
  encodeMessage,
  encodeSchedulerCall,
  encodeSchedulerEvent,
  JSON_TYPE,
  normalizeMessage,
  parseContentType,
  PROTOBUF,
  type ContentType,
} from './codec.js';
import { decodedShape, executorCalls, executorEvents, offer, schedulerCalls, schedulerEvents, taskInfo, taskStatus } from './proto/fixtures.js';
import type { Offer, SchedulerCall, SchedulerEvent, TaskInfo, TaskStatus } from './types.js';

const both: ContentType[] = [PROTOBUF, JSON_TYPE];
const json = (b: Uint8Array): unknown => JSON.parse(Buffer.from(b).toString('utf8'));
const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

interface AnyCodec {
  encode(x: never, ct: ContentType): Uint8Array;
  decode(b: Uint8Array, ct: ContentType): unknown;
}

const apis: [string, AnyCodec, Record<string, unknown>][] = [
  ['scheduler Call', { encode: encodeSchedulerCall, decode: decodeSchedulerCall }, schedulerCalls],
  ['scheduler Event', { encode: encodeSchedulerEvent, decode: decodeSchedulerEvent }, schedulerEvents],
  ['executor Call', { encode: encodeExecutorCall, decode: decodeExecutorCall }, executorCalls],
  ['executor Event', { encode: encodeExecutorEvent, decode: decodeExecutorEvent }, executorEvents],
];

describe('every Call and Event type round-trips through both encodings', () => {
  const cases = apis.flatMap(([api, codec, samples]) =>
    Object.entries(samples).flatMap(([type, sample]) => both.map((ct) => [api, type, ct, codec, sample] as const)),
  );

  it.each(cases)('%s %s via %s', (_api, type, ct, codec, sample) => {
    const bytes = codec.encode(sample as never, ct);
    const back = codec.decode(bytes, ct) as { type: string };
    expect(back.type).toBe(type);
    expect(back).toEqual(decodedShape(sample));
  });

  it.each(apis.flatMap(([api, codec, samples]) => Object.keys(samples).map((type) => [api, type, codec, samples[type]] as const)))(
    '%s %s decodes identically from protobuf and JSON',
    (_api, _type, codec, sample) => {
      const fromPb = codec.decode(codec.encode(sample as never, PROTOBUF), PROTOBUF);
      const fromJson = codec.decode(codec.encode(sample as never, JSON_TYPE), JSON_TYPE);
      expect(fromJson).toEqual(fromPb);
      // And re-encoding the decoded message gives the same bytes.
      expect(Buffer.from(codec.encode(fromPb as never, PROTOBUF))).toEqual(Buffer.from(codec.encode(sample as never, PROTOBUF)));
    },
  );

  it('covers every type of the four enums', () => {
    expect(Object.keys(schedulerCalls).sort()).toEqual(
      [
        'SUBSCRIBE', 'TEARDOWN', 'ACCEPT', 'DECLINE', 'ACCEPT_INVERSE_OFFERS', 'DECLINE_INVERSE_OFFERS', 'REVIVE', 'KILL', 'SHUTDOWN',
        'ACKNOWLEDGE', 'ACKNOWLEDGE_OPERATION_STATUS', 'RECONCILE', 'RECONCILE_OPERATIONS', 'MESSAGE', 'REQUEST', 'SUPPRESS', 'UPDATE_FRAMEWORK',
      ].sort(),
    );
    expect(Object.keys(schedulerEvents).sort()).toEqual(
      ['SUBSCRIBED', 'OFFERS', 'INVERSE_OFFERS', 'RESCIND', 'RESCIND_INVERSE_OFFER', 'UPDATE', 'UPDATE_OPERATION_STATUS', 'MESSAGE', 'FAILURE', 'ERROR', 'HEARTBEAT'].sort(),
    );
    expect(Object.keys(executorCalls).sort()).toEqual(['SUBSCRIBE', 'UPDATE', 'MESSAGE', 'HEARTBEAT'].sort());
    expect(Object.keys(executorEvents).sort()).toEqual(['SUBSCRIBED', 'LAUNCH', 'LAUNCH_GROUP', 'KILL', 'ACKNOWLEDGED', 'MESSAGE', 'ERROR', 'SHUTDOWN', 'HEARTBEAT'].sort());
  });
});

describe("Mesos' JSON conventions", () => {
  it('writes snake_case names, enum names, base64 bytes, numbers for 64-bit ints, "Infinity" for infinite doubles', () => {
    const out = json(encodeMessage('mesos.v1.TaskInfo', taskInfo, JSON_TYPE)) as Record<string, unknown>;
    expect(out.task_id).toEqual({ value: 'pod.default.web-7d9f8-abcde.1' });
    expect(out.data).toBe(Buffer.from('{"apiVersion":"v1","kind":"Pod"}').toString('base64'));
    expect(out.kill_policy).toEqual({ grace_period: { nanoseconds: 30000000000 } });
    expect((out.discovery as Record<string, unknown>).visibility).toBe('CLUSTER');
    // TaskInfo.limits values are bare numbers, as Mesos documents them.
    expect(out.limits).toEqual({ cpus: 'Infinity', mem: 1024 });
  });

  it('omits unset fields and empty repeated fields', () => {
    const out = json(encodeSchedulerCall({ type: 'REVIVE', framework_id: { value: 'f' }, revive: { roles: [] } }, JSON_TYPE));
    expect(out).toEqual({ type: 'REVIVE', framework_id: { value: 'f' }, revive: {} });
  });

  it.each([
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['NaN', NaN],
  ])('non-finite doubles: %s', (text, value) => {
    const status = { task_id: { value: 't' }, state: 'TASK_RUNNING', timestamp: value } as TaskStatus;
    expect((json(encodeMessage('mesos.v1.TaskStatus', status, JSON_TYPE)) as TaskStatus).timestamp).toBe(text);
    for (const ct of both) expect(decodeMessage<TaskStatus>('mesos.v1.TaskStatus', encodeMessage('mesos.v1.TaskStatus', status, ct), ct).timestamp).toBe(value);
  });

  it('accepts the limits map in both the bare and the message form', () => {
    const bare = decodeMessage<TaskInfo>('mesos.v1.TaskInfo', utf8('{"name":"n","task_id":{"value":"t"},"agent_id":{"value":"a"},"limits":{"cpus":"Infinity","mem":512}}'), JSON_TYPE);
    const msg = decodeMessage<TaskInfo>('mesos.v1.TaskInfo', utf8('{"name":"n","task_id":{"value":"t"},"agent_id":{"value":"a"},"limits":{"cpus":{"value":"Infinity"},"mem":{"value":512}}}'), JSON_TYPE);
    expect(bare.limits).toEqual({ cpus: { value: Infinity }, mem: { value: 512 } });
    expect(msg).toEqual(bare);
  });

  it('accepts 64-bit integers written as decimal strings (proto3 style) and returns numbers', () => {
    const t = decodeMessage<{ nanoseconds: number }>('mesos.v1.TimeInfo', utf8('{"nanoseconds":"1795000000000000000"}'), JSON_TYPE);
    expect(t.nanoseconds).toBe(1795000000000000000);
  });

  it('keeps 64-bit integers as numbers through protobuf', () => {
    const d = decodeMessage<{ nanoseconds: number }>('mesos.v1.DurationInfo', encodeMessage('mesos.v1.DurationInfo', { nanoseconds: -5_000_000_000_000 }, PROTOBUF), PROTOBUF);
    expect(d).toEqual({ nanoseconds: -5_000_000_000_000 });
  });

  it('ignores unknown JSON fields like Mesos does', () => {
    const ev = decodeSchedulerEvent(utf8('{"type":"HEARTBEAT","extra":{"x":1}}'), JSON_TYPE);
    expect(ev).toEqual({ type: 'HEARTBEAT' });
  });

  it('decodes bytes to Buffers from both encodings', () => {
    for (const ct of both) {
      const ev = decodeSchedulerEvent(encodeSchedulerEvent(schedulerEvents.UPDATE, ct), ct) as Extract<SchedulerEvent, { type: 'UPDATE' }>;
      expect(Buffer.isBuffer(ev.update.status.uuid)).toBe(true);
    }
  });
});

describe('invalid input is a CodecError naming the field, never a crash', () => {
  const accept = (resources: unknown): Uint8Array =>
    utf8(
      JSON.stringify({
        type: 'ACCEPT',
        framework_id: { value: 'f' },
        accept: { offer_ids: [{ value: 'o' }], operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 'n', task_id: { value: 't' }, agent_id: { value: 'a' }, resources }] } }] },
      }),
    );
  const at = 'accept.operations[0].launch.task_infos[0].resources[0]';

  it.each<[string, Uint8Array, RegExp]>([
    ['unknown enum name', accept([{ name: 'cpus', type: 'SCALER', scalar: { value: 1 } }]), new RegExp(`^${escape(at)}\\.type: unknown mesos\\.v1\\.Value\\.Type value "SCALER"`)],
    ['string where a number belongs', accept([{ name: 'cpus', type: 'SCALAR', scalar: { value: '1' } }]), new RegExp(`${escape(at)}\\.scalar\\.value: expected a number`)],
    ['missing required field', accept([{ type: 'SCALAR', scalar: { value: 1 } }]), new RegExp(`${escape(at)}\\.name: missing required field of mesos\\.v1\\.Resource`)],
    ['object where an array belongs', accept({ name: 'cpus' }), /task_infos\[0\]\.resources: expected an array/],
    ['bad base64', utf8('{"type":"MESSAGE","message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":"***"}}'), /message\.data: expected base64/],
    ['fractional 64-bit integer', utf8('{"type":"KILL","kill":{"task_id":{"value":"t"},"kill_policy":{"grace_period":{"nanoseconds":1.5}}}}'), /grace_period\.nanoseconds: expected an integer/],
    ['boolean as string', utf8('{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","checkpoint":"yes"}}}'), /framework_info\.checkpoint: expected a boolean/],
    ['missing payload for the type', utf8('{"type":"ACCEPT","framework_id":{"value":"f"}}'), /accept: Expecting 'accept' to be present/],
    ['missing type', utf8('{"framework_id":{"value":"f"}}'), /type: Expecting 'type' to be present/],
    ['unknown call type', utf8('{"type":"FLY"}'), /type: unknown mesos\.v1\.scheduler\.Call\.Type value "FLY"/],
    ['not JSON', utf8('{"type":'), /invalid JSON for mesos\.v1\.scheduler\.Call/],
    ['JSON but not an object', utf8('[1,2]'), /expected a JSON object/],
    ['invalid UTF-8', Uint8Array.of(0x7b, 0xff, 0x7d), /invalid JSON/],
  ])('JSON: %s', (_name, input, err) => {
    expect(() => decodeSchedulerCall(input, JSON_TYPE)).toThrow(CodecError);
    expect(() => decodeSchedulerCall(input, JSON_TYPE)).toThrow(err);
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['truncated message', encodeSchedulerCall(schedulerCalls.ACCEPT!, PROTOBUF).subarray(0, 40), /undecodable mesos\.v1\.scheduler\.Call/],
    ['garbage', Buffer.from('this is not protobuf at all, just text'), /undecodable|missing required|Expecting/],
    ['empty body', Buffer.from(''), /Expecting 'type'/],
  ])('protobuf: %s', (_name, input, err) => {
    expect(() => decodeSchedulerCall(input, PROTOBUF)).toThrow(CodecError);
    expect(() => decodeSchedulerCall(input, PROTOBUF)).toThrow(err);
  });

  it('an integer out of its 32-bit range', () => {
    expect(() => decodeSchedulerEvent(utf8('{"type":"FAILURE","failure":{"status":99999999999}}'), JSON_TYPE)).toThrow(/^failure\.status: expected a int32, got number 99999999999$/);
  });

  it('a required field missing on the wire is reported', () => {
    // A KILL without kill.task_id, hand-encoded: field 2 (type) = 6, field 6 (kill) = empty message.
    const wire = Uint8Array.of(0x10, 0x06, 0x32, 0x00);
    expect(() => decodeSchedulerCall(wire, PROTOBUF)).toThrow(/missing required 'task_id'|task_id: missing required/);
  });

  it('unknown enum numbers on the wire are dropped like proto2 unknown fields (forward compatible)', () => {
    // TaskStatus{task_id{value:"t"}, state: TASK_RUNNING, reason: 99}
    const wire = Uint8Array.of(0x0a, 0x03, 0x0a, 0x01, 0x74, 0x10, 0x01, 0x50, 0x63);
    expect(decodeMessage('mesos.v1.TaskStatus', wire, PROTOBUF)).toEqual({ task_id: { value: 't' }, state: 'TASK_RUNNING' });
    // ... but a required enum with an unknown number is missing.
    const bad = Uint8Array.of(0x0a, 0x03, 0x0a, 0x01, 0x74, 0x10, 0x63);
    expect(() => decodeMessage('mesos.v1.TaskStatus', bad, PROTOBUF)).toThrow(/state: missing required/);
  });

  it('encoding validates too', () => {
    const call = { type: 'ACCEPT', framework_id: { value: 'f' }, accept: { offer_ids: [{}] } } as unknown as SchedulerCall;
    for (const ct of both) expect(() => encodeSchedulerCall(call, ct)).toThrow(/accept\.offer_ids\[0\]\.value: missing required/);
    expect(() => encodeSchedulerCall({ type: 'KILL', framework_id: { value: 'f' } } as unknown as SchedulerCall, PROTOBUF)).toThrow(/Expecting 'kill'/);
  });

  it('unknown message types and content types', () => {
    expect(() => encodeMessage('mesos.v1.Nope', {}, PROTOBUF)).toThrow(/unknown message type mesos\.v1\.Nope/);
    expect(() => decodeSchedulerEvent(Buffer.from('{}'), 'text/plain' as ContentType)).toThrow(/unsupported content type/);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('documented JSON examples (docs/scheduler-http-api.md) decode to the expected objects', () => {
  it('SUBSCRIBE (unknown fields like offer_constraints are ignored)', () => {
    const doc = `{
   "type"		: "SUBSCRIBE",
   "subscribe"	: {
      "framework_info"	: {
        "user" :  "foo",
        "name" :  "Example HTTP Framework",
        "roles": ["test1", "test2"],
        "capabilities" : [{"type": "MULTI_ROLE"}]
      },
      "suppressed_roles" : ["test2"],
      "offer_constraints" : {"role_constraints": {"test1": {"groups": [{"attribute_constraints": [{"selector": {"attribute_name": "foo"}, "predicate": {"exists": {}}}]}]}}}
   }
}`;
    expect(decodeSchedulerCall(utf8(doc), JSON_TYPE)).toEqual({
      type: 'SUBSCRIBE',
      subscribe: {
        framework_info: { user: 'foo', name: 'Example HTTP Framework', roles: ['test1', 'test2'], capabilities: [{ type: 'MULTI_ROLE' }] },
        suppressed_roles: ['test2'],
      },
    });
  });

  it('SUBSCRIBED', () => {
    const doc = `{
 "type"			: "SUBSCRIBED",
 "subscribed"	: {
     "framework_id"               : {"value":"12220-3440-12532-2345"},
     "heartbeat_interval_seconds" : 15
  }
}`;
    expect(decodeSchedulerEvent(utf8(doc), JSON_TYPE)).toEqual({
      type: 'SUBSCRIBED',
      subscribed: { framework_id: { value: '12220-3440-12532-2345' }, heartbeat_interval_seconds: 15 },
    });
  });

  // The documented OFFERS example puts the offer list directly under "offers"; Event.Offers is a message whose
  // `offers` field holds the list, which is what a real master sends. The offer itself is used verbatim.
  const docOffer = `{
      "allocation_info": { "role": "engineering" },
      "id"             : {"value": "12214-23523-O235235"},
      "framework_id"   : {"value": "12124-235325-32425"},
      "agent_id"       : {"value": "12325-23523-S23523"},
      "hostname"       : "agent.host",
      "resources"      : [
                          {
                           "allocation_info": { "role": "engineering" },
                           "name"   : "cpus",
                           "type"   : "SCALAR",
                           "scalar" : {"value" : 2},
                           "role"   : "*"
                          }
                         ],
      "attributes"     : [
                          {
                           "name"   : "os",
                           "type"   : "TEXT",
                           "text"   : {"value" : "ubuntu16.04"}
                          }
                         ],
      "executor_ids"   : [
                          {"value" : "12214-23523-my-executor"}
                         ]
    }`;
  const expectedOffer: Offer = {
    allocation_info: { role: 'engineering' },
    id: { value: '12214-23523-O235235' },
    framework_id: { value: '12124-235325-32425' },
    agent_id: { value: '12325-23523-S23523' },
    hostname: 'agent.host',
    resources: [{ allocation_info: { role: 'engineering' }, name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, role: '*' }],
    attributes: [{ name: 'os', type: 'TEXT', text: { value: 'ubuntu16.04' } }],
    executor_ids: [{ value: '12214-23523-my-executor' }],
  };

  it('OFFERS (as a master sends it)', () => {
    const ev = decodeSchedulerEvent(utf8(`{"type": "OFFERS", "offers": {"offers": [${docOffer}]}}`), JSON_TYPE);
    expect(ev).toEqual({ type: 'OFFERS', offers: { offers: [expectedOffer] } });
  });

  it('OFFERS exactly as documented is rejected with a clear error', () => {
    expect(() => decodeSchedulerEvent(utf8(`{"type": "OFFERS", "offers": [${docOffer}]}`), JSON_TYPE)).toThrow(/^offers: expected an object \(Offers\), got array$/);
  });

  it('UPDATE ("bytes" is not a TaskStatus field and is ignored)', () => {
    const doc = `{
  "type"	: "UPDATE",
  "update"	: {
    "status"	: {
        "task_id"	: { "value" : "12344-my-task"},
        "state"		: "TASK_RUNNING",
        "source"	: "SOURCE_EXECUTOR",
        "uuid"		: "adfadfadbhgvjayd23r2uahj",
        "bytes"		: "uhdjfhuagdj63d7hadkf"
      }
  }
}`;
    expect(decodeSchedulerEvent(utf8(doc), JSON_TYPE)).toEqual({
      type: 'UPDATE',
      update: {
        status: {
          task_id: { value: '12344-my-task' },
          state: 'TASK_RUNNING',
          source: 'SOURCE_EXECUTOR',
          uuid: Buffer.from('adfadfadbhgvjayd23r2uahj', 'base64'),
        },
      },
    });
  });

  it('ACCEPT with limits', () => {
    const doc = `{
  "framework_id": {"value": "12220-3440-12532-2345"},
  "type": "ACCEPT",
  "accept": {
    "offer_ids": [ {"value": "12220-3440-12532-O12"} ],
    "operations": [ { "type": "LAUNCH", "launch": { "task_infos": [ {
              "name": "My Task",
              "task_id": {"value": "12220-3440-12532-my-task"},
              "agent_id": {"value": "12220-3440-12532-S1233"},
              "executor": { "command": { "shell": true, "value": "sleep 1000" }, "executor_id": {"value": "12214-23523-my-executor"} },
              "resources": [
                { "allocation_info": {"role": "engineering"}, "name": "cpus", "role": "*", "type": "SCALAR", "scalar": {"value": 1.0} },
                { "allocation_info": {"role": "engineering"}, "name": "mem", "role": "*", "type": "SCALAR", "scalar": {"value": 128.0} }
              ],
              "limits": { "cpus": "Infinity", "mem": 512.0 }
    } ] } } ],
    "filters": {"refuse_seconds": 5.0}
  }
}`;
    const call = decodeSchedulerCall(utf8(doc), JSON_TYPE) as Extract<SchedulerCall, { type: 'ACCEPT' }>;
    const task = call.accept.operations![0]!.launch!.task_infos![0]!;
    expect(task.limits).toEqual({ cpus: { value: Infinity }, mem: { value: 512 } });
    expect(task.executor).toEqual({ command: { shell: true, value: 'sleep 1000' }, executor_id: { value: '12214-23523-my-executor' } });
    expect(call.accept.filters).toEqual({ refuse_seconds: 5 });
    // And it survives protobuf.
    expect(decodeSchedulerCall(encodeSchedulerCall(call, PROTOBUF), PROTOBUF)).toEqual(call);
  });
});

describe('helpers', () => {
  it.each([
    ['application/json', JSON_TYPE],
    ['Application/JSON; charset=utf-8', JSON_TYPE],
    ['application/x-protobuf', PROTOBUF],
    ['text/html', undefined],
    [undefined, undefined],
  ])('parseContentType(%j)', (h, want) => {
    expect(parseContentType(h)).toBe(want);
  });

  it('normalizeMessage turns Mesos JSON into the decoded shape', () => {
    expect(normalizeMessage('mesos.v1.TaskStatus', { task_id: { value: 't' }, state: 'TASK_LOST', timestamp: 'Infinity', uuid: 'AAE=' })).toEqual({
      task_id: { value: 't' },
      state: 'TASK_LOST',
      timestamp: Infinity,
      uuid: Buffer.from([0, 1]),
    });
  });

  it('samples used above are realistic: Offer/TaskInfo/TaskStatus round-trip', () => {
    for (const [name, v] of [
      ['mesos.v1.Offer', offer],
      ['mesos.v1.TaskInfo', taskInfo],
      ['mesos.v1.TaskStatus', taskStatus],
    ] as const) {
      for (const ct of both) expect(decodeMessage(name, encodeMessage(name, v, ct), ct)).toEqual(decodedShape(v));
    }
  });
});

// Issue 16 item 8: a newer master may send enum values this build does not know. Events must still decode (the value
// kept, reported once through onUnknownEnum), or the subscription would break and reconnect forever.
describe('events from a newer master: unknown enum values are kept, never thrown', () => {
  const root = mesosRoot();
  const Event = root.lookupType('mesos.v1.scheduler.Event');
  // Event{type: UPDATE(4), update{status{task_id{value:"t"}, state: 99, source: 7, reason: 250}}}
  const update = Event.encode({ type: 4, update: { status: { task_id: { value: 't' }, state: 99, source: 7, reason: 250 } } } as unknown as protobuf.Message).finish();

  it('protobuf UPDATE with an unknown TaskState, Source and Reason decodes with the numbers kept', () => {
    const seen: string[] = [];
    const ev = decodeSchedulerEvent(update, PROTOBUF, { onUnknownEnum: (u) => seen.push(`${u.enum}=${u.value}`) });
    expect(ev.type).toBe('UPDATE');
    expect(ev.type === 'UPDATE' && ev.update.status).toEqual({ task_id: { value: 't' }, state: 'UNKNOWN_99', source: 'UNKNOWN_7', reason: 'UNKNOWN_250' });
    expect(seen.sort()).toEqual(['mesos.v1.TaskState=99', 'mesos.v1.TaskStatus.Reason=250', 'mesos.v1.TaskStatus.Source=7']);
  });

  it('JSON UPDATE with unknown names keeps the names', () => {
    const seen: string[] = [];
    const body = utf8(JSON.stringify({ type: 'UPDATE', update: { status: { task_id: { value: 't' }, state: 'TASK_PAUSED', source: 'SOURCE_OPERATOR', reason: 'REASON_SOMETHING_NEW' } } }));
    const ev = decodeSchedulerEvent(body, JSON_TYPE, { onUnknownEnum: (u) => seen.push(`${u.enum}=${u.value}`) });
    expect(ev.type === 'UPDATE' && ev.update.status).toEqual({ task_id: { value: 't' }, state: 'TASK_PAUSED', source: 'SOURCE_OPERATOR', reason: 'REASON_SOMETHING_NEW' });
    expect(seen).toHaveLength(3);
  });

  it('an unknown event type decodes (payload dropped) so the client can ignore it', () => {
    expect(decodeSchedulerEvent(Event.encode({ type: 77 } as unknown as protobuf.Message).finish(), PROTOBUF)).toEqual({ type: 'UNKNOWN_77' });
    expect(decodeSchedulerEvent(utf8('{"type":"AGENT_ADDED","agent_added":{"agent_id":{"value":"a"}}}'), JSON_TYPE)).toEqual({ type: 'AGENT_ADDED' });
    expect(decodeExecutorEvent(utf8('{"type":"PAUSE","pause":{}}'), JSON_TYPE)).toEqual({ type: 'PAUSE' });
  });

  it('a known event type still needs its payload, and encoding and call decoding stay strict', () => {
    expect(() => decodeSchedulerEvent(utf8('{"type":"UPDATE"}'), JSON_TYPE)).toThrow(/update: Expecting 'update' to be present/);
    expect(() => decodeSchedulerCall(utf8('{"type":"FLY"}'), JSON_TYPE)).toThrow(CodecError);
    expect(() => encodeSchedulerEvent({ type: 'UPDATE', update: { status: { task_id: { value: 't' }, state: 'TASK_PAUSED' } } } as unknown as SchedulerEvent, JSON_TYPE)).toThrow(/unknown mesos\.v1\.TaskState value "TASK_PAUSED"/);
  });
});
