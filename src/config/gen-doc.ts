// Regenerates docs/configuration.md from the schema: `npx tsx src/config/gen-doc.ts` (run from the repository root).
import { writeFileSync } from 'node:fs';
import { renderConfigDoc } from './doc.js';

writeFileSync(new URL('../../docs/configuration.md', import.meta.url), renderConfigDoc());
