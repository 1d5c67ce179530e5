/**
 * The Mesos v1 scheduler and executor API messages (mesos.v1.scheduler, mesos.v1.executor), as the rest of kube-mesos
 * sees them; the messages they carry are in `types.ts`, which re-exports this file. Conventions as there.
 */
import type { AgentID, AgentInfo, ContainerID, ExecutorID, ExecutorInfo, Filters, FrameworkID, FrameworkInfo, InverseOffer, KillPolicy, MasterInfo, Offer, OfferID, OfferOperation, OperationID, OperationStatus, Request, ResourceProviderID, TaskGroupInfo, TaskID, TaskInfo, TaskStatus } from './types.js';

// ---------------------------------------------------------------- scheduler API (mesos.v1.scheduler)

export interface SchedulerCallSubscribe { framework_info: FrameworkInfo; suppressed_roles?: string[] }
export interface SchedulerCallAccept { offer_ids?: OfferID[]; operations?: OfferOperation[]; filters?: Filters }
export interface SchedulerCallDecline { offer_ids?: OfferID[]; filters?: Filters }
export interface SchedulerCallAcceptInverseOffers { inverse_offer_ids?: OfferID[]; filters?: Filters }
export interface SchedulerCallDeclineInverseOffers { inverse_offer_ids?: OfferID[]; filters?: Filters }
export interface SchedulerCallRevive { roles?: string[] }
export interface SchedulerCallKill { task_id: TaskID; agent_id?: AgentID; kill_policy?: KillPolicy }
export interface SchedulerCallShutdown { executor_id: ExecutorID; agent_id: AgentID }
export interface SchedulerCallAcknowledge { agent_id: AgentID; task_id: TaskID; uuid: Uint8Array }
export interface SchedulerCallAcknowledgeOperationStatus {
    agent_id?: AgentID;
    resource_provider_id?: ResourceProviderID;
    uuid: Uint8Array;
    operation_id: OperationID;
  }
export interface SchedulerCallReconcile { tasks?: { task_id: TaskID; agent_id?: AgentID }[] }
export interface SchedulerCallReconcileOperations {
    operations?: { operation_id: OperationID; agent_id?: AgentID; resource_provider_id?: ResourceProviderID }[];
  }
export interface SchedulerCallMessage { agent_id: AgentID; executor_id: ExecutorID; data: Uint8Array }
export interface SchedulerCallRequest { requests?: Request[] }
export interface SchedulerCallSuppress { roles?: string[] }
export interface SchedulerCallUpdateFramework { framework_info: FrameworkInfo; suppressed_roles?: string[] }

export type SchedulerCallType =
  | 'UNKNOWN'
  | 'SUBSCRIBE'
  | 'TEARDOWN'
  | 'ACCEPT'
  | 'DECLINE'
  | 'ACCEPT_INVERSE_OFFERS'
  | 'DECLINE_INVERSE_OFFERS'
  | 'REVIVE'
  | 'KILL'
  | 'SHUTDOWN'
  | 'ACKNOWLEDGE'
  | 'ACKNOWLEDGE_OPERATION_STATUS'
  | 'RECONCILE'
  | 'RECONCILE_OPERATIONS'
  | 'MESSAGE'
  | 'REQUEST'
  | 'SUPPRESS'
  | 'UPDATE_FRAMEWORK';

interface SchedulerCallBase { framework_id?: FrameworkID }

/** A scheduler Call; decoding guarantees the payload field its `type` names is present. */
export type SchedulerCall = SchedulerCallBase &
  (
    | { type: 'SUBSCRIBE'; subscribe: SchedulerCallSubscribe }
    | { type: 'TEARDOWN' }
    | { type: 'ACCEPT'; accept: SchedulerCallAccept }
    | { type: 'DECLINE'; decline: SchedulerCallDecline }
    | { type: 'ACCEPT_INVERSE_OFFERS'; accept_inverse_offers: SchedulerCallAcceptInverseOffers }
    | { type: 'DECLINE_INVERSE_OFFERS'; decline_inverse_offers: SchedulerCallDeclineInverseOffers }
    | { type: 'REVIVE'; revive?: SchedulerCallRevive }
    | { type: 'KILL'; kill: SchedulerCallKill }
    | { type: 'SHUTDOWN'; shutdown: SchedulerCallShutdown }
    | { type: 'ACKNOWLEDGE'; acknowledge: SchedulerCallAcknowledge }
    | { type: 'ACKNOWLEDGE_OPERATION_STATUS'; acknowledge_operation_status: SchedulerCallAcknowledgeOperationStatus }
    | { type: 'RECONCILE'; reconcile: SchedulerCallReconcile }
    | { type: 'RECONCILE_OPERATIONS'; reconcile_operations: SchedulerCallReconcileOperations }
    | { type: 'MESSAGE'; message: SchedulerCallMessage }
    | { type: 'REQUEST'; request: SchedulerCallRequest }
    | { type: 'SUPPRESS'; suppress?: SchedulerCallSuppress }
    | { type: 'UPDATE_FRAMEWORK'; update_framework: SchedulerCallUpdateFramework }
  );

