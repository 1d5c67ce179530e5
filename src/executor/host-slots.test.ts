import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimSlot, releaseSlot, sweepStaleSlots, type SlotRecord } from './host-slots.js';

const dir = () => mkdtempSync(join(tmpdir(), 'kube-mesos-slots-'));

function record(base: string, slot: number): Omit<SlotRecord, 'pid' | 'startTime'> {
  return {
    slot,
    executorId: `e${slot}`,
    nodeName: `n${slot}`,
    socket: join(base, `slot-${slot}`, 'containerd.sock'),
    containerdConfig: join(base, `cfg-${slot}.toml`),
    // A cgroup root nothing uses: nothing to kill or remove there.
    cgroupRoot: `/kube-mesos-test-none/${slot}`,
    createdCgroups: [],
    bridge: `kmbrtest${slot}`,
    network: `kube-mesos-test-${slot}`,
    ipamDir: join(base, `ipam-${slot}`),
    runDir: join(base, `slot-${slot}`),
    stateDir: join(base, `state-${slot}`),
  };
}

/** A pid that certainly belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const c = spawn('true');
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

describe('host slots', () => {
  it('gives each claimer the lowest free slot, skips vetoed ones, and frees a slot on release', async () => {
    const base = dir();
    const a = await claimSlot(base, (n) => record(base, n), async () => true);
    const b = await claimSlot(base, (n) => record(base, n), async (n) => n !== 2);
    expect(a).toMatchObject({ ok: true, slot: 1 });
    expect(b).toMatchObject({ ok: true, slot: 3 });
    const held = JSON.parse(readFileSync(join(base, 'slots', 'slot-1.json'), 'utf8')) as SlotRecord;
    expect(held).toMatchObject({ pid: process.pid, executorId: 'e1' });
    releaseSlot(base, 1);
    expect(await claimSlot(base, (n) => record(base, n), async () => true)).toMatchObject({ ok: true, slot: 1 });
  });

  it('reclaims the slot of a holder that is gone, removing what it left on disk first', async () => {
    const base = dir();
    mkdirSync(join(base, 'slots'), { recursive: true });
    const stale = { ...record(base, 1), pid: await deadPid(), startTime: '1' };
    for (const d of [stale.ipamDir, stale.runDir, stale.stateDir]) mkdirSync(d, { recursive: true });
    writeFileSync(join(stale.ipamDir, '10.90.1.2'), 'leftover lease');
    writeFileSync(join(base, 'slots', 'slot-1.json'), JSON.stringify(stale));
    const c = await claimSlot(base, (n) => record(base, n), async () => true);
    expect(c).toMatchObject({ ok: true, slot: 1, reclaimed: { executorId: 'e1' }, cleanup: { problems: [] } });
    for (const d of [stale.ipamDir, stale.runDir, stale.stateDir]) expect(existsSync(d)).toBe(false);
    expect((JSON.parse(readFileSync(join(base, 'slots', 'slot-1.json'), 'utf8')) as SlotRecord).pid).toBe(process.pid);
  });

  it('sweeps stale slots only, never one whose holder runs', async () => {
    const base = dir();
    mkdirSync(join(base, 'slots'), { recursive: true });
    writeFileSync(join(base, 'slots', 'slot-4.json'), JSON.stringify({ ...record(base, 4), pid: await deadPid() }));
    const live = await claimSlot(base, (n) => record(base, n), async () => true);
    const { swept } = await sweepStaleSlots(base);
    expect(swept.map((s) => s.slot)).toEqual([4]);
    expect(existsSync(join(base, 'slots', 'slot-4.json'))).toBe(false);
    expect(live.ok && existsSync(join(base, 'slots', `slot-${live.slot}.json`))).toBe(true);
  });
});
