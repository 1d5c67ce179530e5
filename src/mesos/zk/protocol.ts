/** ZooKeeper wire-protocol constants and the shapes the client hands out: error codes, ops, ACLs, watch events. */
export interface ZkServerAddress {
  host: string;
  port: number;
}

/** ZooKeeper's error codes (KeeperException.Code) the client may see. */
export const ZkCode = {
  OK: 0,
  SYSTEMERROR: -1,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
} as const;

export const CODE_NAMES = new Map<number, string>(Object.entries(ZkCode).map(([k, v]) => [v, k]));

/** A failed operation; branch on `code` (ZkCode.*), never on the message. */
export class ZkError extends Error {
  override name = 'ZkError';
  constructor(readonly code: number, message?: string) {
    super(message ?? `ZooKeeper error ${CODE_NAMES.get(code) ?? code}`);
  }
  get codeName(): string {
    return CODE_NAMES.get(this.code) ?? String(this.code);
  }
}

export const Op = {
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  getChildren: 8,
  ping: 11,
  closeSession: -11,
  auth: 100,
} as const;

export const Xid = { notification: -1, ping: -2, auth: -4 } as const;

export type ZkCreateMode = 'persistent' | 'ephemeral' | 'persistentSequential' | 'ephemeralSequential';
export const CREATE_FLAGS: Record<ZkCreateMode, number> = { persistent: 0, ephemeral: 1, persistentSequential: 2, ephemeralSequential: 3 };

export interface ZkAcl {
  perms: number;
  scheme: string;
  id: string;
}
/** world:anyone with every permission (ZooKeeper's OPEN_ACL_UNSAFE). */
export const OPEN_ACL: ZkAcl[] = [{ perms: 31, scheme: 'world', id: 'anyone' }];

export type ZkWatchType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged' | 'other';
export const WATCH_TYPES: Record<number, ZkWatchType> = { 1: 'created', 2: 'deleted', 3: 'dataChanged', 4: 'childrenChanged' };

export interface ZkWatchEvent {
  type: ZkWatchType;
  path: string;
}

export interface ZkSessionInfo {
  sessionId: bigint;
  /** The timeout the server granted. */
  timeoutMs: number;
  server: ZkServerAddress;
  /** False when an existing session was re-attached (its ephemeral nodes are still there). */
  newSession: boolean;
}
