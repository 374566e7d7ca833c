// The mimei family, one MiMei at a time: deterministic ids, mminfo, handles and versions, MMSum.
import { describe, expect, test } from 'bun:test'
import { mimeiId } from '../../runtime/mimei/index.ts'
import { bootTest, callLocal, failure } from '../helpers/kernel.ts'
import { alice, aliceDb, aliceSid, bob, bobSid, call, info, login, node, useMiMeiNode, versions } from './mimei-fixture.ts'

useMiMeiNode()

describe('MMCreate', () => {
  test('same author, app, ext and mark give the same id, on any node; {{auto}} a new one each time', async () => {
    const a = (await call('MMCreate', aliceSid, 'weibo', 'posts', 'main', 2)) as string
    expect(a).toMatch(/^[A-Za-z0-9_-]{27}$/)
    expect(await call('MMCreate', aliceSid, 'weibo', 'posts', 'main', 2)).toBe(a)
    expect(a).toBe(mimeiId(alice.id, 'weibo', 'posts', 'main'))
    const others = [
      await call('MMCreate', aliceSid, 'weibo', 'posts', 'other', 2),
      await call('MMCreate', aliceSid, 'weibo', 'likes', 'main', 2),
      await call('MMCreate', aliceSid, 'wallet', 'posts', 'main', 2),
      await call('MMCreate', bobSid, 'weibo', 'posts', 'main', 2),
      await call('MMCreate', aliceSid, 'weibo', 'posts', '{{auto}}', 2),
      await call('MMCreate', aliceSid, 'weibo', 'posts', '{{auto}}', 2),
    ]
    expect(new Set([a, ...others]).size).toBe(7)
    // The author's key, not the node, decides the id.
    await using second = await bootTest()
    expect(await callLocal(second, 'MMCreate', await login(second, alice), 'weibo', 'posts', 'main', 2)).toBe(a)
  })

  test('the type must be 1 (file) or 2 (database)', async () => {
    for (const tp of [0, 3, -1]) expect(await failure(call('MMCreate', aliceSid, 'a', 'b', 'c', tp))).toBe('InvalidParams: type must be 1 (file) or 2 (database)')
    expect(await failure(call('MMCreate', aliceSid, 'a', 'b', 'c', 'database'))).toContain('parameter tp must be an integer, got a string')
    expect(await failure(call('MMCreate', aliceSid, 'a', 'b', 'c', 1.5))).toContain('parameter tp must be an integer')
  })

  test('guests cannot create', async () => {
    const text = await failure(call('MMCreate', '', 'a', 'b', 'c', 2))
    expect(text).toStartWith('PermissionDenied: ')
    expect(text).toContain('Login')
  })
})

describe('GetVar mminfo', () => {
  test('describes the MiMei and what the caller may do with it', async () => {
    const before = Math.floor(Date.now() / 1000)
    const mid = (await call('MMCreate', aliceSid, 'notes', 'db', 'info', 2, 1)) as string
    const i = await info(aliceSid, mid)
    expect(i).toEqual({
      mid,
      author: alice.id,
      app: 'notes',
      ext: 'db',
      mark: 'info',
      type: 2,
      created: expect.any(Number),
      seq: 0,
      bytes: 0,
      last: null,
      release: null,
      rights: { '': 1 },
      yourRights: ['read', 'write', 'admin', 'publish'],
    })
    expect(i.created).toBeGreaterThanOrEqual(before)
    expect(i.created).toBeLessThanOrEqual(Math.floor(Date.now() / 1000))
    const h = await call('MMOpen', aliceSid, mid)
    await call('Set', h, 'k', 'value')
    const after = await info(aliceSid, mid)
    expect(after.seq).toBe(1)
    expect(after.bytes).toBeGreaterThan(0)
    // Everyone may read: bob sees the MiMei with the read right only.
    expect((await info(bobSid, mid)).yourRights).toEqual(['read'])
    expect((await info('', mid)).yourRights).toEqual(['read'])
  })

  test('refuses a missing mid, an unknown one, and a caller without the read right', async () => {
    expect(await failure(call('GetVar', aliceSid, 'mminfo'))).toContain('InvalidParams: this variable takes a MiMei id')
    expect(await failure(call('GetVar', aliceSid, 'mminfo', 'no-such-mimei'))).toStartWith('NotFound: no MiMei no-such-mimei')
    const { mid } = await aliceDb()
    const text = await failure(call('GetVar', bobSid, 'mminfo', mid))
    expect(text).toStartWith('PermissionDenied: ')
    expect(text).toContain(`${bob.id} lacks the read right on MiMei ${mid}`)
  })
})

