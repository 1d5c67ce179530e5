/**
 * Encode/decode of Mesos v1 messages in `application/x-protobuf` and `application/json`.
 *
 * JSON follows Mesos' own conventions (stout's JSON <-> protobuf), not proto3's mapping: snake_case names, enum
 * names as strings, bytes as base64, 64-bit integers as JSON numbers, "Infinity"/"-Infinity"/"NaN" strings for
 * non-finite doubles, unset fields omitted. Both decoders return the same normalized shape (see types.ts):
 * enums as names, bytes as Buffer (a Uint8Array), 64-bit integers as numbers, unset and empty repeated fields
 * absent. Every decoder and encoder validates types, enum names and required proto2 fields and throws
 * CodecError naming the offending field.
 */
import protobuf from 'protobufjs';
import { mesosRoot } from './proto/index.js';
import type { ExecutorCall, ExecutorEvent, SchedulerCall, SchedulerEvent } from './types.js';

export type ContentType = 'application/x-protobuf' | 'application/json';
export const PROTOBUF: ContentType = 'application/x-protobuf';
export const JSON_TYPE: ContentType = 'application/json';

export class CodecError extends Error {
  /** Dotted path of the offending field from the top-level message, e.g. `accept.operations[0].type`. */
  readonly field?: string;
  constructor(message: string, options?: { field?: string; cause?: unknown }) {
    super(options?.field ? `${options.field}: ${message}` : message, options?.cause ? { cause: options.cause } : undefined);
    this.name = 'CodecError';
    this.field = options?.field;
  }
}

/** An enum value a newer peer sent that this build does not know: `value` is the name (JSON) or the number (protobuf). */
export interface UnknownEnumValue {
  /** Full name of the enum, e.g. `mesos.v1.TaskState`. */
  enum: string;
  value: string | number;
}

export interface DecodeOptions {
  /** Called for each unknown enum value kept in a decoded event (the caller logs it, e.g. once per value). */
  onUnknownEnum?: (u: UnknownEnumValue) => void;
}

/**
 * Events decode leniently (a newer master's enum values are kept, not refused): a name off JSON stays as sent
 * (`TASK_PAUSED`), a number off the wire becomes `UNKNOWN_<number>`. Neither is in the types' unions, so a switch
 * over them takes its default branch. Calls (the emulator's side) and encoders stay strict.
 */
export const unknownEnumName = (n: number): string => `UNKNOWN_${n}`;

/** Maps a Content-Type header value (parameters and case ignored) to a ContentType, or undefined. */
export function parseContentType(header: string | undefined | null): ContentType | undefined {
  if (!header) return undefined;
  const base = header.split(';')[0]!.trim().toLowerCase();
  if (base === PROTOBUF) return PROTOBUF;
  if (base === JSON_TYPE) return JSON_TYPE;
  return undefined;
}

// ---------------------------------------------------------------- compiled field tables

const enum Kind {
  Double,
  Int32,
  Int64,
  Bool,
  String,
  Bytes,
  Enum,
  Message,
}

const enum Mode {
  /** Lenient input (types.ts shape or Mesos JSON) -> protobufjs runtime form for Type.encode. */
  Wire,
  /** Lenient input -> Mesos JSON value tree. */
  Json,
  /** Mesos JSON (parsed) -> normalized shape. */
  FromJson,
  /** A protobufjs-decoded message -> normalized shape. */
  FromWire,
}

interface FieldSpec {
  name: string;
  kind: Kind;
  repeated: boolean;
  map: boolean;
  required: boolean;
  unsigned: boolean;
  int32Min: number;
  int32Max: number;
  enumValues?: Record<string, number>;
  enumNames?: Record<number, string>;
  enumName?: string;
  type?: protobuf.Type;
  compiled?: Compiled;
  /** A `map<string, Value.Scalar>` (TaskInfo.limits): Mesos' JSON writes the values as bare numbers. */
  bareScalar: boolean;
}

interface Compiled {
  fullName: string;
  type: protobuf.Type;
  fields: FieldSpec[];
}

const compiledCache = new Map<protobuf.Type, Compiled>();

