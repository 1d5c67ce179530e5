/**
 * Cross-checks kube-mesos' own .proto subset against Mesos' definitions as Debian ships them
 * (golang-github-mesos-mesos-go-dev: mesos-go's copies of mesos.proto, scheduler.proto and executor.proto, which
 * carry gogoproto options; a stub gogo.proto satisfies their import). Two checks:
 *  - schema: every field and enum value both define has the same number, type and label; everything only we
 *    define is one of the known newer Mesos additions listed below;
 *  - wire: messages encoded with their definitions decode with ours, and the reverse, field for field.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs';
import { decodeMessage, encodeMessage, PROTOBUF } from '../../src/mesos/codec.js';
import {
  decodedShape,
  executorCalls,
  executorEvents,
  offer,
  schedulerCalls,
  schedulerEvents,
  taskInfo,
  taskStatus,
} from '../../src/mesos/proto/fixtures.js';
import { mesosRoot } from '../../src/mesos/proto/index.js';

const MESOS_GO = '/usr/share/gocode/src/github.com/mesos/mesos-go/api/v1/lib';
const IMPORT_PREFIX = 'github.com/mesos/mesos-go/api/v1/lib/';
const available = existsSync(path.join(MESOS_GO, 'mesos.proto'));

const MISSING =
  `proto cross-check cannot run: ${MESOS_GO}/mesos.proto not found. Install Mesos' own definitions with ` +
  '`apt-get install -y golang-github-mesos-mesos-go-dev` (scripts/install-test-deps.sh installs it with the other test dependencies).';

/** Fields and enum values of ours that mesos-go's (older) copies lack: newer Mesos API additions. */
const NEWER_THAN_MESOS_GO = new Set([
  'mesos.v1.OperationID',
  'mesos.v1.UUID',
  'mesos.v1.OperationState',
  'mesos.v1.OperationStatus',
  'mesos.v1.TaskResourceLimitation',
  'mesos.v1.TaskInfo.max_completion_time',
  'mesos.v1.TaskInfo.limits',
  'mesos.v1.TaskStatus.limitation',
  'mesos.v1.TaskStatus.Reason.REASON_MAX_COMPLETION_TIME_REACHED',
  'mesos.v1.TaskStatus.Reason.REASON_AGENT_DRAINING',
  'mesos.v1.TaskStatus.Reason.REASON_AGENT_REMOVED_BY_OPERATOR',
  'mesos.v1.TaskStatus.Reason.REASON_AGENT_REREGISTERED',
  'mesos.v1.MasterInfo.Capability',
  'mesos.v1.MasterInfo.Capability.Type',
  'mesos.v1.MasterInfo.capabilities',
  'mesos.v1.AgentInfo.Capability.Type.RESOURCE_PROVIDER',
  'mesos.v1.AgentInfo.Capability.Type.RESIZE_VOLUME',
  'mesos.v1.AgentInfo.Capability.Type.AGENT_OPERATION_FEEDBACK',
  'mesos.v1.AgentInfo.Capability.Type.AGENT_DRAINING',
  'mesos.v1.AgentInfo.Capability.Type.TASK_RESOURCE_LIMITS',
  'mesos.v1.Resource.DiskInfo.Source.Type.BLOCK',
  'mesos.v1.Resource.DiskInfo.Source.Type.RAW',
  'mesos.v1.Offer.Operation.id',
  'mesos.v1.Offer.Operation.Reserve.source',
  'mesos.v1.Offer.Operation.Type.GROW_VOLUME',
  'mesos.v1.Offer.Operation.Type.SHRINK_VOLUME',
  'mesos.v1.Offer.Operation.Type.CREATE_DISK',
  'mesos.v1.Offer.Operation.Type.DESTROY_DISK',
  'mesos.v1.scheduler.Event.Type.UPDATE_OPERATION_STATUS',
  'mesos.v1.scheduler.Event.UpdateOperationStatus',
  'mesos.v1.scheduler.Event.update_operation_status',
  'mesos.v1.scheduler.Call.Type.ACKNOWLEDGE_OPERATION_STATUS',
  'mesos.v1.scheduler.Call.Type.RECONCILE_OPERATIONS',
  'mesos.v1.scheduler.Call.Type.UPDATE_FRAMEWORK',
  'mesos.v1.scheduler.Call.AcknowledgeOperationStatus',
  'mesos.v1.scheduler.Call.ReconcileOperations',
  'mesos.v1.scheduler.Call.ReconcileOperations.Operation',
  'mesos.v1.scheduler.Call.UpdateFramework',
  'mesos.v1.scheduler.Call.acknowledge_operation_status',
  'mesos.v1.scheduler.Call.reconcile_operations',
  'mesos.v1.scheduler.Call.update_framework',
  'mesos.v1.executor.Event.Type.HEARTBEAT',
  'mesos.v1.executor.Call.Type.HEARTBEAT',
]);

