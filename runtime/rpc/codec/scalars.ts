// Readers for the leaf values after their tag (docs/hprose.md §2.3 ABNF): numbers, counts, strings, bytes, dates, GUIDs.

import { HproseDecodeError } from './errors.ts'
import { makeDate } from './datetime.ts'
import { Tag, tagName } from './tags.ts'
import { asciiText, utf8Text, walkUtf8 } from './utf8.ts'
import { Guid } from '../values.ts'

/** Input position shared by the reader and these functions. `end` is exclusive. */
export interface Cursor {
  readonly bytes: Uint8Array
  pos: number
  readonly end: number
}

/** Longest decimal an `l`/`i` may carry; BigInt parsing is superlinear, so hostile megabyte numbers stop here. */
const MAX_INTEGER_DIGITS = 4096
/** Longest `d` body; the longest JS `toString` of a double is 24 characters. */
const MAX_DOUBLE_CHARS = 1024
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
/** Exact powers of ten for the fast double path (10^22 is the largest exact double power). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k)

export function truncated(c: Cursor, what: string): HproseDecodeError {
  return new HproseDecodeError(`input ends inside ${what}`, c.pos)
}

/** Throws unless the next byte is `tag`, and consumes it. */
export function expectByte(c: Cursor, tag: number, what: string): void {
  if (c.pos >= c.end) throw truncated(c, what)
  const got = c.bytes[c.pos]!
  if (got !== tag) throw new HproseDecodeError(`expected ${tagName(tag)} in ${what}, found ${tagName(got)}`, c.pos)
  c.pos++
}

/**
 * Unsigned decimal up to `term` (consumed): string/bytes lengths, list/map/field counts, class and
 * value ref indexes. An empty number means 0 when `emptyIsZero` (writers emit `s""`, `a{}`,
 * `c3"Set"{}`). Over 15 digits is rejected: no real count is that large and it stays exact.
 */
export function readUint(c: Cursor, term: number, emptyIsZero: boolean, what: string): number {
  const bytes = c.bytes
  let p = c.pos
  let n = 0
  const start = p
  for (;;) {
    if (p >= c.end) {
      c.pos = p
      throw truncated(c, what)
    }
    const b = bytes[p]!
    if (b === term) break
    const d = b - 0x30
    if (d < 0 || d > 9) throw new HproseDecodeError(`expected a digit or ${tagName(term)} in ${what}, found ${tagName(b)}`, p)
    n = n * 10 + d
    if (++p - start > 15) throw new HproseDecodeError(`${what} is too large`, start)
  }
  if (p === start && !emptyIsZero) throw new HproseDecodeError(`${what} has no digits`, p)
  c.pos = p + 1
  return n
}

/**
 * Body of `i`/`l` after the tag: SINT `;`. Gives a number when the value is a safe integer
 * (|n| ≤ 2^53−1), otherwise a BigInt, so no long is ever rounded. `i` is read the same way:
 * some writers put 64-bit values there, and being exact costs nothing.
 */
export function readInteger(c: Cursor): number | bigint {
  const bytes = c.bytes
  let p = c.pos
  let neg = false
  if (p < c.end && (bytes[p] === Tag.Neg || bytes[p] === Tag.Pos)) neg = bytes[p++] === Tag.Neg
  const start = p
  let n = 0
  for (;;) {
    if (p >= c.end) {
      c.pos = p
      throw truncated(c, 'an integer')
    }
    const b = bytes[p]!
    if (b === Tag.Semicolon) break
    const d = b - 0x30
    if (d < 0 || d > 9) throw new HproseDecodeError(`expected a digit or ';' in an integer, found ${tagName(b)}`, p)
    n = n * 10 + d
    if (++p - start > MAX_INTEGER_DIGITS) throw new HproseDecodeError('integer has too many digits', start)
  }
  const digits = p - start
  if (digits === 0) throw new HproseDecodeError('integer has no digits', p)
  c.pos = p + 1
  if (digits <= 15) return neg ? -n : n // 10^15 < 2^53: the running total was exact
  let big = BigInt(asciiText(bytes, start, p))
  if (neg) big = -big
  return big >= -MAX_SAFE && big <= MAX_SAFE ? Number(big) : big
}

/**
 * Body of `d` after the tag: [sign] digits [`.` digits] [(`e`|`E`) [sign] digits] `;`. The ABNF
 * has only `E`, but JS writers emit `1e+21`/`1e-7`. Short values take Clinger's exact fast path
 * (an integer below 2^53 scaled by an exact power of ten rounds once); the rest go to Number().
 */
