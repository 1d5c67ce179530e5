import type { V1Taint } from '@kubernetes/client-node';
import { parseDuration } from '../config/duration.js';

/** What the scheduler tells the executor through ExecutorInfo.command.environment (the contract in the executor brief). */
export interface ExecutorEnv {
  nodeName: string;
  labels: Record<string, string>;
  taints: V1Taint[];
  /** Node capacity as Kubernetes quantities: cpu, memory, pods (and whatever else Mesos offered). */
  capacity: Record<string, string>;
  /** A shared kubeconfig (pool.executorKubeconfig, insecure opt-out); absent: the executor obtains its node certificate. */
  kubeconfig: string | undefined;
  /** How long the executor waits for its node certificate before its tasks fail. */
  certificateTimeoutMs: number;
  kubeletMode: 'hollow' | 'real';
  kubeletCommand: string | undefined;
  logLevel: string;
  /** The scheduler's name (optional): lets in-process executors share one informer over just its pods. */
  schedulerName: string | undefined;
  /** placement.bindOnAccept: the scheduler binds on the ACCEPT's answer, so a launch is not reported TASK_STARTING. */
  noTaskStarting?: boolean;
  /** Real mode only: flags appended to the computed kubelet flags (pool.kubeletExtraFlags). */
  kubeletExtraFlags?: string[];
  /** Real mode only: how the kubelet process is kept running. */
  kubeletSupervision?: KubeletSupervisionEnv;
}

/** Restart policy of the real kubelet: give up after more than `maxRestarts` exits within `restartWindowMs`. */
export interface KubeletSupervisionEnv {
  maxRestarts: number;
  restartWindowMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** SIGTERM → SIGKILL grace when the kubelet is stopped. */
  stopGraceMs: number;
}

export const KUBELET_SUPERVISION_DEFAULTS: KubeletSupervisionEnv = {
  maxRestarts: 5,
  restartWindowMs: 5 * 60_000,
  backoffInitialMs: 1000,
  backoffMaxMs: 30_000,
  stopGraceMs: 10_000,
};

export type EnvResult = { ok: true; value: ExecutorEnv } | { ok: false; errors: string[] };

export const ENV = {
  nodeName: 'KUBE_MESOS_NODE_NAME',
  labels: 'KUBE_MESOS_NODE_LABELS',
  taints: 'KUBE_MESOS_NODE_TAINTS',
  capacity: 'KUBE_MESOS_NODE_CAPACITY',
  kubeconfig: 'KUBE_MESOS_KUBECONFIG',
  certificateTimeout: 'KUBE_MESOS_NODE_CERTIFICATE_TIMEOUT',
  kubeletMode: 'KUBE_MESOS_KUBELET_MODE',
  kubeletCommand: 'KUBE_MESOS_KUBELET_COMMAND',
  logLevel: 'KUBE_MESOS_LOG_LEVEL',
  schedulerName: 'KUBE_MESOS_SCHEDULER_NAME',
  kubeletExtraFlags: 'KUBE_MESOS_KUBELET_EXTRA_FLAGS',
  kubeletMaxRestarts: 'KUBE_MESOS_KUBELET_MAX_RESTARTS',
  kubeletRestartWindow: 'KUBE_MESOS_KUBELET_RESTART_WINDOW',
  kubeletBackoff: 'KUBE_MESOS_KUBELET_BACKOFF',
  kubeletBackoffMax: 'KUBE_MESOS_KUBELET_BACKOFF_MAX',
  kubeletStopGrace: 'KUBE_MESOS_KUBELET_STOP_GRACE',
  noTaskStarting: 'KUBE_MESOS_NO_TASK_STARTING',
} as const;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?)$/;
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/;
const TAINT_EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Kubernetes' rule for label keys: optional DNS-subdomain prefix (≤253) + '/' + name (≤63). Returns an error or undefined. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return `label key "${key}" has an invalid prefix`;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) return `label key "${key}" is not a valid label name`;
  return undefined;
}

export function labelValueError(key: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return `label "${key}" must have a string value`;
  if (value.length > 63 || !LABEL_VALUE.test(value)) return `label "${key}" has an invalid value "${value}"`;
  return undefined;
}