function kindOf(t: string): { kind: Kind; unsigned: boolean; min: number; max: number } {
  switch (t) {
    case 'double':
    case 'float':
      return { kind: Kind.Double, unsigned: false, min: 0, max: 0 };
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return { kind: Kind.Int32, unsigned: false, min: -0x80000000, max: 0x7fffffff };
    case 'uint32':
    case 'fixed32':
      return { kind: Kind.Int32, unsigned: true, min: 0, max: 0xffffffff };
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return { kind: Kind.Int64, unsigned: false, min: 0, max: 0 };
    case 'uint64':
    case 'fixed64':
      return { kind: Kind.Int64, unsigned: true, min: 0, max: 0 };
    case 'bool':
      return { kind: Kind.Bool, unsigned: false, min: 0, max: 0 };
    case 'string':
      return { kind: Kind.String, unsigned: false, min: 0, max: 0 };
    case 'bytes':
      return { kind: Kind.Bytes, unsigned: false, min: 0, max: 0 };
    default:
      throw new Error(`unsupported protobuf scalar type ${t}`);
  }
}

function compile(type: protobuf.Type): Compiled {
  const hit = compiledCache.get(type);
  if (hit) return hit;
  const c: Compiled = { fullName: type.fullName.replace(/^\./, ''), type, fields: [] };
  compiledCache.set(type, c); // before recursing: messages may be recursive (ContainerID.parent)
  for (const f of type.fieldsArray) {
    f.resolve();
    const isMap = f instanceof protobuf.MapField;
    const spec: FieldSpec = {
      name: f.name,
      kind: Kind.String,
      repeated: f.repeated,
      map: isMap,
      required: f.required,
      unsigned: false,
      int32Min: 0,
      int32Max: 0,
      bareScalar: false,
    };
    const rt = f.resolvedType;
    if (rt instanceof protobuf.Enum) {
      spec.kind = Kind.Enum;
      spec.enumValues = rt.values;
      spec.enumNames = rt.valuesById;
      spec.enumName = rt.fullName.replace(/^\./, '');
    } else if (rt instanceof protobuf.Type) {
      spec.kind = Kind.Message;
      spec.type = rt;
      spec.bareScalar = isMap && rt.fullName === '.mesos.v1.Value.Scalar';
    } else {
      const k = kindOf(f.type);
      spec.kind = k.kind;
      spec.unsigned = k.unsigned;
      spec.int32Min = k.min;
      spec.int32Max = k.max;
    }
    c.fields.push(spec);
  }
  return c;
}

// ---------------------------------------------------------------- the converter

const hasOwn = Object.prototype.hasOwnProperty;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Thrown deep in a conversion; each enclosing message prepends its field, the entry point makes a CodecError. */
class FieldError extends Error {
  readonly segments: string[] = [];
}

/** Set while an event is decoded: unknown enum values are kept and reported here instead of refused. */
let lenient: ((u: UnknownEnumValue) => void) | undefined;

function fail(message: string): never {
  throw new FieldError(message);
}

