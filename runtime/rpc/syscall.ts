// The shape of a syscall row, and what its handler receives. Tables in syscalls/ are lists of rows.
import type { Config } from '../config/index.ts'
import type { ErrorCode } from '../errors.ts'
import type { Identity } from '../identity/index.ts'
import type { Logger } from '../log/index.ts'
import type { Sessions } from '../sessions/index.ts'
import type { Store } from '../store/index.ts'
import type { VarTable } from '../vars.ts'
import type { MiMeiStore } from '../mimei/index.ts'
import type { Replication } from '../net/replication.ts'
import type { Net } from '../net/index.ts'
import type { Messages } from '../msg/index.ts'
import type { Apps } from '../apps/installer.ts'
import type { Capability, Grant, HandleKind, Permissions } from '../permissions/index.ts'
import type { AppAccess } from '../permissions/app-capabilities.ts'
import type { Monitor } from '../monitor/index.ts'
import type { Ledger } from '../ledger/index.ts'

/**
 * Parameter types as they arrive decoded from Hprose:
 * string · int (safe integer; BigInt in range is accepted) · number · bool · bytes (Uint8Array)
 * · data (bytes, or a string taken as UTF-8) · map (object with string keys) · list · any.
 */
export type ParamType = 'string' | 'int' | 'number' | 'bool' | 'bytes' | 'data' | 'map' | 'list' | 'any'

export interface ParamSpec {
  readonly name: string
  readonly type: ParamType
  readonly doc: string
  /** May be absent (or null); the handler then gets undefined. */
  readonly optional?: boolean
  /** Collects every remaining argument (must be last). */
  readonly rest?: boolean
}

/** Wire codes a syscall may answer with (the table in runtime/errors.ts). */
export type { ErrorCode }

/** Kernel services a handler may use; handed over by boot, never imported. */
export interface Services {
  readonly dataDir: string
  readonly config: Config
  readonly log: Logger
  readonly identity: Identity
  readonly store: Store
  readonly sessions: Sessions
  /** Sids and handles → Grants; audits denials. */
  readonly permissions: Permissions
  readonly mimei: MiMeiStore
  /** MiMei across nodes; undefined on an offline node. */
  readonly replication?: Replication
  /** The libp2p node (swarm, DHT); undefined on an offline node. */
  readonly net?: Net
  /** Messages and app pubsub (works offline for recipients on this node). */
  readonly messages: Messages
  /** Installed apps: packages, install and uninstall. */
  readonly apps: Apps
  /** Variables readable by anyone (also served at /getvar). */
  readonly publicVars: () => VarTable
  /** Counts and latencies of every syscall and HTTP route (the dispatcher records each call here). */
  readonly monitor: Monitor
  /** The coin ledger: accounts, transfers, notarization. */
  readonly ledger: Ledger
}

/** Per-call facts from the transport, for handlers that need them. */
export interface CallMeta {
  readonly transport: 'http' | 'ws' | 'local'
  readonly remote?: string
  /** The Origin of the page that sent the call (browsers send it); absent for programs. */
  readonly origin?: string
  /** Hprose 3 request headers (`H` map), if any. */
  readonly headers?: Readonly<Record<string, unknown>>
  /** Aborted when the connection that made the call is gone: long waits (PullMsg) then end without taking anything. */
  readonly signal?: AbortSignal
}

export interface CallContext {
  readonly grant: Grant
  readonly sys: Services
  readonly meta: CallMeta
}

export interface SyscallRow<A extends unknown[] = any[]> {
  /** Wire name, Leither's spelling; looked up case-insensitively. */
  readonly name: string
  /** True when the first wire argument is the session id (not listed in params). */
  readonly sid: boolean
  readonly params: readonly ParamSpec[]
  /** What comes back, for the docs. */
  readonly returns: string
  /**
   * The same as a TypeScript type, for /lib/leither.d.ts (the method returns `Promise<returnsType>`).
   * It may name the shared interfaces declared there (runtime/rpc/browser/types.ts: FileInfo,
   * MiMeiInfo, SyncProgress, AppInfo …). Absent: `unknown`.
   */
  readonly returnsType?: string
  readonly capability: Capability
  /**
   * Rows with `handle.read` / `handle.write` name an open handle in their first parameter (after
   * the sid): which kind. The dispatcher checks it and hands the handler its opener's Grant.
   */
  readonly handle?: HandleKind
  /**
   * What an app's session needs to call the row: `basic` (every app), a capability the user
   * granted the app, or `never`. Absent: the family's default (syscalls/index.ts fills it in).
   */
  readonly app?: AppAccess
  readonly errors: readonly ErrorCode[]
  readonly doc: string
  readonly handler: (ctx: CallContext, ...args: A) => unknown
}

/** Identity function that types a row's handler arguments. */
export function syscall<A extends unknown[]>(row: SyscallRow<A>): SyscallRow<A> {
  return row
}
