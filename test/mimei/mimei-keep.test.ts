// The mimei family, what is kept and who may touch it: references, gc, rights, app data, quotas.
import { describe, expect, test } from 'bun:test'
import { readManifest } from '../../runtime/mimei/db/snapshot.ts'
import { bootTest, callLocal, failure } from '../helpers/kernel.ts'
import { alice, aliceDb, aliceSid, bob, bobSid, call, info, login, node, ownerSid, useMiMeiNode, versions, type Info } from './mimei-fixture.ts'

useMiMeiNode()

describe('references', () => {
  test('MMAddRef counts each reference; MMDelRef takes one count off; MMGetRefs lists them', async () => {
    const { mid } = await aliceDb()
    const { mid: other } = await aliceDb()
    expect(await call('MMGetRefs', aliceSid, mid)).toEqual({})
    expect(await call('MMAddRef', aliceSid, mid, other, other, 'ref-b')).toBe(3)
    expect(await call('MMGetRefs', aliceSid, mid)).toEqual({ [other]: 2, 'ref-b': 1 })
    expect(await call('MMDelRef', aliceSid, mid, other)).toBe(1)
    expect(await call('MMGetRefs', aliceSid, mid)).toEqual({ [other]: 1, 'ref-b': 1 })
    // The second count of `other` is gone after the first: only one is removed.
    expect(await call('MMDelRef', aliceSid, mid, other, other, 'never-added')).toBe(1)
    expect(await call('MMGetRefs', aliceSid, mid)).toEqual({ 'ref-b': 1 })
    expect(await call('MMGetRefs', aliceSid, other)).toEqual({})
  })

  test('references need the admin right; reading them needs read', async () => {
    const { mid } = await aliceDb()
    await call('MMSetRight', aliceSid, mid, bob.id, 1)
    expect(await call('MMGetRefs', bobSid, mid)).toEqual({})
    const text = await failure(call('MMAddRef', bobSid, mid, 'x'))
    expect(text).toStartWith('PermissionDenied: ')
    expect(text).toContain('lacks the admin right')
    expect(await failure(call('MMDelRef', bobSid, mid, 'x'))).toContain('lacks the admin right')
  })
})

