/**
 * The Mesos v1 messages as the rest of kube-mesos sees them, mirroring `proto/*.proto`:
 * snake_case names exactly as in the proto (= Mesos' JSON), enums as their names,
 * 64-bit integers as `number`, bytes as `Uint8Array`, optional fields optional.
 * `codec.ts` produces and accepts exactly these shapes for both content types.
 */

// ---------------------------------------------------------------- ids and small values

export interface FrameworkID { value: string }
export interface OfferID { value: string }
export interface AgentID { value: string }
export interface TaskID { value: string }
export interface ExecutorID { value: string }
export interface ResourceProviderID { value: string }
export interface OperationID { value: string }
export interface ContainerID { value: string; parent?: ContainerID }

/** Nanoseconds since the epoch. */
export interface TimeInfo { nanoseconds: number }
/** Nanoseconds. */
export interface DurationInfo { nanoseconds: number }

export interface Address { hostname?: string; ip?: string; port: number }
export interface Parameter { key: string; value: string }
export interface Parameters { parameter?: Parameter[] }
export interface URL { scheme: string; address: Address; path?: string; query?: Parameter[]; fragment?: string }
export interface Unavailability { start: TimeInfo; duration?: DurationInfo }
export interface MachineID { hostname?: string; ip?: string }

export interface Label { key: string; value?: string }
export interface Labels { labels?: Label[] }

// ---------------------------------------------------------------- values, attributes, resources

export type ValueType = 'SCALAR' | 'RANGES' | 'SET' | 'TEXT';
export interface Scalar { value: number }
export interface Range { begin: number; end: number }
export interface Ranges { range?: Range[] }
export interface ValueSet { item?: string[] }
export interface Text { value: string }
export interface Value {
  type: ValueType;
  scalar?: Scalar;
  ranges?: Ranges;
  set?: ValueSet;
  text?: Text;
}

export interface Attribute {
  name: string;
  type: ValueType;
  scalar?: Scalar;
  ranges?: Ranges;
  set?: ValueSet;
  text?: Text;
}

export interface AllocationInfo { role?: string }
export type ReservationType = 'UNKNOWN' | 'STATIC' | 'DYNAMIC';
export interface ReservationInfo { type?: ReservationType; role?: string; principal?: string; labels?: Labels }
export type DiskSourceType = 'UNKNOWN' | 'PATH' | 'MOUNT' | 'BLOCK' | 'RAW';
export interface DiskInfo {
  persistence?: { id: string; principal?: string };
  volume?: Volume;
  source?: { type: DiskSourceType; path?: { root?: string }; mount?: { root?: string } };
}

export interface Resource {
  provider_id?: ResourceProviderID;
  name: string;
  type: ValueType;
  scalar?: Scalar;
  ranges?: Ranges;
  set?: ValueSet;
  /** Pre-refinement format: '*' (or absent) = unreserved, else the reservation role. */
  role?: string;
  allocation_info?: AllocationInfo;
  /** Pre-refinement dynamic reservation details. */
  reservation?: ReservationInfo;
  /** Refinement format: a stack; the last entry is the current reservation, empty = unreserved. */
  reservations?: ReservationInfo[];
  disk?: DiskInfo;
  revocable?: Record<string, never>;
  shared?: Record<string, never>;
}

export interface Request { agent_id?: AgentID; resources?: Resource[] }

// ---------------------------------------------------------------- framework, master, agent, domain

export type FrameworkCapabilityType =
  | 'UNKNOWN'
  | 'REVOCABLE_RESOURCES'
  | 'TASK_KILLING_STATE'
  | 'GPU_RESOURCES'
  | 'SHARED_RESOURCES'
  | 'PARTITION_AWARE'
  | 'MULTI_ROLE'
  | 'RESERVATION_REFINEMENT'
  | 'REGION_AWARE';

export interface FrameworkInfo {
  user: string;
  name: string;
  id?: FrameworkID;
  /** Seconds. */
  failover_timeout?: number;
  checkpoint?: boolean;
  /** Deprecated single role; use `roles` with MULTI_ROLE. */
  role?: string;
  roles?: string[];
  hostname?: string;
  principal?: string;
  webui_url?: string;
  capabilities?: { type?: FrameworkCapabilityType }[];
  labels?: Labels;
}

export interface DomainInfo {
  fault_domain?: { region: { name: string }; zone: { name: string } };
}

export type MasterCapabilityType = 'UNKNOWN' | 'AGENT_UPDATE' | 'AGENT_DRAINING' | 'QUOTA_V2';
export interface MasterInfo {
  id: string;
  /** IPv4 packed in network byte order (deprecated by Mesos in favour of `address`). */
  ip: number;
  port: number;
  pid?: string;
  hostname?: string;
  version?: string;
  address?: Address;
  domain?: DomainInfo;
  capabilities?: { type?: MasterCapabilityType }[];
}

export interface AgentInfo {
  hostname: string;
  port?: number;
  resources?: Resource[];
  attributes?: Attribute[];
  id?: AgentID;
  domain?: DomainInfo;
}

// ---------------------------------------------------------------- commands, containers, checks

