// Weibo across three real nodes (A, B, C in a chain on loopback), one user each, through the SDK as
// the page uses it: the same area id everywhere, a follower's node replicating the author's area,
// live posts, likes and comments announced across nodes and counted by the author, a deleted post
// leaving the follower's timeline after sync, a DM that only the peer opens, and the author's posts
// readable while her node is down.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'
import { gossipOnly } from '../helpers/replication.ts'
import { user, type User } from './weibo-helpers.ts'
// @ts-ignore: the app's own module, plain JavaScript
import { areaId } from '../../apps/weibo/store.js'

const nodes: TestKernel[] = []
const users: User[] = []
let ua: User
let ub: User
let uc: User

async function connected(k: TestKernel, n: number): Promise<void> {
  const libp2p = k.net!.libp2p
  if (libp2p.getPeers().length >= n) return
  await new Promise<void>((resolve) => {
    const check = () => libp2p.getPeers().length >= n && (libp2p.removeEventListener('peer:connect', check), resolve())
    libp2p.addEventListener('peer:connect', check)
  })
}

/** Resolves once node `k` holds version `ver` (or newer) of `mid`: at once if it does already, else on its sync. */
function reached(k: TestKernel, mid: string, ver: number, ms = 20_000): Promise<void> {
  const last = () => (k.store.db.query('SELECT last FROM mimei WHERE mid = ?').get(mid) as { last: number | null } | null)?.last ?? 0
  return new Promise((resolve, reject) => {
    const events = k.replication!.events
    const done = () => (events.removeEventListener('synced', on), clearTimeout(timer))
    const on = () => last() >= ver && (done(), resolve())
    const timer = setTimeout(() => (done(), reject(new Error(`version ${ver} of ${mid} did not reach node ${k.identity.peerId} within ${ms} ms`))), ms)
    events.addEventListener('synced', on)
    on()
  })
}

/** The next event `type` of a user's store that satisfies `ok`. */
function next<T>(u: User, type: string, ok: (v: T) => boolean, what: string, ms = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`no ${type} event (${what}) within ${ms} ms`))), ms)
    const off = u.wb.on(type, (v: T) => {
      if (!ok(v)) return
      clearTimeout(timer)
      off()
      resolve(v)
    })
  })
}

beforeAll(async () => {
  const a = await bootTest({ p2p: true })
  nodes.push(a)
  const b = await bootTest({ p2p: true, bootstrap: [a.net!.addrs()[0]] })
  nodes.push(b)
  const c = await bootTest({ p2p: true, bootstrap: [b.net!.addrs()[0]] })
  nodes.push(c)
  await Promise.all([connected(b, 2), connected(c, 1)])
  gossipOnly(...nodes)
  for (const k of nodes) users.push(await user(k))
  ;[ua, ub, uc] = users
}, 60_000)

afterAll(async () => {
  for (const u of users) u.wb.close(), u.client.close()
  await Promise.all(nodes.map((k) => k.stop()))
})

test("a user's area has the same id on every node, and it is published", async () => {
  const mid = await areaId(ua.uid)
  for (const u of users) expect(await u.client.AppDataId(u.wb.appId, ua.uid)).toBe(mid)
  expect(ua.wb.networked).toBe(true)
  // The apps have different ids (each node's owner signed its Weibo): the namespace joins them.
  expect(new Set(users.map((u) => u.wb.appId)).size).toBe(3)
})

test('B follows A: her node replicates A, sees her posts live, and a deleted post leaves after sync', async () => {
  const mid = await areaId(ua.uid)
  await ua.wb.setProfile('Alice', 'on node A')
  const first = reached(nodes[1], mid, 1)
  await ub.wb.follow(ua.uid)
  await first
  expect((await ub.wb.profile(ua.uid)).name).toBe('Alice')

  const live = next<{ author: string; id: string }>(ub, 'post', (e) => e.author === ua.uid, 'a post of A')
  const id = await ua.wb.post('hello from A #network')
  expect(await live).toEqual({ author: ua.uid, id })
  expect((await ub.wb.timeline()).posts.map((p: { id: string }) => p.id)).toEqual([id])

  const gone = next<{ author: string }>(ub, 'change', (e) => e.author === ua.uid, 'the delete')
  await ua.wb.deletePost(id)
  await gone
  expect((await ub.wb.timeline()).posts).toEqual([])
}, 60_000)

