// RESERVE, UNRESERVE, CREATE and DESTROY against the emulator, driven with the project's SchedulerClient over real HTTP
// in both encodings: the master's validation (master/validation.cpp), the offers that follow, /state and the volume
// directories on disk (process mode). Rejections are observed as OPERATION_ERROR feedback (the operations carry ids)
// and as resources that stay as they were.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSON_TYPE, PROTOBUF, type ContentType } from '../../src/mesos/codec.js';
import { ExecutorClient, executorOptionsFromEnv } from '../../src/mesos/executor.js';
import { SchedulerClient } from '../../src/mesos/scheduler.js';
import { startEmulator, type ExecutorFactory, type RunningEmulator } from '../../src/emulator/index.js';
import { rawRequest } from '../../src/emulator/testing.js';
import type { FrameworkInfo, Offer, OfferOperation, Resource, SchedulerEvent } from '../../src/emulator/proto-types.js';

const runningExecutor: ExecutorFactory = async ({ env, transport, signal }) => {
  const client = new ExecutorClient({ ...executorOptionsFromEnv(env), transport });
  await new Promise<void>((resolve) => {
    client.on('event', (ev) => {
      if (ev.type === 'LAUNCH') void client.update({ task_id: ev.launch.task.task_id, state: 'TASK_RUNNING' });
      if (ev.type === 'KILL') void client.update({ task_id: ev.kill.task_id, state: 'TASK_KILLED' });
    });
    client.on('exit', () => resolve());
    signal.addEventListener('abort', () => resolve());
    client.start();
  });
  await client.stop();
};

