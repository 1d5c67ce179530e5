import { describe, expect, it } from '@jest/globals';
import type { Logger } from 'pino';
import { logUnknownEnumsOnce } from './unknown-enums.js';

describe('logUnknownEnumsOnce', () => {
  it('logs each unknown value once, naming the enum and the value', () => {
    const lines: [unknown, string][] = [];
    const log = { warn: (o: unknown, m: string) => lines.push([o, m]) } as unknown as Logger;
    const report = logUnknownEnumsOnce(log, 'Mesos master');
    for (let i = 0; i < 3; i++) {
      report({ enum: 'mesos.v1.TaskState', value: 99 });
      report({ enum: 'mesos.v1.TaskStatus.Reason', value: 'REASON_NEW' });
    }
    expect(lines).toEqual([
      [{ enum: 'mesos.v1.TaskState', value: 99 }, 'Mesos master sent a mesos.v1.TaskState value this version does not know; kept as is'],
      [{ enum: 'mesos.v1.TaskStatus.Reason', value: 'REASON_NEW' }, 'Mesos master sent a mesos.v1.TaskStatus.Reason value this version does not know; kept as is'],
    ]);
  });
});
