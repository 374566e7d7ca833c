// The db family, key by key: Redis semantics for strings, hashes, lists, sets and sorted sets, wrong types, lossless values.
import { describe, expect, test } from 'bun:test'
import { classNameOf, Guid, withClassName } from '../../runtime/rpc/values.ts'
import { failure } from '../helpers/kernel.ts'
import { call, fresh, sid, TWO_53, useDbNode } from './db-fixture.ts'

useDbNode()

describe('strings', () => {
  test('Set, Get, Del', async () => {
    const d = await fresh()
    expect(await d('Get', 'k')).toBeNull()
    expect(await d('Set', 'k', 'v1')).toBe(true)
    expect(await d('Set', 'k', 'v2')).toBe(true)
    expect(await d('Get', 'k')).toBe('v2')
    await d('Set', 'other', 1)
    await d('Hset', 'hash', 'f', 1)
    await d('Rpush', 'list', 1)
    expect(await d('Del', 'k', 'missing', 'hash', 'list')).toBe(3)
    expect(await d('Get', 'k')).toBeNull()
    expect(await d('Hgetall', 'hash')).toEqual({})
    expect(await d('Scan', '', null, 100)).toEqual(['other'])
    expect(await d('Del', 'k')).toBe(0)
  })

  test('Incr and IncrBy count from 0; non-integers are refused', async () => {
    const d = await fresh()
    expect(await d('Incr', 'n')).toBe(1)
    expect(await d('Incr', 'n')).toBe(2)
    expect(await d('IncrBy', 'n', -5)).toBe(-3)
    expect(await d('Get', 'n')).toBe(-3)
    await d('Set', 'text', 'abc')
    await d('Set', 'float', 1.5)
    await d('Set', 'numeric-text', '12')
    for (const key of ['text', 'float', 'numeric-text']) {
      expect(await failure(d('Incr', key))).toBe(`InvalidParams: key "${key}" does not hold an integer`)
    }
    expect(await d('Get', 'float')).toBe(1.5)
    await d('Sadd', 'set', 1)
    expect(await failure(d('Incr', 'set'))).toBe('InvalidParams: key "set" holds a set, not a string')
  })

  test('IncrBy past 2^53 stays exact as a BigInt', async () => {
    const d = await fresh()
    await d('Set', 'n', Number.MAX_SAFE_INTEGER - 1)
    expect(await d('Incr', 'n')).toBe(Number.MAX_SAFE_INTEGER)
    expect(await d('Incr', 'n')).toBe(TWO_53)
    expect(await d('IncrBy', 'n', 1_000_001)).toBe(TWO_53 + 1_000_001n)
    expect(await d('Get', 'n')).toBe(TWO_53 + 1_000_001n)
    expect(await d('IncrBy', 'n', Number.MAX_SAFE_INTEGER)).toBe(TWO_53 + 1_000_001n + TWO_53 - 1n)
    await d('Set', 'big', 2n ** 64n)
    expect(await d('Incr', 'big')).toBe(2n ** 64n + 1n)
    expect(await d('IncrBy', 'big', -1)).toBe(2n ** 64n)
    await d('Set', 'low', -Number.MAX_SAFE_INTEGER)
    expect(await d('IncrBy', 'low', -2)).toBe(-TWO_53 - 1n)
    await d('Hset', 'h', 'f', Number.MAX_SAFE_INTEGER)
    expect(await d('HincrBy', 'h', 'f', 2)).toBe(TWO_53 + 1n)
    expect(await d('Hget', 'h', 'f')).toBe(TWO_53 + 1n)
  })

  test('Scan lists keys of every type in order after begin, with glob match and count', async () => {
    const d = await fresh()
    for (const k of ['user:1', 'user:2', 'user:10', 'item:1']) await d('Set', k, k)
    await d('Hset', 'user:h', 'f', 1)
    await d('Zadd', 'user:z', [1, 'm'])
    expect(await d('Scan', '', null, 100)).toEqual(['item:1', 'user:1', 'user:10', 'user:2', 'user:h', 'user:z'])
    expect(await d('Scan', '', 'user:*', 100)).toEqual(['user:1', 'user:10', 'user:2', 'user:h', 'user:z'])
    expect(await d('Scan', '', 'user:?', 100)).toEqual(['user:1', 'user:2', 'user:h', 'user:z'])
    expect(await d('Scan', '', 'user:[12]', 100)).toEqual(['user:1', 'user:2'])
    expect(await d('Scan', '', '', 100)).toHaveLength(6)
    // Paging: each page starts after the last key of the one before.
    const pages: string[][] = []
    for (let begin = ''; ; ) {
      const page = (await d('Scan', begin, 'user:*', 2)) as string[]
      if (!page.length) break
      pages.push(page)
      begin = page.at(-1)!
    }
    expect(pages).toEqual([['user:1', 'user:10'], ['user:2', 'user:h'], ['user:z']])
    expect(await d('Scan', 'user:2', null, 100)).toEqual(['user:h', 'user:z'])
    expect(await d('Scan', '', null, 0)).toEqual([])
  })
})

