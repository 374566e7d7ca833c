// Hprose codec against the official JS codecs: same bytes as their writers, and each side reads the other's output.

import { describe, expect, test } from 'bun:test'
import { createRequire } from 'node:module'
import { Guid, HPROSE_CLASS, RemoteError, decode, encode, withClassName } from '../../runtime/rpc/codec/index.ts'
import { show, useUtc } from './codec-samples.ts'

const require = createRequire(import.meta.url)
// hprose 2.0.51 (Node) and @hprose/io 3.0.10: the writers the captures in docs/hprose.md §4 came from.
const hprose2 = require('hprose') as {
  Formatter: { serialize(v: unknown, simple?: boolean): Uint8Array; unserialize(b: Uint8Array, simple?: boolean, harmonyMap?: boolean): unknown }
}
const io = require('@hprose/io') as {
  Formatter: { serialize(v: unknown, simple?: boolean, utc?: boolean): Uint8Array }
  ByteStream: new (b: Uint8Array) => unknown
  Reader: new (s: unknown) => { longType: string; dictType: string; deserialize(): unknown }
}

function read3(bytes: Uint8Array, dictType = 'object'): unknown {
  const reader = new io.Reader(new io.ByteStream(bytes))
  reader.longType = 'bigint'
  reader.dictType = dictType
  return reader.deserialize()
}

useUtc()

/**
 * A comparable form that ignores what legitimately differs between codecs: null vs undefined
 * (3.x reads `n` as undefined), class identity, null-prototype dicts, Guid classes.
 */
function norm(value: unknown, seen = new Map<object, number>()): unknown {
  if (value === undefined || value === null) return null
  if (typeof value === 'bigint') return { long: value.toString() }
  if (typeof value !== 'object') return value
  if (seen.has(value)) return { cycle: seen.get(value) }
  seen.set(value, seen.size)
  if (value instanceof Date) return { date: value.toISOString() }
  if (value instanceof Uint8Array) return { bytes: [...value] }
  if (value instanceof Error) return { error: value.message }
  if (value instanceof Guid || value.constructor?.name === 'Guid') return { guid: String(value).toUpperCase() }
  if (Array.isArray(value)) return value.map((v) => norm(v, seen))
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>) // typed arrays travel as lists
  if (value instanceof Map) {
    // A Map with string keys and a plain object are the same wire map; readers in Map mode make every map a Map.
    if ([...value.keys()].every((k) => typeof k === 'string')) return norm(Object.fromEntries(value), seen)
    return { map: [...value].map(([k, v]) => [norm(k, seen), norm(v, seen)]) }
  }
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key]
    if (typeof v !== 'function') out[key] = norm(v, seen)
  }
  return out
}

class Foo {
  q = 1
  r = 'two'
}
const shared = { k: 'v' }
const date = new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 678))
const cyclic: unknown[] = ['head']
cyclic.push(cyclic)

/** Values both official writers encode the same way, and that every reader maps back to equal values. */
const COMMON: [string, unknown][] = [
  ['small ints', [0, 9, 10, -1, 255, -2147483648, 2147483647]],
  ['doubles', [3.5, -0.1, 1e21, 1e-7, Math.PI, 2 ** 53, -1.5e300, NaN, Infinity, -Infinity]],
  ['booleans and null', [true, false, null]],
  ['strings', ['', 'A', '½', 'Hello world!', '你好', '😀', 'héllo 你好 😀', 'x'.repeat(300), '日本'.repeat(100)]],
  ['repeated strings', ['dup', 'dup', 'dup', 'other', 'dup']],
  ['bytes', Uint8Array.from([0, 1, 2, 34, 255])],
  ['empty bytes', new Uint8Array(0)],
  ['date', date],
  ['date at midnight', new Date(Date.UTC(2020, 0, 2))],
  ['time only', new Date(Date.UTC(1970, 0, 1, 3, 4, 5))],
  ['list of dates', [date, date, new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999))]],
  ['nested lists', [[1, 2, 3], [[4], [5, [6]]], []]],
  ['capture map', { name: 'Tom', list: [1, 'two', 3.5, null, true], nested: { k: [] } }],
  ['shared containers', [shared, shared, 'dup', 'dup']],
  ['map with ints', new Map<unknown, unknown>([[1, 'one'], ['k', [true]], [2, shared]])],
  ['class instances', [new Foo(), new Foo()]],
  ['objects named by HPROSE_CLASS', [withClassName({ name: 'Tommy', age: 24 }, 'Person'), withClassName({ name: 'Jerry', age: 19 }, 'Person')]],
  ['cycle', cyclic],
  ['typed arrays', [Int32Array.from([1, -70000]), Float64Array.from([1, 2.5])]],
  ['empty containers', [[], {}, new Map()]],
  ['big map', Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`key${i}`, i * 1.5]))],
]

/** HPROSE_CLASS is ours: the official writers send those objects as maps. */
const SAME_BYTES = COMMON.filter(([name]) => !name.includes('HPROSE_CLASS'))