export function isQuantity(s: string): boolean {
  return QUANTITY.test(s);
}

function parseJson(name: string, raw: string, errors: string[]): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    errors.push(`${name} is not valid JSON: ${(err as Error).message}`);
    return undefined;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and validates the KUBE_MESOS_* variables; every problem is reported, each naming its variable. Pure. */
export function parseExecutorEnv(env: Record<string, string | undefined>): EnvResult {
  const errors: string[] = [];
  const nodeName = env[ENV.nodeName]?.trim() ?? '';
  if (nodeName === '') errors.push(`${ENV.nodeName} is not set`);
  else if (nodeName.length > 253 || !DNS_SUBDOMAIN.test(nodeName)) errors.push(`${ENV.nodeName}="${nodeName}" is not a valid node name (lower-case DNS subdomain)`);

  const labels: Record<string, string> = {};
  const rawLabels = env[ENV.labels];
  if (rawLabels !== undefined && rawLabels.trim() !== '') {
    const parsed = parseJson(ENV.labels, rawLabels, errors);
    if (parsed !== undefined && !isPlainObject(parsed)) errors.push(`${ENV.labels} must be a JSON object of label → value`);
    else if (parsed !== undefined) {
      for (const [k, v] of Object.entries(parsed)) {
        const e = labelKeyError(k) ?? labelValueError(k, v);
        if (e) errors.push(`${ENV.labels}: ${e}`);
        else labels[k] = v as string;
      }
    }
  }

  const taints: V1Taint[] = [];
  const rawTaints = env[ENV.taints];
  if (rawTaints !== undefined && rawTaints.trim() !== '') {
    const parsed = parseJson(ENV.taints, rawTaints, errors);
    if (parsed !== undefined && !Array.isArray(parsed)) errors.push(`${ENV.taints} must be a JSON array of taints`);
    else if (Array.isArray(parsed)) {
      parsed.forEach((t: unknown, i) => {
        if (!isPlainObject(t)) return errors.push(`${ENV.taints}[${i}] must be an object`);
        const { key, value, effect } = t;
        if (typeof key !== 'string' || labelKeyError(key)) return errors.push(`${ENV.taints}[${i}].key is missing or invalid`);
        if (value !== undefined && labelValueError(key, value)) return errors.push(`${ENV.taints}[${i}].value is invalid`);
        if (typeof effect !== 'string' || !TAINT_EFFECTS.has(effect)) return errors.push(`${ENV.taints}[${i}].effect must be NoSchedule, PreferNoSchedule or NoExecute`);
        taints.push(value === undefined ? { key, effect } : { key, value: value as string, effect });
      });
    }
  }

  const capacity: Record<string, string> = {};
  const rawCapacity = env[ENV.capacity];
  // Optional: cpu and memory default to the agent's total resources (SUBSCRIBED agent_info), which keeps the
  // ExecutorInfo the same whichever scheduler instance builds it.
  if (rawCapacity !== undefined && rawCapacity.trim() !== '') {
    const parsed = parseJson(ENV.capacity, rawCapacity, errors);
    if (parsed !== undefined && !isPlainObject(parsed)) errors.push(`${ENV.capacity} must be a JSON object like {"cpu":"8","memory":"16384Mi","pods":"110"}`);
    else if (parsed !== undefined) {
      for (const [k, v] of Object.entries(parsed)) {
        const s = typeof v === 'number' ? String(v) : v;
        if (typeof s !== 'string' || !isQuantity(s)) errors.push(`${ENV.capacity}: "${k}" is not a quantity: ${JSON.stringify(v)}`);
        else capacity[k] = s;
      }
    }
  }
  capacity.pods ??= '110';

  const kubeconfig = env[ENV.kubeconfig]?.trim() || undefined;
  let certificateTimeoutMs = 120_000;
  const rawTimeout = env[ENV.certificateTimeout]?.trim();
  if (rawTimeout) {
    const d = parseDuration(rawTimeout);
    if (!d.ok) errors.push(`${ENV.certificateTimeout}: ${d.error}`);
    else if (d.ms < 1000) errors.push(`${ENV.certificateTimeout}="${rawTimeout}" must be at least 1s`);
    else certificateTimeoutMs = d.ms;
  }

  const mode = env[ENV.kubeletMode]?.trim() || 'hollow';
  if (mode !== 'hollow' && mode !== 'real') errors.push(`${ENV.kubeletMode}="${mode}" must be hollow or real`);
  const kubeletCommand = env[ENV.kubeletCommand]?.trim() || undefined;
  if (mode === 'real' && !kubeletCommand) errors.push(`${ENV.kubeletCommand} is required when ${ENV.kubeletMode}=real`);

  const logLevel = env[ENV.logLevel]?.trim() || 'info';
  if (!LOG_LEVELS.has(logLevel)) errors.push(`${ENV.logLevel}="${logLevel}" must be one of ${[...LOG_LEVELS].join(', ')}`);

  const schedulerName = env[ENV.schedulerName]?.trim() || undefined;
  if (schedulerName !== undefined && !DNS_SUBDOMAIN.test(schedulerName)) errors.push(`${ENV.schedulerName}="${schedulerName}" is not a valid scheduler name`);

  const noStarting = env[ENV.noTaskStarting]?.trim() || 'false';
  if (noStarting !== 'true' && noStarting !== 'false') errors.push(`${ENV.noTaskStarting}="${noStarting}" must be true or false`);

  const real = mode === 'real' ? parseRealKubeletEnv(env, errors) : undefined;

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { nodeName, labels, taints, capacity, kubeconfig, certificateTimeoutMs, kubeletMode: mode as 'hollow' | 'real', kubeletCommand, logLevel, schedulerName, ...(noStarting === 'true' ? { noTaskStarting: true } : {}), ...real },
  };
}

