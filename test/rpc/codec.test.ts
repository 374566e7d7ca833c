// Hprose codec scalars: every leaf tag round-trips and matches the docs/hprose.md §4 captures byte for byte.

import { describe, expect, test } from 'bun:test'
import {
  Guid,
  HproseEncodeError,
  decode,
  encode,
} from '../../runtime/rpc/codec/index.ts'
import { expectWire, roundTrip, show, useUtc, wire } from './codec-samples.ts'

useUtc()

describe('scalars', () => {
  test('digits and int32', () => {
    for (let n = 0; n <= 9; n++) expectWire(n, String(n))
    expectWire(10, 'i10;')
    expectWire(-1, 'i-1;')
    expectWire(2147483647, 'i2147483647;')
    expectWire(-2147483648, 'i-2147483648;')
    expect(decode(wire('i-128;'))).toBe(-128)
    expect(decode(wire('i+5;'))).toBe(5)
  })

  test('longs: numbers while safe, BigInt beyond 2^53', () => {
    expectWire(2147483648, 'l2147483648;')
    expectWire(2 ** 53 - 1, 'l9007199254740991;')
    expectWire(-(2 ** 53 - 1), 'l-9007199254740991;')
    expect(decode(wire('l9007199254740991;'))).toBe(2 ** 53 - 1)
    expect(decode(wire('l-9007199254740991;'))).toBe(-(2 ** 53 - 1))
    expect(decode(wire('l9007199254740992;'))).toBe(2n ** 53n)
    expect(decode(wire('l9007199254740993;'))).toBe(2n ** 53n + 1n)
    expect(decode(wire('l-9007199254740993;'))).toBe(-(2n ** 53n) - 1n)
    expect(decode(wire('l1234567890987654321;'))).toBe(1234567890987654321n)
    expect(decode(wire('l0000000000000000000000042;'))).toBe(42)
    for (const big of [2n ** 53n + 1n, -(2n ** 63n), 2n ** 64n, -(10n ** 40n) - 7n]) {
      expect(roundTrip(big)).toBe(big)
    }
    expectWire(5n, '5')
    expectWire(-5n, 'l-5;')
    expectWire(12n, 'l12;')
    expect(roundTrip(7n)).toBe(7) // small BigInts come back as numbers: the wire has no type for them
  })

  test('doubles, exponents, NaN, infinities, -0', () => {
    expectWire(3.5, 'd3.5;')
    expectWire(-0.1, 'd-0.1;')
    expectWire(1e21, 'd1e+21;')
    expectWire(1e-7, 'd1e-7;')
    expectWire(2 ** 53, 'd9007199254740992;')
    expectWire(NaN, 'N')
    expectWire(Infinity, 'I+')
    expectWire(-Infinity, 'I-')
    expectWire(-0, '0') // both JS writers lose the sign
    expect(decode(wire('d-1.45E23;'))).toBe(-1.45e23)
    expect(decode(wire('d1E+21;'))).toBe(1e21)
    expect(decode(wire('d1e-7;'))).toBe(1e-7)
    expect(Object.is(decode(wire('d-0;')), -0)).toBe(true)
    expect(Object.is(decode(wire('d-0.0;')), -0)).toBe(true)
    expect(decode(wire('d5;'))).toBe(5)
    expect(Number.isNaN(decode(wire('N')))).toBe(true)
    for (const x of [0.1, 0.2 + 0.1, Math.PI, -Math.E, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 123456789.123456789, 1 / 3, 4.35, 0.000001234]) {
      expect(roundTrip(x)).toBe(x)
      expect(decode(wire(`d${x};`))).toBe(x)
    }
    // Long mantissas and big exponents leave the fast path; results must still be exact.
    expect(decode(wire('d0.30000000000000004441;'))).toBe(0.30000000000000004)
    expect(decode(wire('d123456789012345678901234567890;'))).toBe(1.2345678901234568e29)
    expect(decode(wire('d1e400;'))).toBe(Infinity)
  })

  test('booleans, null, undefined, functions, symbols', () => {
    expectWire(true, 't')
    expectWire(false, 'f')
    expectWire(null, 'n')
    expectWire(undefined, 'n')
    expectWire(() => 1, 'n')
    expectWire(Symbol('x'), 'n')
    expect(decode(wire('n'))).toBeNull()
    expect(decode(wire('t'))).toBe(true)
    expect(decode(wire('f'))).toBe(false)
  })

  test('boxed primitives are unwrapped', () => {
    expectWire(Object(5), '5')
    expectWire(Object('hi'), 's2"hi"')
    expectWire(Object(true), 't')
  })
})

