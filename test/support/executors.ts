// The emulator's executors as processes on this machine: where their sandboxes are and which process runs in each.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { TestSandbox } from './sandbox.js';

export interface StateExecutor {
  id: string;
  framework_id: string;
  directory: string;
  state: string;
  tasks: string[];
  agentId: string;
  hostname: string;
}

/** Every executor the emulator's /state lists, with its agent. */
export async function stateExecutors(t: TestSandbox): Promise<StateExecutor[]> {
  const state = (await (await fetch(`${t.sb.mesosUrl}/state`)).json()) as { slaves: { id: string; hostname: string; executors?: Omit<StateExecutor, 'agentId' | 'hostname'>[] }[] };
  return state.slaves.flatMap((s) => (s.executors ?? []).map((e) => ({ ...e, agentId: s.id, hostname: s.hostname })));
}

/** Processes whose working directory is `dir` (an executor runs in its sandbox), with their command lines. */
export function processesIn(dir: string): { pid: number; cmdline: string[] }[] {
  const out: { pid: number; cmdline: string[] }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/cwd`) !== dir) continue;
      out.push({ pid: Number(e), cmdline: readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}