/** Our name -> theirs: mesos.v1.X -> mesos.X. */
const theirName = (ours: string): string => ours.replace(/^\.?mesos\.v1\b/, 'mesos');

let tmp: string;
let theirs: protobuf.Root;
const ours = mesosRoot();

beforeAll(() => {
  // Fails every test below, loudly, rather than skipping them: this file is the only check of our field numbers.
  if (!available) throw new Error(MISSING);
  tmp = mkdtempSync(path.join(tmpdir(), 'gogo-stub-'));
  const stub = path.join(tmp, 'gogo.proto');
  writeFileSync(stub, 'syntax = "proto2";\npackage gogoproto;\n');
  theirs = new protobuf.Root();
  theirs.resolvePath = (origin, target) => {
    if (target.endsWith('gogoproto/gogo.proto')) return stub;
    if (target.startsWith(IMPORT_PREFIX)) return path.join(MESOS_GO, target.slice(IMPORT_PREFIX.length));
    return protobuf.util.path.resolve(origin, target);
  };
  theirs.loadSync(['mesos.proto', 'scheduler/scheduler.proto', 'executor/executor.proto'].map((f) => path.join(MESOS_GO, f)), { keepCase: true });
  theirs.resolveAll();
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

it("mesos-go's .proto files (Debian golang-github-mesos-mesos-go-dev) are installed", () => {
  expect({ available, path: MESOS_GO }).toEqual({ available: true, path: MESOS_GO });
});

// ---------------------------------------------------------------- schema

function allTypes(ns: protobuf.NamespaceBase, out: (protobuf.Type | protobuf.Enum)[] = []): (protobuf.Type | protobuf.Enum)[] {
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Type || o instanceof protobuf.Enum) out.push(o);
    if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) allTypes(o, out);
  }
  return out;
}

const fullName = (o: protobuf.ReflectionObject): string => o.fullName.replace(/^\./, '');

function lookupTheirs(name: string): protobuf.ReflectionObject | null {
  return theirs.lookup(theirName(name));
}

function fieldSignature(f: protobuf.Field): string {
  f.resolve();
  const type = f.resolvedType ? theirName(fullName(f.resolvedType)) : f.type;
  const rule = f.map ? `map<${(f as unknown as protobuf.MapField).keyType}>` : f.repeated ? 'repeated' : f.required ? 'required' : 'optional';
  return `${rule} ${type} = ${f.id}`;
}