describe('hashes', () => {
  test('Hset, Hget, Hmset, Hmget, Hgetall, Hkeys, Hlen, Hdel, Hclear', async () => {
    const d = await fresh()
    expect(await d('Hset', 'h', 'a', 1)).toBe(1)
    expect(await d('Hset', 'h', 'a', 2)).toBe(0)
    expect(await d('Hget', 'h', 'a')).toBe(2)
    expect(await d('Hget', 'h', 'nope')).toBeNull()
    expect(await d('Hget', 'missing', 'a')).toBeNull()
    expect(await d('Hmset', 'h', { Field: 'b', Value: 'B' }, ['c', 'C'], { field: 'd', value: null })).toBe(true)
    expect(await d('Hmset', 'h', { e: 'E', f: [1, 2] })).toBe(true)
    expect(await d('Hmget', 'h', 'a', 'b', 'zz', 'f')).toEqual([2, 'B', null, [1, 2]])
    expect(await d('Hgetall', 'h')).toEqual({ a: 2, b: 'B', c: 'C', d: null, e: 'E', f: [1, 2] })
    expect(await d('Hkeys', 'h')).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    expect(await d('Hlen', 'h')).toBe(6)
    expect(await d('Hdel', 'h', 'a', 'b', 'zz')).toBe(2)
    expect(await d('Hlen', 'h')).toBe(4)
    expect(await d('Hclear', 'h')).toBe(4)
    expect(await d('Hgetall', 'h')).toEqual({})
    expect(await d('Hkeys', 'missing')).toEqual([])
    expect(await d('Hlen', 'missing')).toBe(0)
    expect(await d('Hclear', 'missing')).toBe(0)
  })

  test('HincrBy counts from 0 and refuses a non-integer field', async () => {
    const d = await fresh()
    expect(await d('HincrBy', 'h', 'n', 5)).toBe(5)
    expect(await d('HincrBy', 'h', 'n', -7)).toBe(-2)
    await d('Hset', 'h', 's', 'text')
    expect(await failure(d('HincrBy', 'h', 's', 1))).toBe('InvalidParams: field "s" of "h" does not hold an integer')
    expect(await d('Hget', 'h', 's')).toBe('text')
  })

  test('a hash whose last field is deleted disappears', async () => {
    const d = await fresh()
    await d('Hmset', 'h', ['a', 1], ['b', 2])
    await d('Hdel', 'h', 'a', 'b')
    expect(await d('Scan', '', null, 10)).toEqual([])
    expect(await d('Set', 'h', 'now a string')).toBe(true)
  })

  test('Hscan lists fields in order after begin, with match and count', async () => {
    const d = await fresh()
    await d('Hmset', 'h', { 'p:1': 1, 'p:2': 2, 'p:3': 3, 'q:1': 4 })
    expect(await d('Hscan', 'h', '', null, 100)).toEqual([
      { field: 'p:1', value: 1 },
      { field: 'p:2', value: 2 },
      { field: 'p:3', value: 3 },
      { field: 'q:1', value: 4 },
    ])
    expect(await d('Hscan', 'h', '', 'p:*', 2)).toEqual([
      { field: 'p:1', value: 1 },
      { field: 'p:2', value: 2 },
    ])
    expect(await d('Hscan', 'h', 'p:2', 'p:*', 2)).toEqual([{ field: 'p:3', value: 3 }])
    expect(await d('Hscan', 'h', '', '*:1', 10)).toEqual([
      { field: 'p:1', value: 1 },
      { field: 'q:1', value: 4 },
    ])
    expect(await d('Hscan', 'missing', '', null, 10)).toEqual([])
  })
})

