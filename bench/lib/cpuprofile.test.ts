// busyStretches: the runs of a CPU profile with no idle sample, and what the event loop was doing in them.
import { describe, expect, it } from '@jest/globals';
import { busyStretches } from './cpuprofile.js';

const frame = (id: number, functionName: string, url = '', children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 9 }, children });

// root → (idle); root → handler (src) → leaf (node internals); root → timer (no src frame)
const nodes = [
  frame(1, '(root)', '', [2, 3, 5]),
  frame(2, '(idle)'),
  frame(3, 'handler', 'file:///work/main/src/emulator/http.ts', [4]),
  frame(4, 'writev', 'node:internal/stream_base_commons'),
  frame(5, 'processTimers', 'node:internal/timers'),
];

function profile(samples: number[], deltaUs: number) {
  return { nodes, startTime: 0, endTime: samples.length * deltaUs, samples, timeDeltas: samples.map(() => deltaUs) };
}

describe('busyStretches', () => {
  it('finds runs without an idle sample that last at least the threshold, with their outermost project frames', () => {
    // 1 ms a sample: idle, 3 busy (handler, handler, timer), idle, 1 busy, idle
    const p = profile([2, 4, 4, 5, 2, 4, 2], 1000);
    const all = busyStretches(p, 0);
    expect(all.map((s) => [s.startMs, s.ms])).toEqual([
      [1, 3],
      [5, 1],
    ]);
    expect(all[0].top).toEqual([
      { name: 'handler src/emulator/http.ts:10', ms: 0, pct: 66.7 },
      { name: 'processTimers node:internal/timers:10', ms: 0, pct: 33.3 },
    ]);
    expect(busyStretches(p, 2).map((s) => s.ms)).toEqual([3]);
    expect(busyStretches(p, 4)).toEqual([]);
  });

  it('counts a run that reaches the end of the profile', () => {
    expect(busyStretches(profile([2, 5, 5], 1000), 1).map((s) => [s.startMs, s.ms])).toEqual([[1, 2]]);
  });
});
