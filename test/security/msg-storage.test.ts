// Defect 3, messages: the inbox was never pruned and a local SendMsg skipped the unread cap. Now
// every message enters through one gate (count cap, the recipient's quota, the node's limit, the
// disk's floor; a small allowance for recipients not admitted to store), the oldest read messages
// make room, a sweep deletes read ones past msgRetentionDays, and a sender's outbox is bounded.
import { describe, expect, test } from 'bun:test'
import { createUserKey, generateKeyPair, type KeyPair } from '../../runtime/identity/index.ts'
import { decodeValue } from '../../runtime/mimei/db/core.ts'
import type { InboxMessage } from '../../runtime/msg/store.ts'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'

const KiB = 1024
const MiB = 1024 * KiB
const DAY = 86400_000
const login = async (k: TestKernel, key?: KeyPair) => ((await callLocal(k, 'Login', loginPassport(k, key))) as { sid: string }).sid
const send = (k: TestKernel, sid: string, to: string, body: unknown) => callLocal(k, 'SendMsg', sid, { to, app: 'chat', body }) as Promise<string>
const read = (k: TestKernel, sid: string, opts: Record<string, unknown> = {}) => callLocal(k, 'ReadMsg', sid, opts) as Promise<InboxMessage[]>
/** A user whose key the node holds (so it may send too), logged in. */
async function user(k: TestKernel, name: string): Promise<{ id: string; sid: string }> {
  const key = createUserKey(k.dataDir, name)
  return { id: key.id, sid: await login(k, key) }
}
const inboxRows = (k: TestKernel, to: string) => (k.store.db.query('SELECT count(*) AS n FROM msg_inbox WHERE to_id = ?').get(to) as { n: number }).n

describe('the inbox is bounded where messages enter, for a local SendMsg too', () => {
  test('past msgInboxMax unread messages a local SendMsg is refused; read ones make room, oldest first', async () => {
    await using k = await bootTest({ msgInboxMax: 5 })
    const owner = await login(k)
    const bob = await user(k, 'bob')
    for (let i = 1; i <= 5; i++) await send(k, owner, bob.id, `m${i}`)
    expect(await failure(send(k, owner, bob.id, 'm6'))).toBe(
      `QuotaExceeded: the inbox of ${bob.id} is full: 5 unread messages, the most one recipient holds here (config msgInboxMax); it takes more once they are read`,
    )
    expect(inboxRows(k, bob.id)).toBe(5)
    // Bob reads two: two more fit, pushing out the two he read; a third does not.
    expect((await read(k, bob.sid, { count: 2 })).map((m) => m.body)).toEqual(['m1', 'm2'])
    await send(k, owner, bob.id, 'm7')
    await send(k, owner, bob.id, 'm8')
    expect(await failure(send(k, owner, bob.id, 'm9'))).toStartWith(`QuotaExceeded: the inbox of ${bob.id} is full`)
    expect((await read(k, bob.sid, { since: 0 })).map((m) => m.body)).toEqual(['m3', 'm4', 'm5', 'm7', 'm8'])
  })

  test('a recipient not admitted to store gets 100 messages and 1 MiB, no more; admitted, the allowance lifts', async () => {
    await using k = await bootTest({ storageOpen: false })
    const owner = await login(k)
    const key = generateKeyPair()
    await login(k, key) // a session makes them a recipient here
    for (let i = 0; i < 100; i++) await send(k, owner, key.id, i)
    const refused = await failure(send(k, owner, key.id, 100))
    expect(refused).toStartWith(`QuotaExceeded: ${key.id} is not admitted to store data on this node, so their inbox holds at most 100 messages and 1048576 bytes`)
    expect(refused).toEndWith(`leither user admit ${key.id}`)

    // Bytes: five 200 KiB messages fit in 1 MiB, the sixth does not.
    const other = generateKeyPair()
    await login(k, other)
    for (let i = 0; i < 5; i++) await send(k, owner, other.id, new Uint8Array(200 * KiB))
    expect(await failure(send(k, owner, other.id, new Uint8Array(200 * KiB)))).toStartWith(`QuotaExceeded: ${other.id} is not admitted`)

    await callLocal(k, 'UserAdmit', owner, key.id)
    await send(k, owner, key.id, 100)
    expect(inboxRows(k, key.id)).toBe(101)
  })

  test('the inboxes of recipients not admitted hold 32 MiB together, however many keys log in', async () => {
    await using k = await bootTest({ storageOpen: false })
    const owner = await login(k)
    let refused = ''
    for (let i = 0; i < 40 && !refused; i++) {
      const key = generateKeyPair()
      await login(k, key)
      for (let j = 0; j < 4 && !refused; j++) refused = await send(k, owner, key.id, new Uint8Array(220 * KiB)).then(() => '', (err) => String(err.wireText?.() ?? err))
    }
    expect(refused).toStartWith('QuotaExceeded: the inboxes of users not admitted to store on this node hold at most 33554432 bytes together')
    const held = (k.store.db.query('SELECT sum(length(body)) AS n FROM msg_inbox').get() as { n: number }).n
    expect(held).toBeLessThanOrEqual(32 * MiB)
    expect(held).toBeGreaterThan(32 * MiB - 221 * KiB)
  })
})

