// Copies non-TypeScript runtime assets (the .proto files, the dashboard page) next to the compiled code.
import { cpSync, existsSync } from 'node:fs';
for (const dir of ['mesos/proto', 'ops/public']) {
  const from = `src/${dir}`;
  if (existsSync(from)) cpSync(from, `dist/${dir}`, { recursive: true, filter: (p) => !p.endsWith('.ts') });
}
