/**
 * Realistic sample messages of every scheduler and executor Call and Event type, for tests (codec round trips,
 * the cross-check against Mesos' own .proto files, clients and emulator tests). Values are what a real master,
 * agent or framework sends; bytes are Buffers so decoded copies compare equal.
 */
import type {
  AgentInfo,
  ExecutorCall,
  ExecutorEvent,
  ExecutorInfo,
  FrameworkInfo,
  MasterInfo,
  Offer,
  Resource,
  SchedulerCall,
  SchedulerEvent,
  TaskInfo,
  TaskStatus,
} from '../types.js';

export const FRAMEWORK_ID = { value: '20261124-143000-16777343-5050-4242-0000' };
export const AGENT_ID = { value: '20261124-143000-16777343-5050-4242-S3' };
export const EXECUTOR_ID = { value: 'kubelet-executor-a3' };
export const TASK_ID = { value: 'pod.default.web-7d9f8-abcde.1' };
export const UUID = Buffer.from('7f2e3a9c1b4d4e8fa0b1c2d3e4f50617', 'hex');

export const frameworkInfo: FrameworkInfo = {
  user: 'root',
  name: 'kube-mesos',
  id: FRAMEWORK_ID,
  failover_timeout: 604800,
  checkpoint: true,
  roles: ['kube', 'prod'],
  hostname: 'scheduler-0.kube-mesos.svc',
  principal: 'kube-mesos',
  webui_url: 'http://scheduler-0.kube-mesos.svc:10251/',
  capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }, { type: 'REGION_AWARE' }, { type: 'TASK_KILLING_STATE' }],
  labels: { labels: [{ key: 'team', value: 'platform' }, { key: 'flag' }] },
};

export const resources: Resource[] = [
  { name: 'cpus', type: 'SCALAR', scalar: { value: 7.5 }, role: '*', allocation_info: { role: 'kube' } },
  {
    name: 'mem',
    type: 'SCALAR',
    scalar: { value: 14336 },
    allocation_info: { role: 'kube' },
    reservations: [{ type: 'DYNAMIC', role: 'kube', principal: 'ops', labels: { labels: [{ key: 'why', value: 'pods' }] } }],
  },
  { name: 'disk', type: 'SCALAR', scalar: { value: 100000 }, role: 'kube', reservation: { principal: 'ops' }, allocation_info: { role: 'kube' } },
  {
    name: 'ports',
    type: 'RANGES',
    ranges: { range: [{ begin: 31000, end: 31099 }, { begin: 31200, end: 32000 }] },
    allocation_info: { role: 'kube' },
  },
  { name: 'gpu_models', type: 'SET', set: { item: ['a100', 'h100'] }, allocation_info: { role: 'kube' } },
  { name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, allocation_info: { role: 'kube' }, revocable: {} },
  {
    name: 'disk',
    type: 'SCALAR',
    scalar: { value: 2048 },
    reservations: [{ type: 'STATIC', role: 'kube' }],
    allocation_info: { role: 'kube' },
    disk: { persistence: { id: 'vol-1', principal: 'ops' }, volume: { mode: 'RW', container_path: 'data' }, source: { type: 'MOUNT', mount: { root: '/mnt/disk1' } } },
    provider_id: { value: 'rp-1' },
  },
];

export const offer: Offer = {
  id: { value: '20261124-143000-16777343-5050-4242-O17' },
  framework_id: FRAMEWORK_ID,
  agent_id: AGENT_ID,
  hostname: 'agent-3.zone-a.example',
  url: { scheme: 'http', address: { hostname: 'agent-3.zone-a.example', ip: '10.0.1.3', port: 5051 }, path: '/slave(1)' },
  domain: { fault_domain: { region: { name: 'r1' }, zone: { name: 'a' } } },
  resources,
  attributes: [
    { name: 'rack', type: 'TEXT', text: { value: 'r3' } },
    { name: 'cores', type: 'SCALAR', scalar: { value: 8 } },
    { name: 'slots', type: 'RANGES', ranges: { range: [{ begin: 1, end: 4 }] } },
    { name: 'features', type: 'SET', set: { item: ['ssd', 'avx512'] } },
  ],
  executor_ids: [EXECUTOR_ID],
  unavailability: { start: { nanoseconds: 1_795_000_000_000_000_000 }, duration: { nanoseconds: 3_600_000_000_000 } },
  allocation_info: { role: 'kube' },
};

