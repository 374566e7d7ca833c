// Weibo's data model on one node, driven through the SDK as the page drives it: the timeline merge
// and its cursor, counts indexed by the author only when the actor's area backs them, idempotent
// likes, mentions, hashtags and search, DMs stored only as ciphertext, and the data namespace.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, type TestKernel } from '../helpers/kernel.ts'
import { appFiles, ownerSid, signedTar, upload } from './helpers.ts'
import { user, weiboId, type User } from './weibo-helpers.ts'
// @ts-ignore: the app's own module, plain JavaScript
import { Feed } from '../../apps/weibo/feed.js'
// @ts-ignore: the app's own module, plain JavaScript
import { areaId, hashtags, mentions, parseText } from '../../apps/weibo/store.js'

let node: TestKernel
let a: User
let b: User
let c: User
const opened: User[] = []

beforeAll(async () => {
  node = await bootTest()
  for (let i = 0; i < 3; i++) opened.push(await user(node))
  ;[a, b, c] = opened
})
afterAll(async () => {
  for (const u of opened) u.wb.close(), u.client.close()
  await node.stop()
})

describe('timeline', () => {
  test('merge is newest first across authors, and the cursor pages without gaps or repeats', () => {
    const mk = (author: string, ats: number[]) => ats.map((at, i) => ({ id: `${author}${i}`, authorId: author, at, text: '', key: `${String(at).padStart(15, '0')}~${author}/${author}${i}` }))
    const lists = [mk('x', [90, 70, 50, 10]), mk('y', [80, 70, 20]), mk('z', [])]
    const seen: number[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const r: { posts: { at: number }[]; cursor: string | null } = Feed.merge(lists, cursor, 3)
      seen.push(...r.posts.map((p) => p.at))
      cursor = r.cursor
      pages++
    } while (cursor)
    expect(seen).toEqual([90, 80, 70, 70, 50, 20, 10])
    expect(pages).toBe(3)
  })

  test("B's home timeline holds her posts and A's, newest first, paged", async () => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push(await a.wb.post(`a${i}`), await b.wb.post(`b${i}`))
    await b.wb.follow(a.uid)
    const texts: string[] = []
    let cursor: string | null | undefined
    do {
      const page = await b.wb.timeline({ cursor, limit: 4 })
      expect(page.posts.length).toBeLessThanOrEqual(4)
      texts.push(...page.posts.map((p: { text: string }) => p.text))
      cursor = page.cursor
    } while (cursor)
    expect(texts).toEqual(['b4', 'a4', 'b3', 'a3', 'b2', 'a2', 'b1', 'a1', 'b0', 'a0'])
    // C follows nobody: only her own posts.
    expect((await c.wb.timeline()).posts).toEqual([])
  })
})