describe('schema: our .proto subset agrees with Mesos\' own definitions', () => {
  it('every message field and enum value we share has the same number, type and label', () => {
    const mismatches: string[] = [];
    const unexpectedExtras: string[] = [];
    let compared = 0;
    for (const t of allTypes(ours)) {
      const name = fullName(t);
      const other = lookupTheirs(name);
      if (!other) {
        if (!NEWER_THAN_MESOS_GO.has(name)) unexpectedExtras.push(name);
        continue;
      }
      if (t instanceof protobuf.Enum) {
        if (!(other instanceof protobuf.Enum)) {
          mismatches.push(`${name}: enum here, not there`);
          continue;
        }
        for (const [k, v] of Object.entries(t.values)) {
          const theirsV = other.values[k];
          if (theirsV === undefined) {
            if (!NEWER_THAN_MESOS_GO.has(`${name}.${k}`)) unexpectedExtras.push(`${name}.${k}`);
          } else if (theirsV !== v) mismatches.push(`${name}.${k}: ${v} here, ${theirsV} there`);
          else compared++;
        }
        continue;
      }
      if (!(other instanceof protobuf.Type)) {
        mismatches.push(`${name}: message here, not there`);
        continue;
      }
      for (const f of t.fieldsArray) {
        const of = other.fields[f.name];
        if (!of) {
          if (!NEWER_THAN_MESOS_GO.has(`${name}.${f.name}`)) unexpectedExtras.push(`${name}.${f.name}`);
          continue;
        }
        const a = fieldSignature(f);
        const b = fieldSignature(of);
        if (a !== b) mismatches.push(`${name}.${f.name}: "${a}" here, "${b}" there`);
        else compared++;
      }
    }
    expect(mismatches).toEqual([]);
    expect(unexpectedExtras).toEqual([]);
    expect(compared).toBeGreaterThan(400);
  });

  it('the enums kube-mesos reasons about are complete (all of Mesos\' values)', () => {
    for (const e of ['mesos.v1.TaskState', 'mesos.v1.TaskStatus.Reason', 'mesos.v1.TaskStatus.Source', 'mesos.v1.FrameworkInfo.Capability.Type', 'mesos.v1.scheduler.Call.Type', 'mesos.v1.scheduler.Event.Type', 'mesos.v1.executor.Call.Type', 'mesos.v1.executor.Event.Type', 'mesos.v1.Offer.Operation.Type', 'mesos.v1.Value.Type']) {
      const theirsEnum = lookupTheirs(e) as protobuf.Enum;
      const oursEnum = ours.lookupEnum(e);
      for (const [k, v] of Object.entries(theirsEnum.values)) expect([e, k, oursEnum.values[k]]).toEqual([e, k, v]);
    }
  });
});

// ---------------------------------------------------------------- wire

/** Keeps only what `type` (theirs) defines, recursively: what their encoder can carry. */
function project(type: protobuf.Type, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const f = type.fields[k];
    if (!f || v === undefined) continue;
    f.resolve();
    if (f.resolvedType instanceof protobuf.Type) {
      const sub = f.resolvedType;
      if (f.map) out[k] = Object.fromEntries(Object.entries(v as object).map(([mk, mv]) => [mk, project(sub, mv as Record<string, unknown>)]));
      else if (f.repeated) out[k] = (v as Record<string, unknown>[]).map((x) => project(sub, x));
      else out[k] = project(sub, v as Record<string, unknown>);
    } else if (f.resolvedType instanceof protobuf.Enum) {
      const e = f.resolvedType;
      const known = (x: unknown): boolean => e.values[x as string] !== undefined;
      if (f.repeated) out[k] = (v as unknown[]).filter(known);
      else if (known(v)) out[k] = v;
    } else out[k] = v;
  }
  return out;
}

function encodeTheirs(typeName: string, obj: Record<string, unknown>): Uint8Array {
  const t = theirs.lookupType(theirName(typeName));
  const msg = t.fromObject(obj);
  const err = t.verify(msg);
  if (err) throw new Error(`their ${t.name}: ${err}`);
  return t.encode(msg).finish();
}

function decodeTheirs(typeName: string, buf: Uint8Array): Record<string, unknown> {
  const t = theirs.lookupType(theirName(typeName));
  return t.toObject(t.decode(buf), { enums: String, longs: Number, defaults: false, arrays: false });
}

interface Case {
  label: string;
  typeName: string;
  sample: Record<string, unknown>;
}

