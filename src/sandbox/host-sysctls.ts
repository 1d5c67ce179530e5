/**
 * The host settings a real kubelet changes (pkg/kubelet/cm setupKernelTunables: `vm.overcommit_memory=1`,
 * `vm.panic_on_oom=0`, `kernel.panic=10`, `kernel.panic_on_oops=1`, the root key quotas) and the CNI bridge turns on
 * (`net.ipv4.ip_forward`), saved before the sandbox's first real kubelet and put back when the last sandbox using this
 * runtime directory stops. Several sandboxes (the test suites) may share the host: each registers itself under
 * `<runtimeDir>/sysctl-users/<pid>`, the first one saves, the last one restores — and only once no executor holds a host
 * slot any more (a kubelet still running keeps its settings; the saved values wait for the next sandbox to stop).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../executor/node-host.js';

export const KUBELET_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
  'net/ipv4/ip_forward',
] as const;

export interface SysctlGuardOptions {
  runtimeDir: string;
  /** /proc/sys, or a directory standing in for it (tests). */
  procSys?: string;
  pid?: number;
  /** Whether a process is alive (tests inject one). */
  alive?: (pid: number) => boolean;
  /** Whether some executor still holds a host slot (its kubelet may run). */
  slotsInUse: () => boolean;
}

export interface RestoreReport {
  restored: string[];
  failed: string[];
  /** Why nothing was restored: another sandbox or a live slot still needs the settings. */
  skipped?: string;
}

/** The values now, by sysctl path; unreadable ones are left out. */
export function readSysctls(procSys = '/proc/sys'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of KUBELET_SYSCTLS) {
    try {
      out[k] = readFileSync(join(procSys, k), 'utf8').trim();
    } catch {
      // not on this kernel, or not readable: nothing to restore
    }
  }
  return out;
}

export class SysctlGuard {
  private readonly procSys: string;
  private readonly pid: number;
  private readonly alive: (pid: number) => boolean;
  private readonly usersDir: string;
  private readonly savedFile: string;

  constructor(private readonly o: SysctlGuardOptions) {
    this.procSys = o.procSys ?? '/proc/sys';
    this.pid = o.pid ?? process.pid;
    this.alive = o.alive ?? ((pid) => processAlive(pid, undefined));
    this.usersDir = join(o.runtimeDir, 'sysctl-users');
    this.savedFile = join(o.runtimeDir, 'host-sysctls.json');
  }

  /** Registers this sandbox; the first one (no other live user) saves the host's values. */
  enter(): void {
    mkdirSync(this.usersDir, { recursive: true });
    // Saved values stay until a restore used them (a sandbox that left while slots were in use keeps them there).
    const others = this.liveUsers().filter((p) => p !== this.pid);
    if (others.length === 0 && !this.o.slotsInUse() && !existsSync(this.savedFile)) writeFileSync(this.savedFile, JSON.stringify(readSysctls(this.procSys)) + '\n');
    writeFileSync(join(this.usersDir, String(this.pid)), '');
  }

  /** Unregisters; the last one out restores the saved values (once no slot is in use). */
  leave(): RestoreReport {
    rmSync(join(this.usersDir, String(this.pid)), { force: true });
    if (this.liveUsers().length > 0) return { restored: [], failed: [], skipped: 'another sandbox still runs real kubelets' };
    if (this.o.slotsInUse()) return { restored: [], failed: [], skipped: 'an executor still holds a host slot' };
    let saved: Record<string, string>;
    try {
      saved = JSON.parse(readFileSync(this.savedFile, 'utf8')) as Record<string, string>;
    } catch {
      return { restored: [], failed: [], skipped: 'no saved values' };
    }
    const report: RestoreReport = { restored: [], failed: [] };
    const now = readSysctls(this.procSys);
    for (const k of KUBELET_SYSCTLS) {
      const want = saved[k];
      if (want === undefined || now[k] === want) continue;
      try {
        writeFileSync(join(this.procSys, k), want);
        report.restored.push(`${k.replaceAll('/', '.')}=${want}`);
      } catch (err) {
        report.failed.push(`${k.replaceAll('/', '.')}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    rmSync(this.savedFile, { force: true });
    return report;
  }

  private liveUsers(): number[] {
    let names: string[] = [];
    try {
      names = readdirSync(this.usersDir);
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const n of names) {
      const pid = Number(n);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      if (this.alive(pid)) out.push(pid);
      else rmSync(join(this.usersDir, n), { force: true }); // a sandbox that died without leaving
    }
    return out;
  }
}