class Fw {
  readonly events: SchedulerEvent[] = [];
  readonly client: SchedulerClient;
  private waiters: (() => void)[] = [];
  private nextOp = 0;
  /** Offers before this index were seen (used or passed over). */
  private cursor = 0;
  constructor(url: string, info: Partial<FrameworkInfo>, ct: ContentType) {
    this.client = new SchedulerClient({
      masters: [url],
      framework: { user: 'root', name: 'reservations', failover_timeout: 3600, roles: ['web'], capabilities: [{ type: 'MULTI_ROLE' }], principal: 'alice', ...info },
      contentType: ct,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    this.client.on('event', (ev) => {
      this.events.push(ev);
      if (ev.type === 'UPDATE' && ev.update.status.uuid) void this.client.acknowledge(ev.update.status).catch(() => undefined);
      for (const w of this.waiters.splice(0)) w();
    });
    this.client.start();
  }
  async next<T extends SchedulerEvent['type']>(type: T, pred: (e: Extract<SchedulerEvent, { type: T }>) => boolean = () => true, from = 0): Promise<Extract<SchedulerEvent, { type: T }>> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const hit = this.events.slice(from).find((e) => e.type === type && pred(e as Extract<SchedulerEvent, { type: T }>));
      if (hit) return hit as Extract<SchedulerEvent, { type: T }>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching ${type} within 5 s; saw ${this.events.map((e) => e.type).join(',')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  /** The next offer not yet seen for which `pred` holds. */
  async offer(pred: (o: Offer) => boolean = () => true): Promise<Offer> {
    const ev = await this.next('OFFERS', (e) => (e.offers.offers ?? []).some(pred), this.cursor);
    this.cursor = this.events.indexOf(ev) + 1;
    return ev.offers.offers!.find(pred)!;
  }
  /** ACCEPTs `op` (given an id) on the offer, leaving the rest for the next cycle; resolves with its feedback. */
  async apply(o: Offer, op: OfferOperation, more: OfferOperation[] = []): Promise<{ state: string; message?: string }> {
    const opId = `op-${this.nextOp++}`;
    const from = this.events.length;
    this.cursor = from;
    await this.client.accept([o.id.value], [{ ...op, id: { value: opId } }, ...more], { refuse_seconds: 0 });
    const ev = await this.next('UPDATE_OPERATION_STATUS', (e) => e.update_operation_status.status.operation_id?.value === opId, from);
    return ev.update_operation_status.status;
  }
}

const scalar = (name: string, value: number, extra: Partial<Resource> = {}): Resource => ({ name, type: 'SCALAR', scalar: { value }, ...extra });
const dynamic = (role = 'web', principal: string | null = 'alice', labels?: Record<string, string>): Partial<Resource> => ({
  reservations: [{ type: 'DYNAMIC', role, ...(principal !== null ? { principal } : {}), ...(labels ? { labels: { labels: Object.entries(labels).map(([key, value]) => ({ key, value })) } } : {}) }],
});
const volume = (pid: string, mb: number, extra: Partial<Resource['disk']> = {}): Resource =>
  scalar('disk', mb, { ...dynamic(), disk: { persistence: { id: pid, principal: 'alice' }, volume: { mode: 'RW', container_path: 'data' }, ...extra } });
const reserve = (...resources: Resource[]): OfferOperation => ({ type: 'RESERVE', reserve: { resources } });
const unreserve = (...resources: Resource[]): OfferOperation => ({ type: 'UNRESERVE', unreserve: { resources } });
const create = (...volumes: Resource[]): OfferOperation => ({ type: 'CREATE', create: { volumes } });
const destroy = (...volumes: Resource[]): OfferOperation => ({ type: 'DESTROY', destroy: { volumes } });

const reservedDisk = (o: Offer) => (o.resources ?? []).filter((r) => r.name === 'disk' && r.reservations?.some((x) => x.type === 'DYNAMIC'));
const volumeIn = (o: Offer, pid: string) => (o.resources ?? []).find((r) => r.disk?.persistence?.id === pid);

interface SlaveJson {
  id: string;
  reserved_resources: Record<string, Record<string, number>>;
  reserved_resources_full: Record<string, Resource[]>;
  used_resources_full: Resource[];
}
async function slave(url: string, id: string): Promise<SlaveJson> {
  const st = JSON.parse((await rawRequest(url, { method: 'GET', path: '/state' })).body) as { slaves: SlaveJson[] };
  return st.slaves.find((s) => s.id === id)!;
}

describe.each([
  ['protobuf', PROTOBUF],
  ['json', JSON_TYPE],
] as const)('emulator RESERVE/UNRESERVE/CREATE/DESTROY (%s)', (_n, ct) => {
  let emu: RunningEmulator;
  let workDir: string;
  const fws: Fw[] = [];
  const fw = (info: Partial<FrameworkInfo> = {}) => {
    const f = new Fw(emu.url, info, ct);
    fws.push(f);
    return f;
  };

  beforeEach(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'emu-volumes-'));
    // Process mode keeps volume directories on disk; these tests launch nothing, so no process is started.
    emu = await startEmulator({ listen: '127.0.0.1:0', agents: 1, allocationIntervalMs: 30, agentResources: 'cpus:4;mem:4096;disk:1000', executorMode: 'process', workDir });
  });
  afterEach(async () => {
    await Promise.all(fws.splice(0).map((f) => f.client.stop()));
    await emu.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('RESERVE: the next offer carries the dynamic reservation (role, principal, labels) and /state lists it under reserved_resources_full', async () => {
    const f = fw();
    const o = await f.offer();
    const r = scalar('disk', 200, dynamic('web', 'alice', { claim: 'default/data-0' }));
    expect(await f.apply(o, reserve(r, scalar('cpus', 1, dynamic())))).toEqual(expect.objectContaining({ state: 'OPERATION_FINISHED' }));
    const back = await f.offer((x) => reservedDisk(x).length > 0);
    const disk = reservedDisk(back)[0];
    expect(disk.scalar!.value).toBe(200);
    // Pre-refinement format for a framework without RESERVATION_REFINEMENT: `role` + `reservation`, and the stack.
    expect(disk.role).toBe('web');
    expect(disk.reservation).toEqual({ principal: 'alice', labels: { labels: [{ key: 'claim', value: 'default/data-0' }] } });
    expect(disk.reservations).toEqual([{ type: 'DYNAMIC', role: 'web', principal: 'alice', labels: { labels: [{ key: 'claim', value: 'default/data-0' }] } }]);
    expect((back.resources ?? []).find((x) => x.name === 'disk' && !x.reservations?.length)!.scalar!.value).toBe(800);
    const s = await slave(emu.url, o.agent_id.value);
    expect(s.reserved_resources.web).toEqual({ disk: 200, cpus: 1 });
    expect(s.reserved_resources_full.web).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'disk', scalar: { value: 200 }, reservations: disk.reservations })]));
  });

  it('reserved resources are offered only to frameworks of that role', async () => {
    const web = fw();
    const o = await web.offer();
    expect((await web.apply(o, reserve(scalar('disk', 300, dynamic())))).state).toBe('OPERATION_FINISHED');
    const held = await web.offer((x) => reservedDisk(x).length > 0);
    await web.client.suppress();
    await web.client.decline([held.id.value], { refuse_seconds: 3600 });
    const other = fw({ roles: ['batch'], principal: 'bob', name: 'other' });
    // Three offers to the other role prove allocation cycles ran with the reservation on the agent.
    for (let i = 0; i < 3; i++) {
      const x = await other.offer();
      expect(reservedDisk(x)).toEqual([]);
      expect((x.resources ?? []).find((r) => r.name === 'disk')!.scalar!.value).toBe(700);
      await other.client.decline([x.id.value], { refuse_seconds: 0 });
    }
  });

  it('CREATE makes a persistent volume of reserved disk, keeps its directory under the agent work dir and offers it back to the role', async () => {
    const f = fw();
    const o = await f.offer();
    const st = await f.apply(o, reserve(scalar('disk', 100, dynamic())), [create(volume('pv-1', 100))]);
    expect(st.state).toBe('OPERATION_FINISHED');
    const back = await f.offer((x) => !!volumeIn(x, 'pv-1'));
    expect(volumeIn(back, 'pv-1')).toEqual(expect.objectContaining({ scalar: { value: 100 }, role: 'web', disk: { persistence: { id: 'pv-1', principal: 'alice' }, volume: { mode: 'RW', container_path: 'data' } } }));
    expect(emu.master.operationLog.map((x) => [x.type, x.error])).toEqual([
      ['RESERVE', undefined],
      ['CREATE', undefined],
    ]);
    expect(existsSync(join(workDir, 'slaves', o.agent_id.value, 'volumes', 'roles', 'web', 'pv-1'))).toBe(true);
    const s = await slave(emu.url, o.agent_id.value);
    expect(s.reserved_resources_full.web).toEqual([expect.objectContaining({ name: 'disk', disk: { persistence: { id: 'pv-1', principal: 'alice' }, volume: { mode: 'RW', container_path: 'data' } } })]);
  });

  it('DESTROY removes the volume and its directory; UNRESERVE returns the disk to the unreserved pool', async () => {
    const f = fw();
    const o = await f.offer();
    await f.apply(o, reserve(scalar('disk', 100, dynamic())), [create(volume('pv-2', 100))]);
    const dir = join(workDir, 'slaves', o.agent_id.value, 'volumes', 'roles', 'web', 'pv-2');
    expect(existsSync(dir)).toBe(true);
    const withVolume = await f.offer((x) => !!volumeIn(x, 'pv-2'));
    expect((await f.apply(withVolume, destroy(volume('pv-2', 100)))).state).toBe('OPERATION_FINISHED');
    expect(existsSync(dir)).toBe(false);
    const reserved = await f.offer((x) => !volumeIn(x, 'pv-2') && reservedDisk(x).length > 0);
    expect((await f.apply(reserved, unreserve(scalar('disk', 100, dynamic())))).state).toBe('OPERATION_FINISHED');
    const plain = await f.offer();
    expect(reservedDisk(plain)).toEqual([]);
    expect((plain.resources ?? []).find((r) => r.name === 'disk')!.scalar!.value).toBe(1000);
    const s = await slave(emu.url, o.agent_id.value);
    expect(s.reserved_resources_full).toEqual({});
  });

  it('RESERVE with RESERVATION_REFINEMENT refines a reservation of the parent role; offers show the whole stack', async () => {
    const f = fw({ roles: ['eng', 'eng/web'], capabilities: [{ type: 'MULTI_ROLE' }, { type: 'RESERVATION_REFINEMENT' }] });
    const o = await f.offer((x) => x.allocation_info?.role === 'eng');
    expect((await f.apply(o, { type: 'RESERVE', reserve: { resources: [scalar('cpus', 2, { reservations: [{ type: 'DYNAMIC', role: 'eng', principal: 'alice' }] })] } })).state).toBe('OPERATION_FINISHED');
    // With 'eng' suppressed, its reservation goes to the child role 'eng/web' (a parent's reservation serves its children).
    await f.client.suppress(['eng']);
    const isParent = (x: Offer) => x.allocation_info?.role === 'eng/web' && (x.resources ?? []).some((r) => r.name === 'cpus' && r.reservations?.length === 1);
    let parent = await f.offer();
    while (!isParent(parent)) {
      await f.client.decline([parent.id.value], { refuse_seconds: 0 });
      parent = await f.offer();
    }
    const stack = [
      { type: 'DYNAMIC', role: 'eng', principal: 'alice' },
      { type: 'DYNAMIC', role: 'eng/web', principal: 'alice' },
    ] as const;
    expect((await f.apply(parent, { type: 'RESERVE', reserve: { resources: [scalar('cpus', 1, { reservations: [...stack] })] } })).state).toBe('OPERATION_FINISHED');
    const refined = await f.offer((x) => (x.resources ?? []).some((r) => r.reservations?.length === 2));
    const cpus = (refined.resources ?? []).find((r) => r.reservations?.length === 2)!;
    expect(cpus.reservations).toEqual(stack);
    expect(cpus.role).toBeUndefined();
  });

  // Each rejection names the rule; the agent's reservations stay as they were.
  it.each([
    ['a principal other than the framework’s', () => reserve(scalar('disk', 10, dynamic('web', 'mallory'))), /attempted by principal 'alice', but there is a reserved resource in the request with principal 'mallory'/],
    ['no principal', () => reserve(scalar('disk', 10, dynamic('web', null))), /no principal set in 'ReservationInfo'/],
    ['unreserved resources', () => reserve(scalar('disk', 10)), /is not dynamically reserved/],
    ['a role the framework is not subscribed to', () => reserve(scalar('disk', 10, dynamic('ops'))), /role 'ops', which is not one of the framework's roles/],
    ['a persistent volume', () => reserve(volume('pv-x', 10)), /A persistent volume .* must already be reserved/],
    ['more than offered', () => reserve(scalar('disk', 5000, dynamic())), /does not contain/],
    ['refinement without the capability', () => reserve(scalar('disk', 10, { reservations: [{ type: 'DYNAMIC', role: 'web', principal: 'alice' }, { type: 'DYNAMIC', role: 'web/a', principal: 'alice' }] })), /RESERVATION_REFINEMENT capability/],
    ['DiskInfo on cpus', () => reserve(scalar('cpus', 1, { ...dynamic(), disk: { source: { type: 'PATH' } } })), /DiskInfo should not be set for cpus resource/],
  ])('RESERVE is dropped with OPERATION_ERROR for %s', async (_what, op, message) => {
    const f = fw();
    const o = await f.offer();
    const st = await f.apply(o, op());
    expect(st.state).toBe('OPERATION_ERROR');
    expect(st.message).toMatch(message);
    expect((await slave(emu.url, o.agent_id.value)).reserved_resources_full).toEqual({});
  });

  it.each([
    ['UNRESERVE of a volume', () => unreserve(volume('pv-a', 50)), /cannot be unreserved directly/],
    ['UNRESERVE of unreserved resources', () => unreserve(scalar('disk', 10)), /is not dynamically reserved/],
    ['CREATE from unreserved disk', () => create({ ...volume('pv-b', 10), reservations: undefined }), /Persistent volumes cannot be created from unreserved resources/],
    ['CREATE with a persistence id already used by the role on the agent', () => create(volume('pv-a', 10)), /Persistence ID 'pv-a' is not unique/],
    ['CREATE with the same persistence id twice', () => create(volume('pv-c', 10), volume('pv-c', 10)), /Persistence ID 'pv-c' is not unique/],
    ['CREATE of a read-only volume', () => create(volume('pv-d', 10, { volume: { mode: 'RO', container_path: 'data' } })), /Read-only persistent volume not supported/],
    ['CREATE with a host_path', () => create(volume('pv-e', 10, { volume: { mode: 'RW', container_path: 'data', host_path: '/etc' } })), /'host_path' to be unset/],
    ['CREATE with a persistence id holding a slash', () => create(volume('../x', 10)), /contains invalid characters/],
    ['CREATE by another principal', () => create(volume('pv-f', 10, { persistence: { id: 'pv-f', principal: 'mallory' } })), /principal 'mallory' set in 'DiskInfo.Persistence'/],
    ['CREATE of more reserved disk than offered', () => create(volume('pv-g', 900)), /does not contain/],
    ['DESTROY of a volume that does not exist', () => destroy(volume('pv-zzz', 50)), /Persistent volumes not found/],
    ['DESTROY of something that is not a volume', () => destroy(scalar('disk', 10, dynamic())), /does not have DiskInfo/],
  ])('%s is dropped with OPERATION_ERROR', async (_what, op, message) => {
    const f = fw();
    const o = await f.offer();
    await f.apply(o, reserve(scalar('disk', 100, dynamic())), [create(volume('pv-a', 50))]);
    const before = await slave(emu.url, o.agent_id.value);
    const next = await f.offer((x) => !!volumeIn(x, 'pv-a'));
    const st = await f.apply(next, op());
    expect(st.state).toBe('OPERATION_ERROR');
    expect(st.message).toMatch(message);
    expect((await slave(emu.url, o.agent_id.value)).reserved_resources_full).toEqual(before.reserved_resources_full);
    expect(existsSync(join(workDir, 'slaves', o.agent_id.value, 'volumes', 'roles', 'web', 'pv-a'))).toBe(true);
  });
});