describe('lists', () => {
  test('pushes, ranges with negative indexes, Lindex, Lset, pops', async () => {
    const d = await fresh()
    expect(await d('Rpush', 'l', 'a', 'b', 'c')).toBe(3)
    expect(await d('Lpush', 'l', 'y', 'z')).toBe(5)
    expect(await d('Lrange', 'l', 0, -1)).toEqual(['z', 'y', 'a', 'b', 'c'])
    expect(await d('Lrange', 'l', -2, -1)).toEqual(['b', 'c'])
    expect(await d('Lrange', 'l', 1, 2)).toEqual(['y', 'a'])
    expect(await d('Lrange', 'l', -100, 1)).toEqual(['z', 'y'])
    expect(await d('Lrange', 'l', 3, 100)).toEqual(['b', 'c'])
    expect(await d('Lrange', 'l', 5, 10)).toEqual([])
    expect(await d('Lrange', 'l', 2, 1)).toEqual([])
    expect(await d('Lrange', 'l', 0, -6)).toEqual([])
    expect(await d('Lindex', 'l', 0)).toBe('z')
    expect(await d('Lindex', 'l', -1)).toBe('c')
    expect(await d('Lindex', 'l', -5)).toBe('z')
    expect(await d('Lindex', 'l', 5)).toBeNull()
    expect(await d('Lindex', 'l', -6)).toBeNull()
    expect(await d('Llen', 'l')).toBe(5)
    expect(await d('Lset', 'l', 1, 'Y')).toBe(true)
    expect(await d('Lset', 'l', -1, 'C')).toBe(true)
    expect(await failure(d('Lset', 'l', 5, 'x'))).toBe('InvalidParams: index 5 is out of range for list "l"')
    expect(await failure(d('Lset', 'none', 0, 'x'))).toBe('InvalidParams: no list "none"')
    expect(await d('Lpop', 'l')).toBe('z')
    expect(await d('Rpop', 'l')).toBe('C')
    expect(await d('Lrange', 'l', 0, -1)).toEqual(['Y', 'a', 'b'])
    expect(await d('Lpop', 'missing')).toBeNull()
    expect(await d('Rpop', 'missing')).toBeNull()
    expect(await d('Llen', 'missing')).toBe(0)
    expect(await d('Lclear', 'l')).toBe(3)
    expect(await d('Llen', 'l')).toBe(0)
  })

  test('a list whose last element is popped disappears; pushes after pops keep the order', async () => {
    const d = await fresh()
    await d('Rpush', 'l', 1, 2)
    await d('Lpop', 'l')
    await d('Rpush', 'l', 3)
    await d('Lpush', 'l', 0)
    expect(await d('Lrange', 'l', 0, -1)).toEqual([0, 2, 3])
    for (let i = 0; i < 3; i++) await d('Rpop', 'l')
    expect(await d('Scan', '', null, 10)).toEqual([])
    expect(await d('Sadd', 'l', 'now a set')).toBe(1)
  })
})

