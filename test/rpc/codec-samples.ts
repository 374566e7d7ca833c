// Shared fixtures for the Hprose codec tests: capture notation, wire assertions, a corpus of valid encodings.

import { afterAll, beforeAll, expect } from 'bun:test'
import { type EncodeOptions, decode, encode } from '../../runtime/rpc/codec/index.ts'

const utf8 = new TextEncoder()

/**
 * Bytes of a capture as docs/hprose.md §4 prints it: `\xNN` is one raw byte, every other character
 * is its UTF-8. Use with String.raw so the backslashes survive.
 */
export function wire(text: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && text[i + 1] === 'x') {
      out.push(parseInt(text.slice(i + 2, i + 4), 16))
      i += 3
      continue
    }
    const cp = text.codePointAt(i)!
    const ch = String.fromCodePoint(cp)
    out.push(...utf8.encode(ch))
    i += ch.length - 1
  }
  return Uint8Array.from(out)
}

/** Printable form of bytes, in the same notation, for readable failures. */
export function show(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`
  return s
}

/** Runs the file's tests with TZ=UTC (the captures were taken so: local time == UTC), restoring it after. */
export function useUtc(): void {
  const saved = process.env.TZ
  beforeAll(() => {
    process.env.TZ = 'UTC'
  })
  afterAll(() => {
    process.env.TZ = saved
  })
}

/** Encodes and compares with a capture in docs/hprose.md notation. */
export function expectWire(value: unknown, capture: string, options?: EncodeOptions): void {
  expect(show(encode(value, options))).toBe(show(wire(capture)))
}

export function roundTrip(value: unknown): unknown {
  return decode(encode(value))
}

/** Valid single values covering every tag and the awkward forms other writers produce. */
export const VALID_SAMPLES: string[] = [
  '0', '7', 'i1234567;', 'i-128;', 'i+5;', 'l1234567890987654321;', 'l-9223372036854775808;', 'l9007199254740993;',
  'd3.5;', 'd-0.1;', 'd1e+21;', 'd1e-7;', 'd-1.45E23;', 'd9007199254740992;', 'd-0;', 'N', 'I+', 'I-',
  't', 'f', 'n', 'e', 'uA', 'u½', 'u∞', 's""', 's12"Hello world!"', 's2"你好"', 's2"😀"', 's11"héllo 你好 😀"',
  String.raw`b5"\x00\x01\x02"\xff"`, 'b""', 'b3"abc"',
  'D20121229;', 'D20121225Z', 'T032159;', 'T182343.654Z', 'D20121221T151435Z', 'D20501228T134359.324543123;',
  'D20200102T030405.678123Z', 'D00010101;',
  'g{AFA7F4B1-A64D-46FA-886F-ED7FBCE569B6}', 'a{}', 'a10{0123456789}', 'a3{a3{123}a3{456}a3{789}}',
  'm{}', 'm2{s4"name"s5"Tommy"s3"age"i24;}', 'm2{1s3"one"uka1{t}}',
  'a2{c6"Person"2{s4"name"s3"age"}o0{s5"Tommy"i24;}o0{s5"Jerry"i19;}}',
  'a2{c3"Foo"2{s1"q"s1"r"}o0{1s3"two"}o0{1r4;}}', 'c3"Set"{}o0{}', 'a1{r0;}',
  'a4{m1{ukuv}r1;s3"dup"r2;}', 'm1{s4"self"r0;}', 'Es11"sent as arg"', 'a2{s2"ab"Er1;}',
  'm3{s4"name"s3"Tom"s4"list"a5{1s3"two"d3.5;nt}s6"nested"m1{uka{}}}',
  'a3{s4"name"c1"P"1{r1;}o0{r1;}r2;}', 'a2{g{00000000-0000-0000-0000-000000000000}r1;}',
]
