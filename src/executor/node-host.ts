/**
 * The host operations of a real kubelet's runtime: the node IP, the executor's cgroup, processes found by what they
 * run, network links, a unix socket coming up, short commands (ctr, ip). Each returns a value or a message; nothing
 * here throws for an expected outcome (not found, already gone).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { createCgroupPath, mountedHierarchies, pidsIn, removeCgroupTree } from '../emulator/cgroups.js';
import { sleep } from '../time/backoff.js';

export { createCgroupPath, mountedHierarchies, pidsIn, removeCgroupTree };

/** IPv4 of the interface holding the default route (/proc/net/route), else the first non-internal IPv4. */
export function defaultRouteIp(): string | undefined {
  let iface: string | undefined;
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const [name, dest, , , , , , mask] = line.trim().split(/\s+/);
      if (dest === '00000000' && mask === '00000000') {
        iface = name;
        break;
      }
    }
  } catch {
    // not Linux, or no /proc
  }
  const all = networkInterfaces();
  const v4 = (n: string) => (all[n] ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
  if (iface && v4(iface)) return v4(iface);
  for (const n of Object.keys(all)) if (!/^(kmbr|cni|docker|veth)/.test(n) && v4(n)) return v4(n);
  return undefined;
}

/** The executor's own cgroup (memory hierarchy; v1), e.g. /kube-mesos-emulator/<container id>; "/" when in none. */
export function ownCgroup(pid: number | 'self' = 'self'): string {
  try {
    for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
      const [, controllers, path] = line.split(':');
      if (controllers?.split(',').includes('memory')) return path || '/';
    }
  } catch {
    // no /proc
  }
  return '/';
}

/** Process start time (clock ticks since boot, /proc/<pid>/stat field 22): with the pid, it names one process. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether that very process (not a later one with the same pid) still runs; zombies count as gone. */
export function processAlive(pid: number, startTime: string | undefined): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    if (/^State:\s+Z/m.test(status)) return false;
  } catch {
    return false;
  }
  return startTime === undefined || processStartTime(pid) === startTime;
}

/** Pids whose command line contains `needle` as one argument or inside one (`-address <sock>`, `--config=<file>`). */
export function pidsByArgument(needle: string): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a === needle || a.endsWith(`=${needle}`) || a.endsWith(`//${needle}`))) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function killPids(pids: readonly number[], signal: NodeJS.Signals = 'SIGKILL'): number {
  let n = 0;
  for (const p of pids) {
    try {
      process.kill(p, signal);
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}

/** Waits until none of `pids` is a live process (zombies count as gone); false on timeout. */
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pids.every((p) => !processAlive(p, undefined))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/** Runs a short command; resolves with its exit code and output (never rejects). */
export function run(cmd: string, args: readonly string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 4 * 2 ** 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (err && !stderr ? err.message : '')) });
    });
  });
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** Deletes a network link if it exists; returns an error message or undefined. */
export async function deleteLink(name: string): Promise<string | undefined> {
  if (!linkExists(name)) return undefined;
  const r = await run('ip', ['link', 'del', name]);
  return r.code === 0 || !linkExists(name) ? undefined : `ip link del ${name}: ${r.stderr.trim()}`;
}

/** Resolves true once a unix socket accepts connections (false after `timeoutMs` or when `signal` aborts). */
export async function waitForSocket(path: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!signal?.aborted) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(path);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50, signal);
  }
  return false;
}

/** libcni's result cache entries of a CNI network (host-global /var/lib/cni/results/<network>-<container>-<ifname>). */
export function removeCniCache(network: string, dir = '/var/lib/cni/results'): number {
  let n = 0;
  try {
    for (const f of readdirSync(dir)) {
      if (f.startsWith(`${network}-`)) {
        rmSync(join(dir, f), { force: true });
        n++;
      }
    }
  } catch {
    // no cache dir
  }
  return n;
}

/** Pods' cgroups left under `<cgroupRoot>/kubepods` in any hierarchy (pod<uid> directories). */
export function podCgroups(cgroupRoot: string, mount = '/sys/fs/cgroup'): string[] {
  const out: string[] = [];
  for (const h of mountedHierarchies(mount)) {
    const base = join(mount, h, cgroupRoot, 'kubepods');
    for (const dir of [base, join(base, 'burstable'), join(base, 'besteffort')]) {
      try {
        for (const e of readdirSync(dir)) if (e.startsWith('pod')) out.push(join(dir, e));
      } catch {
        // not there
      }
    }
  }
  return out;
}

/**
 * runc 1.1 on a hybrid host also puts containers into the v2 `unified` hierarchy, and kubelet 1.20 never removes the pod
 * directories it leaves there. Removes (depth-first, empty ones only) every unified pod cgroup whose v1 memory twin
 * is gone, i.e. whose pod the kubelet has cleaned up. Returns how many directories went.
 */
export function reapUnifiedPodCgroups(cgroupRoot: string, mount = '/sys/fs/cgroup'): number {
  const unified = join(mount, 'unified', cgroupRoot, 'kubepods');
  const memory = join(mount, 'memory', cgroupRoot, 'kubepods');
  let n = 0;
  for (const sub of ['', 'burstable', 'besteffort']) {
    let entries: string[] = [];
    try {
      entries = readdirSync(join(unified, sub));
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.startsWith('pod') || existsSync(join(memory, sub, e))) continue;
      n += rmdirTree(join(unified, sub, e));
    }
  }
  return n;
}

function rmdirTree(dir: string): number {
  let n = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return 0;
  }
  for (const e of entries) n += rmdirTree(join(dir, e));
  try {
    rmdirSync(dir);
    n++;
  } catch {
    // still in use, or gone
  }
  return n;
}