export const executorInfo: ExecutorInfo = {
  type: 'CUSTOM',
  executor_id: EXECUTOR_ID,
  framework_id: FRAMEWORK_ID,
  command: {
    uris: [{ value: 'http://scheduler-0:10251/static/kube-mesos.tgz', extract: true, cache: true, executable: false }],
    environment: {
      variables: [
        { name: 'KUBE_MESOS_MODE', value: 'executor' },
        { name: 'TOKEN', type: 'SECRET', secret: { type: 'VALUE', value: { data: Buffer.from('s3cr3t') } } },
      ],
    },
    shell: false,
    value: './kube-mesos',
    arguments: ['kube-mesos', 'executor', '--log-level=info'],
    user: 'root',
  },
  container: { type: 'MESOS', hostname: 'agent-3', mesos: { image: { type: 'DOCKER', docker: { name: 'kube-mesos:0.1.0' } } } },
  resources: [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.25 }, allocation_info: { role: 'kube' } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 256 }, allocation_info: { role: 'kube' } },
  ],
  name: 'kubelet on agent-3',
  source: 'kube-mesos',
  data: Buffer.from('{"node":"agent-3"}'),
  shutdown_grace_period: { nanoseconds: 30_000_000_000 },
  labels: { labels: [{ key: 'kube-mesos.io/role', value: 'kubelet' }] },
};

export const taskInfo: TaskInfo = {
  name: 'default/web-7d9f8-abcde',
  task_id: TASK_ID,
  agent_id: AGENT_ID,
  resources: [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, allocation_info: { role: 'kube' } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 512 }, allocation_info: { role: 'kube' } },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31005, end: 31005 }] }, allocation_info: { role: 'kube' } },
  ],
  executor: executorInfo,
  health_check: { type: 'HTTP', http: { scheme: 'http', port: 8080, path: '/healthz', statuses: [200, 204] }, delay_seconds: 5, consecutive_failures: 3 },
  check: { type: 'TCP', tcp: { port: 8080 }, interval_seconds: 10 },
  kill_policy: { grace_period: { nanoseconds: 30_000_000_000 } },
  data: Buffer.from('{"apiVersion":"v1","kind":"Pod"}'),
  labels: { labels: [{ key: 'kube-mesos.io/pod', value: 'default/web-7d9f8-abcde' }] },
  discovery: { visibility: 'CLUSTER', name: 'web', ports: { ports: [{ number: 31005, name: 'http', protocol: 'tcp' }] } },
  max_completion_time: { nanoseconds: 86_400_000_000_000 },
  limits: { cpus: { value: Infinity }, mem: { value: 1024 } },
};

export const taskStatus: TaskStatus = {
  task_id: TASK_ID,
  state: 'TASK_RUNNING',
  message: 'pod is Running',
  source: 'SOURCE_EXECUTOR',
  reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
  data: Buffer.from('{"phase":"Running"}'),
  agent_id: AGENT_ID,
  executor_id: EXECUTOR_ID,
  timestamp: 1795000123.456789,
  uuid: UUID,
  healthy: true,
  check_status: { type: 'TCP', tcp: { succeeded: true } },
  labels: { labels: [{ key: 'node', value: 'agent-3' }] },
  container_status: {
    container_id: { value: 'c-123', parent: { value: 'c-parent' } },
    network_infos: [{ ip_addresses: [{ protocol: 'IPv4', ip_address: '10.0.1.3' }], name: 'host' }],
    executor_pid: 4242,
  },
  unreachable_time: { nanoseconds: 1_795_000_100_000_000_000 },
  limitation: { resources: [{ name: 'mem', type: 'SCALAR', scalar: { value: 1024 } }] },
};

export const masterInfo: MasterInfo = {
  id: 'a5b6c7d8-master-1',
  ip: 16777343,
  port: 5050,
  pid: 'master@127.0.0.1:5050',
  hostname: 'master-1.example',
  version: '1.11.0',
  address: { hostname: 'master-1.example', ip: '127.0.0.1', port: 5050 },
  domain: { fault_domain: { region: { name: 'r1' }, zone: { name: 'a' } } },
  capabilities: [{ type: 'AGENT_UPDATE' }, { type: 'AGENT_DRAINING' }, { type: 'QUOTA_V2' }],
};

