// Regenerates charts/kube-mesos/values.schema.json from the config schema: `npx tsx src/config/gen-schema.ts` (run from the repository root).
import { writeFileSync } from 'node:fs';
import { renderValuesSchema } from './values-schema.js';

writeFileSync(new URL('../../charts/kube-mesos/values.schema.json', import.meta.url), renderValuesSchema());
