/**
 * CPU profile of this process through an inspector session, written with positions mapped back to the TypeScript
 * sources: tsx compiles each module onto one line, so `node --cpu-prof` alone would report every function at line 1.
 * Needs source maps enabled (`--enable-source-maps`).
 */
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface Profiler {
  /** Stops, maps positions, writes the .cpuprofile. */
  stop(): Promise<void>;
}

export async function startProfiler(file: string): Promise<Profiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      for (const n of profile.nodes) mapFrame(n.callFrame as CallFrame);
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}

function mapFrame(f: CallFrame): void {
  if (!f.url.endsWith('.ts')) return;
  const map = findSourceMap(f.url) ?? (f.url.startsWith('file:') ? findSourceMap(fileURLToPath(f.url)) : undefined);
  if (!map) return;
  const e = map.findEntry(f.lineNumber, f.columnNumber) as { originalLine?: number; originalColumn?: number };
  if (e.originalLine === undefined) return;
  f.lineNumber = e.originalLine;
  f.columnNumber = e.originalColumn ?? 0;
}