describe('MMOpen, versions and handles', () => {
  /** A MiMei whose key k is "one" in version 1, "two" in version 2 and "three" in cur; 1 is released. */
  async function threeVersions() {
    const { mid, h } = await aliceDb()
    await call('Set', h, 'k', 'one')
    expect(await call('MMBackup', aliceSid, mid, 'first')).toBe(1)
    await call('Set', h, 'k', 'two')
    expect(await call('MMBackup', aliceSid, mid)).toBe(2)
    await call('Set', h, 'k', 'three')
    expect(await call('MMRelease', aliceSid, mid, 1)).toBe(1)
    return { mid, h }
  }
  const readAt = async (mid: string, ver?: unknown) => call('Get', await call('MMOpen', aliceSid, mid, ver), 'k')

  test('cur, last, release and numbers open the right content', async () => {
    const { mid } = await threeVersions()
    expect(await readAt(mid)).toBe('three')
    expect(await readAt(mid, 'cur')).toBe('three')
    expect(await readAt(mid, null)).toBe('three')
    expect(await readAt(mid, 'last')).toBe('two')
    expect(await readAt(mid, 'release')).toBe('one')
    expect(await readAt(mid, 1)).toBe('one')
    expect(await readAt(mid, 2)).toBe('two')
    expect(await readAt(mid, '2')).toBe('two')
  })

  test('bad versions get clear errors', async () => {
    const { mid } = await threeVersions()
    const { mid: fresh } = await aliceDb()
    for (const bad of [0, -1, 1.5, 'abc', '-2', '1e3', true, [1], { v: 1 }]) {
      expect(await failure(call('MMOpen', aliceSid, mid, bad))).toStartWith('InvalidParams: version must be cur, last, release or a number ≥ 1, not ')
    }
    expect(await failure(call('MMOpen', aliceSid, mid, 99))).toBe(`NotFound: MiMei ${mid} has no version 99`)
    expect(await failure(call('MMOpen', aliceSid, fresh, 'last'))).toBe(`NotFound: MiMei ${fresh} has no last version yet`)
    expect(await failure(call('MMOpen', aliceSid, fresh, 'release'))).toBe(`NotFound: MiMei ${fresh} has no release version yet`)
    expect(await failure(call('MMOpen', aliceSid, 'nope'))).toStartWith('NotFound: no MiMei nope')
  })

  test('MMBackup numbers versions and moves last; GetVar mmversions lists them', async () => {
    const { mid, h } = await aliceDb()
    await call('Set', h, 'a', 1)
    expect(await call('MMBackup', aliceSid, mid, 'v1')).toBe(1)
    expect((await info(aliceSid, mid)).last).toBe(1)
    await call('Set', h, 'b', 2)
    await call('Set', h, 'c', 3)
    expect(await call('MMBackup', aliceSid, mid)).toBe(2)
    const v = await versions(mid)
    expect(v).toMatchObject({ mid, last: 2, release: null, curSeq: 3 })
    expect(v.versions.map((x) => [x.ver, x.memo, x.seq])).toEqual([
      [1, 'v1', 1],
      [2, '', 3],
    ])
    for (const x of v.versions) expect(x.cid).toMatch(/^bafy/)
    expect(v.versions[1].size).toBeGreaterThan(v.versions[0].size)
    // Backing up unchanged content makes a new number with the same content id.
    expect(await call('MMBackup', aliceSid, mid)).toBe(3)
    const again = await versions(mid)
    expect(again.versions[2].cid).toBe(again.versions[1].cid)
    expect(again.last).toBe(3)
  })

  test('MMRelease points release at a numbered version only', async () => {
    const { mid } = await threeVersions()
    expect(await call('MMRelease', aliceSid, mid, 'last')).toBe(2)
    expect((await info(aliceSid, mid)).release).toBe(2)
    expect(await failure(call('MMRelease', aliceSid, mid, 'cur'))).toStartWith('InvalidParams: only a numbered version can be released')
    expect(await failure(call('MMRelease', aliceSid, mid, 7))).toBe(`NotFound: MiMei ${mid} has no version 7`)
    expect((await info(aliceSid, mid)).release).toBe(2)
  })

  test('MMRestore replaces cur with a version, keys added since included; open handles see it', async () => {
    const { mid, h } = await threeVersions()
    const v1 = (await versions(mid)).versions[0]
    await call('Hset', h, 'later', 'f', 'added after version 2')
    expect(await call('MMRestore', aliceSid, mid, 1)).toBe(1)
    expect(await call('Get', h, 'k')).toBe('one')
    expect(await call('Hgetall', h, 'later')).toEqual({})
    expect(await call('Scan', h, '', '*', 100)).toEqual(['k'])
    expect(await call('MMSum', aliceSid, mid)).toBe(v1.cid)
    // Restoring keeps the version list, and writes to cur go on.
    expect((await versions(mid)).versions.map((v) => v.ver)).toEqual([1, 2])
    await call('Set', h, 'k', 'four')
    expect(await readAt(mid, 1)).toBe('one')
    expect(await call('MMRestore', aliceSid, mid, 'last')).toBe(2)
    expect(await call('Get', h, 'k')).toBe('two')
    expect(await failure(call('MMRestore', aliceSid, mid, 'cur'))).toBe('InvalidParams: restore takes a numbered version')
    expect(await failure(call('MMRestore', aliceSid, mid, 9))).toBe(`NotFound: MiMei ${mid} has no version 9`)
  })

  test('MMRestore keeps the stored size right, as if the data had been written again', async () => {
    const { mid, h } = await aliceDb()
    await call('Set', h, 'a', 'x'.repeat(300))
    await call('Rpush', h, 'l', 'one', 'two')
    const size = (await info(aliceSid, mid)).bytes
    await call('MMBackup', aliceSid, mid)
    await call('Del', h, 'a', 'l')
    expect((await info(aliceSid, mid)).bytes).toBe(0)
    await call('MMRestore', aliceSid, mid, 1)
    expect((await info(aliceSid, mid)).bytes).toBe(size)
    await call('Set', h, 'b', 'y'.repeat(1000))
    await call('MMRestore', aliceSid, mid, 1)
    expect((await info(aliceSid, mid)).bytes).toBe(size)
  })

  test('MMDelVers deletes versions but never the released one, and moves last', async () => {
    const { mid } = await threeVersions()
    await call('MMBackup', aliceSid, mid)
    expect((await versions(mid)).versions.map((v) => v.ver)).toEqual([1, 2, 3])
    expect(await failure(call('MMDelVers', aliceSid, mid, 1))).toBe('InvalidParams: version 1 is released; release another version first')
    // A list holding the released version deletes nothing.
    expect(await failure(call('MMDelVers', aliceSid, mid, 3, 1))).toContain('version 1 is released')
    expect((await versions(mid)).versions.map((v) => v.ver)).toEqual([1, 2, 3])
    expect(await failure(call('MMDelVers', aliceSid, mid, 'cur'))).toBe('InvalidParams: cur cannot be deleted')
    expect(await call('MMDelVers', aliceSid, mid, 3, 2)).toBe(2)
    const v = await versions(mid)
    expect(v.versions.map((x) => x.ver)).toEqual([1])
    expect(v.last).toBe(1)
    expect(v.release).toBe(1)
    expect(await failure(call('MMOpen', aliceSid, mid, 2))).toBe(`NotFound: MiMei ${mid} has no version 2`)
    expect(await readAt(mid, 'last')).toBe('one')
    // Numbers are never reused.
    expect(await call('MMBackup', aliceSid, mid)).toBe(4)
  })

  test('MMClose closes a handle once; a closed handle is NotFound', async () => {
    const { h } = await aliceDb()
    await call('Set', h, 'k', 1)
    expect(await call('MMClose', h)).toBe(true)
    expect(await call('MMClose', h)).toBe(false)
    expect(await failure(call('Get', h, 'k'))).toBe('NotFound: unknown or expired MiMei handle; open it again with MMOpen')
    expect(await failure(call('Set', h, 'k', 2))).toStartWith('NotFound: unknown or expired MiMei handle')
  })

  test('handles idle longer than handleIdleSec expire; used ones stay', async () => {
    const { mid, h: idle } = await aliceDb()
    const busy = (await call('MMOpen', aliceSid, mid)) as string
    const version = (await call('MMOpen', aliceSid, mid, (await call('MMBackup', aliceSid, mid)) as number)) as string
    const saved = node.mimei.handleIdleSec
    node.mimei.handleIdleSec = 5
    try {
      // Age two handles past the limit instead of waiting.
      node.mimei.handles.get(idle).lastUsed = Date.now() - 6_000
      node.mimei.handles.get(version).lastUsed = Date.now() - 6_000
      await call('Set', busy, 'k', 'still here')
      expect(node.mimei.handles.sweep(node.mimei.handleIdleSec)).toBe(2)
      expect(await failure(call('Get', idle, 'k'))).toStartWith('NotFound: unknown or expired MiMei handle')
      expect(await failure(call('Get', version, 'k'))).toStartWith('NotFound: unknown or expired MiMei handle')
      expect(await call('Get', busy, 'k')).toBe('still here')
      expect(node.mimei.handles.sweep(node.mimei.handleIdleSec)).toBe(0)
    } finally {
      node.mimei.handleIdleSec = saved
    }
  })
})