export type EnvironmentVariableType = 'UNKNOWN' | 'VALUE' | 'SECRET';
export interface Secret {
  type?: 'UNKNOWN' | 'REFERENCE' | 'VALUE';
  reference?: { name: string; key?: string };
  value?: { data: Uint8Array };
}
export interface Environment {
  variables?: { name: string; type?: EnvironmentVariableType; value?: string; secret?: Secret }[];
}

export interface CommandURI { value: string; executable?: boolean; extract?: boolean; cache?: boolean; output_file?: string }
export interface CommandInfo {
  uris?: CommandURI[];
  environment?: Environment;
  shell?: boolean;
  value?: string;
  arguments?: string[];
  user?: string;
}

export interface Image { type: 'APPC' | 'DOCKER'; docker?: { name: string }; cached?: boolean }
export interface Volume { mode: 'RW' | 'RO'; container_path: string; host_path?: string; image?: Image }
export interface PortMapping { host_port: number; container_port: number; protocol?: string }
export interface NetworkInfo {
  ip_addresses?: { protocol?: 'IPv4' | 'IPv6'; ip_address?: string }[];
  name?: string;
  groups?: string[];
  labels?: Labels;
  port_mappings?: PortMapping[];
}
export interface ContainerInfo {
  type: 'DOCKER' | 'MESOS';
  volumes?: Volume[];
  hostname?: string;
  docker?: {
    image: string;
    network?: 'HOST' | 'BRIDGE' | 'NONE' | 'USER';
    port_mappings?: PortMapping[];
    privileged?: boolean;
    parameters?: Parameter[];
    force_pull_image?: boolean;
  };
  mesos?: { image?: Image };
  network_infos?: NetworkInfo[];
}
export interface ContainerStatus { container_id?: ContainerID; network_infos?: NetworkInfo[]; executor_pid?: number }

export type CheckType = 'UNKNOWN' | 'COMMAND' | 'HTTP' | 'TCP';
export interface CheckInfo {
  type?: CheckType;
  command?: { command: CommandInfo };
  http?: { port: number; path?: string };
  tcp?: { port: number };
  delay_seconds?: number;
  interval_seconds?: number;
  timeout_seconds?: number;
}
export interface HealthCheck {
  delay_seconds?: number;
  interval_seconds?: number;
  timeout_seconds?: number;
  consecutive_failures?: number;
  grace_period_seconds?: number;
  type?: CheckType;
  command?: CommandInfo;
  http?: { scheme?: string; port: number; path?: string; statuses?: number[] };
  tcp?: { port: number };
}
export interface CheckStatusInfo {
  type?: CheckType;
  command?: { exit_code?: number };
  http?: { status_code?: number };
  tcp?: { succeeded?: boolean };
}

export interface KillPolicy { grace_period?: DurationInfo }

export interface Port { number: number; name?: string; protocol?: string; visibility?: DiscoveryVisibility; labels?: Labels }
export type DiscoveryVisibility = 'FRAMEWORK' | 'CLUSTER' | 'EXTERNAL';
export interface DiscoveryInfo {
  visibility: DiscoveryVisibility;
  name?: string;
  environment?: string;
  location?: string;
  version?: string;
  ports?: { ports?: Port[] };
  labels?: Labels;
}

// ---------------------------------------------------------------- executors, tasks, offers

export type ExecutorType = 'UNKNOWN' | 'DEFAULT' | 'CUSTOM';
export interface ExecutorInfo {
  type?: ExecutorType;
  executor_id: ExecutorID;
  framework_id?: FrameworkID;
  command?: CommandInfo;
  container?: ContainerInfo;
  resources?: Resource[];
  name?: string;
  source?: string;
  data?: Uint8Array;
  discovery?: DiscoveryInfo;
  shutdown_grace_period?: DurationInfo;
  labels?: Labels;
}

export interface TaskInfo {
  name: string;
  task_id: TaskID;
  agent_id: AgentID;
  resources?: Resource[];
  executor?: ExecutorInfo;
  command?: CommandInfo;
  container?: ContainerInfo;
  health_check?: HealthCheck;
  check?: CheckInfo;
  kill_policy?: KillPolicy;
  data?: Uint8Array;
  labels?: Labels;
  discovery?: DiscoveryInfo;
  max_completion_time?: DurationInfo;
  /** Resource limits by resource name ('cpus', 'mem'); Infinity = unlimited. */
  limits?: Record<string, Scalar>;
}

export interface TaskGroupInfo { tasks?: TaskInfo[] }

export type TaskState =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_KILLED'
  | 'TASK_ERROR'
  | 'TASK_LOST'
  | 'TASK_DROPPED'
  | 'TASK_UNREACHABLE'
  | 'TASK_GONE'
  | 'TASK_GONE_BY_OPERATOR'
  | 'TASK_UNKNOWN';

export const TASK_STATES: readonly TaskState[] = [
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
];

/** States after which Mesos releases the task's resources (TASK_LOST is not always final, but Mesos treats it so). */
export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

export function isTerminalTaskState(state: TaskState): boolean {
  return TERMINAL_TASK_STATES.has(state);
}