describe('gc', () => {
  /** Whether the block is stored: its row, and bytes that read back and hash to its CID. */
  const stored = (cid: string) => {
    if (!node.mimei.blocks.has(cid)) return false
    node.mimei.blocks.get(cid)
    return true
  }
  /** Every block of a version: its manifest and its chunks. */
  const blocksOf = (cid: string) => [cid, ...readManifest(node.mimei.blocks, cid).chunks]
  /** Makes every stored block look `sec` seconds older, instead of waiting out a grace period. */
  const ageBlocks = (sec: number) => node.store.db.query('UPDATE blocks SET created = created - ?').run(sec)

  /** Version 1 and 2 of a MiMei whose data spans several chunks; version 1 is then deleted. */
  async function deletedAndKept() {
    const { mid, h } = await aliceDb()
    await call('Set', h, 'big', crypto.getRandomValues(new Uint8Array(60_000)).map((b, i) => (i % 7 ? b : 0)))
    for (let i = 0; i < 8; i++) await call('Set', h, `chunk${i}`, new Uint8Array(40_000).fill(i))
    await call('MMBackup', aliceSid, mid)
    await call('Set', h, 'big', 'replaced')
    await call('Set', h, 'new', 'only in version 2')
    await call('MMBackup', aliceSid, mid)
    const [v1, v2] = (await versions(mid)).versions
    const kept = blocksOf(v2.cid)
    const dead = blocksOf(v1.cid).filter((c) => !kept.includes(c))
    expect(kept.length).toBeGreaterThan(1)
    expect(dead.length).toBeGreaterThan(1)
    for (const c of [...kept, ...dead]) expect(stored(c)).toBe(true)
    expect(await call('MMDelVers', aliceSid, mid, 1)).toBe(1)
    return { mid, kept, dead }
  }

  async function expectKeptVersionReads(mid: string, kept: string[]) {
    for (const c of kept) expect(stored(c)).toBe(true)
    const h = await call('MMOpen', aliceSid, mid, 2)
    expect(await call('Get', h, 'big')).toBe('replaced')
    expect(await call('Get', h, 'new')).toBe('only in version 2')
    expect(await call('Get', h, 'chunk7')).toEqual(new Uint8Array(40_000).fill(7))
  }

  test('MMGc(sid, 0) collects the blocks of a deleted version at once and keeps those of kept versions', async () => {
    const { mid, kept, dead } = await deletedAndKept()
    const r = (await call('MMGc', ownerSid, 0)) as { blocks: number; bytes: number }
    for (const c of dead) expect(stored(c)).toBe(false)
    expect(r.blocks).toBeGreaterThanOrEqual(dead.length)
    await expectKeptVersionReads(mid, kept)
  })

  test('blocks inside the grace period stay; past it only unpinned ones go', async () => {
    const { mid, kept, dead } = await deletedAndKept()
    expect(await call('MMGc', ownerSid, 3600)).toEqual({ blocks: 0, bytes: 0 })
    for (const c of dead) expect(stored(c)).toBe(true)
    ageBlocks(2 * 3600)
    const r = (await call('MMGc', ownerSid, 3600)) as { blocks: number; bytes: number }
    expect(r.blocks).toBeGreaterThanOrEqual(dead.length)
    expect(r.bytes).toBeGreaterThan(0)
    for (const c of dead) expect(stored(c)).toBe(false)
    await expectKeptVersionReads(mid, kept)
  })

  test('a reference to a content id keeps its block until the reference goes', async () => {
    const { mid, dead } = await deletedAndKept()
    const { mid: holder } = await aliceDb()
    await call('MMAddRef', aliceSid, holder, dead[0])
    ageBlocks(2 * 3600)
    await call('MMGc', ownerSid, 60)
    expect(stored(dead[0])).toBe(true)
    for (const c of dead.slice(1)) expect(stored(c)).toBe(false)
    await call('MMDelRef', aliceSid, holder, dead[0])
    expect(await call('MMGc', ownerSid, 60)).toMatchObject({ blocks: 1 })
    expect(stored(dead[0])).toBe(false)
    expect((await versions(mid)).versions.map((v) => v.ver)).toEqual([2])
  })
})

