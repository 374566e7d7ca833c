// Hprose codec containers: lists, maps, classes, references, cycles, `E` values and simple mode (docs/hprose.md §2.1, §2.2).

import { describe, expect, test } from 'bun:test'
import {
  HPROSE_CLASS,
  HproseEncodeError,
  RemoteError,
  classNameOf,
  decode,
  encode,
  withClassName,
} from '../../runtime/rpc/codec/index.ts'
import { VALID_SAMPLES, expectWire, roundTrip, useUtc, wire } from './codec-samples.ts'

useUtc()

describe('lists and maps', () => {
  test('capture shapes', () => {
    expectWire([], 'a{}')
    expectWire({}, 'm{}')
    expectWire([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'a10{0123456789}')
    expectWire([[1, 2, 3], [4, 5, 6], [7, 8, 9]], 'a3{a3{123}a3{456}a3{789}}')
    expectWire({ name: 'Tommy', age: 24 }, 'm2{s4"name"s5"Tommy"s3"age"i24;}')
    expectWire(new Map<unknown, unknown>([[1, 'one'], ['k', [true]]]), 'm2{1s3"one"uka1{t}}')
    expectWire(
      { name: 'Tom', list: [1, 'two', 3.5, null, true], nested: { k: [] } },
      'm3{s4"name"s3"Tom"s4"list"a5{1s3"two"d3.5;nt}s6"nested"m1{uka{}}}',
    )
    expectWire(new Set([1, 2]), 'a2{12}')
    expectWire(Int32Array.from([1, 300, -5]), 'a3{1i300;i-5;}')
    expectWire(Float64Array.from([1, 2.5]), 'a2{d1;d2.5;}')
    expectWire({ f() {}, x: 1 }, 'm1{ux1}') // methods are skipped
    expectWire({ f() {}, g: () => 1 }, 'm{}')
    const ten: Record<string, unknown> = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i]))
    ten.k3 = () => 3
    expectWire({ outer: ten, after: 'x' }, 'm2{s5"outer"m9{s2"k0"0s2"k1"1s2"k2"2s2"k4"4s2"k5"5s2"k6"6s2"k7"7s2"k8"8s2"k9"9}s5"after"ux}')
    expectWire(Object.assign(Object.create(null), { a: 1 }), 'm1{ua1}')
  })

  test('maps: plain object for string keys, Map otherwise', () => {
    expect(decode(wire('m2{s4"name"s5"Tommy"s3"age"i24;}'))).toEqual({ name: 'Tommy', age: 24 })
    const mixed = decode(wire('m2{1s3"one"uka1{t}}'))
    expect(mixed).toBeInstanceOf(Map)
    expect([...(mixed as Map<unknown, unknown>)]).toEqual([[1, 'one'], ['k', [true]]])
    const later = decode(wire('m3{uaubs2"cd"2i3;5}')) as Map<unknown, unknown>
    expect([...later]).toEqual([['a', 'b'], ['cd', 2], [3, 5]])
    expect(decode(wire('m1{s4"name"1}'), { mapType: 'map' })).toEqual(new Map([['name', 1]]))
    expect(decode(wire('m2{1s3"one"uka1{t}}'), { mapType: 'object' })).toEqual({ 1: 'one', k: [true] })
  })

  test('a __proto__ key is data, never a prototype change', () => {
    const obj = decode(wire('m1{s9"__proto__"m1{s5"admin"t}}')) as Record<string, unknown>
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype)
    expect(Object.keys(obj)).toEqual(['__proto__'])
    expect((obj as { admin?: unknown }).admin).toBeUndefined()
    expectWire(obj, 'm1{s9"__proto__"m1{s5"admin"t}}')
  })

  test('containers take their slot before their children (§2.2)', () => {
    const o = { k: 'v' }
    expectWire([[o, o, 'dup', 'dup']], 'a1{a4{m1{ukuv}r2;s3"dup"r3;}}')
    const [[x, y, s1, s2]] = decode(wire('a1{a4{m1{ukuv}r2;s3"dup"r3;}}')) as [[object, object, string, string]]
    expect(x).toBe(y)
    expect(x).toEqual({ k: 'v' })
    expect([s1, s2]).toEqual(['dup', 'dup'])
  })

  test('cycles round-trip', () => {
    const list: unknown[] = []
    list.push(list)
    expectWire(list, 'a1{r0;}')
    const back = roundTrip(list) as unknown[]
    expect(back[0]).toBe(back)

    const map: Record<string, unknown> = { name: 'self' }
    map.me = map
    map.list = [map]
    expectWire(map, 'm3{s4"name"s4"self"s2"me"r0;s4"list"a1{r0;}}')
    const m = roundTrip(map) as Record<string, unknown>
    expect(m.me).toBe(m)
    expect((m.list as unknown[])[0]).toBe(m)

    const jsMap = new Map<unknown, unknown>()
    jsMap.set(1, jsMap)
    const jm = roundTrip(jsMap) as Map<unknown, unknown>
    expect(jm.get(1)).toBe(jm)
  })

  test('a self-referencing map that turns out to have non-string keys stays one object', () => {
    const m = decode(wire('m2{ukr0;1n}')) as Record<string, unknown>
    expect(m.k).toBe(m)
    expect(m['1']).toBeNull()
  })

  test('deep but legal nesting', () => {
    let value: unknown = 1
    for (let i = 0; i < 500; i++) value = [value]
    expect(roundTrip(value)).toEqual(value)
    expect(() => encode(value, { maxDepth: 100 })).toThrow(HproseEncodeError)
  })
})

