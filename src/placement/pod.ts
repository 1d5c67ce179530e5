import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ANNOTATION_CONSTRAINTS, ANNOTATION_PLACEMENT, ANNOTATION_ROLES, ANNOTATION_SPREAD } from '../names.js';
import {
  parseConstraints,
  parsePlacement,
  parseRoles,
  parseSpread,
} from './annotations.js';
import { isExtendedResourceName } from './filters/extended-resources.js';
import { parseQuantity, round3 } from './quantity.js';
import type { PodDefaults, PodSpecView, Res } from './types.js';

const MB = 2 ** 20;

type Amounts = { cpus?: number; mem?: number; disk?: number };

function amounts(list: Record<string, string> | undefined, what: string): { ok: true; v: Amounts } | { ok: false; reason: string } {
  const v: Amounts = {};
  if (!list) return { ok: true, v };
  const map: [string, keyof Amounts, number][] = [
    ['cpu', 'cpus', 1],
    ['memory', 'mem', MB],
    ['ephemeral-storage', 'disk', MB],
  ];
  for (const [name, key, unit] of map) {
    const raw = list[name];
    if (raw === undefined) continue;
    const q = parseQuantity(raw);
    if (q === undefined || q < 0) return { ok: false, reason: `invalid ${what} ${name}: "${String(raw)}"` };
    v[key] = q / unit;
  }
  return { ok: true, v };
}

/**
 * Normalises a pending pod for plan(). Requests are summed over containers, then raised to the largest init
 * container and increased by the pod overhead, as kube-scheduler computes them; a container without a cpu or
 * memory request gets its limit, else `defaults`. A malformed kube-mesos.io annotation gives { ok: false }.
 */
export function podFromV1(pod: V1Pod, defaults: PodDefaults): { ok: true; pod: PodSpecView } | { ok: false; reason: string } {
  const meta = pod.metadata ?? {};
  const spec = pod.spec;
  const namespace = meta.namespace ?? 'default';
  const name = meta.name ?? '';
  if (!spec) return { ok: false, reason: 'pod has no spec' };
  const annotations = { ...(meta.annotations ?? {}) };

  const sum: Res = { cpus: 0, mem: 0, disk: 0 };
  const lim: Res = { cpus: 0, mem: 0, disk: 0 };
  const limAll = { cpus: true, mem: true, disk: true };
  for (const c of spec.containers ?? []) {
    const r = containerAmounts(c);
    if (!r.ok) return r;
    const { req, limit } = r;
    sum.cpus += req.cpus ?? limit.cpus ?? defaults.cpus;
    sum.mem += req.mem ?? limit.mem ?? defaults.mem;
    sum.disk += req.disk ?? limit.disk ?? 0;
    for (const k of ['cpus', 'mem', 'disk'] as const) {
      if (limit[k] === undefined) limAll[k] = false;
      else lim[k] += limit[k];
    }
  }
  // Init containers run one at a time, next to the sidecars (restartPolicy Always) started before them;
  // sidecars keep running beside the app containers.
  const sidecars: Res = { cpus: 0, mem: 0, disk: 0 };
  const initPeak: Res = { cpus: 0, mem: 0, disk: 0 };
  for (const c of spec.initContainers ?? []) {
    const r = containerAmounts(c);
    if (!r.ok) return r;
    const req: Res = { cpus: r.req.cpus ?? r.limit.cpus ?? 0, mem: r.req.mem ?? r.limit.mem ?? 0, disk: r.req.disk ?? r.limit.disk ?? 0 };
    for (const k of ['cpus', 'mem', 'disk'] as const) {
      if (c.restartPolicy === 'Always') {
        sidecars[k] += req[k];
        initPeak[k] = Math.max(initPeak[k], sidecars[k]);
      } else initPeak[k] = Math.max(initPeak[k], sidecars[k] + req[k]);
    }
  }
  for (const k of ['cpus', 'mem', 'disk'] as const) sum[k] = Math.max(sum[k] + sidecars[k], initPeak[k]);
  const overhead = amounts(spec.overhead as Record<string, string> | undefined, 'overhead');
  if (!overhead.ok) return overhead;
  const requests: Res = {
    cpus: round3(sum.cpus + (overhead.v.cpus ?? 0)),
    mem: round3(sum.mem + (overhead.v.mem ?? 0)),
    disk: round3(sum.disk + (overhead.v.disk ?? 0)),
  };
  const limits: Partial<Res> = {};
  const nContainers = (spec.containers ?? []).length;
  for (const k of ['cpus', 'mem', 'disk'] as const) if (limAll[k] && nContainers > 0) limits[k] = round3(lim[k]);

  const hostPorts: { port: number; protocol: string }[] = [];
  for (const c of spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      if (!Number.isInteger(p.hostPort) || p.hostPort < 1 || p.hostPort > 65535) return { ok: false, reason: `invalid hostPort ${p.hostPort}` };
      hostPorts.push({ port: p.hostPort, protocol: p.protocol ?? 'TCP' });
    }
  }

  let roles = [...defaults.roles];
  const rolesText = annotations[ANNOTATION_ROLES];
  if (rolesText !== undefined) {
    const r = parseRoles(rolesText);
    if (!r.ok) return r;
    roles = r.value;
  }
  let constraints: PodSpecView['constraints'] = [];
  const cText = annotations[ANNOTATION_CONSTRAINTS];
  if (cText !== undefined) {
    const r = parseConstraints(cText);
    if (!r.ok) return r;
    constraints = r.value;
  }
  let spread: PodSpecView['spread'];
  const sText = annotations[ANNOTATION_SPREAD];
  if (sText !== undefined) {
    const r = parseSpread(sText);
    if (!r.ok) return r;
    spread = r.value;
  }
  let scoring: PodSpecView['scoring'];
  const pText = annotations[ANNOTATION_PLACEMENT];
  if (pText !== undefined) {
    const r = parsePlacement(pText);
    if (!r.ok) return r;
    scoring = r.value;
  }

  const ext = extendedRequests(spec.containers ?? [], spec.initContainers ?? []);
  if (!ext.ok) return ext;

  const owners = meta.ownerReferences ?? [];
  const owner = owners.find((o) => o.controller) ?? owners[0];
  const created = meta.creationTimestamp as Date | string | undefined;
  const createdAtMs = created === undefined ? 0 : new Date(created).getTime();

  const view: PodSpecView = {
    key: `${namespace}/${name}`,
    uid: meta.uid ?? `${namespace}/${name}`,
    namespace,
    name,
    labels: { ...(meta.labels ?? {}) },
    annotations,
    ownerUid: owner?.uid,
    ...(owner?.kind ? { ownerKind: owner.kind } : {}),
    ...(ext.v ? { extended: ext.v } : {}),
    ...(spec.preemptionPolicy ? { preemptionPolicy: spec.preemptionPolicy } : {}),
    ...(pod.status?.nominatedNodeName ? { nominatedNodeName: pod.status.nominatedNodeName } : {}),
    priority: spec.priority ?? 0,
    createdAtMs: Number.isNaN(createdAtMs) ? 0 : createdAtMs,
    requests,
    limits,
    hostPorts,
    nodeName: spec.nodeName || undefined,
    nodeSelector: spec.nodeSelector ? { ...spec.nodeSelector } : undefined,
    affinity: spec.affinity,
    tolerations: spec.tolerations ?? [],
    topologySpreadConstraints: spec.topologySpreadConstraints ?? [],
    roles,
    constraints,
    spread,
    scoring,
  };
  return { ok: true, pod: view };
}