describe('interactions', () => {
  let post: string
  beforeAll(async () => {
    post = await a.wb.post('counted')
  })

  test('a like counts once however often it is sent, in the author area after her sync', async () => {
    await b.wb.like(a.uid, post)
    await b.wb.like(a.uid, post)
    await c.wb.like(a.uid, post)
    await a.wb.sync()
    expect((await a.wb.counts(a.uid, post)).likes).toBe(2)
    // The index is in A's area: what every reader, here C, sees.
    expect((await c.wb.counts(a.uid, post)).likes).toBe(2)
    await b.wb.like(a.uid, post, false)
    await a.wb.sync()
    expect((await c.wb.counts(a.uid, post)).likes).toBe(1)
    const kinds = (await a.wb.notifications()).map((n: { kind: string }) => n.kind)
    expect(kinds.filter((k: string) => k === 'like').length).toBe(2)
  })

  test("a like the liker's own area does not hold is not counted", async () => {
    const forged = await a.wb.post('forged likes')
    // C's page announces a like it never recorded (a hint as any user here may leave), and a
    // message with the same claim.
    await callLocal(node, 'Hset', await callLocal(node, 'MMOpenAppData', c.sid, await weiboId(node), 'node'), `inbox:${a.uid}`, 'x1', JSON.stringify({ from: c.uid, body: { t: 'like', post: forged }, at: Date.now() }))
    await c.client.SendMsg({ to: a.uid, app: 'weibo', body: { t: 'like', post: forged } })
    // A hint naming B as the liker: B's area holds no such like either.
    await callLocal(node, 'Hset', await callLocal(node, 'MMOpenAppData', c.sid, await weiboId(node), 'node'), `inbox:${a.uid}`, 'x2', JSON.stringify({ from: b.uid, body: { t: 'like', post: forged }, at: Date.now() }))
    await a.wb.sync()
    expect((await a.wb.counts(a.uid, forged)).likes).toBe(0)
    // The real like, for contrast, counts.
    await c.wb.like(a.uid, forged)
    await a.wb.sync()
    expect((await b.wb.counts(a.uid, forged)).likes).toBe(1)
  })

  test('comments are threaded and counted; a repost is counted and its chain resolves; deleting drops them', async () => {
    const top = await b.wb.comment(a.uid, post, 'first')
    await c.wb.comment(a.uid, post, 'reply', `${b.uid}/${top}`)
    const r1 = await b.wb.repost(a.uid, post, 'look')
    const r2 = await c.wb.repost(b.uid, r1)
    await a.wb.sync()
    await b.wb.sync()
    const thread = await c.wb.comments(a.uid, post)
    expect(thread.map((t: { text: string }) => t.text)).toEqual(['first'])
    expect(thread[0].replies.map((t: { text: string; by: { id: string } }) => [t.text, t.by.id])).toEqual([['reply', c.uid]])
    expect(await c.wb.counts(a.uid, post)).toMatchObject({ comments: 2, reposts: 1 })
    const chain = await c.wb.repostChain(await c.wb.getPost(c.uid, r2))
    expect(chain.map((p: { id: string }) => p.id)).toEqual([r1, post])
    await b.wb.deletePost(r1)
    await b.wb.deleteComment(top)
    await a.wb.sync()
    expect(await c.wb.counts(a.uid, post)).toMatchObject({ comments: 1, reposts: 0 })
    expect((await c.wb.repostChain(await c.wb.getPost(c.uid, r2)))[0]).toMatchObject({ id: r1, deleted: true })
  })
})

describe('images', () => {
  test('kept by hash in the author area with their thumbnails; readers get the bytes checked; limits hold', async () => {
    const full = crypto.getRandomValues(new Uint8Array(300_000))
    const thumb = crypto.getRandomValues(new Uint8Array(2_000))
    const id = await a.wb.post('a picture', { images: [{ data: full, thumb, type: 'image/png', w: 640, h: 480 }] })
    const post = await c.wb.getPost(a.uid, id)
    expect(post.images).toHaveLength(1)
    const [im] = post.images
    expect(im).toMatchObject({ type: 'image/png', w: 640, h: 480 })
    expect(Buffer.from(await c.wb.image(a.uid, im.cid)).equals(Buffer.from(full))).toBe(true)
    expect(Buffer.from(await c.wb.image(a.uid, im.thumb)).equals(Buffer.from(thumb))).toBe(true)
    // A hash that is not the content's is not served as it.
    expect(await c.wb.image(a.uid, im.thumb.replace(/^./, (ch: string) => (ch === 'A' ? 'B' : 'A')))).toBeUndefined()
    const ten = Array.from({ length: 10 }, () => ({ data: thumb, thumb }))
    await expect(a.wb.post('too many', { images: ten })).rejects.toThrow('at most 9 images')
    await expect(a.wb.post('too big', { images: [{ data: new Uint8Array(4 * 1024 * 1024 + 1), thumb }] })).rejects.toThrow('image too large')
    await expect(a.wb.post('x'.repeat(2001))).rejects.toThrow('too long: 2001 > 2000')
    // Deleting the post deletes its images.
    await a.wb.deletePost(id)
    expect(await c.wb.image(a.uid, im.cid)).toBeUndefined()
  })
})