describe('classes and objects', () => {
  test('capture shapes', () => {
    class Foo {
      q = 1
      r = 'two'
    }
    expectWire([new Foo(), new Foo()], 'a2{c3"Foo"2{s1"q"s1"r"}o0{1s3"two"}o0{1r4;}}')
    const tommy = withClassName({ name: 'Tommy', age: 24 }, 'Person')
    const jerry = withClassName({ name: 'Jerry', age: 19 }, 'Person')
    expectWire([tommy, jerry], 'a2{c6"Person"2{s4"name"s3"age"}o0{s5"Tommy"i24;}o0{s5"Jerry"i19;}}')
    expectWire([tommy, tommy], 'a2{c6"Person"2{s4"name"s3"age"}o0{s5"Tommy"i24;}r3;}')
  })

  test('decoded objects keep their class and re-encode identically', () => {
    const input = 'a2{c6"Person"2{s4"name"s3"age"}o0{s5"Tommy"i24;}o0{s5"Jerry"i19;}}'
    const people = decode(wire(input)) as object[]
    expect(people).toEqual([{ name: 'Tommy', age: 24 }, { name: 'Jerry', age: 19 }])
    expect(classNameOf(people[0]!)).toBe('Person')
    expect(Object.keys(people[0]!)).toEqual(['name', 'age'])
    expect(JSON.stringify(people[0])).toBe('{"name":"Tommy","age":24}')
    expectWire(people, input)
    expectWire(decode(wire('a2{c3"Foo"2{s1"q"s1"r"}o0{1s3"two"}o0{1r4;}}')), 'a2{c3"Foo"2{s1"q"s1"r"}o0{1s3"two"}o0{1r4;}}')
  })

  test('field names take slots, and may be references', () => {
    const [name, p, again] = decode(wire('a3{s4"name"c1"P"1{r1;}o0{r1;}r2;}')) as [string, Record<string, unknown>, unknown]
    expect(name).toBe('name')
    expect(p).toEqual({ name: 'name' })
    expect(again).toBe(p)
    const [obj, ref] = decode(wire('a2{c1"A"1{s1"x"}o0{5}r1;}')) as unknown[]
    expect(ref).toBe('x') // slot 1 is the field name, slot 2 the object
    expect(obj).toEqual({ x: 5 })
  })

  test('zero-field classes, several definitions in a row, repeated definitions', () => {
    expect(decode(wire('c3"Set"{}o0{}'))).toEqual({})
    const twice = decode(wire('c1"A"1{s1"x"}c1"B"1{s1"y"}a2{o1{1}o0{2}}')) as object[]
    expect(twice).toEqual([{ y: 1 }, { x: 2 }])
    expect(twice.map((o) => classNameOf(o))).toEqual(['B', 'A'])
    expect(decode(wire('a2{c1"A"{}o0{}c1"A"1{s1"z"}o1{3}}'))).toEqual([{}, { z: 3 }])
  })

  test('a class instance with other fields than the first gets a new definition', () => {
    const a = withClassName({ x: 1 }, 'P')
    const b = withClassName({ y: 2 }, 'P')
    const c = withClassName({ x: 3 }, 'P')
    expectWire([a, b, c], 'a3{c1"P"1{s1"x"}o0{1}c1"P"1{s1"y"}o1{2}o0{3}}')
    expect(roundTrip([a, b, c])).toEqual([{ x: 1 }, { y: 2 }, { x: 3 }])
  })

  test('objects can refer to themselves', () => {
    const node = withClassName({ name: 'n', next: null as unknown }, 'Node')
    node.next = node
    const back = roundTrip(node) as { next: unknown }
    expect(back.next).toBe(back)
    expect(classNameOf(back)).toBe('Node')
  })

  test('HPROSE_CLASS on a class prototype names all its instances', () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    Object.defineProperty(Point.prototype, HPROSE_CLASS, { value: 'geo.Point' })
    expectWire(new Point(1, 2), 'c9"geo.Point"2{s1"x"s1"y"}o0{12}')
  })
})

