// UTF-8 for Hprose strings (docs/hprose.md §2.1 `s`/`u`): strict walking by UTF-16 units, fast slicing, and encoding.

import { HproseDecodeError } from './errors.ts'

/**
 * Walks `units` UTF-16 code units of strict UTF-8 from `start` and returns the byte offset after
 * them. Hprose lengths count UTF-16 units, so the byte length is only known by walking: a 4-byte
 * sequence is a surrogate pair (2 units), every other sequence is 1 unit.
 *
 * Rejects what the official writers never produce and TextDecoder would silently replace:
 * overlong forms, encoded surrogates (ED A0..BF, how a lone surrogate would look), code points
 * above U+10FFFF, stray continuation bytes, and a length that splits a surrogate pair.
 */
export function walkUtf8(bytes: Uint8Array, start: number, end: number, units: number): number {
  let p = start
  let n = 0
  while (n < units) {
    if (p >= end) throw new HproseDecodeError('string is truncated', p)
    const b0 = bytes[p]!
    if (b0 < 0x80) {
      p++
      n++
      continue
    }
    let size: number
    let lo = 0x80 // allowed range of the second byte; narrower after E0, ED, F0, F4
    let hi = 0xbf
    if (b0 >= 0xc2 && b0 <= 0xdf) size = 2
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      size = 3
      if (b0 === 0xe0) lo = 0xa0 // overlong below U+0800
      else if (b0 === 0xed) hi = 0x9f // U+D800..DFFF are not characters
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      size = 4
      if (b0 === 0xf0) lo = 0x90 // overlong below U+10000
      else if (b0 === 0xf4) hi = 0x8f // above U+10FFFF
      if (n + 2 > units) throw new HproseDecodeError('string length splits a surrogate pair', p)
    } else {
      throw new HproseDecodeError(`invalid UTF-8 lead byte 0x${b0.toString(16)}`, p)
    }
    if (p + size > end) throw new HproseDecodeError('string is truncated inside a UTF-8 sequence', p)
    const b1 = bytes[p + 1]!
    if (b1 < lo || b1 > hi) throw new HproseDecodeError('invalid UTF-8 sequence', p)
    for (let k = 2; k < size; k++) {
      const bk = bytes[p + k]!
      if (bk < 0x80 || bk > 0xbf) throw new HproseDecodeError('invalid UTF-8 sequence', p)
    }
    p += size
    n += size === 4 ? 2 : 1
  }
  return p
}

const textDecoder = new TextDecoder('utf-8')
// Bun (and Node) expose a native slice-to-string that works on any Uint8Array and skips the
// subarray allocation TextDecoder needs; about twice as fast for short strings. Input is already
// validated by walkUtf8, so the decoder's error handling never matters.
const nativeUtf8Slice = (globalThis as { Buffer?: { prototype: Record<string, unknown> } }).Buffer
  ?.prototype.utf8Slice as ((this: Uint8Array, start: number, end: number) => string) | undefined

// Short ASCII strings recur constantly (map keys, field and method names). Returning the same
// string object each time skips building it and lets the engine reuse its interned form when the
// string becomes a property key. Direct-mapped by a hash of the bytes; a miss just overwrites.
const SHORT_LIMIT = 16
const CACHE_SIZE = 4096
const shortCache: (string | undefined)[] = new Array(CACHE_SIZE).fill(undefined)

function shortAscii(bytes: Uint8Array, start: number, end: number): string {
  let h = end - start
  for (let p = start; p < end; p++) h = (Math.imul(h, 31) + bytes[p]!) | 0
  const slot = (h ^ (h >>> 15)) & (CACHE_SIZE - 1)
  const cached = shortCache[slot]
  if (cached !== undefined && cached.length === end - start) {
    let same = true
    for (let i = 0; i < cached.length; i++) {
      if (cached.charCodeAt(i) !== bytes[start + i]) {
        same = false
        break
      }
    }
    if (same) return cached
  }
  let s = ''
  for (let p = start; p < end; p++) s += String.fromCharCode(bytes[p]!)
  shortCache[slot] = s
  return s
}

/** Text of validated UTF-8 bytes [start, end). `ascii` says every byte is < 0x80. */
export function utf8Text(bytes: Uint8Array, start: number, end: number, ascii: boolean): string {
  if (ascii && end - start <= SHORT_LIMIT) return shortAscii(bytes, start, end)
  if (nativeUtf8Slice !== undefined) return nativeUtf8Slice.call(bytes, start, end)
  return textDecoder.decode(bytes.subarray(start, end))
}

/** Text of ASCII bytes [start, end) already checked by the caller (numbers, GUIDs). */
export function asciiText(bytes: Uint8Array, start: number, end: number): string {
  let s = ''
  for (let p = start; p < end; p++) s += String.fromCharCode(bytes[p]!)
  return s
}

const textEncoder = new TextEncoder()

/**
 * Writes the UTF-8 of `s` into `out` at `at` (room for 3 bytes per unit needed) and returns the
 * offset after it. Lone surrogates become U+FFFD, as TextEncoder does: still one unit, so the
 * length already written stays right (hprose 2 throws "Malformed string" instead). Short strings
 * are encoded inline; the native encoder only pays off past a few dozen units.
 */
export function writeUtf8(s: string, out: Uint8Array, at: number): number {
  const n = s.length
  if (n > 64) return at + textEncoder.encodeInto(s, out.subarray(at)).written
  let p = at
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i)
    if (c < 0x80) {
      out[p++] = c
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6)
      out[p++] = 0x80 | (c & 0x3f)
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? s.charCodeAt(i + 1) : 0
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
          i++
          out[p++] = 0xf0 | (c >> 18)
          out[p++] = 0x80 | ((c >> 12) & 0x3f)
          out[p++] = 0x80 | ((c >> 6) & 0x3f)
          out[p++] = 0x80 | (c & 0x3f)
          continue
        }
        c = 0xfffd
      }
      out[p++] = 0xe0 | (c >> 12)
      out[p++] = 0x80 | ((c >> 6) & 0x3f)
      out[p++] = 0x80 | (c & 0x3f)
    }
  }
  return p
}