describe('text, mentions, hashtags, search', () => {
  test('parse', () => {
    const id = generateKeyPair().id
    expect(parseText(`hi @${id} see #Leither and #话题测试# http://x.y/z`)).toEqual([
      { t: 'text', v: 'hi ' },
      { t: 'mention', v: id, id },
      { t: 'text', v: ' see ' },
      { t: 'tag', v: 'Leither' },
      { t: 'text', v: ' and ' },
      { t: 'tag', v: '话题测试' },
      { t: 'text', v: ' ' },
      { t: 'url', v: 'http://x.y/z' },
    ])
    expect(hashtags('#A #a #b#')).toEqual(['a', 'b'])
    expect(mentions(`@${id} @${id} @name`)).toEqual([id])
  })

  test('a mention notifies the mentioned user; hashtag and search find posts and people on the node', async () => {
    await a.wb.setProfile('Alice Wonder', 'writes about tea')
    const id = await a.wb.post(`tea time #GreenTea with @${c.uid}`)
    await c.wb.sync()
    const notes = await c.wb.notifications()
    expect(notes[0]).toMatchObject({ kind: 'mention', post: { author: a.uid, id }, read: false })
    expect(await c.wb.unreadCount()).toBeGreaterThan(0)
    await c.wb.markRead()
    expect(await c.wb.unreadCount()).toBe(0)
    // A mention in a comment notifies too.
    const cid = await b.wb.comment(a.uid, id, `@${c.uid} look`)
    await c.wb.sync()
    expect((await c.wb.notifications())[0]).toMatchObject({ kind: 'mention', from: { id: b.uid }, post: { author: a.uid, id } })
    expect(cid).toBeString()
    expect((await c.wb.hashtag('greentea')).map((p: { id: string }) => p.id)).toEqual([id])
    expect((await c.wb.hashtag('#GREENTEA')).map((p: { id: string }) => p.id)).toEqual([id])
    const found = await c.wb.search('tea')
    expect(found.posts.map((p: { id: string }) => p.id)).toContain(id)
    expect(found.users.map((u: { id: string }) => u.id)).toEqual([a.uid])
  })
})

describe('users whose keys are not on the node', () => {
  test('they follow, post and like; a followee\'s new post reaches the follower\'s open page by the poll', async () => {
    const x = await user(node, undefined, true, false)
    const y = await user(node, undefined, true, false)
    opened.push(x, y)
    expect(x.wb.missing.has('msg')).toBe(false)
    await y.wb.follow(x.uid)
    const live = new Promise<{ author: string; id: string }>((resolve) => y.wb.on('post', resolve))
    const id = await x.wb.post('no key here')
    expect(await live).toEqual({ author: x.uid, id })
    await y.wb.like(x.uid, id)
    await x.wb.sync()
    expect((await y.wb.counts(x.uid, id)).likes).toBe(1)
    expect((await x.wb.followers()).includes(y.uid)).toBe(true)
  })
})