export interface SchedulerEventSubscribed { framework_id: FrameworkID; heartbeat_interval_seconds?: number; master_info?: MasterInfo }
export interface SchedulerEventOffers { offers?: Offer[] }
export interface SchedulerEventInverseOffers { inverse_offers?: InverseOffer[] }
export interface SchedulerEventRescind { offer_id: OfferID }
export interface SchedulerEventRescindInverseOffer { inverse_offer_id: OfferID }
export interface SchedulerEventUpdate { status: TaskStatus }
export interface SchedulerEventUpdateOperationStatus { status: OperationStatus }
export interface SchedulerEventMessage { agent_id: AgentID; executor_id: ExecutorID; data: Uint8Array }
export interface SchedulerEventFailure { agent_id?: AgentID; executor_id?: ExecutorID; status?: number }
export interface SchedulerEventError { message: string }

export type SchedulerEventType =
  | 'UNKNOWN'
  | 'SUBSCRIBED'
  | 'OFFERS'
  | 'INVERSE_OFFERS'
  | 'RESCIND'
  | 'RESCIND_INVERSE_OFFER'
  | 'UPDATE'
  | 'UPDATE_OPERATION_STATUS'
  | 'MESSAGE'
  | 'FAILURE'
  | 'ERROR'
  | 'HEARTBEAT';

/** A scheduler Event; decoding guarantees the payload field its `type` names is present. */
export type SchedulerEvent =
  | { type: 'SUBSCRIBED'; subscribed: SchedulerEventSubscribed }
  | { type: 'OFFERS'; offers: SchedulerEventOffers }
  | { type: 'INVERSE_OFFERS'; inverse_offers: SchedulerEventInverseOffers }
  | { type: 'RESCIND'; rescind: SchedulerEventRescind }
  | { type: 'RESCIND_INVERSE_OFFER'; rescind_inverse_offer: SchedulerEventRescindInverseOffer }
  | { type: 'UPDATE'; update: SchedulerEventUpdate }
  | { type: 'UPDATE_OPERATION_STATUS'; update_operation_status: SchedulerEventUpdateOperationStatus }
  | { type: 'MESSAGE'; message: SchedulerEventMessage }
  | { type: 'FAILURE'; failure: SchedulerEventFailure }
  | { type: 'ERROR'; error: SchedulerEventError }
  | { type: 'HEARTBEAT' };

// ---------------------------------------------------------------- executor API (mesos.v1.executor)

export interface ExecutorCallUpdate { status: TaskStatus }
export interface ExecutorCallSubscribe { unacknowledged_tasks?: TaskInfo[]; unacknowledged_updates?: ExecutorCallUpdate[] }
export interface ExecutorCallMessage { data: Uint8Array }

export type ExecutorCallType = 'UNKNOWN' | 'SUBSCRIBE' | 'UPDATE' | 'MESSAGE' | 'HEARTBEAT';

interface ExecutorCallBase { executor_id: ExecutorID; framework_id: FrameworkID }

/** An executor Call; decoding guarantees the payload field its `type` names is present. */
export type ExecutorCall = ExecutorCallBase &
  (
    | { type: 'SUBSCRIBE'; subscribe: ExecutorCallSubscribe }
    | { type: 'UPDATE'; update: ExecutorCallUpdate }
    | { type: 'MESSAGE'; message: ExecutorCallMessage }
    | { type: 'HEARTBEAT' }
  );

export interface ExecutorEventSubscribed {
    executor_info: ExecutorInfo;
    framework_info: FrameworkInfo;
    agent_info: AgentInfo;
    container_id?: ContainerID;
  }
export interface ExecutorEventLaunch { task: TaskInfo }
export interface ExecutorEventLaunchGroup { task_group: TaskGroupInfo }
export interface ExecutorEventKill { task_id: TaskID; kill_policy?: KillPolicy }
export interface ExecutorEventAcknowledged { task_id: TaskID; uuid: Uint8Array }
export interface ExecutorEventMessage { data: Uint8Array }
export interface ExecutorEventError { message: string }

export type ExecutorEventType =
  | 'UNKNOWN'
  | 'SUBSCRIBED'
  | 'LAUNCH'
  | 'LAUNCH_GROUP'
  | 'KILL'
  | 'ACKNOWLEDGED'
  | 'MESSAGE'
  | 'ERROR'
  | 'SHUTDOWN'
  | 'HEARTBEAT';

/** An executor Event; decoding guarantees the payload field its `type` names is present. */
export type ExecutorEvent =
  | { type: 'SUBSCRIBED'; subscribed: ExecutorEventSubscribed }
  | { type: 'LAUNCH'; launch: ExecutorEventLaunch }
  | { type: 'LAUNCH_GROUP'; launch_group: ExecutorEventLaunchGroup }
  | { type: 'KILL'; kill: ExecutorEventKill }
  | { type: 'ACKNOWLEDGED'; acknowledged: ExecutorEventAcknowledged }
  | { type: 'MESSAGE'; message: ExecutorEventMessage }
  | { type: 'ERROR'; error: ExecutorEventError }
  | { type: 'SHUTDOWN' }
  | { type: 'HEARTBEAT' };