describe('sets', () => {
  test('Sadd, Srem, Smembers, Scard, Sdiff, Sinter, Sunion, Sclear', async () => {
    const d = await fresh()
    expect(await d('Sadd', 's1', 'a', 'b', 'c', 'a')).toBe(3)
    expect(await d('Sadd', 's1', 'c', 'd')).toBe(1)
    expect(await d('Sadd', 's1', 1, '1')).toBe(2)
    expect(await d('Scard', 's1')).toBe(6)
    expect(await d('Srem', 's1', 1, 'zz')).toBe(1)
    expect(((await d('Smembers', 's1')) as unknown[]).sort()).toEqual(['1', 'a', 'b', 'c', 'd'])
    await d('Sadd', 's2', 'c', 'd', 'e')
    await d('Sadd', 's3', 'd', 'x')
    const sorted = async (p: Promise<unknown>) => ((await p) as string[]).sort()
    expect(await sorted(d('Sdiff', 's1', 's2', 's3'))).toEqual(['1', 'a', 'b'])
    expect(await sorted(d('Sinter', 's1', 's2', 's3'))).toEqual(['d'])
    expect(await sorted(d('Sunion', 's1', 's2', 's3'))).toEqual(['1', 'a', 'b', 'c', 'd', 'e', 'x'])
    expect(await sorted(d('Sinter', 's1', 'missing'))).toEqual([])
    expect(await sorted(d('Sdiff', 's1', 'missing'))).toEqual(['1', 'a', 'b', 'c', 'd'])
    expect(await failure(d('Sdiff'))).toBe('InvalidParams: at least one key is needed')
    expect(await d('Sclear', 's1')).toBe(5)
    expect(await d('Smembers', 's1')).toEqual([])
    expect(await d('Scard', 'missing')).toBe(0)
    await d('Srem', 's3', 'd', 'x')
    expect(await d('Scan', '', null, 10)).toEqual(['s2'])
  })
})

describe('sorted sets', () => {
  test('Zadd in every pair shape; counts, scores, ranks and ranges', async () => {
    const d = await fresh()
    expect(await d('Zadd', 'z', [1, 'a'], [2, 'b'], { score: 3, member: 'c' }, { Score: 0.5, Member: 'z' })).toBe(4)
    expect(await d('Zadd', 'z', [2, 'a'], [4, 'd'])).toBe(1)
    expect(await d('Zcard', 'z')).toBe(5)
    expect(await d('Zcount', 'z', 2, 3)).toBe(3)
    expect(await d('Zcount', 'z', -Infinity, Infinity)).toBe(5)
    expect(await d('Zscore', 'z', 'a')).toBe(2)
    expect(await d('Zscore', 'z', 'nope')).toBeNull()
    // Equal scores are ordered by member.
    expect(await d('Zrange', 'z', 0, -1)).toEqual([
      { member: 'z', score: 0.5 },
      { member: 'a', score: 2 },
      { member: 'b', score: 2 },
      { member: 'c', score: 3 },
      { member: 'd', score: 4 },
    ])
    expect(await d('Zrank', 'z', 'z')).toBe(0)
    expect(await d('Zrank', 'z', 'b')).toBe(2)
    expect(await d('Zrank', 'z', 'nope')).toBeNull()
    expect(await d('Zrange', 'z', -2, -1)).toEqual([
      { member: 'c', score: 3 },
      { member: 'd', score: 4 },
    ])
    expect(await d('Zrevrange', 'z', 0, 1)).toEqual([
      { member: 'd', score: 4 },
      { member: 'c', score: 3 },
    ])
    expect(await d('Zrange', 'z', 3, 1)).toEqual([])
    expect(await d('Zrangebyscore', 'z', 2, 3)).toEqual([
      { member: 'a', score: 2 },
      { member: 'b', score: 2 },
      { member: 'c', score: 3 },
    ])
    expect(await d('Zrangebyscore', 'z', 2, 3, 1, 1)).toEqual([{ member: 'b', score: 2 }])
    expect(await d('Zrangebyscore', 'z', 0, 10, 3, -1)).toEqual([
      { member: 'c', score: 3 },
      { member: 'd', score: 4 },
    ])
    expect(await d('Zrevrangebyscore', 'z', 3, 2)).toEqual([
      { member: 'c', score: 3 },
      { member: 'b', score: 2 },
      { member: 'a', score: 2 },
    ])
    expect(await d('Zrevrangebyscore', 'z', Infinity, -Infinity, 0, 2)).toEqual([
      { member: 'd', score: 4 },
      { member: 'c', score: 3 },
    ])
    expect(await d('ZincrBy', 'z', 10, 'a')).toBe(12)
    expect(await d('ZincrBy', 'z', 1.5, 'new')).toBe(1.5)
    expect(await d('Zrevrange', 'z', 0, 0)).toEqual([{ member: 'a', score: 12 }])
    expect(await d('Zrem', 'z', 'a', 'nope')).toBe(1)
    expect(await d('Zremrangebyscore', 'z', 0, 2)).toBe(3)
    expect(await d('Zrange', 'z', 0, -1)).toEqual([
      { member: 'c', score: 3 },
      { member: 'd', score: 4 },
    ])
    expect(await d('Zclear', 'z')).toBe(2)
    expect(await d('Zcard', 'z')).toBe(0)
    expect(await d('Zrange', 'missing', 0, -1)).toEqual([])
  })

  test('a sorted set emptied by Zrem or Zremrangebyscore disappears', async () => {
    const d = await fresh()
    await d('Zadd', 'a', [1, 'x'])
    await d('Zadd', 'b', [1, 'x'], [2, 'y'])
    await d('Zrem', 'a', 'x')
    await d('Zremrangebyscore', 'b', -Infinity, Infinity)
    expect(await d('Scan', '', null, 10)).toEqual([])
  })
})

