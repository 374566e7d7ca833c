// Shapes the node answers with, as a browser sees them decoded: copied into leither.d.ts by scripts/gen.ts and named by the rows' `returnsType`.

/** Login and CodeLogin: the session opened. */
export interface LoginResult {
  sid: string
  uid: string
  owner: boolean
}

/** Bytes a user holds on the node, by where they are kept. */
export interface Usage {
  cur: number
  versions: number
  mac: number
  temp: number
  inbox: number
  total: number
}

/** A user who stores on the node (UserAdmit, UserList). */
export interface StoredUser {
  userId: string
  /** Unix seconds of UserAdmit; 0 for the node owner. */
  admitted: number
  /** Their own quota in bytes; null = the node's default. */
  quotaBytes: number | null
  usage: Usage
}

/** One row of MonitorStats. */
export interface StatsRow {
  /** '' = the node that answered; else the URL it was asked at. */
  node: string
  kind: 'syscall' | 'http'
  name: string
  /** Start of the hour or day (unix ms); absent for granularity total. */
  start?: number
  count: number
  errors: number
  avgMs: number
  maxMs: number
  p95Ms: number
}

/** A MiMei as MMList lists it. */
export interface MiMeiInfo {
  mid: string
  author: string
  app: string
  ext: string
  mark: string
  type: number
  created: number
  seq: number
  bytes: number
  last: number | null
  release: number | null
}

/** A file or directory in a file MiMei (MFStat, MFReaddir). */
export interface FileInfo {
  name: string
  size: number
  modTime: Date
  isDir: boolean
  mode: number
  cid?: string
}

/** A member of a sorted set with its score (Zrange and the like). */
export interface ScoredMember {
  member: unknown
  score: number
}

/** A signed version record of a MiMei as the network knows it. */
export interface VersionSummary {
  mid: string
  author: string
  ver: number
  cid: string
  seq: number
  size: number
  created: number
  authorKey: string
}

/** What a finished sync brought. */
export interface SyncResult {
  mid: string
  ver: number
  cid: string
  blocks: number
  bytes: number
  reused: number
  /** The version came as a database delta (changed keys), not as blocks. */
  delta?: boolean
}

/** Where a sync stands (MiMeiSyncStatus, MiMeiSync with wait false). */
export interface SyncProgress {
  mid: string
  state: 'finding' | 'fetching' | 'done' | 'failed' | 'cancelled'
  ver?: number
  blocks: number
  bytes: number
  reused: number
  delta?: boolean
  error?: string
}

/** A node that has a MiMei. */
export interface Provider {
  peer: string
  addrs: string[]
}

/** A connected node (SwarmPeers, SwarmConnect). */
export interface PeerInfo {
  peer: string
  addrs: string[]
  direction: 'inbound' | 'outbound'
  /** Round trip in ms; null until measured. */
  latencyMs: number | null
  /** Every connection to the peer goes through a relay. */
  relayed: boolean
}

/** A message for the user (ReadMsg, PullMsg, the client's 'message' event); `from` is proven by `sig`. */
export interface InboxMessage {
  kind: 'msg'
  seq: number
  id: string
  from: string
  fromNode: string
  to: string
  app: string
  body: unknown
  sentAt: number
  receivedAt: number
  pk: Uint8Array
  sig: Uint8Array
}

/** An event of a subscribed app topic (PullMsg, the client's 'pubsub' event). */
export interface PubEvent {
  kind: 'pub'
  app: string
  topic: string
  from: string
  fromNode: string
  data: unknown
  sentAt: number
}

/** Events the node's queue for the session lost (PullMsg, the client's 'dropped' event). */
export interface DroppedEvents {
  kind: 'dropped'
  count: number
}

export type PullItem = InboxMessage | PubEvent | DroppedEvents

/** Where a sent message stands (MsgStatus). */
export interface OutboxStatus {
  id: string
  to: string
  state: 'queued' | 'delivered' | 'expired'
  attempts: number
  created: number
  nextTry: number | null
  lastError: string | null
  doneAt: number | null
  /** Node id that accepted it ("" = delivered on this node). */
  deliveredTo: string | null
}

/** A permission an app asks for, with the reason shown to the user. */
export interface AppPermission {
  name: string
  reason: string
}

/** An installed app (UploadApp, InstallApp, AppList). */
export interface AppInfo {
  id: string
  name: string
  version: string
  author: string
  description: string
  icon: string
  entry: string
  permissions: AppPermission[]
  /** Per locale: translated strings such as name and description. */
  locales?: Record<string, Record<string, string>>
  installedAt: number
  installedBy: string
  ver: number
  cid: string
  size: number
  /** Where the app is served on this node. */
  url: string
}

/** A capability a user granted an app. */
export interface AppGrantInfo {
  capability: string
  grantedAt: number
  /** A limit where the capability has one; null otherwise. */
  limit: number | null
}
