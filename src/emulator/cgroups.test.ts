import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { CgroupContainer, cgroupsV1Available, containerSize, mountedHierarchies, sizeWrites, weighParent } from './cgroups.js';

const MiB = 2 ** 20;
const res = (cpus: number, mem: number) => [
  { name: 'cpus', type: 'SCALAR' as const, scalar: { value: cpus } },
  { name: 'mem', type: 'SCALAR' as const, scalar: { value: mem } },
];

describe('containerSize', () => {
  it.each([
    ['executor alone', res(0.25, 128), [], { cpus: 0.25, memLimitBytes: 128 * MiB, memSoftBytes: 128 * MiB }],
    ['executor + two tasks: requests add up', res(0.5, 512), [{ resources: res(0.25, 64) }, { resources: res(1, 256) }], { cpus: 1.75, memLimitBytes: 832 * MiB, memSoftBytes: 832 * MiB }],
    ['a task limit above its request raises the hard limit only', res(0.5, 512), [{ resources: res(0.1, 64), limits: { mem: { value: 128 } } }], { cpus: 0.6, memLimitBytes: 640 * MiB, memSoftBytes: 576 * MiB }],
    ['an infinite task limit lifts the hard limit', res(0.5, 512), [{ resources: res(0.1, 64), limits: { mem: { value: Infinity } } }], { cpus: 0.6, memLimitBytes: Infinity, memSoftBytes: 576 * MiB }],
    ['never below Mesos\' 32 MiB minimum', res(0.01, 1), [], { cpus: 0.01, memLimitBytes: 32 * MiB, memSoftBytes: 32 * MiB }],
  ])('%s', (_name, executor, tasks, want) => {
    const got = containerSize(executor, tasks);
    expect(got.memLimitBytes).toBe(want.memLimitBytes);
    expect(got.memSoftBytes).toBe(want.memSoftBytes);
    expect(got.cpus).toBeCloseTo(want.cpus, 10);
  });

  it('writes cpu.shares per cpu and -1 for an unlimited memory limit', () => {
    expect(sizeWrites({ cpus: 1.5, memLimitBytes: Infinity, memSoftBytes: 64 * MiB })).toEqual([
      { hierarchy: 'cpu', file: 'cpu.shares', value: '1536' },
      { hierarchy: 'memory', file: 'memory.soft_limit_in_bytes', value: String(64 * MiB) },
      { hierarchy: 'memory', file: 'memory.limit_in_bytes', value: '-1' },
    ]);
  });

  it('refuses container paths that are relative, shallow or escape', () => {
    for (const path of ['kube/x', '/x', '/a/../b']) expect(() => new CgroupContainer({ path })).toThrow(TypeError);
  });
});

// Real cgroups: the tests run as root on a cgroup v1 (or hybrid) host, as CI and the sandbox do; elsewhere this fails loudly.
describe('CgroupContainer on this host', () => {
  beforeAll(() => {
    const avail = cgroupsV1Available();
    if (!avail.ok) throw new Error(`cgroup v1 is needed for the emulator's executor containers (run as root on a v1/hybrid host): ${avail.reason}`);
  });

  it('holds a process tree in every hierarchy, resizes, and destroy() kills the tree and removes every cgroup', async () => {
    const path = `/kube-mesos-test/${randomBytes(4).toString('hex')}`;
    const c = new CgroupContainer({ path });
    c.create(containerSize(res(0.5, 64), []));
    expect(readFileSync(`/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(64 * MiB));
    expect(readFileSync(`/sys/fs/cgroup/cpu${path}/cpu.shares`, 'utf8').trim()).toBe('512');
    expect(readFileSync(`/sys/fs/cgroup/cpuset${path}/cpuset.cpus`, 'utf8').trim()).not.toBe('');
    // The parent weighs what its containers hold, never less than one default process.
    expect(weighParent('/kube-mesos-test', 3)).toBeUndefined();
    expect(readFileSync('/sys/fs/cgroup/cpu/kube-mesos-test/cpu.shares', 'utf8').trim()).toBe('3072');
    weighParent('/kube-mesos-test', 0.5);
    expect(readFileSync('/sys/fs/cgroup/cpu/kube-mesos-test/cpu.shares', 'utf8').trim()).toBe('1024');

    // A shell that joins, then forks a grandchild that setsid()s away from its process group: still inside.
    const child = spawn('/bin/sh', ['-c', `${c.joinScript()} && { setsid sleep 300 & wait; }`], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    await waitUntil(() => c.pids().length >= 2);
    for (const pid of c.pids()) expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`:memory:${path}`);

    c.resize(containerSize(res(0.5, 64), [{ resources: res(1, 128) }]));
    expect(readFileSync(`/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(192 * MiB));
    expect(readFileSync(`/sys/fs/cgroup/cpu${path}/cpu.shares`, 'utf8').trim()).toBe('1536');

    const pids = c.pids();
    const { left } = await c.destroy();
    await exited;
    expect(left).toEqual([]);
    for (const pid of pids) expect(existsSync(`/proc/${pid}/cgroup`) && !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'))).toBe(false);
    for (const h of mountedHierarchies()) expect(existsSync(`/sys/fs/cgroup/${h}${path}`)).toBe(false);
  });
});

async function waitUntil(ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