function containerAmounts(c: V1Container): { ok: true; req: Amounts; limit: Amounts } | { ok: false; reason: string } {
  const req = amounts(c.resources?.requests as Record<string, string> | undefined, `request of container ${c.name}`);
  if (!req.ok) return req;
  const limit = amounts(c.resources?.limits as Record<string, string> | undefined, `limit of container ${c.name}`);
  if (!limit.ok) return limit;
  return { ok: true, req: req.v, limit: limit.v };
}

/**
 * Extended resources (`nvidia.com/gpu`, `example.com/widget`): whole numbers, a limit alone is the request (the API
 * server defaults it so), summed over containers and raised to the largest init container. undefined = none.
 */
function extendedRequests(containers: V1Container[], inits: V1Container[]): { ok: true; v?: Record<string, number> } | { ok: false; reason: string } {
  const one = (c: V1Container): { ok: true; v: Record<string, number> } | { ok: false; reason: string } => {
    const v: Record<string, number> = {};
    const req = (c.resources?.requests ?? {}) as Record<string, string>;
    const lim = (c.resources?.limits ?? {}) as Record<string, string>;
    for (const name of new Set([...Object.keys(req), ...Object.keys(lim)])) {
      if (!isExtendedResourceName(name)) continue;
      const raw = req[name] ?? lim[name];
      const q = parseQuantity(raw);
      if (q === undefined || q < 0 || !Number.isInteger(q)) return { ok: false, reason: `invalid request of container ${c.name} ${name}: "${String(raw)}" (extended resources are whole numbers)` };
      if (q > 0) v[name] = q;
    }
    return { ok: true, v };
  };
  let sum: Record<string, number> | undefined;
  for (const c of containers) {
    const r = one(c);
    if (!r.ok) return r;
    for (const [k, q] of Object.entries(r.v)) (sum ??= {})[k] = (sum[k] ?? 0) + q;
  }
  for (const c of inits) {
    const r = one(c);
    if (!r.ok) return r;
    for (const [k, q] of Object.entries(r.v)) if (q > (sum?.[k] ?? 0)) (sum ??= {})[k] = q;
  }
  return { ok: true, v: sum };
}
