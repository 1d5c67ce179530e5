// Kubernetes resource.Quantity text → number, for requests and limits: the config's parser, as a plain value.
import { parseQuantity as parseQuantityResult } from '../config/quantity.js';

/** Parses '250m', '1.5', '256Mi', '1e3' into base units; undefined when it is not a quantity. */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  const r = parseQuantityResult(q);
  return r.ok ? r.value : undefined;
}

/** Mesos scalars carry three decimals; rounding keeps sums and differences exact enough to compare. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
