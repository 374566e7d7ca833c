// Typed kernel errors: one class per condition, one table mapping each to its stable wire code.

/** Base of every error the kernel reports to a caller; `code` is stable and starts the wire text. */
export abstract class LeitherError extends Error {
  abstract readonly code: string
  /** Text as sent to clients and printed by the CLI: `Code: message`. */
  wireText(): string {
    return `${this.code}: ${this.message}`
  }
}

/** Thrown when arguments, flags or config values are malformed or out of range. */
export class InvalidParams extends LeitherError {
  readonly code = 'InvalidParams'
}

/** Thrown when a caller lacks the capability or right a call needs; the message says how to get it. */
export class PermissionDenied extends LeitherError {
  readonly code = 'PermissionDenied'
}

/** Thrown when a named object (key, MiMei, handle, session, route) does not exist. */
export class NotFound extends LeitherError {
  readonly code = 'NotFound'
}

/** Thrown when a resource is held by someone else (a data dir locked by another node). */
export class Busy extends LeitherError {
  readonly code = 'Busy'
}

/** Thrown when stored state is unreadable (corrupt key file, database newer than this binary). */
export class Corrupt extends LeitherError {
  readonly code = 'Corrupt'
}

/** Thrown when a passport or signature fails verification (bad signature, expired, wrong audience). */
export class InvalidSignature extends LeitherError {
  readonly code = 'InvalidSignature'
}

/** Thrown when an operation did not finish within its deadline. */
export class Timeout extends LeitherError {
  readonly code = 'Timeout'
}

/** Thrown when a write would take a user or an app past its storage quota; nothing is written. */
export class QuotaExceeded extends LeitherError {
  readonly code = 'QuotaExceeded'
}

/** Thrown when a change collides with another: a transaction whose keys were changed since Begin (nothing applied), or a path that already exists. */
export class Conflict extends LeitherError {
  readonly code = 'Conflict'
}

/** Thrown when a write would leave the disk under the node's free-space floor; nothing is written. */
export class DiskFull extends LeitherError {
  readonly code = 'DiskFull'
}