/** The real-mode variables: extra kubelet flags (JSON array of --name[=value]) and the restart policy. */
function parseRealKubeletEnv(env: Record<string, string | undefined>, errors: string[]): Pick<ExecutorEnv, 'kubeletExtraFlags' | 'kubeletSupervision'> {
  const kubeletExtraFlags: string[] = [];
  const rawFlags = env[ENV.kubeletExtraFlags];
  if (rawFlags !== undefined && rawFlags.trim() !== '') {
    const parsed = parseJson(ENV.kubeletExtraFlags, rawFlags, errors);
    if (parsed !== undefined && !Array.isArray(parsed)) errors.push(`${ENV.kubeletExtraFlags} must be a JSON array of flags like ["--v=2"]`);
    else if (Array.isArray(parsed)) {
      parsed.forEach((f: unknown, i) => {
        if (typeof f !== 'string' || !/^--[A-Za-z0-9][-A-Za-z0-9_.]*(=.*)?$/s.test(f)) errors.push(`${ENV.kubeletExtraFlags}[${i}]: ${JSON.stringify(f)} is not a flag (expected --name or --name=value)`);
        else kubeletExtraFlags.push(f);
      });
    }
  }
  const d = KUBELET_SUPERVISION_DEFAULTS;
  const int = (name: string, dflt: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return dflt;
    if (!/^\d+$/.test(raw)) errors.push(`${name}="${raw}" must be a whole number >= 0`);
    return /^\d+$/.test(raw) ? Number(raw) : dflt;
  };
  const dur = (name: string, dflt: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return dflt;
    const r = parseDuration(raw);
    if (!r.ok) errors.push(`${name}: ${r.error}`);
    return r.ok ? r.ms : dflt;
  };
  const kubeletSupervision: KubeletSupervisionEnv = {
    maxRestarts: int(ENV.kubeletMaxRestarts, d.maxRestarts),
    restartWindowMs: dur(ENV.kubeletRestartWindow, d.restartWindowMs),
    backoffInitialMs: dur(ENV.kubeletBackoff, d.backoffInitialMs),
    backoffMaxMs: dur(ENV.kubeletBackoffMax, d.backoffMaxMs),
    stopGraceMs: dur(ENV.kubeletStopGrace, d.stopGraceMs),
  };
  if (kubeletSupervision.backoffMaxMs < kubeletSupervision.backoffInitialMs) errors.push(`${ENV.kubeletBackoffMax} must not be shorter than ${ENV.kubeletBackoff}`);
  return { kubeletExtraFlags, kubeletSupervision };
}
