// The db family around the keys: sequence numbers, transactions, bad input, and the wire with an official client.
import { describe, expect, jest, test } from 'bun:test'
import { createRequire } from 'node:module'
import { failure, loginPassport } from '../helpers/kernel.ts'
import { call, fresh, node, open, sid, TWO_53, useDbNode } from './db-fixture.ts'

useDbNode()

describe('sequence numbers', () => {
  test('every write takes a new, higher sequence number; reads and failed writes take none', async () => {
    const d = await fresh()
    let last = (await d('GetLastSeq')) as number
    expect(last).toBe(0)
    const writes: [string, ...unknown[]][] = [
      ['Set', 's', 1],
      ['Incr', 's'],
      ['IncrBy', 's', 5],
      ['Hset', 'h', 'f', 1],
      ['Hmset', 'h', ['g', 2]],
      ['HincrBy', 'h', 'f', 1],
      ['Hdel', 'h', 'g'],
      ['Rpush', 'l', 1, 2],
      ['Lpush', 'l', 0],
      ['Lset', 'l', 0, 'zero'],
      ['Lpop', 'l'],
      ['Rpop', 'l'],
      ['Sadd', 'set', 'a', 'b'],
      ['Srem', 'set', 'a'],
      ['Zadd', 'z', [1, 'a'], [2, 'b']],
      ['ZincrBy', 'z', 1, 'a'],
      ['Zrem', 'z', 'a'],
      ['Zremrangebyscore', 'z', 0, 10],
      ['Del', 's'],
      ['Hclear', 'h'],
      ['Lclear', 'l'],
      ['Sclear', 'set'],
      ['Zadd', 'z', [1, 'x']],
      ['Zclear', 'z'],
      ['Set', 's', 'again'],
    ]
    for (const [name, ...args] of writes) {
      await d(name, ...args)
      const seq = (await d('GetLastSeq')) as number
      expect(seq, `${name} must take a new sequence number`).toBeGreaterThan(last)
      last = seq
    }
    for (const [name, ...args] of [['Get', 's'], ['Scan', '', null, 10], ['Hgetall', 'h'], ['Lrange', 'l', 0, -1], ['Smembers', 'set'], ['Zrange', 'z', 0, -1]] as const) {
      await d(name, ...args)
    }
    await failure(d('Hset', 's', 'f', 1))
    await failure(d('Zadd', 'z', [1, 'ok'], ['bad', 'pair']))
    expect(await d('GetLastSeq')).toBe(last)
    expect(((await call('GetVar', sid, 'mminfo', d.mid)) as { seq: number }).seq).toBe(last)
  })
})

