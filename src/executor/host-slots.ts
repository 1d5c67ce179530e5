/**
 * Host slots: several agents' kubelets on one host (the sandbox; a real agent holds one) each need a distinct bridge,
 * pod subnet, ports and socket directory. A slot is a file `<runtimeDir>/slots/slot-N.json` created exclusively by the
 * executor that holds it, naming that process (pid + start time) and what it made on the host. A slot whose holder is
 * gone (killed with its container, crashed) is stale: whoever claims it next first removes what the holder left —
 * processes, pod cgroups, bridge, IPAM leases — so nothing outlives an executor for longer than the next claim or
 * `sweepStaleSlots()`.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_SLOT } from './node-config.js';
import { deleteLink, killPids, pidsByArgument, pidsIn, processAlive, processStartTime, removeCgroupTree, removeCniCache, waitGone } from './node-host.js';

export interface SlotRecord {
  slot: number;
  pid: number;
  startTime?: string;
  executorId: string;
  nodeName: string;
  /** The containerd socket (shims and the kubelet name it) and config file (containerd names it). */
  socket: string;
  containerdConfig: string;
  /** The kubelet's cgroup root; its `kubepods` subtree is removed. */
  cgroupRoot: string;
  /** Cgroup directories the executor created for that root (outside any container), removed deepest first. */
  createdCgroups: string[];
  bridge: string;
  network: string;
  ipamDir: string;
  /** Sockets and runc state. */
  runDir: string;
  /** The kubelet's root dir and whatever else is kept per slot on disk. */
  stateDir: string;
}

export type Claim = { ok: true; slot: number; reclaimed?: SlotRecord; cleanup?: CleanupReport } | { ok: false; error: string };

export interface CleanupReport {
  killed: number;
  cgroupsLeft: string[];
  problems: string[];
}

const slotFile = (runtimeDir: string, n: number) => join(runtimeDir, 'slots', `slot-${n}.json`);

function readRecord(path: string): SlotRecord | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SlotRecord;
  } catch {
    return undefined;
  }
}

export function holderAlive(r: SlotRecord): boolean {
  return processAlive(r.pid, r.startTime);
}

/**
 * Claims the lowest free slot for `record(slot)`; `usable(slot)` can veto one (its ports taken by something else).
 * A stale slot is cleaned up (see module comment) before it is taken.
 */
export async function claimSlot(runtimeDir: string, record: (slot: number) => Omit<SlotRecord, 'pid' | 'startTime'>, usable: (slot: number) => Promise<boolean>): Promise<Claim> {
  mkdirSync(join(runtimeDir, 'slots'), { recursive: true });
  const me = { pid: process.pid, startTime: processStartTime(process.pid) };
  for (let n = 1; n <= MAX_SLOT; n++) {
    const path = slotFile(runtimeDir, n);
    let reclaimed: SlotRecord | undefined;
    let cleanup: CleanupReport | undefined;
    const existing = readRecord(path);
    if (existing) {
      if (holderAlive(existing)) continue;
      // Stale: take it over atomically (one rename wins), clean up after the dead holder, then claim afresh.
      const grave = `${path}.reclaim-${process.pid}`;
      try {
        renameSync(path, grave);
      } catch {
        continue;
      }
      cleanup = await cleanupSlot(existing);
      rmSync(grave, { force: true });
      reclaimed = existing;
    }
    if (!(await usable(n))) continue;
    try {
      writeFileSync(path, JSON.stringify({ ...record(n), ...me }, null, 2) + '\n', { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      return { ok: false, error: `cannot claim host slot ${n} in ${runtimeDir}: ${(err as Error).message}` };
    }
    return { ok: true, slot: n, reclaimed, cleanup };
  }
  return { ok: false, error: `every host slot (1..${MAX_SLOT}) in ${runtimeDir} is taken` };
}

/** Rewrites this executor's slot record (e.g. once it knows what it created). */
export function updateSlot(runtimeDir: string, rec: SlotRecord): void {
  writeFileSync(slotFile(runtimeDir, rec.slot), JSON.stringify(rec, null, 2) + '\n');
}

export function releaseSlot(runtimeDir: string, slot: number): void {
  const path = slotFile(runtimeDir, slot);
  const r = readRecord(path);
  if (r && r.pid === process.pid) rmSync(path, { force: true });
}

/**
 * Removes everything a slot's holder made on the host: the processes of its pods, runtime and kubelet (SIGKILL), its
 * pods' cgroups (and the cgroup root if it created it), its bridge, IPAM leases, CNI cache entries and socket dir.
 */
export async function cleanupSlot(r: SlotRecord): Promise<CleanupReport> {
  const problems: string[] = [];
  const pods = `${r.cgroupRoot.replace(/\/$/, '')}/kubepods`;
  const pids = new Set<number>();
  for (const h of ['memory', 'cpu', 'pids', 'freezer']) for (const p of pidsIn(join('/sys/fs/cgroup', h, pods))) pids.add(p);
  for (const p of [...pidsByArgument(r.socket), ...pidsByArgument(r.containerdConfig)]) pids.add(p);
  pids.delete(process.pid);
  const killed = killPids([...pids]);
  if (!(await waitGone([...pids], 10_000))) problems.push(`processes still running after SIGKILL: ${[...pids].filter((p) => processAlive(p, undefined)).join(', ')}`);
  const cgroupsLeft = [...removeCgroupTree(pods), ...rmdirAll([...r.createdCgroups].reverse())];
  const link = await deleteLink(r.bridge);
  if (link) problems.push(link);
  removeCniCache(r.network);
  for (const d of [r.ipamDir, r.runDir, r.stateDir]) if (d) rmSync(d, { recursive: true, force: true });
  return { killed, cgroupsLeft, problems };
}

function rmdirAll(dirs: string[]): string[] {
  const left: string[] = [];
  for (const d of dirs) {
    try {
      // rmdir(2): cgroup directories hold only virtual files and cannot be removed recursively.
      rmdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(d);
    }
  }
  return left;
}

/** Cleans every stale slot (holder gone) in `runtimeDir`: for the sandbox's stop and for operators. */
/** Slots whose holder (an executor) is alive. */
export function liveSlots(runtimeDir: string): SlotRecord[] {
  let files: string[] = [];
  try {
    files = readdirSync(join(runtimeDir, 'slots'));
  } catch {
    return [];
  }
  return files.flatMap((f) => {
    if (!/^slot-\d+\.json$/.test(f)) return [];
    const r = readRecord(join(runtimeDir, 'slots', f));
    return r && holderAlive(r) ? [r] : [];
  });
}

export async function sweepStaleSlots(runtimeDir: string): Promise<{ swept: SlotRecord[]; reports: CleanupReport[] }> {
  const swept: SlotRecord[] = [];
  const reports: CleanupReport[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(join(runtimeDir, 'slots'));
  } catch {
    return { swept, reports };
  }
  for (const f of files) {
    if (!/^slot-\d+\.json$/.test(f)) continue;
    const path = join(runtimeDir, 'slots', f);
    const r = readRecord(path);
    if (!r || holderAlive(r)) continue;
    const grave = `${path}.reclaim-${process.pid}`;
    try {
      renameSync(path, grave);
    } catch {
      continue;
    }
    reports.push(await cleanupSlot(r));
    rmSync(grave, { force: true });
    swept.push(r);
  }
  return { swept, reports };
}
