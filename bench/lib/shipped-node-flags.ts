/**
 * The Node flags the image runs kube-mesos with (the Dockerfile's `ENV NODE_OPTIONS=`), so that the benchmarks measure
 * what ships rather than a copy that could drift.
 */
import { readFileSync } from 'node:fs';

export function shippedNodeFlags(dockerfile = new URL('../../Dockerfile', import.meta.url)): string[] {
  const text = readFileSync(dockerfile, 'utf8');
  const m = /^ENV NODE_OPTIONS=(.*)$/m.exec(text);
  return m ? m[1].trim().replace(/^"|"$/g, '').split(/\s+/).filter(Boolean) : [];
}
