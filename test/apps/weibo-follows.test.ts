// A Weibo user who follows more people than a session may hold pubsub topics (64): her page opens,
// her follows succeed, and a post by the last of 100 followees reaches her live and on her timeline;
// across two nodes, a followee beyond the page's topics reaches her through the replica's version.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'
import { gossipOnly } from '../helpers/replication.ts'
import { user, type User } from './weibo-helpers.ts'
// @ts-ignore: the app's own module, plain JavaScript
import { LIVE_MAX } from '../../apps/weibo/store.js'

const FOLLOWEES = 100
let node: TestKernel
let f: User
const authors: User[] = []

beforeAll(async () => {
  node = await bootTest()
  f = await user(node)
  // Cheap followees: each opens Weibo once (her area and her place among the node's users), then stops listening.
  for (let i = 0; i < FOLLOWEES; i++) {
    const u = await user(node)
    if (i < FOLLOWEES - 1) u.wb.close()
    authors.push(u)
  }
}, 120_000)

afterAll(async () => {
  for (const u of [f, ...authors]) u.wb.close(), u.client.close()
  await node.stop()
})

test(`a user follows ${FOLLOWEES} people, opens her page again, and the last one's post reaches her live and on her timeline`, async () => {
  for (const a of authors) await f.wb.follow(a.uid)
  expect((await f.wb.following()).length).toBe(FOLLOWEES)
  // Her page opened again in a new session: it must not fail on the node's limit of topics.
  const again = await user(node, undefined, true, true, f.key)
  expect((await again.wb.following()).length).toBe(FOLLOWEES)
  const last = authors[FOLLOWEES - 1]
  const got = new Promise<{ author: string; id: string }>((resolve) => {
    const off = again.wb.on('post', (ev: { author: string; id: string }) => ev.author === last.uid && (off(), resolve(ev)))
  })
  const id = await last.wb.post('from the hundredth')
  expect(await got).toEqual({ author: last.uid, id })
  const page = await again.wb.timeline({ limit: 5 })
  expect(page.posts[0]).toMatchObject({ id, text: 'from the hundredth' })
  again.wb.close(), again.client.close()
}, 120_000)

describe('across two nodes', () => {
  const nodes: TestKernel[] = []
  const remote: User[] = []
  let g: User
  beforeAll(async () => {
    const a = await bootTest({ p2p: true })
    const b = await bootTest({ p2p: true, bootstrap: [a.net!.addrs()[0]] })
    nodes.push(a, b)
    const libp2p = b.net!.libp2p
    if (!libp2p.getPeers().length) await new Promise((resolve) => libp2p.addEventListener('peer:connect', resolve, { once: true }))
    gossipOnly(a, b)
    for (let i = 0; i < LIVE_MAX + 2; i++) {
      const u = await user(a)
      if (i < LIVE_MAX + 1) u.wb.close()
      remote.push(u)
    }
    g = await user(b)
  }, 120_000)
  afterAll(async () => {
    for (const u of [g, ...remote]) u.wb.close(), u.client.close()
    await Promise.all(nodes.map((k) => k.stop()))
  })

  test('a followee of another node beyond the live topics: her post comes by the replica and fires post', async () => {
    for (const a of remote) await g.wb.follow(a.uid)
    const last = remote[remote.length - 1]
    expect(g.wb.live.size).toBe(LIVE_MAX)
    expect(g.wb.live.has(last.uid)).toBe(false)
    const got = new Promise<{ author: string; id: string }>((resolve) => {
      const off = g.wb.on('post', (ev: { author: string; id: string }) => ev.author === last.uid && (off(), resolve(ev)))
    })
    const id = await last.wb.post('from another node')
    expect(await got).toEqual({ author: last.uid, id })
    expect((await g.wb.timeline({ limit: 5 })).posts[0]).toMatchObject({ id, text: 'from another node' })
  }, 120_000)

  test("with the page's 3 s poll stopped, a followee beyond the live topics: her post comes by the long poll on this node's versions (MMLast)", async () => {
    clearInterval(g.wb.timer)
    const last = remote[remote.length - 1]
    expect(g.wb.live.has(last.uid)).toBe(false)
    const got = new Promise<{ author: string; id: string }>((resolve) => {
      const off = g.wb.on('post', (ev: { author: string; id: string }) => ev.author === last.uid && (off(), resolve(ev)))
    })
    const id = await last.wb.post('no poll, no event')
    expect(await got).toEqual({ author: last.uid, id })
    expect(await g.wb.getPost(last.uid, id)).toMatchObject({ id, text: 'no poll, no event' })
  }, 60_000)

  test("a live event of a followee of another node: the page waits for the version its node syncs from the announcement, and starts no sync of its own", async () => {
    const live = remote.find((u) => g.wb.live.has(u.uid))!
    const author = await user(nodes[0], undefined, true, true, live.key)
    const syncs: unknown[] = []
    const call = g.client.call.bind(g.client)
    g.client.call = (name: string, args: unknown[]) => (name === 'MiMeiSync' && syncs.push(args), call(name, args))
    const got = new Promise<{ author: string; id: string }>((resolve) => {
      const off = g.wb.on('post', (ev: { author: string; id: string }) => ev.author === live.uid && (off(), resolve(ev)))
    })
    const id = await author.wb.post('told live')
    expect(await got).toEqual({ author: live.uid, id })
    expect(await g.wb.getPost(live.uid, id)).toMatchObject({ id, text: 'told live' })
    expect(syncs).toEqual([])
    author.wb.close(), author.client.close()
  }, 60_000)
})
