// The mimei family: deterministic ids, mminfo, handles, versions, MMSum, references, gc, rights, app data, quotas.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { MiMeiInfo } from '../../runtime/rpc/browser/types.ts'
import { generateKeyPair, type KeyPair } from '../../runtime/identity/index.ts'
import { mimeiId } from '../../runtime/mimei/index.ts'
import { readManifest } from '../../runtime/mimei/db/snapshot.ts'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'

const alice = generateKeyPair()
const bob = generateKeyPair()

let node: TestKernel
let ownerSid: string
let aliceSid: string
let bobSid: string

async function login(kernel: TestKernel, key?: KeyPair): Promise<string> {
  return ((await callLocal(kernel, 'Login', loginPassport(kernel, key))) as { sid: string }).sid
}

beforeAll(async () => {
  node = await bootTest()
  ownerSid = await login(node)
  aliceSid = await login(node, alice)
  bobSid = await login(node, bob)
})
afterAll(() => node[Symbol.asyncDispose]())

const call = (name: string, ...args: unknown[]) => callLocal(node, name, ...args)

/** A fresh database MiMei of alice's with a handle on cur. */
async function aliceDb(right = 0): Promise<{ mid: string; h: string }> {
  const mid = (await call('MMCreate', aliceSid, 'test', 'db', '{{auto}}', 2, right)) as string
  return { mid, h: (await call('MMOpen', aliceSid, mid)) as string }
}

/** GetVar mminfo: what MMList shows, with the rights. */
interface Info extends MiMeiInfo {
  rights: Record<string, number>
  yourRights: string[]
}
const info = async (sid: string, mid: string) => (await call('GetVar', sid, 'mminfo', mid)) as Info

interface Versions {
  mid: string
  last: number | null
  release: number | null
  curSeq: number
  versions: { ver: number; cid: string; memo: string; created: number; seq: number; size: number }[]
}
const versions = async (mid: string) => (await call('GetVar', aliceSid, 'mmversions', mid)) as Versions

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