describe('MMSum', () => {
  test('equal on two nodes holding the same data written in another order; differs after a change', async () => {
    await using nodeA = await bootTest()
    await using nodeB = await bootTest()
    const sidA = await login(nodeA, alice)
    const sidB = await login(nodeB, alice)
    const mid = (await callLocal(nodeA, 'MMCreate', sidA, 'sum', 'db', 'same', 2)) as string
    expect(await callLocal(nodeB, 'MMCreate', sidB, 'sum', 'db', 'same', 2)).toBe(mid)
    const a = (await callLocal(nodeA, 'MMOpen', sidA, mid)) as string
    const b = (await callLocal(nodeB, 'MMOpen', sidB, mid)) as string
    const A = (name: string, ...args: unknown[]) => callLocal(nodeA, name, a, ...args)
    const B = (name: string, ...args: unknown[]) => callLocal(nodeB, name, b, ...args)
    const sumA = () => callLocal(nodeA, 'MMSum', sidA, mid)
    const sumB = () => callLocal(nodeB, 'MMSum', sidB, mid)

    await A('Set', 's', 'text')
    await A('Set', 'n', 2n ** 64n)
    await A('Hmset', 'h', ['f1', 1], ['f2', { nested: [1, 2] }])
    await A('Rpush', 'l', 'x', 'y', 'z')
    await A('Sadd', 'set', 'a', 'b', 'c')
    await A('Zadd', 'z', [1, 'one'], [2, 'two'])
    await A('Set', 'gone', 'deleted later')
    await A('Del', 'gone')

    await B('Zadd', 'z', [2, 'two'], [5, 'one'])
    await B('Zadd', 'z', [1, 'one'])
    await B('Sadd', 'set', 'c')
    await B('Sadd', 'set', 'b', 'a')
    await B('Rpush', 'l', 'y')
    await B('Lpush', 'l', 'x')
    await B('Rpush', 'l', 'z')
    await B('Hset', 'h', 'f2', { nested: [1, 2] })
    await B('Hset', 'h', 'f1', 0)
    await B('HincrBy', 'h', 'f1', 1)
    await B('Set', 'n', 2n ** 64n)
    await B('Set', 's', 'draft')
    await B('Set', 's', 'text')

    expect(await sumA()).toMatch(/^bafy/)
    expect(await sumB()).toBe(await sumA())
    await B('Hset', 'h', 'f3', 'extra')
    expect(await sumB()).not.toBe(await sumA())
    await B('Hdel', 'h', 'f3')
    expect(await sumB()).toBe(await sumA())
    await B('Zadd', 'z', [1.5, 'one'])
    expect(await sumB()).not.toBe(await sumA())
    await A('ZincrBy', 'z', 0.5, 'one')
    expect(await sumB()).toBe(await sumA())
  })

  test('cur sums like the version backed up from it; numbered versions keep their sum', async () => {
    const { mid, h } = await aliceDb()
    await call('Set', h, 'k', 'v')
    const cur = (await call('MMSum', aliceSid, mid)) as string
    expect(await call('MMBackup', aliceSid, mid)).toBe(1)
    expect(await call('MMSum', aliceSid, mid, 1)).toBe(cur)
    expect(await call('MMSum', aliceSid, mid, 'last')).toBe(cur)
    expect((await versions(mid)).versions[0].cid).toBe(cur)
    await call('Set', h, 'k', 'changed')
    expect(await call('MMSum', aliceSid, mid)).not.toBe(cur)
    expect(await call('MMSum', aliceSid, mid, 1)).toBe(cur)
    expect(await failure(call('MMSum', aliceSid, mid, 5))).toStartWith('NotFound')
    expect(await failure(call('MMSum', bobSid, mid))).toStartWith('PermissionDenied')
  })
})