describe('rights', () => {
  test('non-members are refused with PermissionDenied naming the missing right and how to get it', async () => {
    const { mid } = await aliceDb()
    const text = await failure(call('MMOpen', bobSid, mid))
    expect(text).toBe(`PermissionDenied: ${bob.id} lacks the read right on MiMei ${mid}; its author can grant it with MMSetRight(sid, "${mid}", "${bob.id}", 1)`)
    expect(await failure(call('MMOpen', '', mid))).toStartWith(`PermissionDenied: a guest lacks the read right on MiMei ${mid}`)
    expect(await failure(call('MMBackup', bobSid, mid))).toContain(`${bob.id} lacks the admin right on MiMei ${mid}`)
  })

  test('MMSetRight grants read, then write; 0 takes the rights away', async () => {
    const { mid, h } = await aliceDb()
    await call('Set', h, 'k', 'alice')
    expect(await call('MMSetRight', aliceSid, mid, bob.id, 1)).toBe(1)
    expect(await call('MMGetRight', aliceSid, mid, bob.id)).toBe(1)
    const read = (await call('MMOpen', bobSid, mid)) as string
    expect(await call('Get', read, 'k')).toBe('alice')
    expect(await failure(call('Set', read, 'k', 'bob'))).toBe(`PermissionDenied: ${bob.id} lacks the write right on MiMei ${mid}; its author can grant it with MMSetRight(sid, "${mid}", "${bob.id}", 3)`)
    expect(await failure(call('Begin', read, 10))).toStartWith('PermissionDenied')
    expect(await failure(call('MMBackup', bobSid, mid))).toContain(`${bob.id} lacks the admin right on MiMei ${mid}`)
    expect(await failure(call('MMSetRight', bobSid, mid, bob.id, 15))).toContain('lacks the admin right')
    expect(await call('Get', h, 'k')).toBe('alice')

    expect(await call('MMSetRight', aliceSid, mid, bob.id, 3)).toBe(3)
    const write = (await call('MMOpen', bobSid, mid)) as string
    expect(await call('Set', write, 'k', 'bob')).toBe(true)
    expect(await call('Get', h, 'k')).toBe('bob')

    expect(await call('MMSetRight', aliceSid, mid, bob.id, 0)).toBe(0)
    expect(await call('MMGetRight', aliceSid, mid, bob.id)).toBe(0)
    expect(await failure(call('MMOpen', bobSid, mid))).toContain('lacks the read right')
    expect(await failure(call('MMSetRight', aliceSid, mid, bob.id, -1))).toBe('InvalidParams: rights must be a non-negative integer')
  })

  test('everyone may be given read and write only; the node owner holds every right', async () => {
    const { mid, h } = await aliceDb()
    expect(await call('MMSetRight', aliceSid, mid, '', 15)).toBe(3)
    expect(await call('MMGetRight', aliceSid, mid, '')).toBe(3)
    expect(await call('MMSetRight', aliceSid, mid, '', 0)).toBe(0)
    await call('Set', h, 'k', 'private')
    const owner = (await call('MMOpen', ownerSid, mid)) as string
    expect(await call('Get', owner, 'k')).toBe('private')
    expect(await call('MMBackup', ownerSid, mid)).toBe(1)
  })

  test('an everyone-read MiMei is readable by a guest handle but not writable', async () => {
    const { mid, h } = await aliceDb(1)
    await call('Hset', h, 'profile', 'name', 'Alice')
    const guest = (await call('MMOpen', '', mid)) as string
    expect(await call('Hget', guest, 'profile', 'name')).toBe('Alice')
    expect(await failure(call('Hset', guest, 'profile', 'name', 'Mallory'))).toBe(`PermissionDenied: a guest lacks the write right on MiMei ${mid}; its author can grant it with MMSetRight(sid, "${mid}", "", 3)`)
    expect(await failure(call('Del', guest, 'profile'))).toStartWith('PermissionDenied')
    expect(await failure(call('Begin', guest, 5))).toStartWith('PermissionDenied')
    expect(await call('Hget', h, 'profile', 'name')).toBe('Alice')
    // With right 3 every logged-in user may write; a guest still only reads: guests never store.
    const { mid: board, h: own } = await aliceDb(3)
    const g = (await call('MMOpen', '', board)) as string
    expect(await failure(call('Rpush', g, 'posts', 'by a guest'))).toStartWith('PermissionDenied: a guest lacks the write right')
    const b = (await call('MMOpen', bobSid, board)) as string
    expect(await call('Rpush', b, 'posts', 'hello')).toBe(1)
    expect(await call('Lrange', own, 'posts', 0, -1)).toEqual(['hello'])
  })

  test('a numbered-version handle is read-only, even for the author', async () => {
    const { mid, h } = await aliceDb()
    await call('Set', h, 'k', 'v1')
    await call('MMBackup', aliceSid, mid)
    const v = (await call('MMOpen', aliceSid, mid, 1)) as string
    expect(await call('Get', v, 'k')).toBe('v1')
    for (const [name, args] of [
      ['Set', ['k', 'x']],
      ['Del', ['k']],
      ['Rpush', ['l', 1]],
      ['Zadd', ['z', [1, 'a']]],
    ] as const) {
      expect(await failure(call(name, v, ...args))).toBe(`PermissionDenied: version 1 of MiMei ${mid} is read-only; open "cur" to write`)
    }
    expect(await failure(call('Begin', v, 5))).toContain('is read-only')
    expect(await call('Get', v, 'k')).toBe('v1')
    expect(await call('GetLastSeq', v)).toBe(1)
  })
})

