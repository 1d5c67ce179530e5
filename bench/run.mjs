// Runs every bench/*.bench.ts in turn (through tsx), each printing one JSON line of figures.
// `npm run bench -- placement` runs only the benchmarks whose file name contains "placement".
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const filter = process.argv[2] ?? '';
const files = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.bench.ts') && f.includes(filter))
  .sort();
let failed = 0;
for (const f of files) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `bench/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`bench/${f} exited with ${r.status}`);
  }
}
process.exit(failed ? 1 : 0);
