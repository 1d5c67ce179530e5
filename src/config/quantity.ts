/**
 * Kubernetes resource quantities (`250m`, `1.5`, `256Mi`, `1G`, `2e3`) as plain numbers.
 * client-node's `quantityToScalar` is not exported from the package root, throws, and rejects `1.5Gi`; this one returns values.
 */
export type QuantityResult = { ok: true; value: number } | { ok: false; error: string };

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

// Same grammar as k8s.io/apimachinery resource.Quantity: sign, number, then a binary/decimal suffix or a decimal exponent.
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

export function parseQuantity(input: string | number): QuantityResult {
  if (typeof input === 'number') {
    return Number.isFinite(input) ? { ok: true, value: input } : { ok: false, error: `${input} is not a quantity` };
  }
  const m = QUANTITY.exec(input.trim());
  if (!m) return { ok: false, error: `"${input}" is not a Kubernetes quantity (expected e.g. 250m, 0.5, 128Mi, 1Gi)` };
  const [, sign, digits, exponent, suffix] = m;
  const base = Number(digits) * (sign === '-' ? -1 : 1);
  const value = exponent !== undefined ? base * 10 ** Number(exponent.slice(1)) : base * SUFFIX[suffix ?? ''];
  if (!Number.isFinite(value)) return { ok: false, error: `"${input}" is out of range` };
  return { ok: true, value };
}

/** CPU quantity in cores (`250m` → 0.25), rounded to millicores as Kubernetes does. */
export function cpuCores(input: string | number): QuantityResult {
  const r = parseQuantity(input);
  return r.ok ? { ok: true, value: Math.ceil(Math.round(r.value * 1e9) / 1e6) / 1000 } : r;
}

/** Memory quantity in Mesos megabytes (MiB: `256Mi` → 256, `1Gi` → 1024, `1G` → 953.67…). */
export function memMegabytes(input: string | number): QuantityResult {
  const r = parseQuantity(input);
  return r.ok ? { ok: true, value: r.value / 2 ** 20 } : r;
}

/** Formats a number of MiB back as a short quantity (`128` → `128Mi`, `2048` → `2Gi`). */
export function formatMegabytes(mb: number): string {
  if (mb >= 1024 && mb % 1024 === 0) return `${mb / 1024}Gi`;
  return Number.isInteger(mb) ? `${mb}Mi` : `${Math.round(mb * 2 ** 20)}`;
}

/** Formats cores as Kubernetes writes CPU (`0.25` → `250m`, `2` → `2`). */
export function formatCores(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}