describe('MMOpenAppData', () => {
  const midOf = (h: unknown) => node.mimei.handles.get(h as string).mid

  test('user scope: created on first use, the same data next time, one per user', async () => {
    const h = await call('MMOpenAppData', aliceSid, 'diary', 'user')
    expect(await call('Get', h, 'entry')).toBeNull()
    await call('Set', h, 'entry', 'dear diary')
    const mid = midOf(h)
    await call('MMClose', h)
    const again = await call('MMOpenAppData', aliceSid, 'diary', 'user')
    expect(midOf(again)).toBe(mid)
    expect(await call('Get', again, 'entry')).toBe('dear diary')
    const bobs = await call('MMOpenAppData', bobSid, 'diary', 'user')
    expect(midOf(bobs)).not.toBe(mid)
    expect(await call('Get', bobs, 'entry')).toBeNull()
    expect((await info(aliceSid, mid)).author).toBe(alice.id)
    expect(await failure(call('MMOpen', bobSid, mid))).toContain('lacks the read right')
  })

  test('node and app scopes: one area per node, shared by its users, created once', async () => {
    for (const scope of ['node', 'app']) {
      const a = await call('MMOpenAppData', aliceSid, 'chat', scope)
      await call('Rpush', a, 'log', `alice:${scope}`)
      const b = await call('MMOpenAppData', bobSid, 'chat', scope)
      expect(midOf(b)).toBe(midOf(a))
      await call('Rpush', b, 'log', `bob:${scope}`)
      const again = await call('MMOpenAppData', aliceSid, 'chat', scope)
      expect(await call('Lrange', again, 'log', 0, -1)).toEqual([`alice:${scope}`, `bob:${scope}`])
      expect((await info(ownerSid, midOf(a))).author).toBe(node.config.owner)
    }
    const node1 = await call('MMOpenAppData', aliceSid, 'chat', 'node')
    const app1 = await call('MMOpenAppData', aliceSid, 'chat', 'app')
    expect(midOf(node1)).not.toBe(midOf(app1))
    expect(midOf(await call('MMOpenAppData', aliceSid, 'other-app', 'node'))).not.toBe(midOf(node1))
  })

  test('an unknown scope and a guest are refused', async () => {
    expect(await failure(call('MMOpenAppData', aliceSid, 'chat', 'world'))).toBe('InvalidParams: scope must be user, node or app')
    expect(await failure(call('MMOpenAppData', '', 'chat', 'node'))).toStartWith('PermissionDenied')
  })
})