export type TaskStatusSource = 'SOURCE_MASTER' | 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';

export type TaskStatusReason =
  | 'REASON_COMMAND_EXECUTOR_FAILED'
  | 'REASON_CONTAINER_LAUNCH_FAILED'
  | 'REASON_CONTAINER_LIMITATION'
  | 'REASON_CONTAINER_LIMITATION_DISK'
  | 'REASON_CONTAINER_LIMITATION_MEMORY'
  | 'REASON_CONTAINER_PREEMPTED'
  | 'REASON_CONTAINER_UPDATE_FAILED'
  | 'REASON_MAX_COMPLETION_TIME_REACHED'
  | 'REASON_EXECUTOR_REGISTRATION_TIMEOUT'
  | 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT'
  | 'REASON_EXECUTOR_TERMINATED'
  | 'REASON_EXECUTOR_UNREGISTERED'
  | 'REASON_FRAMEWORK_REMOVED'
  | 'REASON_GC_ERROR'
  | 'REASON_INVALID_FRAMEWORKID'
  | 'REASON_INVALID_OFFERS'
  | 'REASON_IO_SWITCHBOARD_EXITED'
  | 'REASON_MASTER_DISCONNECTED'
  | 'REASON_RECONCILIATION'
  | 'REASON_RESOURCES_UNKNOWN'
  | 'REASON_AGENT_DISCONNECTED'
  | 'REASON_AGENT_DRAINING'
  | 'REASON_AGENT_REMOVED'
  | 'REASON_AGENT_REMOVED_BY_OPERATOR'
  | 'REASON_AGENT_REREGISTERED'
  | 'REASON_AGENT_RESTARTED'
  | 'REASON_AGENT_UNKNOWN'
  | 'REASON_TASK_KILLED_DURING_LAUNCH'
  | 'REASON_TASK_CHECK_STATUS_UPDATED'
  | 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED'
  | 'REASON_TASK_GROUP_INVALID'
  | 'REASON_TASK_GROUP_UNAUTHORIZED'
  | 'REASON_TASK_INVALID'
  | 'REASON_TASK_UNAUTHORIZED'
  | 'REASON_TASK_UNKNOWN';

export interface TaskStatus {
  task_id: TaskID;
  state: TaskState;
  message?: string;
  source?: TaskStatusSource;
  reason?: TaskStatusReason;
  data?: Uint8Array;
  agent_id?: AgentID;
  executor_id?: ExecutorID;
  /** Seconds since the epoch. */
  timestamp?: number;
  /** Present on updates that must be acknowledged. */
  uuid?: Uint8Array;
  healthy?: boolean;
  check_status?: CheckStatusInfo;
  labels?: Labels;
  container_status?: ContainerStatus;
  unreachable_time?: TimeInfo;
  limitation?: { resources?: Resource[] };
}

export interface Filters {
  /** Seconds; Mesos' default is 5. */
  refuse_seconds?: number;
}

export type OperationType =
  | 'UNKNOWN'
  | 'LAUNCH'
  | 'LAUNCH_GROUP'
  | 'RESERVE'
  | 'UNRESERVE'
  | 'CREATE'
  | 'DESTROY'
  | 'GROW_VOLUME'
  | 'SHRINK_VOLUME'
  | 'CREATE_DISK'
  | 'DESTROY_DISK';

export interface OfferOperation {
  type?: OperationType;
  id?: OperationID;
  launch?: { task_infos?: TaskInfo[] };
  launch_group?: { executor: ExecutorInfo; task_group: TaskGroupInfo };
  reserve?: { source?: Resource[]; resources?: Resource[] };
  unreserve?: { resources?: Resource[] };
  create?: { volumes?: Resource[] };
  destroy?: { volumes?: Resource[] };
}

export interface Offer {
  id: OfferID;
  framework_id: FrameworkID;
  agent_id: AgentID;
  hostname: string;
  url?: URL;
  domain?: DomainInfo;
  resources?: Resource[];
  attributes?: Attribute[];
  executor_ids?: ExecutorID[];
  unavailability?: Unavailability;
  allocation_info?: AllocationInfo;
}

export interface InverseOffer {
  id: OfferID;
  url?: URL;
  framework_id: FrameworkID;
  agent_id?: AgentID;
  unavailability: Unavailability;
  resources?: Resource[];
}

export type OperationState =
  | 'OPERATION_UNSUPPORTED'
  | 'OPERATION_PENDING'
  | 'OPERATION_FINISHED'
  | 'OPERATION_FAILED'
  | 'OPERATION_ERROR'
  | 'OPERATION_DROPPED'
  | 'OPERATION_UNREACHABLE'
  | 'OPERATION_GONE_BY_OPERATOR'
  | 'OPERATION_RECOVERING'
  | 'OPERATION_UNKNOWN';

export interface OperationStatus {
  operation_id?: OperationID;
  state: OperationState;
  message?: string;
  converted_resources?: Resource[];
  uuid?: { value: Uint8Array };
  agent_id?: AgentID;
  resource_provider_id?: ResourceProviderID;
}

// The scheduler and executor API messages live in api-types.ts.
export type * from './api-types.js';
