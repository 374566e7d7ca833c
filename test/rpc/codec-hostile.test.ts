// Hprose codec under hostile input: only HproseDecodeError escapes, fast, with no allocation driven by claimed sizes.

import { describe, expect, test } from 'bun:test'
import { HproseDecodeError, HproseEncodeError, Reader, decode, encode } from '../../runtime/rpc/codec/index.ts'
import { VALID_SAMPLES, show, useUtc, wire } from './codec-samples.ts'

useUtc()

/** Decodes; returns the value, or the HproseDecodeError. Any other throw fails the test with the input shown. */
function attempt(bytes: Uint8Array, options?: Parameters<typeof decode>[1]): { ok: true; value: unknown } | { ok: false; error: HproseDecodeError } {
  try {
    return { ok: true, value: decode(bytes, options) }
  } catch (error) {
    if (error instanceof HproseDecodeError) return { ok: false, error }
    throw new Error(`non-codec error ${String(error)} for input ${show(bytes)}`)
  }
}

function rejects(text: string | Uint8Array, pattern?: RegExp): HproseDecodeError {
  const bytes = typeof text === 'string' ? wire(text) : text
  const result = attempt(bytes)
  if (result.ok) throw new Error(`accepted ${show(bytes)}`)
  if (pattern) expect(result.error.message).toMatch(pattern)
  expect(result.error.offset).toBeGreaterThanOrEqual(0)
  expect(result.error.offset).toBeLessThanOrEqual(bytes.length)
  return result.error
}