describe('quotas', () => {
  const QUOTA = 1000

  test('quotaUserBytes: a write past it is QuotaExceeded and changes nothing', async () => {
    await using q = await bootTest({ quotaUserBytes: QUOTA })
    const sid = await login(q, alice)
    const qcall = (name: string, ...args: unknown[]) => callLocal(q, name, ...args)
    const mid = (await qcall('MMCreate', sid, 'quota', 'db', 'a', 2)) as string
    const h = await qcall('MMOpen', sid, mid)
    expect(await qcall('Set', h, 'a', 'x'.repeat(400))).toBe(true)
    await qcall('Rpush', h, 'l', 'first')
    const size = ((await qcall('GetVar', sid, 'mminfo', mid)) as Info).bytes
    const seq = await qcall('GetLastSeq', h)
    const big = 'y'.repeat(700)
    for (const [name, args] of [
      ['Set', ['b', big]],
      ['Set', ['a', big]],
      ['Hset', ['h', 'f', big]],
      ['Hmset', ['h', ['f', 'small'], ['g', big]]],
      ['Rpush', ['l', 'second', big]],
      ['Sadd', ['s', big]],
      ['Zadd', ['z', [1, big]]],
    ] as const) {
      const text = await failure(qcall(name, h, ...args))
      expect(text).toStartWith(`QuotaExceeded: user ${alice.id} would store `)
      expect(text).toContain(`of ${QUOTA} bytes; delete data or versions, or ask the owner for a larger quota`)
    }
    expect(await qcall('Get', h, 'a')).toBe('x'.repeat(400))
    expect(await qcall('Get', h, 'b')).toBeNull()
    expect(await qcall('Hgetall', h, 'h')).toEqual({})
    expect(await qcall('Lrange', h, 'l', 0, -1)).toEqual(['first'])
    expect(await qcall('Scan', h, '', '*', 100)).toEqual(['a', 'l'])
    expect(await qcall('GetLastSeq', h)).toBe(seq)
    expect(((await qcall('GetVar', sid, 'mminfo', mid)) as Info).bytes).toBe(size)

    // The quota is per user over all their MiMei; another user has their own.
    const other = await qcall('MMOpen', sid, await qcall('MMCreate', sid, 'quota', 'db', 'b', 2))
    expect(await failure(qcall('Set', other, 'k', big))).toStartWith('QuotaExceeded')
    const bobQ = await login(q, bob)
    const bobH = await qcall('MMOpen', bobQ, await qcall('MMCreate', bobQ, 'quota', 'db', 'a', 2))
    expect(await qcall('Set', bobH, 'k', big)).toBe(true)
    // Deleting frees room.
    await qcall('Del', h, 'a')
    expect(await qcall('Set', h, 'b', big)).toBe(true)
  })

  test('quotaUserBytes holds for writes queued in a transaction', async () => {
    await using q = await bootTest({ quotaUserBytes: QUOTA })
    const sid = await login(q, alice)
    const qcall = (name: string, ...args: unknown[]) => callLocal(q, name, ...args)
    const h = await qcall('MMOpen', sid, await qcall('MMCreate', sid, 'quota', 'db', 'tx', 2))
    await qcall('Set', h, 'keep', 'kept')
    await qcall('Begin', h, 60)
    expect(await qcall('Set', h, 'small', 'fits')).toBe('QUEUED')
    expect(await qcall('Set', h, 'big', 'z'.repeat(2 * QUOTA))).toBe('QUEUED')
    expect(await failure(qcall('Commit', h))).toStartWith('QuotaExceeded')
    expect(await qcall('Get', h, 'small')).toBeNull()
    expect(await qcall('Get', h, 'big')).toBeNull()
    expect(await qcall('Get', h, 'keep')).toBe('kept')
    // Several writes that fit one by one but not together are refused as a whole too.
    await qcall('Begin', h, 60)
    for (let i = 0; i < 4; i++) await qcall('Set', h, `part${i}`, 'p'.repeat(300))
    expect(await failure(qcall('Commit', h))).toStartWith('QuotaExceeded')
    expect(await qcall('Scan', h, '', '*', 100)).toEqual(['keep'])
  })

  test('quotaUserBytes counts data brought back by MMRestore', async () => {
    // Versions count too: 800 in cur + 800 in version 1 fit in 2000; restoring cur adds 800 back.
    await using q = await bootTest({ quotaUserBytes: 2 * QUOTA })
    const sid = await login(q, alice)
    const qcall = (name: string, ...args: unknown[]) => callLocal(q, name, ...args)
    const mid = await qcall('MMCreate', sid, 'quota', 'db', 'restore', 2)
    const h = await qcall('MMOpen', sid, mid)
    await qcall('Set', h, 'a', 'x'.repeat(800))
    await qcall('MMBackup', sid, mid)
    await qcall('Del', h, 'a')
    await qcall('MMRestore', sid, mid, 1)
    expect(await failure(qcall('Set', h, 'b', 'y'.repeat(500)))).toStartWith('QuotaExceeded')
    expect(await qcall('Get', h, 'b')).toBeNull()
  })

  test('quotaAppBytes: an app past it is refused for every user; other apps are not', async () => {
    await using q = await bootTest({ quotaAppBytes: QUOTA })
    const qcall = (name: string, ...args: unknown[]) => callLocal(q, name, ...args)
    const a = await login(q, alice)
    const b = await login(q, bob)
    const ha = await qcall('MMOpen', a, await qcall('MMCreate', a, 'blog', 'posts', 'm', 2))
    const hb = await qcall('MMOpen', b, await qcall('MMCreate', b, 'blog', 'posts', 'm', 2))
    const hOther = await qcall('MMOpen', b, await qcall('MMCreate', b, 'wallet', 'tx', 'm', 2))
    expect(await qcall('Hset', ha, 'p', '1', 'x'.repeat(600))).toBe(1)
    const text = await failure(qcall('Hset', hb, 'p', '1', 'y'.repeat(600)))
    expect(text).toStartWith('QuotaExceeded: app blog would use ')
    expect(text).toContain(`of ${QUOTA} bytes; delete data or raise quotaAppBytes`)
    expect(await qcall('Hgetall', hb, 'p')).toEqual({})
    expect(await qcall('Hget', ha, 'p', '1')).toBe('x'.repeat(600))
    expect(await qcall('Hset', hOther, 'p', '1', 'y'.repeat(600))).toBe(1)
    const ha2 = await qcall('MMOpenAppData', a, 'blog', 'user')
    expect(await failure(qcall('Set', ha2, 'draft', 'z'.repeat(600)))).toStartWith('QuotaExceeded: app blog')
    expect(await qcall('Get', ha2, 'draft')).toBeNull()
  })
})