export function readDouble(c: Cursor): number {
  const bytes = c.bytes
  const end = c.end
  const start = c.pos
  let p = start
  let neg = false
  if (p < end && (bytes[p] === Tag.Neg || bytes[p] === Tag.Pos)) neg = bytes[p++] === Tag.Neg
  let mantissa = 0
  let mantDigits = 0
  let fracDigits = 0
  let b = p < end ? bytes[p]! : -1
  while (b >= 0x30 && b <= 0x39) {
    mantissa = mantissa * 10 + (b - 0x30)
    mantDigits++
    b = ++p < end ? bytes[p]! : -1
  }
  if (b === Tag.Point) {
    b = ++p < end ? bytes[p]! : -1
    while (b >= 0x30 && b <= 0x39) {
      mantissa = mantissa * 10 + (b - 0x30)
      mantDigits++
      fracDigits++
      b = ++p < end ? bytes[p]! : -1
    }
  }
  if (mantDigits === 0) doubleError(c, p, 'expected a digit')
  let exp = 0
  if (b === 0x65 || b === 0x45) {
    b = ++p < end ? bytes[p]! : -1
    let expNeg = false
    if (b === Tag.Neg || b === Tag.Pos) {
      expNeg = b === Tag.Neg
      b = ++p < end ? bytes[p]! : -1
    }
    const expStart = p
    while (b >= 0x30 && b <= 0x39) {
      if (exp < 100000) exp = exp * 10 + (b - 0x30)
      b = ++p < end ? bytes[p]! : -1
    }
    if (p === expStart) doubleError(c, p, 'expected an exponent digit')
    if (expNeg) exp = -exp
  }
  if (b !== Tag.Semicolon) doubleError(c, p, "expected ';'")
  if (p - start > MAX_DOUBLE_CHARS) throw new HproseDecodeError('double is too long', start)
  c.pos = p + 1
  let value: number
  const scale = exp - fracDigits
  if (mantDigits <= 15 && scale >= -22 && scale <= 22) {
    value = scale >= 0 ? mantissa * POW10[scale]! : mantissa / POW10[-scale]!
  } else {
    value = Number(asciiText(bytes, neg || bytes[start] === Tag.Pos ? start + 1 : start, p))
  }
  return neg ? -value : value
}

function doubleError(c: Cursor, p: number, what: string): never {
  c.pos = p
  if (p >= c.end) throw truncated(c, 'a double')
  throw new HproseDecodeError(`${what} in a double, found ${tagName(c.bytes[p]!)}`, p)
}

/** Body of `s` (and a class name) after the tag: <units> `"` utf8 `"`; the length counts UTF-16 units. */
export function readStringBody(c: Cursor, what: string): string {
  const units = readUint(c, Tag.Quote, true, 'a string length')
  const bytes = c.bytes
  const start = c.pos
  // Every unit takes at least one byte: refuse a claimed length the input cannot hold before walking.
  if (units >= c.end - start) throw new HproseDecodeError(`${what} of ${units} units does not fit in the input`, start)
  const stop = walkUtf8(bytes, start, c.end, units)
  if (stop >= c.end || bytes[stop] !== Tag.Quote) {
    c.pos = stop
    if (stop >= c.end) throw truncated(c, what)
    throw new HproseDecodeError(`expected '"' after ${units} units of ${what}, found ${tagName(bytes[stop]!)}`, stop)
  }
  c.pos = stop + 1
  return utf8Text(bytes, start, stop, stop - start === units)
}

/** Body of `u` after the tag: exactly one UTF-16 unit (1–3 UTF-8 bytes), no quotes. */
export function readCharBody(c: Cursor): string {
  const start = c.pos
  const stop = walkUtf8(c.bytes, start, c.end, 1)
  c.pos = stop
  return utf8Text(c.bytes, start, stop, stop - start === 1)
}

/** Body of `b` after the tag: <len> `"` raw `"`. Copies, so the value does not pin the request buffer. */
export function readBytesBody(c: Cursor): Uint8Array {
  const len = readUint(c, Tag.Quote, true, 'bytes length')
  const start = c.pos
  if (len >= c.end - start) throw new HproseDecodeError(`bytes of length ${len} do not fit in the input`, start)
  c.pos = start + len
  expectByte(c, Tag.Quote, 'bytes')
  return c.bytes.slice(start, start + len)
}