describe('wrong types', () => {
  test('every family refuses a key of another type, naming both types, and changes nothing', async () => {
    const d = await fresh()
    await d('Set', 'string', 'v')
    await d('Hset', 'hash', 'f', 'v')
    await d('Rpush', 'list', 'v')
    await d('Sadd', 'set', 'v')
    await d('Zadd', 'zset', [1, 'v'])
    const seq = await d('GetLastSeq')
    const probes: Record<string, [string, unknown[]][]> = {
      string: [
        ['Get', []],
        ['Set', ['x']],
        ['Incr', []],
      ],
      hash: [
        ['Hget', ['f']],
        ['Hset', ['f', 'x']],
        ['Hgetall', []],
      ],
      list: [
        ['Lrange', [0, -1]],
        ['Rpush', ['x']],
        ['Lpop', []],
      ],
      set: [
        ['Smembers', []],
        ['Sadd', ['x']],
        ['Srem', ['v']],
      ],
      zset: [
        ['Zrange', [0, -1]],
        ['Zadd', [[1, 'x']]],
        ['Zscore', ['v']],
      ],
    }
    for (const key of Object.keys(probes)) {
      for (const [want, calls] of Object.entries(probes)) {
        if (want === key) continue
        for (const [name, args] of calls) {
          expect(await failure(d(name, key, ...args))).toBe(`InvalidParams: key "${key}" holds a ${key}, not a ${want}`)
        }
      }
    }
    expect(await d('GetLastSeq')).toBe(seq)
    expect(await d('Get', 'string')).toBe('v')
    expect(await d('Hgetall', 'hash')).toEqual({ f: 'v' })
    expect(await d('Lrange', 'list', 0, -1)).toEqual(['v'])
    expect(await d('Smembers', 'set')).toEqual(['v'])
    expect(await d('Zrange', 'zset', 0, -1)).toEqual([{ member: 'v', score: 1 }])
  })
})