describe('transactions', () => {
  test('writes are QUEUED and invisible until Commit, which returns their results', async () => {
    const d = await fresh()
    const other = await open(d.mid)
    await d('Set', 'k', 'old')
    const seq = await d('GetLastSeq')
    expect(await d('Begin', 30)).toBe(true)
    expect(await d('Set', 'k', 'new')).toBe('QUEUED')
    expect(await d('Hset', 'h', 'f', 1)).toBe('QUEUED')
    expect(await d('Rpush', 'l', 'a', 'b')).toBe('QUEUED')
    expect(await d('Incr', 'n')).toBe('QUEUED')
    // Reads inside the transaction see committed data, as does everyone else.
    expect(await d('Get', 'k')).toBe('old')
    expect(await other('Get', 'k')).toBe('old')
    expect(await other('Llen', 'l')).toBe(0)
    expect(await d('GetLastSeq')).toBe(seq)
    expect(await d('Commit')).toEqual([true, 1, 2, 1])
    expect(await other('Get', 'k')).toBe('new')
    expect(await other('Hget', 'h', 'f')).toBe(1)
    expect(await other('Lrange', 'l', 0, -1)).toEqual(['a', 'b'])
    expect(await d('GetLastSeq')).toBeGreaterThan(seq)
    // After Commit writes apply at once again.
    expect(await d('Set', 'k', 'direct')).toBe(true)
    expect(await failure(d('Commit'))).toBe('InvalidParams: no transaction is open on this handle; call Begin first')
  })

  test('Rollback drops the queued writes', async () => {
    const d = await fresh()
    await d('Set', 'k', 'old')
    await d('Begin', 30)
    await d('Set', 'k', 'new')
    await d('Del', 'k')
    expect(await d('Rollback')).toBe(true)
    expect(await d('Get', 'k')).toBe('old')
    expect(await failure(d('Rollback'))).toBe('InvalidParams: no transaction is open on this handle')
  })

  test('a key the transaction wrote, changed by another writer since Begin, fails Commit with Conflict; nothing applies', async () => {
    const d = await fresh()
    const other = await open(d.mid)
    await d('Set', 'k', 'old')
    await d('Begin', 30)
    await d('Set', 'untouched-by-others', 'tx')
    await d('Set', 'k', 'tx')
    await other('Set', 'k', 'other')
    expect(await failure(d('Commit'))).toBe('Conflict: key "k" was changed by another writer after Begin; nothing was applied, retry the transaction')
    expect(await d('Get', 'k')).toBe('other')
    expect(await d('Get', 'untouched-by-others')).toBeNull()
    // The transaction is over: the next Begin works.
    expect(await d('Begin', 30)).toBe(true)
    expect(await d('Rollback')).toBe(true)
  })

  test('a key the transaction only read, changed or deleted by another writer, is a Conflict too', async () => {
    const d = await fresh()
    const other = await open(d.mid)
    await d('Hset', 'balance', 'alice', 10)
    await d('Set', 'flag', 1)
    for (const change of [() => other('HincrBy', 'balance', 'alice', -5), () => other('Del', 'flag')]) {
      await d('Begin', 30)
      await d('Hget', 'balance', 'alice')
      await d('Get', 'flag')
      await d('Set', 'result', 'computed')
      await change()
      expect(await failure(d('Commit'))).toStartWith('Conflict: key "')
      expect(await d('Get', 'result')).toBeNull()
    }
  })

  test('of two transactions on one key the first Commit wins', async () => {
    const d = await fresh()
    const other = await open(d.mid)
    await d('Begin', 30)
    await other('Begin', 30)
    await d('Incr', 'n')
    await other('IncrBy', 'n', 10)
    expect(await d('Commit')).toEqual([1])
    expect(await failure(other('Commit'))).toStartWith('Conflict: key "n"')
    expect(await d('Get', 'n')).toBe(1)
  })

  test('a change to an unrelated key does not conflict', async () => {
    const d = await fresh()
    const other = await open(d.mid)
    await d('Set', 'mine', 0)
    await d('Begin', 30)
    await d('Get', 'mine')
    await d('Set', 'mine', 1)
    await other('Set', 'theirs', 'x')
    await other('Hset', 'theirs-hash', 'f', 'y')
    expect(await d('Commit')).toEqual([true])
    expect(await other('Get', 'mine')).toBe(1)
  })

  test('a write that fails at Commit takes the whole transaction with it', async () => {
    const d = await fresh()
    await d('Set', 'str', 'v')
    await d('Begin', 30)
    await d('Set', 'a', 1)
    expect(await d('Rpush', 'str', 'x')).toBe('QUEUED')
    expect(await failure(d('Commit'))).toBe('InvalidParams: key "str" holds a string, not a list')
    expect(await d('Get', 'a')).toBeNull()
    expect(await d('Get', 'str')).toBe('v')
  })

  test('an uncommitted transaction rolls back by itself after its timeout', async () => {
    const d = await fresh()
    await d('Set', 'k', 'old')
    jest.useFakeTimers()
    try {
      await d('Begin', 1)
      expect(await d('Set', 'k', 'queued')).toBe('QUEUED')
      jest.advanceTimersByTime(999)
      expect(await d('Set', 'k2', 'queued too')).toBe('QUEUED')
      jest.advanceTimersByTime(2)
    } finally {
      jest.useRealTimers()
    }
    expect(await failure(d('Commit'))).toBe('InvalidParams: no transaction is open on this handle; call Begin first')
    expect(await d('Get', 'k')).toBe('old')
    expect(await d('Get', 'k2')).toBeNull()
    expect(await d('Set', 'k', 'direct')).toBe(true)
    expect(await d('Get', 'k')).toBe('direct')
  })

  test('Begin twice, bad timeouts, and MMClose with an open transaction', async () => {
    const d = await fresh()
    await d('Begin', 30)
    expect(await failure(d('Begin', 30))).toBe('InvalidParams: a transaction is already open on this handle; Commit or Rollback it first')
    await d('Set', 'k', 'queued')
    expect(await call('MMClose', d.h)).toBe(true)
    const again = await open(d.mid)
    expect(await again('Get', 'k')).toBeNull()
    for (const bad of [0, -1, 3601]) expect(await failure(again('Begin', bad))).toBe('InvalidParams: timeoutSec must be 1..3600')
    expect(await failure(again('Begin', 1.5))).toContain('parameter timeoutSec must be an integer')
    expect(await failure(again('Begin'))).toContain('missing parameter timeoutSec')
  })
})

