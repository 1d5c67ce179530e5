// Regenerates docs/metrics.md from the metric definitions: `npx tsx src/ops/gen-metrics-doc.ts` (run from the repository root).
import { writeFileSync } from 'node:fs';
import { renderMetricsDoc } from './metrics-doc.js';

writeFileSync(new URL('../../docs/metrics.md', import.meta.url), renderMetricsDoc());