/** Runs a conversion, turning a FieldError into a CodecError that names the field path. */
function guarded<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof FieldError) throw new CodecError(err.message, { field: err.segments.join('.') || undefined });
    throw err;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return `number ${v}`;
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Returns the converted value, or undefined when the value is to be dropped (unknown enum number off the wire). */
function convertValue(spec: FieldSpec, v: unknown, mode: Mode): unknown {
  switch (spec.kind) {
    case Kind.Message: {
      if (spec.bareScalar) return convertBareScalar(v, mode);
      if (!isPlainObject(v)) fail(`expected an object (${spec.type!.name}), got ${describe(v)}`);
      return convertMessage((spec.compiled ??= compile(spec.type!)), v, mode);
    }
    case Kind.Enum: {
      if (typeof v === 'string') {
        const n = spec.enumValues![v];
        if (n === undefined || !hasOwn.call(spec.enumValues, v)) {
          if (lenient && mode === Mode.FromJson) {
            lenient({ enum: spec.enumName!, value: v });
            return v;
          }
          fail(`unknown ${spec.enumName} value ${JSON.stringify(v)}`);
        }
        return mode === Mode.Wire ? n : v;
      }
      if (typeof v === 'number' && Number.isInteger(v)) {
        const name = spec.enumNames![v];
        if (name === undefined) {
          if (lenient && (mode === Mode.FromWire || mode === Mode.FromJson)) {
            lenient({ enum: spec.enumName!, value: v });
            return unknownEnumName(v);
          }
          if (mode === Mode.FromWire) return undefined; // proto2: an unknown enum number is an unknown field
          fail(`unknown ${spec.enumName} number ${v}`);
        }
        return mode === Mode.Wire ? v : name;
      }
      return fail(`expected a ${spec.enumName} name, got ${describe(v)}`);
    }
    case Kind.String:
      if (typeof v !== 'string') fail(`expected a string, got ${describe(v)}`);
      return v;
    case Kind.Bool:
      if (typeof v !== 'boolean') fail(`expected a boolean, got ${describe(v)}`);
      return v;
    case Kind.Double: {
      if (typeof v === 'number') {
        if (mode === Mode.Json && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
        return v;
      }
      if (typeof v === 'string') {
        const d = v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : undefined;
        if (d === undefined) fail(`expected a number, got ${describe(v)}`);
        return mode === Mode.Json ? v : d;
      }
      return fail(`expected a number, got ${describe(v)}`);
    }
    case Kind.Int32: {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < spec.int32Min || v > spec.int32Max) {
        fail(`expected a ${spec.unsigned ? 'uint32' : 'int32'}, got ${describe(v)}`);
      }
      return v;
    }
    case Kind.Int64: {
      let n: number;
      if (typeof v === 'number') n = v;
      else if (typeof v === 'string' && /^-?\d+$/.test(v)) n = Number(v);
      else if (mode === Mode.FromWire && typeof v === 'object' && v !== null && 'low' in v && 'high' in v) {
        n = protobuf.util.LongBits.from(v as protobuf.Long).toNumber(spec.unsigned);
      } else return fail(`expected an integer, got ${describe(v)}`);
      if (!Number.isInteger(n) || (spec.unsigned && n < 0)) fail(`expected ${spec.unsigned ? 'an unsigned' : 'an'} integer, got ${describe(v)}`);
      return n;
    }
    case Kind.Bytes: {
      if (v instanceof Uint8Array) {
        if (mode === Mode.Json) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
        if (mode === Mode.Wire || Buffer.isBuffer(v)) return v;
        return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      }
      if (typeof v === 'string') {
        if (!BASE64.test(v) || v.length % 4 === 1) fail('expected base64-encoded bytes');
        return mode === Mode.Json ? v : Buffer.from(v, 'base64');
      }
      return fail(`expected bytes, got ${describe(v)}`);
    }
  }
}

const SCALAR_VALUE: FieldSpec = {
  name: 'value',
  kind: Kind.Double,
  repeated: false,
  map: false,
  required: true,
  unsigned: false,
  int32Min: 0,
  int32Max: 0,
  bareScalar: false,
};

/** A Value.Scalar map value: `{"value": 512}` or, as Mesos documents TaskInfo.limits, bare `512` / `"Infinity"`. */
function convertBareScalar(v: unknown, mode: Mode): unknown {
  const raw = isPlainObject(v) ? v.value : v;
  if (raw === undefined || raw === null) fail('missing scalar value');
  const d = convertValue(SCALAR_VALUE, raw, mode);
  return mode === Mode.Json ? d : { value: d };
}

