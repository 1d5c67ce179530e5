/**
 * cgroup v1 containers for `process` mode, as a Mesos agent's cgroups isolators make them: one cgroup per executor in
 * every mounted hierarchy, sized to the executor's plus its live tasks' resources (cpu.shares, memory limits), the
 * executor placed in it before it runs anything, and destroyed by freezing it, killing every process in it and its
 * descendants, and removing the whole subtree. A kubelet started inside nests its pods below (its cgroup root must
 * exist in every hierarchy it checks, and a fresh cpuset cgroup needs cpus and mems copied from its parent).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource, TaskInfo } from './proto-types.js';

export const CGROUP_MOUNT = '/sys/fs/cgroup';
/**
 * Hierarchies a container is made in. cpu and memory enforce what Mesos allocated; the kubelet checks cpuacct, cpuset,
 * pids and name=systemd too; freezer stops forks while the container is destroyed; `unified` (the v2 mount of a hybrid
 * host) is where runc also puts containers, so the subtree must be removable there as well.
 */
export const CONTAINER_HIERARCHIES = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'devices', 'freezer', 'blkio', 'systemd', 'unified'] as const;

/** What a container is sized to. */
export interface ContainerSize {
  /** cpu.shares = 1024 per cpu (weight only: Mesos sets no CFS quota unless --cgroups_enable_cfs). */
  cpus: number;
  /** memory.limit_in_bytes: requests, or a task's limit where it is higher (Infinity = unlimited). */
  memLimitBytes: number;
  /** memory.soft_limit_in_bytes: the requests. */
  memSoftBytes: number;
}

const MiB = 2 ** 20;
/** Mesos' MIN_MEMORY for a container. */
const MIN_MEM_BYTES = 32 * MiB;
const MIN_CPU_SHARES = 2;

function scalar(resources: readonly Resource[] | undefined, name: string): number {
  return (resources ?? []).filter((r) => r.name === name).reduce((s, r) => s + (r.scalar?.value ?? 0), 0);
}

/**
 * The container of an executor holding `tasks` (those whose resources it still holds), as Mesos' cgroups isolators size
 * it: requests add up; a task limit above its request raises the hard memory limit (an infinite one lifts it). Pure.
 */
export function containerSize(executorResources: readonly Resource[] | undefined, tasks: readonly Pick<TaskInfo, 'resources' | 'limits'>[]): ContainerSize {
  let cpus = scalar(executorResources, 'cpus');
  const execMem = scalar(executorResources, 'mem') * MiB;
  let soft = execMem;
  let hard = execMem;
  for (const t of tasks) {
    cpus += scalar(t.resources, 'cpus');
    const req = scalar(t.resources, 'mem') * MiB;
    soft += req;
    const limit = t.limits?.mem?.value;
    hard += limit === undefined ? req : limit === Infinity ? Infinity : Math.max(req, limit * MiB);
  }
  return { cpus, memLimitBytes: hard === Infinity ? Infinity : Math.max(MIN_MEM_BYTES, Math.round(hard)), memSoftBytes: Math.max(MIN_MEM_BYTES, Math.round(soft)) };
}

/** The cgroup files to write for a size. Pure. */
export function sizeWrites(size: ContainerSize): { hierarchy: 'cpu' | 'memory'; file: string; value: string }[] {
  return [
    { hierarchy: 'cpu', file: 'cpu.shares', value: String(Math.max(MIN_CPU_SHARES, Math.round(size.cpus * 1024))) },
    { hierarchy: 'memory', file: 'memory.soft_limit_in_bytes', value: String(size.memSoftBytes) },
    { hierarchy: 'memory', file: 'memory.limit_in_bytes', value: size.memLimitBytes === Infinity ? '-1' : String(size.memLimitBytes) },
  ];
}