const cases: Case[] = [
  { label: 'Offer with domain, ranges, sets, reservations', typeName: 'mesos.v1.Offer', sample: offer as unknown as Record<string, unknown> },
  { label: 'TaskInfo', typeName: 'mesos.v1.TaskInfo', sample: taskInfo as unknown as Record<string, unknown> },
  { label: 'TaskStatus', typeName: 'mesos.v1.TaskStatus', sample: taskStatus as unknown as Record<string, unknown> },
  ...Object.entries(schedulerCalls).map(([t, s]) => ({ label: `scheduler Call ${t}`, typeName: 'mesos.v1.scheduler.Call', sample: s as unknown as Record<string, unknown> })),
  ...Object.entries(schedulerEvents).map(([t, s]) => ({ label: `scheduler Event ${t}`, typeName: 'mesos.v1.scheduler.Event', sample: s as unknown as Record<string, unknown> })),
  ...Object.entries(executorCalls).map(([t, s]) => ({ label: `executor Call ${t}`, typeName: 'mesos.v1.executor.Call', sample: s as unknown as Record<string, unknown> })),
  ...Object.entries(executorEvents).map(([t, s]) => ({ label: `executor Event ${t}`, typeName: 'mesos.v1.executor.Event', sample: s as unknown as Record<string, unknown> })),
];

/** Call/Event types mesos-go's copies do not know (newer Mesos), so only our side can encode them. */
const NEWER_TYPES = new Set([
  'scheduler Call ACKNOWLEDGE_OPERATION_STATUS',
  'scheduler Call RECONCILE_OPERATIONS',
  'scheduler Call UPDATE_FRAMEWORK',
  'scheduler Event UPDATE_OPERATION_STATUS',
  'executor Call HEARTBEAT',
  'executor Event HEARTBEAT',
]);

describe('wire: their encoding decodes with ours and ours with theirs, field for field', () => {
  const shared = cases.filter((c) => !NEWER_TYPES.has(c.label));

  it.each(shared.map((c) => [c.label, c] as const))('theirs -> ours: %s', (_label, c) => {
    const expected = decodedShape(project(theirs.lookupType(theirName(c.typeName)), c.sample));
    const got = decodeMessage(c.typeName, encodeTheirs(c.typeName, expected), PROTOBUF);
    expect(got).toEqual(expected);
    expect(Object.keys(expected).length).toBeGreaterThan(0);
  });

  it.each(shared.map((c) => [c.label, c] as const))('ours -> theirs: %s', (_label, c) => {
    const expected = decodedShape(project(theirs.lookupType(theirName(c.typeName)), c.sample));
    const got = decodeTheirs(c.typeName, encodeMessage(c.typeName, c.sample, PROTOBUF));
    expect(got).toEqual(expected);
  });

  it('our bytes equal theirs for the shared fields (same field numbers, same wire types)', () => {
    for (const c of shared) {
      const projected = decodedShape(project(theirs.lookupType(theirName(c.typeName)), c.sample));
      expect([c.label, Buffer.from(encodeMessage(c.typeName, projected, PROTOBUF))]).toEqual([c.label, Buffer.from(encodeTheirs(c.typeName, projected))]);
    }
  });

  it('fields newer than mesos-go travel through their decoder as unknown fields without harm', () => {
    // TaskInfo.limits and max_completion_time are unknown to mesos-go: their decoder skips them, ours keeps them.
    const bytes = encodeMessage('mesos.v1.TaskInfo', taskInfo, PROTOBUF);
    const theirView = decodeTheirs('mesos.v1.TaskInfo', bytes);
    expect(theirView).not.toHaveProperty('limits');
    expect(theirView.task_id).toEqual(taskInfo.task_id);
    expect(decodeMessage<typeof taskInfo>('mesos.v1.TaskInfo', bytes, PROTOBUF).limits).toEqual({ cpus: { value: Infinity }, mem: { value: 1024 } });
  });

  it('the list of Call/Event types only we know is exactly the newer ones', () => {
    const onlyOurs = cases
      .filter((c) => c.label.includes(' Call ') || c.label.includes(' Event '))
      .filter((c) => {
        const enumName = `${theirName(c.typeName)}.Type`;
        return theirs.lookupEnum(enumName).values[(c.sample as { type: string }).type] === undefined;
      })
      .map((c) => c.label);
    expect(new Set(onlyOurs)).toEqual(NEWER_TYPES);
  });
});