describe('byte-for-byte equal to hprose 2 Formatter.serialize', () => {
  for (const [name, value] of SAME_BYTES) {
    test(name, () => {
      expect(show(encode(value))).toBe(show(hprose2.Formatter.serialize(value)))
    })
  }
  test('simple mode', () => {
    const value = [shared, shared, 'dup', 'dup', [new Foo(), new Foo()]]
    expect(show(encode(value, { simple: true }))).toBe(show(hprose2.Formatter.serialize(value, true)))
  })
  test('local dates in another time zone', () => {
    process.env.TZ = 'America/New_York'
    try {
      for (const d of [date, new Date(Date.UTC(2020, 6, 1, 4)), new Date(Date.UTC(1970, 0, 1, 12, 30)), new Date(2021, 2, 14, 3, 30)]) {
        expect(show(encode(d))).toBe(show(hprose2.Formatter.serialize(d)))
        expect(decode(hprose2.Formatter.serialize(d))).toEqual(d)
      }
    } finally {
      process.env.TZ = 'UTC'
    }
  })
})

describe('byte-for-byte equal to @hprose/io 3.x serialize', () => {
  const longs: [string, unknown][] = [
    ['integers beyond int32 are l', [2147483648, -2147483649, 2 ** 40, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]],
    ['BigInt', [0n, 9n, 10n, -5n, 2n ** 70n, -(2n ** 64n)]],
    ['Set', new Set([1, 2, 'three'])],
    ['Error values', [new Error('sent as arg'), new Error(''), 'after']],
  ]
  for (const [name, value] of [...SAME_BYTES, ...longs]) {
    test(name, () => {
      expect(show(encode(value))).toBe(show(io.Formatter.serialize(value)))
    })
  }
  test('utc dates', () => {
    for (const d of [date, new Date(Date.UTC(2020, 0, 2)), new Date(Date.UTC(1970, 0, 1, 3, 4, 5))]) {
      expect(show(encode(d, { utc: true }))).toBe(show(io.Formatter.serialize(d, false, true)))
    }
  })
})

describe('ours → theirs', () => {
  for (const [name, value] of COMMON) {
    test(`hprose 2 reads ${name}`, () => {
      const theirs = hprose2.Formatter.unserialize(encode(value), false, value instanceof Map)
      expect(norm(theirs)).toEqual(norm(value))
    })
    test(`@hprose/io reads ${name}`, () => {
      const theirs = read3(encode(value), value instanceof Map ? 'map' : 'object')
      expect(norm(theirs)).toEqual(norm(value))
    })
  }
  test('longs and BigInts', () => {
    const value = [2 ** 40, -(2 ** 53) + 1, 2n ** 70n, -(2n ** 64n)]
    expect(norm(read3(encode(value)))).toEqual(norm([2n ** 40n, -(2n ** 53n) + 1n, 2n ** 70n, -(2n ** 64n)]))
    // hprose 2 reads unsafe longs as decimal strings.
    expect(hprose2.Formatter.unserialize(encode(value))).toEqual([2 ** 40, -(2 ** 53) + 1, '1180591620717411303424', '-18446744073709551616'])
  })
  test('GUIDs and Error values in @hprose/io', () => {
    const g = new Guid('AFA7F4B1-A64D-46FA-886F-ED7FBCE569B6')
    expect(norm(read3(encode([g, g])))).toEqual(norm([g, g]))
    expect(String(hprose2.Formatter.unserialize(encode(g)))).toBe(g.value)
    expect(norm(read3(encode(new Error('boom'))))).toEqual({ error: 'boom' })
  })
})

describe('theirs → ours', () => {
  for (const [name, value] of COMMON) {
    test(`from hprose 2: ${name}`, () => {
      expect(norm(decode(hprose2.Formatter.serialize(value)))).toEqual(norm(value))
    })
    test(`from @hprose/io: ${name}`, () => {
      expect(norm(decode(io.Formatter.serialize(value)))).toEqual(norm(value))
    })
  }
  test('longs, BigInt and Error from @hprose/io', () => {
    const value = [2 ** 40, 2n ** 70n, new Error('x')]
    const back = decode(io.Formatter.serialize(value)) as unknown[]
    expect(back[0]).toBe(2 ** 40)
    expect(back[1]).toBe(2n ** 70n)
    expect(back[2]).toBeInstanceOf(RemoteError)
  })
  test('class names survive a trip through hprose 2', () => {
    const back = decode(hprose2.Formatter.serialize([new Foo()])) as object[]
    expect((back[0] as { [HPROSE_CLASS]?: string })[HPROSE_CLASS]).toBe('Foo')
    expect(show(encode(back))).toBe(show(hprose2.Formatter.serialize([new Foo()])))
  })
  test('utc dates from @hprose/io', () => {
    expect(decode(io.Formatter.serialize(date, false, true))).toEqual(date)
  })
})
