/** CPU and memory of another process from /proc (Linux): the same yardstick for every contender. */
import { readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK) is not reachable from Node). */
const CLK_TCK = 100;

export interface ProcUsage {
  /** utime + stime, seconds. */
  cpuSeconds: number;
  /** Peak resident set (VmHWM), MiB. */
  peakRssMb: number;
  rssMb: number;
}

/** Undefined when the process is gone. */
export function procUsage(pid: number): ProcUsage | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes comm: state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(f[11]) + Number(f[12])) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { cpuSeconds, peakRssMb: Math.round(kb('VmHWM') / 1024), rssMb: Math.round(kb('VmRSS') / 1024) };
  } catch {
    return undefined;
  }
}

/** Difference of two readings; the peak is the later reading's (VmHWM only grows). */
export function usageSince(before: ProcUsage, after: ProcUsage): ProcUsage {
  return { cpuSeconds: Math.round((after.cpuSeconds - before.cpuSeconds) * 100) / 100, peakRssMb: after.peakRssMb, rssMb: after.rssMb };
}