describe('values', () => {
  const VALUES: [string, unknown][] = [
    ['BigInt past 64 bits', 2n ** 64n + 1n],
    ['negative BigInt', -(2n ** 70n)],
    ['largest safe integer', Number.MAX_SAFE_INTEGER],
    ['double', 0.1],
    ['NaN', NaN],
    ['-Infinity', -Infinity],
    ['bytes', new Uint8Array([0, 1, 127, 128, 254, 255])],
    ['empty bytes', new Uint8Array(0)],
    ['Date', new Date(Date.UTC(2024, 1, 29, 23, 59, 58, 987))],
    ['nested maps and lists', { a: { b: [1, 'two', { c: null, d: [true, false] }] }, 'k e y': { '': 0 } }],
    ['Map with non-string keys', new Map<unknown, unknown>([[1, 'one'], [2.5, ['x']], [true, { y: 1 }]])],
    ['null', null],
    ['unicode', '日本語 😀 Ünïcødé \u0000 \u2028 end'],
    ['empty string', ''],
    ['empty list', []],
    ['empty map', {}],
    ['booleans', [true, false]],
  ]

  for (const [name, value] of VALUES) {
    test(`${name} comes back exactly from every type`, async () => {
      const d = await fresh()
      await d('Set', 's', value)
      expect(await d('Get', 's')).toEqual(value)
      await d('Hset', 'h', 'f', value)
      expect(await d('Hget', 'h', 'f')).toEqual(value)
      expect(await d('Hgetall', 'h')).toEqual({ f: value })
      await d('Rpush', 'l', value, 'after')
      expect(await d('Lrange', 'l', 0, -1)).toEqual([value, 'after'])
      expect(await d('Lindex', 'l', 0)).toEqual(value)
      await d('Sadd', 'set', value)
      expect(await d('Smembers', 'set')).toEqual([value])
      expect(await d('Sadd', 'set', value)).toBe(0)
      await d('Zadd', 'z', [7, value])
      expect(await d('Zrange', 'z', 0, -1)).toEqual([{ member: value, score: 7 }])
      expect(await d('Zscore', 'z', value)).toBe(7)
      expect(await d('Zrank', 'z', value)).toBe(0)
      expect(await d('Srem', 'set', value)).toBe(1)
      expect(await d('Zrem', 'z', value)).toBe(1)
    })
  }

  test('a value keeps its type through a backup and restore', async () => {
    const d = await fresh()
    for (const [i, [, value]] of VALUES.entries()) await d('Hset', 'all', String(i), value)
    await call('MMBackup', sid, d.mid)
    await d('Del', 'all')
    await call('MMRestore', sid, d.mid, 1)
    const back = (await d('Hgetall', 'all')) as Record<string, unknown>
    for (const [i, [, value]] of VALUES.entries()) expect(back[String(i)]).toEqual(value)
  })

  test('Hprose GUIDs and class-named objects keep their type', async () => {
    const d = await fresh()
    const guid = new Guid('0123ABCD-0000-1111-2222-333344445555')
    const person = withClassName({ name: 'Ann', age: 33 }, 'Person')
    await d('Set', 'guid', guid)
    await d('Set', 'person', person)
    const g = await d('Get', 'guid')
    expect(g).toBeInstanceOf(Guid)
    expect(String(g)).toBe(guid.value)
    const p = await d('Get', 'person')
    expect(p).toEqual({ name: 'Ann', age: 33 })
    expect(classNameOf(p)).toBe('Person')
  })

  test('the stored size goes back to zero when every key is deleted, unicode keys and fields too', async () => {
    const d = await fresh()
    const size = async () => ((await call('GetVar', sid, 'mminfo', d.mid)) as { bytes: number }).bytes
    for (const key of ['plain', 'é', '日本', '😀', 'a😀b']) {
      await d('Set', key, key)
      await d('Set', key, `${key}:${key}`)
      await d('Hset', `h${key}`, key, key)
      await d('Hmset', `h${key}`, [`${key}2`, 1], [key, 'again'])
      await d('Rpush', `l${key}`, key)
      await d('Sadd', `s${key}`, key)
      await d('Zadd', `z${key}`, [1, key])
    }
    expect(await size()).toBeGreaterThan(0)
    for (const key of ['plain', 'é', '日本', '😀', 'a😀b']) {
      await d('Hdel', `h${key}`, key)
      await d('Del', key, `h${key}`, `l${key}`, `s${key}`, `z${key}`)
    }
    expect(await d('Scan', '', null, 100)).toEqual([])
    expect(await size()).toBe(0)
  })
})