describe('strings', () => {
  test('e, u, s forms and UTF-16 lengths', () => {
    expectWire('', 'e')
    expectWire('A', 'uA')
    expectWire('½', 'u½')
    expectWire('∞', 'u∞')
    expectWire('Hello world!', 's12"Hello world!"')
    expectWire('你好', 's2"你好"')
    expectWire('😀', 's2"😀"') // one code point, two UTF-16 units
    expectWire('héllo 你好 😀', String.raw`s11"h\xc3\xa9llo \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80"`)
    expect(decode(wire('s""'))).toBe('')
    expect(decode(wire('e'))).toBe('')
    for (const s of ['😀😀😀', 'a😀b', '🏳️‍🌈 flag', 'x'.repeat(70) + '😀', '日本語'.repeat(50), '"quoted" \\ \n\t\0', '\u{10FFFF}\u{10000}', '\uFFFF\uE000']) {
      expect(roundTrip(s)).toBe(s)
    }
  })

  test('long strings use the native paths both ways', () => {
    const ascii = 'abcdefghij'.repeat(1000)
    const mixed = 'añ😀中'.repeat(500)
    expect(roundTrip(ascii)).toBe(ascii)
    expect(roundTrip(mixed)).toBe(mixed)
    expect(show(encode(mixed)).startsWith('s2500"')).toBe(true)
  })

  test('lone surrogates are written as U+FFFD, keeping the unit count', () => {
    expect(roundTrip('a\ud800b')).toBe('a\ufffdb')
    expect(roundTrip('\udc00')).toBe('\ufffd')
    expect(roundTrip('x'.repeat(80) + '\ud800')).toBe('x'.repeat(80) + '\ufffd')
  })

  test('repeated strings are referenced by value; u and e never are', () => {
    expectWire(['dup', 'dup', 'x', 'x', '', ''], 'a6{s3"dup"r1;uxuxee}')
    const decoded = decode(wire('a3{s2"ab"r1;r1;}')) as string[]
    expect(decoded).toEqual(['ab', 'ab', 'ab'])
  })
})

describe('bytes', () => {
  test('b with raw data, quotes inside', () => {
    expectWire(Uint8Array.from([0, 1, 2, 34, 255]), String.raw`b5"\x00\x01\x02"\xff"`)
    expectWire(new Uint8Array(0), 'b""')
    expectWire(Buffer.from('abc'), 'b3"abc"')
    expectWire(Uint8Array.from([1, 2]).buffer, String.raw`b2"\x01\x02"`)
    expectWire(new DataView(Uint8Array.from([9, 8, 7]).buffer, 1, 2), String.raw`b2"\x08\x07"`)
    const decoded = decode(wire(String.raw`b5"\x00\x01\x02"\xff"`))
    expect(decoded).toBeInstanceOf(Uint8Array)
    expect([...(decoded as Uint8Array)]).toEqual([0, 1, 2, 34, 255])
  })

  test('decoded bytes are a copy, not a view of the input', () => {
    const input = wire('b3"abc"')
    const out = decode(input) as Uint8Array
    input[4] = 0x7a
    expect(new TextDecoder().decode(out)).toBe('abc')
  })

  test('the same Uint8Array is referenced, and comes back as one object', () => {
    const b = Uint8Array.from([1, 2, 3])
    expectWire([b, b], String.raw`a2{b3"\x01\x02\x03"r1;}`)
    const [x, y] = roundTrip([b, b]) as Uint8Array[]
    expect(x).toBe(y)
  })
})