export const agentInfo: AgentInfo = {
  hostname: 'agent-3.zone-a.example',
  port: 5051,
  resources: resources.slice(0, 4).map(({ allocation_info: _a, ...r }) => r),
  attributes: offer.attributes,
  id: AGENT_ID,
  domain: offer.domain,
};

const fid = { framework_id: FRAMEWORK_ID };

/** One realistic sample per scheduler Call type. */
export const schedulerCalls: Record<SchedulerCall['type'], SchedulerCall> = {
  SUBSCRIBE: { type: 'SUBSCRIBE', ...fid, subscribe: { framework_info: frameworkInfo, suppressed_roles: ['prod'] } },
  TEARDOWN: { type: 'TEARDOWN', ...fid },
  ACCEPT: {
    type: 'ACCEPT',
    ...fid,
    accept: {
      offer_ids: [offer.id, { value: '20261124-143000-16777343-5050-4242-O18' }],
      operations: [
        { type: 'LAUNCH', launch: { task_infos: [taskInfo, { ...taskInfo, task_id: { value: 'pod.default.web-2' }, limits: undefined }] } },
        { type: 'LAUNCH_GROUP', launch_group: { executor: executorInfo, task_group: { tasks: [taskInfo] } } },
        { type: 'RESERVE', id: { value: 'op-1' }, reserve: { resources: [resources[1]!] } },
        { type: 'UNRESERVE', unreserve: { resources: [resources[2]!] } },
        { type: 'CREATE', create: { volumes: [resources[6]!] } },
        { type: 'DESTROY', destroy: { volumes: [resources[6]!] } },
      ],
      filters: { refuse_seconds: 2 },
    },
  },
  DECLINE: { type: 'DECLINE', ...fid, decline: { offer_ids: [offer.id], filters: { refuse_seconds: 300 } } },
  ACCEPT_INVERSE_OFFERS: { type: 'ACCEPT_INVERSE_OFFERS', ...fid, accept_inverse_offers: { inverse_offer_ids: [{ value: 'io-1' }], filters: { refuse_seconds: 10 } } },
  DECLINE_INVERSE_OFFERS: { type: 'DECLINE_INVERSE_OFFERS', ...fid, decline_inverse_offers: { inverse_offer_ids: [{ value: 'io-1' }] } },
  REVIVE: { type: 'REVIVE', ...fid, revive: { roles: ['kube'] } },
  KILL: { type: 'KILL', ...fid, kill: { task_id: TASK_ID, agent_id: AGENT_ID, kill_policy: { grace_period: { nanoseconds: 5_000_000_000 } } } },
  SHUTDOWN: { type: 'SHUTDOWN', ...fid, shutdown: { executor_id: EXECUTOR_ID, agent_id: AGENT_ID } },
  ACKNOWLEDGE: { type: 'ACKNOWLEDGE', ...fid, acknowledge: { agent_id: AGENT_ID, task_id: TASK_ID, uuid: UUID } },
  ACKNOWLEDGE_OPERATION_STATUS: {
    type: 'ACKNOWLEDGE_OPERATION_STATUS',
    ...fid,
    acknowledge_operation_status: { agent_id: AGENT_ID, resource_provider_id: { value: 'rp-1' }, uuid: UUID, operation_id: { value: 'op-1' } },
  },
  RECONCILE: { type: 'RECONCILE', ...fid, reconcile: { tasks: [{ task_id: TASK_ID, agent_id: AGENT_ID }, { task_id: { value: 'other' } }] } },
  RECONCILE_OPERATIONS: { type: 'RECONCILE_OPERATIONS', ...fid, reconcile_operations: { operations: [{ operation_id: { value: 'op-1' }, agent_id: AGENT_ID }] } },
  MESSAGE: { type: 'MESSAGE', ...fid, message: { agent_id: AGENT_ID, executor_id: EXECUTOR_ID, data: Buffer.from([0, 1, 2, 250, 255]) } },
  REQUEST: { type: 'REQUEST', ...fid, request: { requests: [{ agent_id: AGENT_ID, resources: resources.slice(0, 2) }] } },
  SUPPRESS: { type: 'SUPPRESS', ...fid, suppress: { roles: ['kube', 'prod'] } },
  UPDATE_FRAMEWORK: { type: 'UPDATE_FRAMEWORK', ...fid, update_framework: { framework_info: { ...frameworkInfo, failover_timeout: 3600 }, suppressed_roles: [] } },
};