/** Whether cgroup v1 cpu and memory hierarchies are mounted and writable here (root on a v1 or hybrid host). */
export function cgroupsV1Available(mount = CGROUP_MOUNT): { ok: true } | { ok: false; reason: string } {
  for (const h of ['cpu', 'memory']) {
    if (!existsSync(join(mount, h, 'cgroup.procs'))) return { ok: false, reason: `no cgroup v1 ${h} hierarchy at ${join(mount, h)}` };
  }
  if (process.getuid?.() !== 0) return { ok: false, reason: 'cgroup containers need root' };
  return { ok: true };
}

/** Hierarchies mounted under `mount` (of CONTAINER_HIERARCHIES). */
export function mountedHierarchies(mount = CGROUP_MOUNT): string[] {
  return CONTAINER_HIERARCHIES.filter((h) => existsSync(join(mount, h, 'cgroup.procs')));
}

/**
 * Creates `path` (absolute within each hierarchy, e.g. /kube-mesos/<id>) in every mounted hierarchy, level by level;
 * new cpuset levels get their parent's cpus and mems. Returns the directories it created, deepest last.
 */
export function createCgroupPath(path: string, mount = CGROUP_MOUNT): string[] {
  const created: string[] = [];
  const parts = path.split('/').filter(Boolean);
  for (const h of mountedHierarchies(mount)) {
    let dir = join(mount, h);
    for (const part of parts) {
      const parent = dir;
      dir = join(dir, part);
      if (existsSync(dir)) continue;
      try {
        mkdirSync(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      created.push(dir);
      if (h === 'cpuset') {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, f), readFileSync(join(parent, f), 'utf8').trim() || '\n');
      }
    }
  }
  return created;
}

/** `dir` and every cgroup directory below it, deepest first. */
function subtree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const child = join(d, e);
      try {
        if (statSync(child).isDirectory()) walk(child);
      } catch {
        // raced with a removal
      }
    }
    out.push(d);
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Pids in the cgroup `dir` and every descendant. */
export function pidsIn(dir: string): number[] {
  const pids = new Set<number>();
  for (const d of subtree(dir)) {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line.trim()) pids.add(Number(line));
    } catch {
      // gone meanwhile
    }
  }
  return [...pids];
}

function tryWrite(file: string, value: string): string | undefined {
  try {
    writeFileSync(file, value);
    return undefined;
  } catch (err) {
    return `${file}: ${(err as Error).message}`;
  }
}

/**
 * Kills every process of the container (all hierarchies, all descendants): freezes it so nothing forks meanwhile,
 * SIGKILLs, thaws. Synchronous, so it also works from a process 'exit' handler. Returns how many pids it signalled.
 */
export function killContainer(path: string, mount = CGROUP_MOUNT): number {
  const freezer = join(mount, 'freezer', path);
  const frozen = existsSync(join(freezer, 'freezer.state')) && tryWrite(join(freezer, 'freezer.state'), 'FROZEN') === undefined;
  const pids = new Set<number>();
  for (const h of mountedHierarchies(mount)) for (const p of pidsIn(join(mount, h, path))) pids.add(p);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (frozen) tryWrite(join(freezer, 'freezer.state'), 'THAWED');
  return pids.size;
}

/** Removes the container's cgroup subtree in every hierarchy (deepest first); returns the directories still there. */
export function removeCgroupTree(path: string, mount = CGROUP_MOUNT): string[] {
  const left: string[] = [];
  for (const h of mountedHierarchies(mount)) {
    for (const d of subtree(join(mount, h, path))) {
      try {
        rmdirSync(d);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(d);
      }
    }
  }
  return left;
}

/** Removes the `depth` levels above the container (e.g. /kube-mesos-emulator) where they are empty, in every hierarchy. */
export function removeEmptyParents(path: string, depth: number, mount = CGROUP_MOUNT): void {
  const parts = path.split('/').filter(Boolean);
  for (const h of mountedHierarchies(mount)) {
    // parts[0..i] is the i-th ancestor level; the container itself is parts.length - 1
    for (let i = parts.length - 2; i >= Math.max(0, parts.length - 1 - depth); i--) {
      try {
        rmdirSync(join(mount, h, ...parts.slice(0, i + 1)));
      } catch {
        break;
      }
    }
  }
}