function convertMessage(c: Compiled, input: Record<string, unknown>, mode: Mode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let cur: FieldSpec | undefined;
  let at: string | number | undefined;
  try {
    for (const spec of c.fields) {
      cur = spec;
      at = undefined;
      const name = spec.name;
      const v = hasOwn.call(input, name) ? input[name] : undefined;
      if (v === undefined || v === null) {
        if (spec.required) fail(`missing required field of ${c.fullName}`);
        continue;
      }
      if (spec.map) {
        if (!isPlainObject(v)) fail(`expected an object map, got ${describe(v)}`);
        const keys = Object.keys(v);
        if (keys.length === 0) continue;
        const m: Record<string, unknown> = {};
        for (const k of keys) {
          at = k;
          const e = convertValue(spec, v[k], mode);
          if (e !== undefined) m[k] = e;
        }
        out[name] = m;
      } else if (spec.repeated) {
        if (!Array.isArray(v)) fail(`expected an array, got ${describe(v)}`);
        if (v.length === 0) continue;
        const arr: unknown[] = [];
        for (let i = 0; i < v.length; i++) {
          at = i;
          const e = convertValue(spec, v[i], mode);
          if (e !== undefined) arr.push(e);
        }
        if (arr.length > 0) out[name] = arr;
      } else {
        const e = convertValue(spec, v, mode);
        if (e === undefined) {
          if (spec.required) fail(`missing required field of ${c.fullName}`);
          continue;
        }
        out[name] = e;
      }
    }
  } catch (err) {
    if (err instanceof FieldError && cur) {
      err.segments.unshift(at === undefined ? cur.name : typeof at === 'number' ? `${cur.name}[${at}]` : `${cur.name}[${JSON.stringify(at)}]`);
    }
    throw err;
  }
  return out;
}

// ---------------------------------------------------------------- generic encode/decode

const typeCache = new Map<string, Compiled>();

function compiledFor(typeName: string): Compiled {
  let c = typeCache.get(typeName);
  if (!c) {
    let t: protobuf.Type;
    try {
      t = mesosRoot().lookupType(typeName);
    } catch (err) {
      throw new CodecError(`unknown message type ${typeName}`, { cause: err });
    }
    c = compile(t);
    typeCache.set(typeName, c);
  }
  return c;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function encodeWith(c: Compiled, obj: object, ct: ContentType): Uint8Array {
  if (!isPlainObject(obj)) throw new CodecError(`expected a ${c.fullName} object, got ${describe(obj)}`);
  if (ct === JSON_TYPE) return Buffer.from(JSON.stringify(guarded(() => convertMessage(c, obj, Mode.Json))), 'utf8');
  if (ct !== PROTOBUF) throw new CodecError(`unsupported content type ${String(ct)}`);
  return c.type.encode(guarded(() => convertMessage(c, obj, Mode.Wire))).finish();
}

function decodeWith(c: Compiled, buf: Uint8Array, ct: ContentType): Record<string, unknown> {
  if (!(buf instanceof Uint8Array)) throw new CodecError(`expected bytes to decode, got ${describe(buf)}`);
  if (ct === JSON_TYPE) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(buf));
    } catch (err) {
      throw new CodecError(`invalid JSON for ${c.fullName}: ${(err as Error).message}`, { cause: err });
    }
    if (!isPlainObject(parsed)) throw new CodecError(`expected a JSON object for ${c.fullName}, got ${describe(parsed)}`);
    return guarded(() => convertMessage(c, parsed, Mode.FromJson));
  }
  if (ct !== PROTOBUF) throw new CodecError(`unsupported content type ${String(ct)}`);
  let msg: protobuf.Message;
  try {
    msg = c.type.decode(buf);
  } catch (err) {
    throw new CodecError(`undecodable ${c.fullName}: ${(err as Error).message}`, { cause: err });
  }
  return guarded(() => convertMessage(c, msg as unknown as Record<string, unknown>, Mode.FromWire));
}

/** Encodes any message of the proto subset by full name, e.g. `mesos.v1.TaskInfo`. */
export function encodeMessage(typeName: string, obj: object, ct: ContentType): Uint8Array {
  return encodeWith(compiledFor(typeName), obj, ct);
}

/** Decodes any message of the proto subset by full name; throws CodecError. */
export function decodeMessage<T>(typeName: string, buf: Uint8Array, ct: ContentType): T {
  return decodeWith(compiledFor(typeName), buf, ct) as T;
}