describe('exception values (3.0 E)', () => {
  test('decode to RemoteError, written from any Error', () => {
    const e = decode(wire('Es11"sent as arg"'))
    expect(e).toBeInstanceOf(RemoteError)
    expect(e).toBeInstanceOf(Error)
    expect((e as Error).message).toBe('sent as arg')
    expectWire(new Error('sent as arg'), 'Es11"sent as arg"')
    expectWire(new Error(''), 'Es""')
    expectWire(new TypeError('x'), 'Es1"x"')
    expect((decode(wire('Eux')) as Error).message).toBe('x')
  })

  test('the message takes a slot but the Error is never referenced', () => {
    const err = new Error('boom')
    expectWire([err, err, 'boom'], 'a3{Es4"boom"Es4"boom"s4"boom"}')
    const [, , , again] = decode(wire('a4{Es4"boom"Es4"boom"s4"boom"r1;}')) as unknown[]
    expect(again).toBe('boom')
  })
})

describe('simple mode', () => {
  test('writes no references', () => {
    const o = { k: 'v' }
    expectWire([o, o, 'dup', 'dup'], 'a4{m1{ukuv}m1{ukuv}s3"dup"s3"dup"}', { simple: true })
    class Foo {
      q = 1
      r = 'two'
    }
    expectWire([new Foo(), new Foo()], 'a2{c3"Foo"2{s1"q"s1"r"}o0{1s3"two"}o0{1s3"two"}}', { simple: true })
  })

  test('a cycle fails cleanly instead of overflowing the stack', () => {
    const list: unknown[] = []
    list.push(list)
    expect(() => encode(list, { simple: true })).toThrow(HproseEncodeError)
  })
})

describe('every valid sample decodes and re-encodes to something that decodes the same', () => {
  for (const sample of VALID_SAMPLES) {
    test(sample, () => {
      const value = decode(wire(sample))
      const again = decode(encode(value))
      if (typeof value === 'number' && Number.isNaN(value)) expect(Number.isNaN(again)).toBe(true)
      else if (Object.is(value, -0)) expect(again).toBe(0) // written as `0`, like the JS writers
      else expect(again).toEqual(value)
    })
  }
})
