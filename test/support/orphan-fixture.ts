// Used by src/controlplane/child.test.ts: starts a ManagedProcess, prints its pid, then waits to be SIGKILLed.
import { ManagedProcess } from '../../src/controlplane/child.js';

const p = new ManagedProcess({ name: 'sleeper', cmd: 'sleep', args: ['300'], logFile: process.argv[2] });
p.start();
process.stdout.write(`${p.pid}\n`);
setInterval(() => {}, 1000);