describe.each([
  ['protobuf', PROTOBUF],
  ['json', JSON_TYPE],
] as const)('emulator tasks on persistent volumes (%s)', (_n, ct) => {
  let emu: RunningEmulator;
  let f: Fw;
  beforeEach(async () => {
    emu = await startEmulator({ listen: '127.0.0.1:0', agents: 1, allocationIntervalMs: 30, agentResources: 'cpus:4;mem:4096;disk:1000', executorMode: 'inprocess', executorFactory: runningExecutor });
    f = new Fw(emu.url, {}, ct);
  });
  afterEach(async () => {
    await f.client.stop();
    await emu.stop();
  });

  it('a task launched on the volume holds it (used_resources_full; DESTROY meanwhile is "in use"); after the task ends the volume is offered again', async () => {
    const o = await f.offer();
    const executor = { executor_id: { value: 'e1' }, command: { value: 'x' }, resources: [scalar('cpus', 0.1)] };
    const launch: OfferOperation = {
      type: 'LAUNCH',
      launch: { task_infos: [{ name: 't', task_id: { value: 't1' }, agent_id: o.agent_id, executor, resources: [scalar('cpus', 1, dynamic()), volume('pv-t', 100)] }] },
    };
    expect((await f.apply(o, reserve(scalar('disk', 100, dynamic()), scalar('cpus', 1, dynamic())), [create(volume('pv-t', 100)), launch])).state).toBe('OPERATION_FINISHED');
    await f.next('UPDATE', (e) => e.update.status.task_id.value === 't1' && e.update.status.state === 'TASK_RUNNING');
    const s = await slave(emu.url, o.agent_id.value);
    expect(s.used_resources_full).toEqual(expect.arrayContaining([expect.objectContaining({ disk: expect.objectContaining({ persistence: { id: 'pv-t', principal: 'alice' } }) })]));
    // While the task runs the volume is not offered; a DESTROY of it on a later offer is refused.
    const later = await f.offer();
    expect(volumeIn(later, 'pv-t')).toBeUndefined();
    const st = await f.apply(later, destroy(volume('pv-t', 100)));
    expect(st).toEqual(expect.objectContaining({ state: 'OPERATION_ERROR', message: expect.stringMatching(/Persistent volumes in use/) }));
    const from = f.events.length;
    await f.client.kill('t1', o.agent_id.value);
    await f.next('UPDATE', (e) => e.update.status.task_id.value === 't1' && e.update.status.state === 'TASK_KILLED', from);
    const back = await f.offer((x) => !!volumeIn(x, 'pv-t'));
    expect(volumeIn(back, 'pv-t')!.scalar!.value).toBe(100);
  });
});