/** One realistic sample per scheduler Event type. */
export const schedulerEvents: Record<SchedulerEvent['type'], SchedulerEvent> = {
  SUBSCRIBED: { type: 'SUBSCRIBED', subscribed: { framework_id: FRAMEWORK_ID, heartbeat_interval_seconds: 15, master_info: masterInfo } },
  OFFERS: { type: 'OFFERS', offers: { offers: [offer, { ...offer, id: { value: 'O18' }, unavailability: undefined }] } },
  INVERSE_OFFERS: {
    type: 'INVERSE_OFFERS',
    inverse_offers: {
      inverse_offers: [{ id: { value: 'io-1' }, url: offer.url, framework_id: FRAMEWORK_ID, agent_id: AGENT_ID, unavailability: offer.unavailability!, resources: resources.slice(0, 1) }],
    },
  },
  RESCIND: { type: 'RESCIND', rescind: { offer_id: offer.id } },
  RESCIND_INVERSE_OFFER: { type: 'RESCIND_INVERSE_OFFER', rescind_inverse_offer: { inverse_offer_id: { value: 'io-1' } } },
  UPDATE: { type: 'UPDATE', update: { status: taskStatus } },
  UPDATE_OPERATION_STATUS: {
    type: 'UPDATE_OPERATION_STATUS',
    update_operation_status: {
      status: { operation_id: { value: 'op-1' }, state: 'OPERATION_FINISHED', message: 'ok', converted_resources: [resources[1]!], uuid: { value: UUID }, agent_id: AGENT_ID, resource_provider_id: { value: 'rp-1' } },
    },
  },
  MESSAGE: { type: 'MESSAGE', message: { agent_id: AGENT_ID, executor_id: EXECUTOR_ID, data: Buffer.from('hello scheduler') } },
  FAILURE: { type: 'FAILURE', failure: { agent_id: AGENT_ID, executor_id: EXECUTOR_ID, status: 9 } },
  ERROR: { type: 'ERROR', error: { message: 'Framework failed over' } },
  HEARTBEAT: { type: 'HEARTBEAT' },
};

const eid = { executor_id: EXECUTOR_ID, framework_id: FRAMEWORK_ID };

/** One realistic sample per executor Call type. */
export const executorCalls: Record<ExecutorCall['type'], ExecutorCall> = {
  SUBSCRIBE: { type: 'SUBSCRIBE', ...eid, subscribe: { unacknowledged_tasks: [taskInfo], unacknowledged_updates: [{ status: taskStatus }] } },
  UPDATE: { type: 'UPDATE', ...eid, update: { status: { ...taskStatus, state: 'TASK_STARTING', reason: undefined, healthy: undefined } } },
  MESSAGE: { type: 'MESSAGE', ...eid, message: { data: Buffer.from('hello executor') } },
  HEARTBEAT: { type: 'HEARTBEAT', ...eid },
};

/** One realistic sample per executor Event type. */
export const executorEvents: Record<ExecutorEvent['type'], ExecutorEvent> = {
  SUBSCRIBED: { type: 'SUBSCRIBED', subscribed: { executor_info: executorInfo, framework_info: frameworkInfo, agent_info: agentInfo, container_id: { value: 'c-123' } } },
  LAUNCH: { type: 'LAUNCH', launch: { task: taskInfo } },
  LAUNCH_GROUP: { type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks: [taskInfo, { ...taskInfo, task_id: { value: 't2' } }] } } },
  KILL: { type: 'KILL', kill: { task_id: TASK_ID, kill_policy: { grace_period: { nanoseconds: 1_000_000_000 } } } },
  ACKNOWLEDGED: { type: 'ACKNOWLEDGED', acknowledged: { task_id: TASK_ID, uuid: UUID } },
  MESSAGE: { type: 'MESSAGE', message: { data: Buffer.from([1, 2, 3]) } },
  ERROR: { type: 'ERROR', error: { message: 'invalid call' } },
  SHUTDOWN: { type: 'SHUTDOWN' },
  HEARTBEAT: { type: 'HEARTBEAT' },
};

/** What a decoder returns for `v`: undefined-valued keys and empty arrays dropped, recursively. */
export function decodedShape<T>(v: T): T {
  if (Array.isArray(v)) return v.map(decodedShape) as T;
  if (v instanceof Uint8Array || v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined || (Array.isArray(x) && x.length === 0)) continue;
    out[k] = decodedShape(x);
  }
  return out as T;
}
