import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KUBELET_SYSCTLS, SysctlGuard } from './host-sysctls.js';

let dir: string;
let procSys: string;
const HOST = { 'vm/overcommit_memory': '0', 'vm/panic_on_oom': '0', 'kernel/panic': '0', 'kernel/panic_on_oops': '0', 'kernel/keys/root_maxkeys': '1000000', 'kernel/keys/root_maxbytes': '25000000', 'net/ipv4/ip_forward': '0' };
// What kubelet 1.20 and the bridge plugin set.
const KUBELET = { 'vm/overcommit_memory': '1', 'kernel/panic': '10', 'kernel/panic_on_oops': '1', 'net/ipv4/ip_forward': '1' };

const set = (values: Record<string, string>) => {
  for (const [k, v] of Object.entries(values)) {
    mkdirSync(dirname(join(procSys, k)), { recursive: true });
    writeFileSync(join(procSys, k), `${v}\n`);
  }
};
const now = () => Object.fromEntries(KUBELET_SYSCTLS.map((k) => [k, readFileSync(join(procSys, k), 'utf8').trim()]));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sysctl-'));
  procSys = join(dir, 'proc-sys');
  set(HOST);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SysctlGuard', () => {
  it('saves the host values on enter and puts back what the kubelet changed on leave', () => {
    const g = new SysctlGuard({ runtimeDir: join(dir, 'run'), procSys, pid: 100, alive: (p) => p === 100, slotsInUse: () => false });
    g.enter();
    set(KUBELET);
    const r = g.leave();
    expect(now()).toEqual(HOST);
    expect(r.restored.sort()).toEqual(['kernel.panic=0', 'kernel.panic_on_oops=0', 'net.ipv4.ip_forward=0', 'vm.overcommit_memory=0']);
    expect(r.failed).toEqual([]);
  });

  it('with two sandboxes, the first saves (the second sees changed values) and only the last one out restores', () => {
    const live = new Set([100, 200]);
    const alive = (p: number) => live.has(p);
    const a = new SysctlGuard({ runtimeDir: join(dir, 'run'), procSys, pid: 100, alive, slotsInUse: () => false });
    const b = new SysctlGuard({ runtimeDir: join(dir, 'run'), procSys, pid: 200, alive, slotsInUse: () => false });
    a.enter();
    set(KUBELET);
    b.enter(); // must not save the kubelet's values as the host's
    expect(a.leave()).toMatchObject({ restored: [], skipped: 'another sandbox still runs real kubelets' });
    expect(now()['kernel/panic']).toBe('10');
    live.delete(100);
    b.leave();
    expect(now()).toEqual(HOST);
  });

  it('a sandbox that died without leaving does not block the restore; a live host slot does', () => {
    let slots = true;
    const dead = new SysctlGuard({ runtimeDir: join(dir, 'run'), procSys, pid: 300, alive: () => false, slotsInUse: () => false });
    dead.enter();
    set(KUBELET);
    const b = new SysctlGuard({ runtimeDir: join(dir, 'run'), procSys, pid: 200, alive: (p) => p === 200, slotsInUse: () => slots });
    b.enter();
    expect(b.leave()).toMatchObject({ skipped: 'an executor still holds a host slot' });
    expect(now()['kernel/panic']).toBe('10');
    slots = false;
    b.enter(); // a later sandbox: the values saved before the kubelets ran are still the ones put back
    expect(b.leave().restored).toContain('kernel.panic=0');
    expect(now()).toEqual(HOST);
  });
});