describe('direct messages', () => {
  test('end-to-end: the peer reads them, the node stores only ciphertext', async () => {
    const secret = `the tea is in the blue tin ${Math.random()}`
    await a.wb.sendDM(b.uid, secret)
    await b.wb.sync()
    expect((await b.wb.conversation(a.uid)).map((m: { text: string; mine: boolean }) => [m.text, m.mine])).toEqual([[secret, false]])
    expect((await a.wb.conversation(b.uid)).map((m: { text: string; mine: boolean }) => [m.text, m.mine])).toEqual([[secret, true]])
    expect((await b.wb.notifications()).some((n: { kind: string; from: { id: string } }) => n.kind === 'dm' && n.from.id === a.uid)).toBe(true)
    // Nothing the node keeps holds the text: no database value, no message, no block.
    const needle = Buffer.from(secret)
    const db = node.store.db
    for (const table of ['kv', 'kv_hash', 'kv_set', 'msg_inbox', 'msg_outbox']) {
      const cols = (db.query(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name)
      for (const row of db.query(`SELECT * FROM ${table}`).all() as Record<string, unknown>[]) {
        for (const col of cols) {
          const v = row[col]
          const bytes = v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v ?? ''))
          expect(bytes.includes(needle)).toBe(false)
        }
      }
    }
    // A third user of the node gets a different key for the same peer: she cannot open it.
    const kb = await b.client.UserBoxKey((await a.wb.profile()).pk)
    const kc = await c.client.UserBoxKey((await a.wb.profile()).pk)
    expect(kb.key).not.toBe(kc.key)
    const ka = await a.client.UserBoxKey((await b.wb.profile()).pk)
    expect(ka.key).toBe(kb.key)
  })

  test('UserBoxKey needs the msg grant', async () => {
    const d = await user(node, ['mimei'], false)
    opened.push(d)
    expect(await failure(d.client.UserBoxKey())).toStartWith('PermissionDenied')
  })
})

describe('upgrade from 0.1', () => {
  test("a user's posts, profile, follows and likes in the app-id area of Weibo 0.1 are copied into her namespace area at first open", async () => {
    const d = await user(node, undefined, false)
    opened.push(d)
    // 0.1 kept them in MMOpenAppData(appid, 'user') when it named the app id: the same MiMei as this.
    const app = await weiboId(node)
    const mid = (await callLocal(node, 'MMCreate', d.sid, app, 'appdata', 'user', 2)) as string
    const h = await callLocal(node, 'MMOpen', d.sid, mid, 'cur')
    await callLocal(node, 'Hmset', h, 'profile', ['name', 'Old Dora'], ['bio', 'since 0.1'])
    await callLocal(node, 'Hset', h, 'posts', 'k0ld01', JSON.stringify({ text: 'my first post', at: 1_700_000_000_000 }))
    await callLocal(node, 'Sadd', h, 'following', a.uid)
    await d.wb.open()
    expect(await d.wb.profile()).toMatchObject({ name: 'Old Dora', bio: 'since 0.1' })
    expect((await d.wb.posts(d.uid)).map((p: { text: string }) => p.text)).toEqual(['my first post'])
    expect(await d.wb.following()).toEqual([a.uid])
    // Once: what she changes later is not overwritten at the next open.
    await d.wb.setProfile('Dora', '')
    d.wb.close()
    await d.wb.open()
    expect((await d.wb.profile()).name).toBe('Dora')
  })
})

describe('data namespace', () => {
  test("areas have the namespace's id: the same on any node", async () => {
    expect(await callLocal(node, 'AppDataId', a.sid, await weiboId(node), a.uid)).toBe(await areaId(a.uid))
    const info = (await callLocal(node, 'MMList', a.sid, 'ns:weibo')) as { mid: string }[]
    expect(info.map((m) => m.mid)).toContain(await areaId(a.uid))
  })

  test('an app of another publisher declaring the namespace is refused at install, and nothing is installed', async () => {
    const other = generateKeyPair()
    const tar = await signedTar(other, appFiles({ name: 'weibo-clone', manifest: { data: 'weibo' } }))
    const owner = await ownerSid(node)
    expect(await failure(upload(node, owner, tar))).toStartWith('Conflict: data namespace "weibo" belongs on this node to apps by')
    const names = ((await callLocal(node, 'GetVar', owner, 'appinfos')) as { name: string }[]).map((x) => x.name)
    expect(names).not.toContain('weibo-clone')
    // Its own namespace is fine.
    const ok = await signedTar(other, appFiles({ name: 'notes', manifest: { data: 'notes' } }))
    expect(await upload(node, owner, ok)).toMatchObject({ name: 'notes' })
  })
})