/** Seeded PRNG (mulberry32) so every run fuzzes the same inputs. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('truncation', () => {
  test('every strict prefix of every valid sample is rejected', () => {
    for (const sample of VALID_SAMPLES) {
      const bytes = wire(sample)
      expect(attempt(bytes).ok).toBe(true)
      for (let cut = 0; cut < bytes.length; cut++) rejects(bytes.subarray(0, cut))
    }
  })

  test('the error says where', () => {
    const error = rejects('s5"abc', /does not fit/)
    expect(error.offset).toBeGreaterThan(2)
    expect(rejects('a2{1x}').offset).toBe(4)
  })
})

describe('malformed values', () => {
  const cases: [string, string | Uint8Array][] = [
    ['empty input', ''],
    ['unknown tag', 'X'],
    ['closing brace alone', '}'],
    ['integer without digits', 'i;'],
    ['integer with garbage', 'i12a;'],
    ['integer with two signs', 'i--1;'],
    ['integer with a dot', 'i1.5;'],
    ['long with garbage', 'l99x;'],
    ['double without digits', 'd;'],
    ['double with garbage', 'd1.2.3;'],
    ['double with a bare exponent', 'd1e;'],
    ['double written as Infinity', 'dInfinity;'],
    ['double with spaces', 'd 1;'],
    ['bad infinity sign', 'I*'],
    ['string without quote', 's3abc"'],
    ['string too short for its length', 's4"abc"'],
    ['string too long for its length', 's2"abc"'],
    ['string with a negative length', 's-1"a"'],
    ['length splitting a surrogate pair', 's1"😀"'],
    ['u with a 4-byte character', 'u😀'],
    ['u with nothing after', 'u'],
    ['bytes without closing quote', 'b3"abcd'],
    ['list count mismatch (short)', 'a3{12}'],
    ['list count mismatch (long)', 'a1{12}'],
    ['list without brace', 'a1[1]'],
    ['map with odd items', 'm1{ua}'],
    ['date with letters', 'D2020O102;'],
    ['date month 13', 'D20201302;'],
    ['date day 0', 'D20200100;'],
    ['date without zone', 'D20200102'],
    ['date with a bad zone', 'D20200102X'],
    ['time hour 24', 'T240000;'],
    ['time minute 60', 'T006000;'],
    ['time with 2 fraction digits', 'T010203.12;'],
    ['time with 4 fraction digits', 'T010203.1234;'],
    ['time with 10 fraction digits', 'T010203.1234567891;'],
    ['guid too short', 'g{AFA7F4B1-A64D-46FA-886F-ED7FBCE569B}'],
    ['guid with bad hex', 'g{AFA7F4B1-A64D-46FA-886F-ED7FBCE569BX}'],
    ['guid without braces', 'gAFA7F4B1-A64D-46FA-886F-ED7FBCE569B6'],
    ['reference with no table', 'r0;'],
    ['reference without digits', 'a1{r;}'],
    ['reference past the table', 'a2{s2"ab"r2;}'],
    ['reference to slot 10^9', 'a1{r1000000000;}'],
    ['reference with 30 digits', 'a1{r123456789012345678901234567890;}'],
    ['object of an undefined class', 'o0{}'],
    ['object with too few values', 'c1"A"2{s1"x"s1"y"}o0{1}'],
    ['class field name that is a number', 'c1"A"1{1}o0{1}'],
    ['class field name referring to a list', 'a1{c1"A"1{r0;}o0{1}}'],
    ['class definition with nothing after', 'c1"A"{}'],
    ['exception without a string', 'E1'],
    ['exception referring to a list', 'a1{Er0;}'],
    ['trailing bytes', 'nn'],
    ['RPC tag as a value', 'z'],
  ]
  for (const [name, input] of cases) test(name, () => void rejects(input))

  test('invalid UTF-8 is rejected, not replaced', () => {
    for (const bad of [
      String.raw`s1"\xff"`, // never valid
      String.raw`s1"\x80"`, // stray continuation
      String.raw`s1"\xc0\x80"`, // overlong NUL
      String.raw`s1"\xe0\x80\xaf"`, // overlong '/'
      String.raw`s1"\xed\xa0\x80"`, // lone high surrogate as bytes
      String.raw`s1"\xed\xbf\xbf"`, // lone low surrogate as bytes
      String.raw`s2"\xed\xa0\xbd\xed\xb8\x80"`, // CESU-8 surrogate pair
      String.raw`s2"\xf4\x90\x80\x80"`, // above U+10FFFF
      String.raw`s2"\xf0\x8f\xbf\xbf"`, // overlong 4-byte
      String.raw`s1"\xc3"`, // cut sequence
      String.raw`u\xed\xa0\x80`,
      String.raw`u\xc3`,
      String.raw`c1"\xff"{}o0{}`,
    ]) {
      rejects(bad, /UTF-8|truncated|ends|surrogate/)
    }
  })
})

describe('claimed sizes are checked before anything is allocated', () => {
  test('huge lengths and counts fail fast', () => {
    for (const input of [
      'b999999999"abc"',
      's999999999"abc"',
      'a999999999{1}',
      'm999999999{1}',
      'a999999999999999{',
      'a9999999999999999999999{',
      'c1"A"999999999{}',
      's9007199254740993"',
      'b1e9"',
      `a${'9'.repeat(5000)}{`,
      `l${'1'.repeat(5000)};`,
      `d${'1'.repeat(5000)};`,
    ]) {
      // Each takes microseconds. What this guards against is a reader that trusts the count and
      // loops or fills memory up to it: seconds per input. The bound is that, with room for a
      // busy 2-core machine; it is not a speed measurement (bench/codec.ts measures the codec).
      const started = performance.now()
      rejects(input)
      expect(performance.now() - started).toBeLessThan(1000)
    }
  })

  test('a long integer inside the limit is exact', () => {
    const digits = '9'.repeat(4000)
    expect(decode(wire(`l${digits};`))).toBe(BigInt(digits))
  })
})

describe('depth', () => {
  test('a 100k-deep list bomb is an error, not a stack overflow', () => {
    rejects('a1{'.repeat(100_000), /deeper/)
    rejects('a{'.repeat(100_000))
    rejects('m1{ua'.repeat(100_000), /deeper/)
    rejects('c1"A"1{s1"x"}' + 'o0{'.repeat(100_000), /deeper/)
  })

  test('the limit is configurable and exact', () => {
    const nested = (n: number) => wire('a1{'.repeat(n) + '1' + '}'.repeat(n))
    expect(attempt(nested(512)).ok).toBe(true)
    expect(attempt(nested(513)).ok).toBe(false)
    expect(attempt(nested(10), { maxDepth: 10 }).ok).toBe(true)
    expect(attempt(nested(11), { maxDepth: 10 }).ok).toBe(false)
  })

  test('runs of class definitions are read in a loop', () => {
    expect(decode(wire('c1"A"{}'.repeat(100_000) + 'n'))).toBeNull()
  })

  test('a very high limit still fails cleanly when the host stack runs out', () => {
    const result = attempt(wire('a1{'.repeat(300_000)), { maxDepth: 1e9 })
    expect(result.ok).toBe(false)
  })

  test('Reader.readString fails the same way', () => {
    expect(() => new Reader(wire('a1{1}')).readString()).toThrow(HproseDecodeError)
    expect(() => new Reader(wire('r0;')).readString()).toThrow(HproseDecodeError)
    expect(() => new Reader(wire('')).readTag()).toThrow(HproseDecodeError)
    expect(() => new Reader(wire('R')).expectTag(0x43)).toThrow(HproseDecodeError)
  })
})

describe('random input', () => {
  test('random bytes never escape as another error', () => {
    const random = prng(1)
    const alphabet = wire('0123456789ilmdNItfneusbDTgacorE+-;.Z"{}')
    for (let i = 0; i < 5000; i++) {
      const len = Math.floor(random() * 40)
      const bytes = new Uint8Array(len)
      for (let k = 0; k < len; k++) {
        bytes[k] = random() < 0.7 ? alphabet[Math.floor(random() * alphabet.length)]! : Math.floor(random() * 256)
      }
      attempt(bytes)
    }
  })

  test('20k mutations of valid samples: only HproseDecodeError escapes, and what decodes re-encodes', () => {
    const random = prng(42)
    const samples = VALID_SAMPLES.map(wire)
    const pick = <T,>(items: T[]): T => items[Math.floor(random() * items.length)]!
    const interesting = wire('0123456789{}";r-+.eEZ\xff\x80\xc3\xed\xf0')
    let decoded = 0
    for (let i = 0; i < 20_000; i++) {
      const bytes = [...pick(samples)]
      const edits = 1 + Math.floor(random() * 4)
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (bytes.length + 1))
        switch (Math.floor(random() * 6)) {
          case 0: // replace a byte
            if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] = Math.floor(random() * 256)
            break
          case 1: // replace with a syntax byte
            if (bytes.length > 0) bytes[Math.min(at, bytes.length - 1)] = pick([...interesting])
            break
          case 2: // insert
            bytes.splice(at, 0, pick([...interesting]))
            break
          case 3: // delete a run
            bytes.splice(at, 1 + Math.floor(random() * 3))
            break
          case 4: // splice in part of another sample
            {
              const other = pick(samples)
              const from = Math.floor(random() * other.length)
              bytes.splice(at, 0, ...other.subarray(from, from + 1 + Math.floor(random() * 8)))
            }
            break
          default: // duplicate a chunk
            bytes.splice(at, 0, ...bytes.slice(at, at + 1 + Math.floor(random() * 6)))
        }
      }
      const input = Uint8Array.from(bytes)
      const result = attempt(input)
      if (result.ok) {
        decoded++
        let again: Uint8Array
        try {
          again = encode(result.value)
        } catch (error) {
          throw new Error(`re-encoding ${show(input)} threw ${String(error)}`)
        }
        const back = attempt(again)
        if (!back.ok) throw new Error(`re-encoded ${show(input)} as ${show(again)}, unreadable: ${back.error.message}`)
      }
    }
    expect(decoded).toBeGreaterThan(100) // the mutations do reach valid-but-odd inputs
  })

  test('encoding errors are HproseEncodeError', () => {
    expect(() => encode([new Date(NaN)])).toThrow(HproseEncodeError)
  })
})
