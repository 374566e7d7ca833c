// Face of the Hprose value codec (docs/hprose.md §2): decode/encode, the streaming Reader/Writer, value types.
//
// Value mapping (reader → JS → writer):
//   0-9 i l    number when |n| ≤ 2^53−1, else BigInt (never rounded).   number: int32 → digit/`i`,
//              other safe integers → `l` (as @hprose 3.x; hprose 2 wrote `d`), others → `d` (JS
//              toString, so `d1e+21;`); -0 is written `0` like both JS writers. BigInt → digit/`l`.
//   d N I+ I-  number (`e`/`E` exponents accepted).
//   t f n      true, false, null (3.x readers give undefined; undefined is written `n`).
//   e u s      string. `e` is also how some writers send empty bytes; it reads as ''.
//   b          Uint8Array (a copy). Written from Uint8Array/Buffer, ArrayBuffer, DataView.
//   D T        Date, millisecond precision: µs/ns are checked and dropped, as the official readers
//              do. `;` is the host's local time, `Z` UTC; `T` alone is that time on 1970-01-01.
//              Written in local time like every JS writer (EncodeOptions.utc for `Z`); whether it
//              arrived local or UTC is not kept: the instant is what matters to the node.
//   g          Guid (a wrapper, so an echo writes `g` again rather than `s`).
//   a          Array (also written from Set and non-byte typed arrays).
//   m          plain object while all keys are strings, Map otherwise (DecodeOptions.mapType).
//              Written from plain objects (own enumerable keys, methods skipped) and Map.
//   c o        plain object whose prototype carries the class name under HPROSE_CLASS (see
//              classNameOf/withClassName), so it re-encodes as the same class. Written from any
//              object with HPROSE_CLASS, or a class instance (under its constructor name).
//   r          the same JS value again: cycles and shared structure survive a round trip.
//   E          RemoteError (a 3.0 exception value), returned not thrown. Any Error is written `E`.
//
// Reference and class tables for the RPC layer (§2.2, §3). One Reader and one Writer serve a
// whole request or reply; call reset() at each point where the protocol starts a new table:
//   * after the method name of each `C` (so the argument list is slot 0),
//   * before each call of a batch (the next `C`),
//   * between a result `R` and its byref `A` arguments, and before each `R`/`E` of a reply,
//   * after the 3.x `H` header map.
// Inside one argument list the table is shared by all arguments (they are one `a` value).
// Typical request read: peekTag() → readTag() 'C' → readString() (name) → reset() → if
// peekTag() is 'a' then readValue() → optional 't' → next 'C' or 'z'.
// Typical reply write: writeTag(Tag.Result).write(value) per call (reset() between them), or
// writeTag(Tag.Error).writeString(message) for an error (always `s`, as hprose 2 writes it),
// then writeTag(Tag.End); toBytes() at the end.
// Simple mode (3.x header simple:true) needs no reader switch: input without `r` reads the same.

import { type DecodeOptions, Reader } from './reader.ts'
import { HproseDecodeError } from './errors.ts'
import { type EncodeOptions, Writer } from './writer.ts'

export { DEFAULT_MAX_DEPTH, type DecodeOptions, type MapType, Reader } from './reader.ts'
export { DEFAULT_WRITE_DEPTH, type EncodeOptions, Writer } from './writer.ts'
export { HproseDecodeError, HproseEncodeError } from './errors.ts'
export { Tag, tagName } from './tags.ts'
export { classNameOf, Guid, HPROSE_CLASS, withClassName } from '../values.ts'
export { RemoteError } from './values.ts'

/** Decodes exactly one value filling all of `bytes`; trailing bytes are an error. Throws only HproseDecodeError. */
export function decode(bytes: Uint8Array | ArrayBuffer, options?: DecodeOptions): unknown {
  const input = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  const reader = new Reader(input, options)
  const value = reader.readValue()
  if (!reader.atEnd) throw new HproseDecodeError(`unexpected ${input.length - reader.pos} trailing bytes`, reader.pos)
  return value
}

/** Encodes one value with a fresh reference table. Throws HproseEncodeError for unwritable values. */
export function encode(value: unknown, options?: EncodeOptions): Uint8Array<ArrayBuffer> {
  return new Writer(options).write(value).toBytes()
}