/** `width` ASCII digits as a number, checked. */
function digits(c: Cursor, width: number, what: string): number {
  const bytes = c.bytes
  if (c.pos + width > c.end) throw truncated(c, what)
  let n = 0
  for (let k = 0; k < width; k++) {
    const d = bytes[c.pos]! - 0x30
    if (d < 0 || d > 9) throw new HproseDecodeError(`expected a digit in ${what}, found ${tagName(bytes[c.pos]!)}`, c.pos)
    n = n * 10 + d
    c.pos++
  }
  return n
}

function range(c: Cursor, value: number, lo: number, hi: number, what: string, width: number): number {
  if (value < lo || value > hi) throw new HproseDecodeError(`${what} ${value} is out of range`, c.pos - width)
  return value
}

function nextByte(c: Cursor, what: string): number {
  if (c.pos >= c.end) throw truncated(c, what)
  return c.bytes[c.pos++]!
}

/**
 * Time fields after `T`: hhmmss [`.` 3, 6 or 9 digits] then `;` or `Z`. µs and ns are checked
 * and dropped, as the official readers do: a JS Date holds milliseconds.
 */
function readClock(c: Cursor): { h: number; mi: number; s: number; ms: number; utc: boolean } {
  const h = range(c, digits(c, 2, 'a time'), 0, 23, 'hour', 2)
  const mi = range(c, digits(c, 2, 'a time'), 0, 59, 'minute', 2)
  const s = range(c, digits(c, 2, 'a time'), 0, 59, 'second', 2)
  let ms = 0
  let tag = nextByte(c, 'a time')
  if (tag === Tag.Point) {
    ms = digits(c, 3, 'a time fraction')
    tag = nextByte(c, 'a time')
    for (let extra = 0; extra < 2 && tag >= 0x30 && tag <= 0x39; extra++) {
      c.pos-- // the digit just read starts the next group of three
      digits(c, 3, 'a time fraction')
      tag = nextByte(c, 'a time')
    }
  }
  return { h, mi, s, ms, utc: zone(c, tag, 'a time') }
}

function zone(c: Cursor, tag: number, what: string): boolean {
  if (tag === Tag.UTC) return true
  if (tag === Tag.Semicolon) return false
  throw new HproseDecodeError(`expected ';' or 'Z' to end ${what}, found ${tagName(tag)}`, c.pos - 1)
}

/** Body of `D` after the tag: yyyymmdd then `;`/`Z`, or `T` and a clock. */
export function readDateBody(c: Cursor): Date {
  const year = digits(c, 4, 'a date')
  const month = range(c, digits(c, 2, 'a date'), 1, 12, 'month', 2)
  const day = range(c, digits(c, 2, 'a date'), 1, 31, 'day', 2)
  const tag = nextByte(c, 'a date')
  if (tag === Tag.Time) {
    const t = readClock(c)
    return makeDate(year, month, day, t.h, t.mi, t.s, t.ms, t.utc)
  }
  return makeDate(year, month, day, 0, 0, 0, 0, zone(c, tag, 'a date'))
}

/** Body of `T` after the tag: a time of day on 1970-01-01, as the official readers give it. */
export function readTimeBody(c: Cursor): Date {
  const t = readClock(c)
  return makeDate(1970, 1, 1, t.h, t.mi, t.s, t.ms, t.utc)
}

/** Body of `g` after the tag: `{` 8-4-4-4-12 hex `}`. */
export function readGuidBody(c: Cursor): Guid {
  expectByte(c, Tag.OpenBrace, 'a GUID')
  const bytes = c.bytes
  const start = c.pos
  if (start + 37 > c.end) throw truncated(c, 'a GUID')
  for (let k = 0; k < 36; k++) {
    const b = bytes[start + k]!
    const ok = k === 8 || k === 13 || k === 18 || k === 23
      ? b === Tag.Neg
      : (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66)
    if (!ok) throw new HproseDecodeError(`malformed GUID, found ${tagName(b)}`, start + k)
  }
  c.pos = start + 36
  expectByte(c, Tag.CloseBrace, 'a GUID')
  return new Guid(asciiText(bytes, start, start + 36))
}

/** Body of `I` after the tag: `+` or `-`. */
export function readInfinityBody(c: Cursor): number {
  const sign = nextByte(c, 'an infinity')
  if (sign === Tag.Pos) return Infinity
  if (sign === Tag.Neg) return -Infinity
  throw new HproseDecodeError(`expected '+' or '-' after 'I', found ${tagName(sign)}`, c.pos - 1)
}
