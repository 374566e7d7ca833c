// Hprose `D`/`T` dates and times (docs/hprose.md §2.1, ABNF `datetime`): building JS Dates and the wire digits.

import { HproseEncodeError } from './errors.ts'

/**
 * The JS Date for wire fields. `utc` follows the closing tag: `Z` is UTC, `;` is the reader's
 * local time zone (what every JS writer sends). Years 0–99 are set with setFullYear because the
 * Date constructor and Date.UTC map them to 1900–1999.
 */
export function makeDate(
  year: number,
  month: number, // 1..12
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  utc: boolean,
): Date {
  if (utc) {
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms))
    if (year < 100) date.setUTCFullYear(year)
    return date
  }
  const date = new Date(year, month - 1, day, hour, minute, second, ms)
  if (year < 100) date.setFullYear(year)
  return date
}

/** Writes the ASCII digits of a non-negative integer, left-padded with zeros to `width`. */
function putDigits(out: Uint8Array, at: number, value: number, width: number): void {
  for (let k = width - 1; k >= 0; k--) {
    out[at + k] = 0x30 + (value % 10)
    value = Math.floor(value / 10)
  }
}

/** Longest encoding formatDate can produce: `D20200102T030405.678;`. */
export const MAX_DATE_BYTES = 22

/**
 * Encodes a Date the way the official JS writers do (hprose 2 `writeDate`, 3.x `writeDateTime`):
 * midnight is date-only `D20200102;`, a time on 1970-01-01 is time-only `T030405;`, otherwise
 * `D…T…`; milliseconds only when non-zero; `;` for local time, `Z` for UTC. Writes into `out`
 * at `at` (room for MAX_DATE_BYTES needed) and returns the offset after the last byte.
 */
export function formatDate(date: Date, utc: boolean, out: Uint8Array, at: number): number {
  const time = date.getTime()
  if (time !== time) throw new HproseEncodeError('cannot write an invalid Date')
  const year = utc ? date.getUTCFullYear() : date.getFullYear()
  if (year < 0 || year > 9999) throw new HproseEncodeError(`cannot write year ${year}: the format has four digits`)
  const month = (utc ? date.getUTCMonth() : date.getMonth()) + 1
  const day = utc ? date.getUTCDate() : date.getDate()
  const hour = utc ? date.getUTCHours() : date.getHours()
  const minute = utc ? date.getUTCMinutes() : date.getMinutes()
  const second = utc ? date.getUTCSeconds() : date.getSeconds()
  const ms = utc ? date.getUTCMilliseconds() : date.getMilliseconds()
  let n = at
  const midnight = hour === 0 && minute === 0 && second === 0 && ms === 0
  const epochDay = year === 1970 && month === 1 && day === 1
  if (midnight || !epochDay) {
    out[n++] = 0x44 // 'D'
    putDigits(out, n, year, 4)
    putDigits(out, n + 4, month, 2)
    putDigits(out, n + 6, day, 2)
    n += 8
  }
  if (!midnight) {
    out[n++] = 0x54 // 'T'
    putDigits(out, n, hour, 2)
    putDigits(out, n + 2, minute, 2)
    putDigits(out, n + 4, second, 2)
    n += 6
    if (ms !== 0) {
      out[n++] = 0x2e // '.'
      putDigits(out, n, ms, 3)
      n += 3
    }
  }
  out[n++] = utc ? 0x5a : 0x3b // 'Z' or ';'
  return n
}
