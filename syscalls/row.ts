// The shape of a syscall row. Tables in syscalls/ are lists of rows; the dispatcher runs them.
import type { ErrorCode } from '../runtime/errors.ts'
import type { Capability, HandleKind } from '../runtime/permissions/index.ts'
import type { AppAccess } from '../runtime/permissions/app-capabilities.ts'
import type { CallContext } from './services.ts'

/** What a handler receives (syscalls/services.ts), named here too: tables import one file. */
export type { CallContext } from './services.ts'

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