/** Validates and normalizes an object as if it had been encoded and decoded (e.g. `"Infinity"` -> Infinity). */
export function normalizeMessage<T>(typeName: string, obj: object): T {
  const c = compiledFor(typeName);
  if (!isPlainObject(obj)) throw new CodecError(`expected a ${c.fullName} object, got ${describe(obj)}`);
  return guarded(() => convertMessage(c, obj, Mode.FromJson)) as T;
}

// ---------------------------------------------------------------- Call / Event with payload checks

/** Types whose payload field (the lower-cased type name) may be absent. */
const OPTIONAL_PAYLOAD = new Set(['REVIVE', 'SUPPRESS']);

function checkPayload(c: Compiled, msg: Record<string, unknown>, decoding = false): void {
  const type = msg.type;
  if (typeof type !== 'string' || type === 'UNKNOWN') throw new CodecError(`Expecting 'type' to be present`, { field: 'type' });
  // A type this build does not know (a newer master's): its payload field is not in our schema; the client ignores it.
  if (decoding && !hasOwn.call(c.fields.find((f) => f.name === 'type')?.enumValues ?? {}, type)) return;
  const payload = type.toLowerCase();
  if (OPTIONAL_PAYLOAD.has(type) || !c.fields.some((f) => f.name === payload)) return;
  if (msg[payload] === undefined || msg[payload] === null) {
    throw new CodecError(`Expecting '${payload}' to be present`, { field: payload });
  }
}

function envelope<T>(typeName: string, lenientDecode: boolean) {
  let c: Compiled | undefined;
  const get = (): Compiled => (c ??= compiledFor(typeName));
  return {
    encode(obj: T, ct: ContentType): Uint8Array {
      const comp = get();
      if (isPlainObject(obj)) checkPayload(comp, obj);
      return encodeWith(comp, obj as object, ct);
    },
    decode(buf: Uint8Array, ct: ContentType, opts?: DecodeOptions): T {
      const comp = get();
      if (!lenientDecode) {
        const strict = decodeWith(comp, buf, ct);
        checkPayload(comp, strict);
        return strict as T;
      }
      const outer = lenient;
      lenient = opts?.onUnknownEnum ?? ((): void => undefined);
      try {
        const msg = decodeWith(comp, buf, ct);
        checkPayload(comp, msg, true);
        return msg as T;
      } finally {
        lenient = outer;
      }
    },
  };
}

const schedulerCall = envelope<SchedulerCall>('mesos.v1.scheduler.Call', false);
const schedulerEvent = envelope<SchedulerEvent>('mesos.v1.scheduler.Event', true);
const executorCall = envelope<ExecutorCall>('mesos.v1.executor.Call', false);
const executorEvent = envelope<ExecutorEvent>('mesos.v1.executor.Event', true);

export function encodeSchedulerCall(call: SchedulerCall, ct: ContentType): Uint8Array {
  return schedulerCall.encode(call, ct);
}
export function decodeSchedulerCall(buf: Uint8Array, ct: ContentType): SchedulerCall {
  return schedulerCall.decode(buf, ct);
}
export function encodeSchedulerEvent(ev: SchedulerEvent, ct: ContentType): Uint8Array {
  return schedulerEvent.encode(ev, ct);
}
/** Lenient about enum values a newer master sends (see unknownEnumName); throws CodecError on malformed input. */
export function decodeSchedulerEvent(buf: Uint8Array, ct: ContentType, opts?: DecodeOptions): SchedulerEvent {
  return schedulerEvent.decode(buf, ct, opts);
}
export function encodeExecutorCall(call: ExecutorCall, ct: ContentType): Uint8Array {
  return executorCall.encode(call, ct);
}
export function decodeExecutorCall(buf: Uint8Array, ct: ContentType): ExecutorCall {
  return executorCall.decode(buf, ct);
}
export function encodeExecutorEvent(ev: ExecutorEvent, ct: ContentType): Uint8Array {
  return executorEvent.encode(ev, ct);
}
/** Lenient about enum values a newer agent sends (see unknownEnumName); throws CodecError on malformed input. */
export function decodeExecutorEvent(buf: Uint8Array, ct: ContentType, opts?: DecodeOptions): ExecutorEvent {
  return executorEvent.decode(buf, ct, opts);
}