test("B's like and comment reach A's node, are checked against B's area there, and B reads the counts", async () => {
  const arrived = next<{ author: string; id: string }>(ub, 'post', (e) => e.author === ua.uid, 'the post')
  const id = await ua.wb.post('count me')
  const mid = await areaId(ua.uid)
  expect((await arrived).id).toBe(id)
  const liked = next<{ kind: string }>(ua, 'notification', (n) => n.kind === 'like', 'the like')
  const commented = next<{ kind: string }>(ua, 'notification', (n) => n.kind === 'comment', 'the comment')
  await ub.wb.like(ua.uid, id)
  await ub.wb.comment(ua.uid, id, 'nice one')
  await Promise.all([liked, commented])
  await ua.wb.sync()
  expect(await ua.wb.counts(ua.uid, id)).toMatchObject({ likes: 1, comments: 1 })
  // A's index travels in her area: B's node gets the version and B reads the counts from it.
  const ver = Number((await ua.client.MiMeiShow(mid)).local?.last)
  await reached(nodes[1], mid, ver)
  expect(await ub.wb.counts(ua.uid, id)).toMatchObject({ likes: 1, comments: 1 })
  expect((await ub.wb.comments(ua.uid, id)).map((c: { text: string }) => c.text)).toEqual(['nice one'])
}, 60_000)

test('a DM from A to C opens only for C, and node B between them holds no clear text', async () => {
  const secret = `meet at the third bridge ${Math.random()}`
  await uc.wb.follow(ua.uid)
  const got = next<{ peer: string; text: string }>(uc, 'dm', (m) => m.peer === ua.uid, 'the DM')
  await ua.wb.sendDM(uc.uid, secret)
  expect((await got).text).toBe(secret)
  expect((await uc.wb.conversation(ua.uid)).map((m: { text: string }) => m.text)).toEqual([secret])
  const db = nodes[1].store.db
  const needle = Buffer.from(secret)
  for (const table of ['kv', 'kv_hash', 'msg_inbox', 'msg_outbox']) {
    for (const row of db.query(`SELECT * FROM ${table}`).all() as Record<string, unknown>[]) {
      for (const v of Object.values(row)) expect((v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v ?? ''))).includes(needle)).toBe(false)
    }
  }
}, 60_000)

test("following a user of the same node leaves her area as she keeps it: a private one stays private and is not provided", async () => {
  const shy = await user(nodes[1], ['msg'])
  users.push(shy)
  const mid = await areaId(shy.uid)
  expect(shy.wb.readable).toBe(false)
  expect(await ub.client.AppDataFollow(ub.wb.appId, shy.uid, true)).toMatchObject({ mid, following: true, provided: false })
  expect(nodes[1].store.db.query('SELECT mode FROM net_shared WHERE mid = ?').get(mid)).toBeNull()
  expect(await ub.wb.area(shy.uid)).toBeUndefined()
  expect(String(await ub.client.MiMeiShow(mid).catch((e: Error) => e.message))).toStartWith('PermissionDenied')
  await ub.client.AppDataFollow(ub.wb.appId, shy.uid, false)
})

test("unfollowing: B's node stops providing A's area when its last follower there leaves, and A loses a follower", async () => {
  const mid = await areaId(ua.uid)
  expect((await ub.client.MiMeiShow(mid)).mode).toBe('provide')
  const left = next<{ author: string }>(ua, 'change', (e) => e.author === ua.uid, "A's index")
  await ub.wb.unfollow(ua.uid)
  expect((await ub.client.MiMeiShow(mid)).mode).toBe('none')
  await left
  await ua.wb.sync()
  expect(await ua.wb.followers()).toEqual([uc.uid])
  // C still follows A: C's node goes on providing.
  expect((await uc.client.MiMeiShow(mid)).mode).toBe('provide')
}, 60_000)

test("with A's node stopped, C still reads A's posts from its replica", async () => {
  const mid = await areaId(ua.uid)
  const id = await ua.wb.post('still here when I am not')
  const ver = Number((await ua.client.MiMeiShow(mid)).local?.last)
  await reached(nodes[2], mid, ver)
  ua.wb.close()
  ua.client.close()
  await nodes[0].stop()
  uc.wb.forget()
  const posts = (await uc.wb.timeline()).posts
  expect(posts.map((p: { id: string }) => p.id)).toContain(id)
  expect(posts.find((p: { id: string }) => p.id === id).author.name).toBe('Alice')
}, 60_000)