describe('bad input', () => {
  test('an unknown handle is NotFound; a file MiMei is not a database', async () => {
    expect(await failure(call('Get', 'no-such-handle', 'k'))).toBe('NotFound: unknown or expired MiMei handle; open it again with MMOpen')
    expect(await failure(call('Set', 'no-such-handle', 'k', 1))).toStartWith('NotFound')
    expect(await failure(call('GetLastSeq', 'no-such-handle'))).toStartWith('NotFound')
    expect(await failure(call('Set', 42, 'k', 1))).toBe('InvalidParams: Set: parameter handle must be a string, got a number')
    const file = (await call('MMCreate', sid, 'dbtest', 'file', '{{auto}}', 1)) as string
    const fh = await call('MMOpen', sid, file)
    expect(await failure(call('Get', fh, 'k'))).toBe(`InvalidParams: MiMei ${file} is not a database; use the file calls`)
  })

  test('mistyped and missing arguments name the parameter', async () => {
    const d = await fresh()
    expect(await failure(d('Set', 1, 'v'))).toBe('InvalidParams: Set: parameter key must be a string, got a number')
    expect(await failure(d('Set', 'k'))).toContain('InvalidParams: Set is missing parameter value')
    expect(await failure(d('Lrange', 'l', '0', 1))).toBe('InvalidParams: Lrange: parameter start must be an integer, got a string')
    expect(await failure(d('Lrange', 'l', 0.5, 1))).toContain('parameter start must be an integer')
    expect(await failure(d('IncrBy', 'n', 1.5))).toContain('parameter delta must be an integer')
    expect(await failure(d('IncrBy', 'n', 2n ** 60n))).toContain('parameter delta must be an integer')
    expect(await failure(d('Zcount', 'z', 'low', 1))).toContain('parameter min must be a number, got a string')
    expect(await failure(d('Hmget', 'h', 'f', 2))).toContain('parameter fields must be a string, got a number')
    expect(await failure(d('Del', 'a', ['b']))).toContain('parameter keys must be a string, got a list')
    expect(await failure(d('Get', 'k', 'extra'))).toContain('Get takes 2 arguments at most, got 3')
    expect(await d('GetLastSeq')).toBe(0)
  })

  test('negative counts are refused; huge ranges and offsets are fine', async () => {
    const d = await fresh()
    await d('Rpush', 'l', 1, 2, 3)
    await d('Zadd', 'z', [1, 'a'], [2, 'b'])
    await d('Hset', 'h', 'f', 1)
    expect(await failure(d('Scan', '', null, -1))).toStartWith('InvalidParams: count must be')
    expect(await failure(d('Hscan', 'h', '', null, -5))).toStartWith('InvalidParams: count must be')
    const MAX = Number.MAX_SAFE_INTEGER
    expect(await d('Lrange', 'l', 0, MAX)).toEqual([1, 2, 3])
    expect(await d('Lrange', 'l', -MAX, -1)).toEqual([1, 2, 3])
    expect(await d('Lrange', 'l', MAX, MAX)).toEqual([])
    expect(await d('Lindex', 'l', MAX)).toBeNull()
    expect(await d('Lindex', 'l', -MAX)).toBeNull()
    expect(await failure(d('Lset', 'l', MAX, 'x'))).toContain('out of range')
    expect(await failure(d('Lrange', 'l', 0, 2 ** 60))).toContain('parameter stop must be an integer')
    expect(await d('Zrange', 'z', -MAX, MAX)).toHaveLength(2)
    expect(await d('Zrevrange', 'z', MAX, MAX)).toEqual([])
    expect(await d('Zrangebyscore', 'z', -Infinity, Infinity, MAX, MAX)).toEqual([])
    expect(await d('Zrangebyscore', 'z', -Infinity, Infinity, 0, MAX)).toHaveLength(2)
    expect(await d('Zrangebyscore', 'z', 5, 1)).toEqual([])
    expect(await d('Scan', '', null, 1e9)).toEqual(['h', 'l', 'z'])
    expect(await d('Hscan', 'h', '', null, MAX)).toEqual([{ field: 'f', value: 1 }])
  })

  test('a multi-value write with one bad part writes nothing', async () => {
    const d = await fresh()
    await d('Zadd', 'z', [5, 'a'])
    await d('Hset', 'h', 'keep', 1)
    const seq = await d('GetLastSeq')
    expect(await failure(d('Zadd', 'z', [1, 'a'], [2, 'b'], ['x', 'c']))).toBe(
      'InvalidParams: pair 3 must be {score, member} or [score, member] with a numeric score',
    )
    expect(await failure(d('Zadd', 'z', [1, 'a'], [NaN, 'b']))).toStartWith('InvalidParams: pair 2 must be')
    expect(await failure(d('Zadd', 'z', [1, 'a'], { score: 2 }))).toStartWith('InvalidParams: pair 2 must be')
    expect(await failure(d('Zadd', 'z', [1, 'a'], [2]))).toStartWith('InvalidParams: pair 2 must be')
    expect(await failure(d('Zadd', 'z'))).toBe('InvalidParams: Zadd needs at least one {score, member}')
    expect(await d('Zrange', 'z', 0, -1)).toEqual([{ member: 'a', score: 5 }])
    expect(await failure(d('Hmset', 'h', ['keep', 2], ['new', 3], [4, 'not a field']))).toBe('InvalidParams: pair 3 must be {field, value} or [field, value]')
    expect(await failure(d('Hmset', 'h'))).toBe('InvalidParams: Hmset needs at least one field')
    expect(await d('Hgetall', 'h')).toEqual({ keep: 1 })
    expect(await failure(d('Rpush', 'l'))).toBe('InvalidParams: push needs at least one value')
    expect(await failure(d('Sadd', 's'))).toBe('InvalidParams: Sadd needs at least one member')
    expect(await d('GetLastSeq')).toBe(seq)
    expect(await d('Scan', '', null, 10)).toEqual(['h', 'z'])
  })

  test('a handle of a numbered version is read-only', async () => {
    const d = await fresh()
    await d('Set', 'k', 1)
    await call('MMBackup', sid, d.mid)
    const v = await call('MMOpen', sid, d.mid, 1)
    expect(await call('Get', v, 'k')).toBe(1)
    expect(await failure(call('Set', v, 'k', 2))).toBe(`PermissionDenied: version 1 of MiMei ${d.mid} is read-only; open "cur" to write`)
    expect(await failure(call('MMOpen', sid, d.mid, 0))).toStartWith('InvalidParams: version must be cur, last, release or a number ≥ 1')
    expect(await failure(call('MMOpen', sid, d.mid, 2))).toBe(`NotFound: MiMei ${d.mid} has no version 2`)
  })
})