export interface CgroupContainerOptions {
  /** The container's path in every hierarchy, e.g. /kube-mesos-emulator/<container id>. */
  path: string;
  mount?: string;
  /** Called with problems that do not stop the container (a limit the kernel refused, a cgroup that would not go). */
  warn?: (message: string, detail?: Record<string, unknown>) => void;
}

/**
 * One executor's container. create() before the executor starts; joinScript() is the shell prefix that moves the
 * starting shell into it (so nothing the executor forks escapes); resize() on every launch and terminal update;
 * destroy() kills everything in it and removes it.
 */
export class CgroupContainer {
  readonly path: string;
  private readonly mount: string;
  private readonly warn: NonNullable<CgroupContainerOptions['warn']>;
  private destroyed = false;

  constructor(opts: CgroupContainerOptions) {
    if (!opts.path.startsWith('/') || opts.path.split('/').filter(Boolean).length < 2 || opts.path.includes('..')) {
      throw new TypeError(`CgroupContainer: path "${opts.path}" must be absolute, at least two levels deep and without ".."`);
    }
    this.path = opts.path;
    this.mount = opts.mount ?? CGROUP_MOUNT;
    this.warn = opts.warn ?? (() => {});
  }

  create(size: ContainerSize): void {
    createCgroupPath(this.path, this.mount);
    this.resize(size);
  }

  /** `echo $$ > <h>/cgroup.procs` for every hierarchy: prefix of the `sh -c` script that becomes the executor. */
  joinScript(): string {
    return mountedHierarchies(this.mount)
      .map((h) => `echo $$ > '${join(this.mount, h, this.path, 'cgroup.procs')}'`)
      .join(' && ');
  }

  /** The cpus of the last size written (0 once destroyed). */
  cpus = 0;

  resize(size: ContainerSize): void {
    if (this.destroyed) return;
    this.cpus = size.cpus;
    const problems: string[] = [];
    // Raising the hard limit before the soft one and shrinking in the other order would matter only for memsw; the
    // kernel refuses a hard limit below current usage (EBUSY) after trying to reclaim: keep the old one then.
    for (const w of sizeWrites(size)) {
      const p = tryWrite(join(this.mount, w.hierarchy, this.path, w.file), w.value);
      if (p) problems.push(p);
    }
    if (problems.length) this.warn('container resize incomplete', { path: this.path, problems });
  }

  /** Pids inside the container (any hierarchy, any depth). */
  pids(): number[] {
    const all = new Set<number>();
    for (const h of mountedHierarchies(this.mount)) for (const p of pidsIn(join(this.mount, h, this.path))) all.add(p);
    return [...all];
  }

  /** SIGKILL everything now (synchronous). */
  killAll(): number {
    return killContainer(this.path, this.mount);
  }

  /** Kills everything, waits for the processes to be gone (up to `timeoutMs`), removes the cgroups. Idempotent. */
  async destroy(timeoutMs = 10_000): Promise<{ left: string[] }> {
    this.destroyed = true;
    this.cpus = 0;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.killAll();
      const left = removeCgroupTree(this.path, this.mount);
      if (left.length === 0) {
        removeEmptyParents(this.path, this.path.split('/').filter(Boolean).length - 1, this.mount);
        return { left };
      }
      if (Date.now() >= deadline) {
        this.warn('container cgroups left behind', { path: this.path, left, pids: this.pids() });
        return { left };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Weighs the containers' common parent (e.g. /kube-mesos-emulator) as the cpus they hold: in cgroup v1 a group competes
 * with every process outside it as one entity of its cpu.shares, so at the default 1024 all executors together would
 * get one process's worth of a busy host. Never below the default.
 */
export function weighParent(root: string, cpus: number, mount = CGROUP_MOUNT): string | undefined {
  const file = join(mount, 'cpu', root, 'cpu.shares');
  if (!existsSync(file)) return undefined;
  return tryWrite(file, String(Math.max(1024, Math.round(cpus * 1024))));
}