describe('inbox bytes are charged', () => {
  test('they show in UserList usage, and a user over quota stops receiving', async () => {
    await using k = await bootTest({ storageOpen: false })
    const owner = await login(k)
    const bobKey = createUserKey(k.dataDir, 'bob')
    await callLocal(k, 'UserAdmit', owner, bobKey.id, 512 * KiB)
    const bob = await login(k, bobKey)
    await send(k, owner, bobKey.id, new Uint8Array(200 * KiB))
    const usage = () => ((callLocal(k, 'UserList', owner) as Promise<{ userId: string; usage: { inbox: number; total: number } }[]>).then((l) => l.find((u) => u.userId === bobKey.id)!.usage))
    expect((await usage()).inbox).toBeGreaterThanOrEqual(200 * KiB)
    expect((await usage()).inbox).toBeLessThan(201 * KiB)

    // Bob's own data fills his quota: the next message does not fit, and nothing is stored.
    const h = (await callLocal(k, 'MMOpen', bob, await callLocal(k, 'MMCreate', bob, 'app', 'db', 'm', 2))) as string
    await callLocal(k, 'Set', h, 'k', new Uint8Array(250 * KiB))
    expect(await failure(send(k, owner, bobKey.id, new Uint8Array(100 * KiB)))).toStartWith(`QuotaExceeded: the inbox of ${bobKey.id} is full: user ${bobKey.id} would store`)
    expect(inboxRows(k, bobKey.id)).toBe(1)
    // Read messages are history: they make room, and the quota holds.
    await read(k, bob)
    await send(k, owner, bobKey.id, new Uint8Array(100 * KiB))
    expect((await read(k, bob, { since: 0 })).map((m) => (m.body as Uint8Array).length)).toEqual([100 * KiB])
    expect((await usage()).total).toBeLessThanOrEqual(512 * KiB)
  })

  test('messages count against storageMaxBytes and the free-disk floor', async () => {
    {
      // The node already holds what it installed at first start (the bundled apps): the limit is set
      // 1 MiB above that, on the same data dir, so four 220 KiB messages fit and a fifth does not.
      using dir = tempDir()
      let base: number
      {
        await using first = await bootTest({}, dir)
        base = first.mimei.storage.totalUsed()
      }
      await using k = await bootTest({ storageMaxBytes: base + 1 * MiB }, dir)
      const owner = await login(k)
      const bob = await user(k, 'bob')
      for (let i = 0; i < 4; i++) await send(k, owner, bob.id, new Uint8Array(220 * KiB))
      expect(await failure(send(k, owner, bob.id, new Uint8Array(220 * KiB)))).toContain(`this node stores at most ${base + MiB} bytes (config storageMaxBytes)`)
      expect(inboxRows(k, bob.id)).toBe(4)
    }
    {
      await using k = await bootTest({ storageMinFreeBytes: Number.MAX_SAFE_INTEGER })
      const owner = await login(k)
      const bob = await user(k, 'bob')
      expect(await failure(send(k, owner, bob.id, 'hi'))).toStartWith('DiskFull: the disk of this node has')
      // Messages for another node wait in the outbox: it is on the same disk.
      expect(await failure(send(k, owner, generateKeyPair().id, 'hi'))).toStartWith('DiskFull')
      expect(inboxRows(k, bob.id)).toBe(0)
    }
  })
})