describe('over the wire', () => {
  test('an hprose 2.x client: Hset/Hget/Zadd/Zrangebyscore with longs, BigInt results and bytes', async () => {
    const hprose = createRequire(import.meta.url)('hprose')
    const names = ['Login', 'MMCreate', 'MMOpen', 'Hset', 'Hget', 'HincrBy', 'Zadd', 'Zrangebyscore', 'Zscore']
    const client = hprose.Client.create(`${node.url}/webapi/`, names, { timeout: 10_000 })
    try {
      const { sid: wireSid } = await client.Login(loginPassport(node))
      const mid = await client.MMCreate(wireSid, 'dbtest', 'wire', 'one', 2)
      const h = await client.MMOpen(wireSid, mid)
      const bytes = new Uint8Array([0, 1, 2, 253, 254, 255])

      expect(await client.Hset(h, 'user', 'avatar', bytes)).toBe(1)
      expect(await client.Hset(h, 'user', 'name', '张三 😀')).toBe(1)
      expect(await client.Hset(h, 'user', 'coins', Number.MAX_SAFE_INTEGER)).toBe(1)
      expect(new Uint8Array(await client.Hget(h, 'user', 'avatar'))).toEqual(bytes)
      expect(await client.Hget(h, 'user', 'name')).toBe('张三 😀')
      // Past 2^53 the node answers with an exact long; hprose 2 hands it over as its digits.
      expect(await client.HincrBy(h, 'user', 'coins', 10)).toBe(String(TWO_53 + 9n))
      expect(await call('Hget', h, 'user', 'coins')).toBe(TWO_53 + 9n)
      expect(await call('Hget', h, 'user', 'avatar')).toEqual(bytes)

      expect(await client.Zadd(h, 'scores', [1, 'a'], { score: 2.5, member: bytes }, [2 ** 40, 'big'])).toBe(3)
      await call('Zadd', h, 'scores', [3, 2n ** 64n])
      const range = await client.Zrangebyscore(h, 'scores', 0, 2 ** 41)
      expect(range.map((p: { member: unknown; score: number }) => [p.member instanceof Uint8Array ? [...p.member] : p.member, p.score])).toEqual([
        ['a', 1],
        [[...bytes], 2.5],
        [String(2n ** 64n), 3],
        ['big', 2 ** 40],
      ])
      expect(await client.Zscore(h, 'scores', bytes)).toBe(2.5)
      expect(await client.Zrangebyscore(h, 'scores', 2, 2.9)).toHaveLength(1)

      const err = await Promise.resolve(client.Hget(h, 'scores', 'f')).then(
        () => 'no error',
        (e: Error) => e.message,
      )
      expect(err).toBe('InvalidParams: key "scores" holds a zset, not a hash')
    } finally {
      client.close?.()
    }
  })
})
