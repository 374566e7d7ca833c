// Typed kernel errors: one table of conditions (wire code, class, HTTP status, doc line) from which
// the classes, the ErrorCode type, docs/errors.md (scripts/gen.ts) and the /mm/ statuses come.

/** Base of every error the kernel reports to a caller; `code` is stable and starts the wire text. */
export abstract class LeitherError extends Error {
  abstract readonly code: string
  /** Text as sent to clients and printed by the CLI: `Code: message`. */
  wireText(): string {
    return `${this.code}: ${this.message}`
  }
  /** The HTTP status of this condition (its table row; 500 for a code the table lacks). */
  get status(): number {
    return ERRORS.find((r) => r.code === this.code)?.status ?? 500
  }
}

/** One condition of the table. */
export interface ErrorRow {
  /** Wire code: the text of an Hprose `E` reply starts with it. Never renamed: clients match on it. */
  readonly code: string
  /** HTTP status where a route answers with this condition (/mm/). */
  readonly status: number
  /** When it is thrown, for docs/errors.md. */
  readonly doc: string
}

const rows: ErrorRow[] = []

/** Every condition, in table order. */
export const ERRORS: readonly ErrorRow[] = rows

/**
 * Declares a condition: its row in the table and its class (named after the code). Adding a
 * condition is one `export const X = condition(...)` line and its `export type X` beside it.
 */
function condition<const C extends string>(code: C, status: number, doc: string) {
  if (rows.some((r) => r.code === code)) throw new Error(`error code ${code} declared twice`)
  rows.push({ code, status, doc })
  const cls = class extends LeitherError {
    readonly code: C = code
  }
  Object.defineProperty(cls, 'name', { value: code })
  return cls
}

// ---- The table. Add a condition at the end; never rename or reuse a code. ----

export const InvalidParams = condition('InvalidParams', 400, 'Arguments, flags or config values are malformed or out of range.')
export type InvalidParams = InstanceType<typeof InvalidParams>

export const PermissionDenied = condition('PermissionDenied', 403, 'The caller lacks the capability or right a call needs; the message says how to get it.')
export type PermissionDenied = InstanceType<typeof PermissionDenied>

export const NotFound = condition('NotFound', 404, 'A named object (key, MiMei, handle, session, route) does not exist.')
export type NotFound = InstanceType<typeof NotFound>

export const Busy = condition('Busy', 503, 'A resource is held by someone else (a data dir locked by another node), or a rate limit is reached.')
export type Busy = InstanceType<typeof Busy>

export const Corrupt = condition('Corrupt', 500, 'Stored state is unreadable (corrupt key file, database newer than this binary).')
export type Corrupt = InstanceType<typeof Corrupt>

export const InvalidSignature = condition('InvalidSignature', 401, 'A passport or signature fails verification (bad signature, expired, wrong audience).')
export type InvalidSignature = InstanceType<typeof InvalidSignature>

export const Timeout = condition('Timeout', 504, 'An operation did not finish within its deadline.')
export type Timeout = InstanceType<typeof Timeout>

export const QuotaExceeded = condition('QuotaExceeded', 413, 'A write would take a user or an app past its storage quota; nothing is written.')
export type QuotaExceeded = InstanceType<typeof QuotaExceeded>

export const Conflict = condition('Conflict', 409, 'A change collides with another: a transaction whose keys were changed since Begin (nothing applied), or a path that already exists.')
export type Conflict = InstanceType<typeof Conflict>

export const DiskFull = condition('DiskFull', 507, "A write would leave the disk under the node's free-space floor; nothing is written.")
export type DiskFull = InstanceType<typeof DiskFull>

export const PaymentRequired = condition('PaymentRequired', 402, "A peer's traffic debt to this node passed the disconnect threshold: it is not served until its node pays (leither coin traffic). A sync this node runs fails with it when a provider refuses to serve it for that reason.")
export type PaymentRequired = InstanceType<typeof PaymentRequired>

export const WriteFailed = condition('WriteFailed', 500, 'The database could not commit a group of writes (an I/O error, or a check made at commit); none of them was kept, and each can be sent again.')
export type WriteFailed = InstanceType<typeof WriteFailed>

export const InvalidRequest = condition('InvalidRequest', 400, 'The body of an RPC request is not a readable Hprose request (docs/hprose.md §3.4); nothing ran.')
export type InvalidRequest = InstanceType<typeof InvalidRequest>

export const Internal = condition('Internal', 500, 'The node failed in a way the caller cannot fix; the details are in its log, never in the reply.')
export type Internal = InstanceType<typeof Internal>

// ---- End of the table. ----

type Conditions = typeof import('./errors.ts')
/** Wire codes of the table (the code of every class declared above), for syscall rows' `errors`. */
export type ErrorCode = {
  [K in keyof Conditions]: Conditions[K] extends abstract new (...args: any[]) => { readonly code: infer C extends string } ? (string extends C ? never : C) : never
}[keyof Conditions]