describe('the inbox is pruned', () => {
  test('the sweep deletes read messages past msgRetentionDays and keeps unread ones', async () => {
    await using k = await bootTest({ msgRetentionDays: 1 })
    const owner = await login(k)
    const bob = await user(k, 'bob')
    for (const text of ['one', 'two', 'three']) await send(k, owner, bob.id, text)
    await read(k, bob.sid, { count: 2 })
    expect(await k.messages.sweep(Date.now() + DAY / 2)).toMatchObject({ old: 0 })
    expect(inboxRows(k, bob.id)).toBe(3)
    expect(await k.messages.sweep(Date.now() + 2 * DAY)).toMatchObject({ old: 2 })
    expect((await read(k, bob.sid, { since: 0 })).map((m) => m.body)).toEqual(['three'])
    // Unread stays however old it is: 'three' was unread until the line above.
    await send(k, owner, bob.id, 'four')
    await k.messages.sweep(Date.now() + 400 * DAY)
    expect((await read(k, bob.sid)).map((m) => m.body)).toEqual(['four'])
  })

  test('after msgInboxMax is lowered the sweep trims read messages past it, oldest first, never unread ones', async () => {
    using dir = tempDir()
    let bobId = ''
    {
      await using k = await bootTest({ msgInboxMax: 10 }, dir)
      const owner = await login(k)
      const bob = await user(k, 'bob')
      bobId = bob.id
      for (let i = 1; i <= 8; i++) await send(k, owner, bob.id, `m${i}`)
      await read(k, bob.sid, { count: 6 })
    }
    {
      // The node sweeps as it starts: a sweep asked for now runs after that one, with nothing left to do.
      await using k = await bootTest({ msgInboxMax: 4 }, dir)
      expect(await k.messages.sweep()).toEqual({ old: 0, over: 0 })
      const rows = k.store.db.query('SELECT body, read FROM msg_inbox WHERE to_id = ? ORDER BY seq').all(bobId) as { body: Uint8Array; read: number }[]
      expect(rows.map((r) => [decodeValue(r.body), r.read])).toEqual([['m5', 1], ['m6', 1], ['m7', 0], ['m8', 0]])
    }
    {
      // Lowered below the unread ones: the read ones go, the unread stay.
      await using k = await bootTest({ msgInboxMax: 1 }, dir)
      await k.messages.sweep()
      expect(k.store.db.query('SELECT count(*) AS n, sum(read = 0) AS unread FROM msg_inbox WHERE to_id = ?').get(bobId)).toEqual({ n: 2, unread: 2 })
    }
  })
})

describe('the outbox is bounded', () => {
  test('a sender may queue 1000 messages for other nodes; past that SendMsg is refused until some are delivered or expire', async () => {
    await using k = await bootTest()
    const owner = await login(k)
    const far = generateKeyPair().id
    for (let i = 0; i < 1000; i++) await send(k, owner, far, i)
    expect(await failure(send(k, owner, far, 1000))).toBe(
      'QuotaExceeded: you have 1000 messages waiting to be delivered, the most one sender may queue here; wait until some are delivered or expire (MsgStatus tells where each stands)',
    )
    // Another sender is not held back by the first one's queue.
    const bob = await user(k, 'bob')
    expect(await send(k, bob.sid, far, 'mine')).toBeString()
  })
})