describe('dates and times', () => {
  test('capture forms (TZ=UTC)', () => {
    expectWire(new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 678)), 'D20200102T030405.678;')
    expectWire(new Date(Date.UTC(2020, 0, 2)), 'D20200102;') // midnight: date only
    expectWire(new Date(Date.UTC(1970, 0, 1)), 'D19700101;')
    expectWire(new Date(Date.UTC(1970, 0, 1, 3, 4, 5)), 'T030405;') // 1970-01-01: time only
    expectWire(new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 678)), 'D20200102T030405.678Z', { utc: true })
    const year5 = new Date(Date.UTC(2000, 0, 2))
    year5.setUTCFullYear(5) // Date.UTC would read 5 as 1905
    expectWire(year5, 'D00050102;')
  })

  test('decoding: local, UTC, fractions, time-only, years below 100', () => {
    expect(decode(wire('D20121229;'))).toEqual(new Date(Date.UTC(2012, 11, 29)))
    expect(decode(wire('D20121225Z'))).toEqual(new Date(Date.UTC(2012, 11, 25)))
    expect(decode(wire('D20121221T151435Z'))).toEqual(new Date(Date.UTC(2012, 11, 21, 15, 14, 35)))
    expect(decode(wire('T032159;'))).toEqual(new Date(Date.UTC(1970, 0, 1, 3, 21, 59)))
    expect(decode(wire('T182343.654Z'))).toEqual(new Date(Date.UTC(1970, 0, 1, 18, 23, 43, 654)))
    // µs and ns are validated and truncated to ms, as the official readers do.
    expect(decode(wire('D20501228T134359.324543123;'))).toEqual(new Date(Date.UTC(2050, 11, 28, 13, 43, 59, 324)))
    expect(decode(wire('D20501228T134359.324543Z'))).toEqual(new Date(Date.UTC(2050, 11, 28, 13, 43, 59, 324)))
    const early = decode(wire('D00050102T010203Z')) as Date
    expect(early.toISOString()).toBe('0005-01-02T01:02:03.000Z')
    const date = new Date(Date.UTC(2021, 5, 7, 8, 9, 10, 11))
    expect(roundTrip(date)).toEqual(date)
  })

  test('local time follows the process time zone', () => {
    process.env.TZ = 'Asia/Shanghai' // UTC+8, no DST
    try {
      const instant = new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 678))
      expectWire(instant, 'D20200102T110405.678;')
      expectWire(instant, 'D20200102T030405.678Z', { utc: true })
      expect(decode(wire('D20200102T110405.678;'))).toEqual(instant)
      expect(decode(wire('D20200102T030405.678Z'))).toEqual(instant)
      expectWire(new Date(Date.UTC(2020, 0, 1, 16)), 'D20200102;') // local midnight
      expectWire(new Date(Date.UTC(1969, 11, 31, 19, 4, 5)), 'T030405;') // local 1970-01-01
      expect(decode(wire('T030405;'))).toEqual(new Date(Date.UTC(1969, 11, 31, 19, 4, 5)))
    } finally {
      process.env.TZ = 'UTC'
    }
  })

  test('the same Date is referenced', () => {
    const d = new Date(Date.UTC(2020, 0, 2))
    expectWire([d, d, new Date(d)], 'a3{D20200102;r1;D20200102;}')
    const [x, y] = roundTrip([d, d]) as Date[]
    expect(x).toBe(y)
  })

  test('unwritable dates throw HproseEncodeError', () => {
    expect(() => encode(new Date(NaN))).toThrow(HproseEncodeError)
    expect(() => encode(new Date(Date.UTC(10000, 0, 1)))).toThrow(HproseEncodeError)
    expect(() => encode(new Date(Date.UTC(-1, 0, 1)))).toThrow(HproseEncodeError)
  })
})

describe('GUIDs', () => {
  test('decode to Guid and write back as g', () => {
    const text = 'AFA7F4B1-A64D-46FA-886F-ED7FBCE569B6'
    const g = decode(wire(`g{${text}}`))
    expect(g).toBeInstanceOf(Guid)
    expect(String(g)).toBe(text)
    expect(JSON.stringify(g)).toBe(`"${text}"`)
    expectWire(g, `g{${text}}`)
    expect((g as Guid).equals(new Guid(text.toLowerCase()))).toBe(true)
    expectWire([g, g], `a2{g{${text}}r1;}`)
    expect(() => new Guid('not-a-guid')).toThrow(TypeError)
  })
})
