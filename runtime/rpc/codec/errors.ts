// The two errors the Hprose codec throws: one for bytes it cannot read, one for values it cannot write.

import { InvalidParams } from '../../errors.ts'

/**
 * Thrown when Hprose input is malformed: truncated, an unknown tag, bad UTF-8, a number with
 * garbage, a reference out of range, nesting deeper than the limit. It is the only error the
 * reader lets escape, so the RPC layer can answer any hostile body with one `E` reply.
 * It is an `InvalidParams` because the bytes come from the caller.
 */
export class HproseDecodeError extends InvalidParams {
  /** Byte offset in the input where the problem was found. */
  readonly offset: number

  constructor(message: string, offset: number) {
    super(`hprose: ${message} at byte ${offset}`)
    this.name = 'HproseDecodeError'
    this.offset = offset
  }
}

/**
 * Thrown when a value cannot be written: a Date outside years 0000–9999 or an invalid Date,
 * nesting deeper than the limit (a cycle in simple mode, where no references are written), or a
 * malformed class name. The writer never emits a partial value on the wire after this error: the
 * caller drops the buffer.
 */
export class HproseEncodeError extends Error {
  constructor(message: string) {
    super(`hprose: ${message}`)
    this.name = 'HproseEncodeError'
  }
}
