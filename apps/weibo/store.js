// Weibo's engine: each user's profile, posts, follows and interactions are in her own public data
// area (MMOpenAppData 'user', in the data namespace "weibo": the same MiMei id on every node),
// published on the network; followers' nodes replicate it. Interactions are announced to the
// author by message and indexed by her side after checking the actor's area (inbox.js).
// Notifications and DMs (ciphertext, dm.js) are in a private area. API: API.md; model: README.md.
import { Sealer } from './dm.js'
import { Inbox } from './inbox.js'
import { Feed } from './feed.js'
import { hashtags, isUserId, mentions, MAX_AVATAR_BYTES, MAX_COMMENT, MAX_IMAGE_BYTES, MAX_IMAGES, MAX_POST, MAX_THUMB_BYTES } from './text.js'

export { hashtags, isUserId, mentions, parseText, tagKey, MAX_POST, MAX_IMAGES, MAX_IMAGE_BYTES, MAX_THUMB_BYTES, MAX_COMMENT } from './text.js'

/** The data namespace (manifest "data": "weibo"): areas are named by it, not by the app id. */
export const SPACE = 'ns:weibo'
/** The app name of Weibo's messages and pubsub topics. */
export const APP = 'weibo'

const enc = new TextEncoder()
const B32 = 'abcdefghijklmnopqrstuvwxyz234567'
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const sha = async (bytes) => b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))
const newId = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`
export const parse = (v) => {
  try {
    return typeof v === 'string' ? JSON.parse(v) : v
  } catch {
    return undefined
  }
}

/** The app id this page runs as, from its origin's host label (base32 of the id's 20 bytes); undefined off an app origin. */
export function appIdOfHost(host) {
  const m = /^([a-z2-7]{32})\.localhost$/.exec(host)
  if (!m) return undefined
  const out = []
  let bits = 0
  let value = 0
  for (const c of m[1]) {
    value = (value << 5) | B32.indexOf(c)
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return b64url(out)
}

/** The MiMei id of a user's public area: the node derives it the same way (mimeiId with the namespace). */
export async function areaId(userId) {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(`mimei\n${userId}\n${SPACE}\nappdata\nuser`)))
  return b64url(hash.subarray(0, 20))
}

/** How often an open page looks for announcements besides the doorbell events. */
const POLL_MS = 3000
/**
 * Followees whose pubsub topic (`u/<id>`) this page holds for events at once. The node allows a
 * session 64 topics (`u/<me>` and `to/<me>` take two); the others, and these too in case an event
 * is lost, are seen by the poll: the replica's version (the node syncs each version a followee
 * publishes) for users of other nodes, the node's `vers` for users of this one.
 */
export const LIVE_MAX = 48
/** Followees' areas per MMLast call (the node's limit), the long poll's wait, and how long an event waits for this node's own sync of the version it tells (seconds). */
const LAST_IDS = 256
const LAST_WAIT = 15
const EVENT_WAIT = 4
const denied = (e) => /^PermissionDenied/.test(String(e?.message))

export class Weibo extends Feed {
  // Feed (feed.js): timelines, posts read back, counts, comments, search; Messages (messages.js): DMs.
  constructor(node, appId) {
    super()
    this.node = node
    this.appId = appId
    this.APP = APP
    this.handles = new Map()
    this.listeners = new Map()
    this.missing = new Set()
    this.sealer = new Sealer(node)
    this.inbox = new Inbox(this)
    this.offs = []
    this.chain = Promise.resolve()
  }

  // — events —
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set())
    this.listeners.get(type).add(fn)
    return () => this.listeners.get(type)?.delete(fn)
  }
  emit(type, value) {
    for (const fn of this.listeners.get(type) ?? []) {
      try {
        fn(value)
      } catch {}
    }
  }

  /** Runs a call that needs a grant; a denial is remembered in `missing` and answers undefined. */
  async need(cap, fn) {
    try {
      const r = await fn()
      this.missing.delete(cap)
      return r
    } catch (e) {
      if (!denied(e)) throw e
      this.missing.add(cap)
      return undefined
    }
  }

  /** Opens the user's areas, publishes hers, follows followees' areas, listens for live events, pulls announcements. */
  async open() {
    const { node } = this
    this.me = (await node.WhoAmI()).userid
    this.own = await node.MMOpenAppData(this.appId, 'user')
    this.shared = await node.MMOpenAppData(this.appId, 'node')
    this.ownId = await areaId(this.me)
    this.handles.set(this.me, this.own)
    await node.Sadd(this.shared, 'users', this.me)
    await this.migrate()
    this.readable = (await this.need('mimei', () => node.MMSetRight(this.ownId, '', 1))) !== undefined
    const priv = await this.need('mimei', () => node.MMCreate(SPACE, 'private', '', 2, 0))
    this.priv = priv ? await node.MMOpen(priv, 'cur') : undefined
    const pk = await this.need('msg', () => this.sealer.publicKey())
    if (pk && (await node.Hget(this.own, 'profile', 'pk')) !== pk) await node.Hset(this.own, 'profile', 'pk', pk)
    // Published once (a version is needed first: made before, as a publish that fails for the
    // want of one still marks the area published, and the backup's announcement then queues
    // ahead of this one); later versions are announced by the node itself.
    this.networked = false
    if (this.readable) {
      const last = (await node.MMLast([this.ownId]).catch(() => undefined))?.[this.ownId]
      if (!last) await node.MMBackup(this.ownId, 'open')
      const r = await this.need('net', () => node.MiMeiPublish(this.ownId)).catch(() => undefined)
      this.networked = r !== undefined
    }
    const following = await this.following()
    // Followees whose area is not here yet (followed on another node, or before an upgrade) are followed on this node.
    const absent = (await Promise.all(following.map(async (u) => ((await this.area(u)) ? undefined : u)))).filter(Boolean)
    await Promise.all(absent.map((u) => this.need('net', () => node.AppDataFollow(this.appId, u, true)).catch(() => {})))
    this.live = new Set()
    await this.need('msg', () => node.Subscribe(APP, `u/${this.me}`))
    await this.need('msg', () => node.Subscribe(APP, `to/${this.me}`))
    await Promise.all(following.slice(0, LIVE_MAX).map((u) => this.listen(u)))
    this.offs.push(
      node.on('pubsub', (ev) => this.onPub(ev)),
      node.on('message', (m) => m?.app === APP && this.sync().catch(() => {})),
    )
    await this.sync()
    // The doorbell (pubsub) needs the user's key on the node; without it announcements still come, a little later.
    await this.watch()
    this.timer = setInterval(() => this.watch(true).catch(() => {}), POLL_MS)
    this.tail()
  }

  /** Subscribes to a followee's events while fewer than LIVE_MAX are held; false when full. */
  async listen(u) {
    if (this.live.has(u)) return true
    if (this.live.size >= LIVE_MAX) return false
    const r = await this.need('msg', () => this.node.Subscribe(APP, `u/${u}`))
    if (r !== undefined) this.live.add(u)
    return r !== undefined
  }

  /** One round of the poll (announcements with `sync`): followees on this node, then the replicas of the others. */
  async watch(sync = false) {
    if (this.watching) return
    this.watching = true
    try {
      await Promise.all([sync ? this.sync() : undefined, this.watchLocal(), this.watchAreas()])
    } finally {
      this.watching = false
    }
  }

  /**
   * Every followee's area at a version newer than the one last seen fires the same events as
   * pubsub ('post' when her newest post is newer than any seen before). One MMLast call per 256
   * followees; with `wait` (seconds), a long poll on the first 256 that answers the moment this
   * node backs up or installs a version of one of them. The versions are this node's: for users
   * of other nodes the replica, which the node syncs by itself from each version's announcement.
   */
  async watchAreas(wait = 0) {
    const ids = (await this.following()).filter((u) => u !== this.me)
    this.vers ??= new Map()
    const mids = new Map()
    for (const u of ids) mids.set(await areaId(u), u)
    const all = [...mids.keys()]
    const chunks = []
    for (let i = 0; i < all.length; i += LAST_IDS) chunks.push(all.slice(i, i + LAST_IDS))
    if (wait) chunks.splice(1)
    await Promise.all(
      chunks.map(async (chunk) => {
        const since = {}
        for (const m of chunk) since[m] = this.vers.get(mids.get(m)) ?? 0
        const got = await this.node.MMLast(chunk, since, wait || undefined)
        await Promise.all(chunk.map((m) => this.seenVersion(mids.get(m), got?.[m])))
      }),
    )
    return all.length
  }

  /** A followee's area is at version `last` here: the first time a mark, later a newer one fires 'change' (and 'post'). */
  async seenVersion(u, last) {
    if (!Number.isSafeInteger(last)) return
    const before = this.vers.get(u)
    if (before !== undefined && last <= before) return
    this.vers.set(u, last)
    this.tops ??= new Map()
    // Followed before this page opened: from now on, a post id (it starts with its time in base 36)
    // above this one is new. Followed on this page: follow() set the mark, and a post made since
    // may already be in the area when it is first seen here.
    if (before === undefined && !this.tops.has(u)) return void this.tops.set(u, Date.now().toString(36))
    const h = await this.area(u)
    let top = ''
    for (const id of h ? ((await this.node.Hkeys(h, 'posts')) ?? []) : []) if (String(id) > top) top = String(id)
    await this.refresh(u, top ? { ver: last, kind: 'post', id: top } : { ver: last }, true)
  }

  /** The long poll of MMLast, one after another while the page is open (a failed one waits a poll's time). */
  async tail() {
    const pause = () => new Promise((r) => setTimeout(r, POLL_MS))
    while (!this.closed) {
      try {
        // Nobody followed yet: nothing to wait on, so look again after a poll's time.
        if (!(await this.watchAreas(LAST_WAIT))) await pause()
      } catch {
        await pause()
      }
    }
  }

  /**
   * Weibo 0.1 kept a user's data in the area named by the app id (each node's own); once, when the
   * namespace area is still empty, profile, posts, follows and likes are copied from it.
   */
  async migrate() {
    const { node } = this
    if ((await node.Hlen(this.own, 'posts')) || (await node.Hlen(this.own, 'profile')) || (await node.Get(this.own, 'migrated'))) return
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(`mimei\n${this.me}\n${this.appId}\nappdata\nuser`)))
    let old
    try {
      old = await node.MMOpen(b64url(hash.subarray(0, 20)), 'cur')
    } catch {
      return
    }
    const [profile, posts, following, likes] = await Promise.all([node.Hgetall(old, 'profile'), node.Hgetall(old, 'posts'), node.Smembers(old, 'following'), node.Smembers(old, 'likes')])
    const pairs = (o) => Object.entries(o ?? {}).map(([k, v]) => [k, String(v)])
    if (pairs(profile).length) await node.Hmset(this.own, 'profile', ...pairs(profile))
    if (pairs(posts).length) await node.Hmset(this.own, 'posts', ...pairs(posts))
    if (following?.length) await node.Sadd(this.own, 'following', ...following.map(String))
    if (likes?.length) await node.Sadd(this.own, 'likes', ...likes.map(String))
    await node.Set(this.own, 'migrated', Date.now())
    await node.MMClose(old).catch(() => {})
  }

  close() {
    this.closed = true
    clearInterval(this.timer)
    for (const off of this.offs.splice(0)) off()
    this.listeners.clear()
  }

  onPub(ev) {
    if (ev?.app !== APP || typeof ev.topic !== 'string') return
    if (ev.topic === `to/${this.me}`) return void this.sync().catch(() => {})
    if (!ev.topic.startsWith('u/')) return
    const author = ev.topic.slice(2)
    if (author !== ev.from || author === this.me) return
    this.refresh(author, ev.data).catch(() => {})
  }

  /** Followees on this node: a version newer than the one last seen fires the same events as pubsub. */
  async watchLocal() {
    const ids = []
    for (const u of await this.following()) if (await this.isLocal(u)) ids.push(u)
    if (!ids.length) return
    this.seen ??= new Map()
    const vers = (await this.node.Hmget(this.shared, 'vers', ...ids)) ?? []
    for (let i = 0; i < ids.length; i++) {
      const ev = parse(vers[i])
      if (!ev || !Number.isSafeInteger(ev.ver)) continue
      const before = this.seen.get(ids[i])
      this.seen.set(ids[i], ev.ver)
      if (before === undefined || ev.ver <= before) continue
      const post = ev.post && ev.post.ver > before ? { kind: 'post', id: ev.post.id } : {}
      await this.refresh(ids[i], { ...ev, ...post })
    }
    // A followee who never published here yet is seen at version 0.
    for (const u of ids) if (!this.seen.has(u)) this.seen.set(u, 0)
  }

  /**
   * A followee published: her area is brought here, then 'change' (and 'post' for a new post)
   * fire. For a user of another node this node syncs the announced version by itself (it provides
   * the area): the page waits for that (MMLast) and syncs only when it has not come in a few
   * seconds. `installed`: the version is known to be here already.
   */
  async refresh(author, data = {}, installed = false) {
    const ver = Number.isSafeInteger(data?.ver) ? data.ver : undefined
    if (!installed && !(await this.isLocal(author))) {
      const mid = await areaId(author)
      this.vers ??= new Map()
      const have = async (wait) => {
        const got = await this.node.MMLast([mid], { [mid]: ver ? ver - 1 : 0 }, wait).catch(() => undefined)
        return Number.isSafeInteger(got?.[mid]) ? got[mid] : 0
      }
      const here = ver && (this.vers.get(author) ?? 0) >= ver ? ver : await have(ver ? EVENT_WAIT : 0)
      if (!ver || here < ver) await this.need('net', () => this.node.MiMeiSync(mid, ver ? { ver } : {})).catch(() => {})
      // The polls need not fire again for what this event told.
      if (ver && ver > (this.vers.get(author) ?? 0)) this.vers.set(author, ver)
    }
    this.forget(author)
    this.emit('change', { author })
    if (data?.kind !== 'post' || typeof data.id !== 'string') return
    // A post is told once, whichever of pubsub and the polls sees it first.
    this.tops ??= new Map()
    const seen = this.tops.get(author)
    if (seen !== undefined && seen >= data.id) return
    this.tops.set(author, data.id)
    this.emit('post', { author, id: data.id })
  }

  /** Announcements since last time: fetched, checked against the actors' areas, indexed; counts published. */
  sync() {
    if (this.syncing) return (this.again = true), this.syncing
    this.syncing = (async () => {
      let indexed = 0
      do {
        this.again = false
        if (!this.priv) break
        await this.inbox.fetch()
        indexed += await this.inbox.process()
      } while (this.again)
      if (indexed) await this.commit('index')
      return { indexed }
    })().finally(() => (this.syncing = undefined))
    return this.syncing
  }

  // — areas —
  areaIdOf(userId) {
    return areaId(userId)
  }

  /** A read handle on a user's area, or undefined when it is not on this node (or private). */
  async area(userId) {
    if (this.handles.has(userId)) return this.handles.get(userId)
    let h
    try {
      h = await this.node.MMOpen(await areaId(userId), 'cur')
    } catch {
      h = undefined
    }
    if (h) this.handles.set(userId, h)
    return h
  }

  async isLocal(userId) {
    if (userId === this.me) return true
    this.local ??= new Set(((await this.node.Smembers(this.shared, 'users')) ?? []).map(String))
    return this.local.has(userId)
  }

  /** The actor's area at its newest version: synced from the network unless she is a user of this node. */
  async freshArea(userId) {
    if (!(await this.isLocal(userId))) {
      const mid = await areaId(userId)
      if (!(await this.area(userId))) await this.need('net', () => this.node.AppDataFollow(this.appId, userId, true)).catch(() => {})
      await this.need('net', () => this.node.MiMeiSync(mid, {})).catch(() => {})
      await this.node.Sadd(this.shared, 'known', userId).catch(() => {})
    }
    return this.area(userId)
  }

  /** Freezes my area into a new version (announced by the node to everyone providing it) and tells live followers. */
  commit(kind, id) {
    const run = async () => {
      this.forget(this.me)
      if (!this.readable) return
      const ver = await this.node.MMBackup(this.ownId, kind)
      const ev = { kind, id: id ?? null, ver }
      if (kind === 'post') this.lastPost = { id, ver }
      await this.need('msg', () => this.node.Publish(APP, `u/${this.me}`, ev)).catch(() => {})
      // For followers on this node whose pages get no events (no key here): the poll reads this,
      // with the newest post named apart (more versions may come before the next poll).
      await this.node.Hset(this.shared, 'vers', this.me, JSON.stringify({ ...ev, post: this.lastPost ?? null })).catch(() => {})
      // Old versions go last: followers are told first.
      if (ver > 3) await this.node.MMDelVers(this.ownId, ver - 3).catch(() => {})
      this.emit('change', { author: this.me })
    }
    this.chain = this.chain.then(run, run)
    return this.chain
  }

  /**
   * Tells `to` that I did something about her: a hint through this node (AppDataHint) when she is
   * a user here, else a message to her node (kept for her while she is away); then a doorbell
   * event for her open pages. `must`: throw when it cannot be sent.
   */
  async announce(to, body, must = false) {
    if (!isUserId(to)) return
    if (to === this.me) {
      await this.inbox.apply(this.me, this.own, { id: newId(), body, at: Date.now() }, {})
      return this.commit('index')
    }
    if (await this.isLocal(to)) {
      // The node names me as the sender and limits my unread hints to her (QuotaExceeded past it).
      const left = await this.node.AppDataHint(this.appId, to, body).catch((e) => {
        if (must || !/^QuotaExceeded/.test(String(e?.message))) throw e
      })
      if (left === undefined) return
    } else {
      const sent = await this.need('msg.send', () => this.node.SendMsg({ to, app: APP, body }))
      if (sent === undefined && must) throw new Error('sending needs the msg.send permission')
    }
    await this.need('msg', () => this.node.Publish(APP, `to/${to}`, { t: body.t })).catch(() => {})
  }

  // — profile and people —
  /** A user's profile; kept until her area changes (forget) or for 30 s. */
  profile(userId = this.me) {
    this.profiles ??= new Map()
    const hit = this.profiles.get(userId)
    if (hit && hit.until > Date.now()) return hit.p
    const p = (async () => {
      const h = await this.area(userId)
      const f = h ? ((await this.node.Hgetall(h, 'profile')) ?? {}) : {}
      return { id: userId, name: String(f.name ?? ''), bio: String(f.bio ?? ''), avatar: String(f.avatar ?? ''), pk: String(f.pk ?? ''), reachable: !!h }
    })()
    // An area that is not here yet is asked again next time.
    p.then((r) => r.reachable || this.profiles.delete(userId), () => this.profiles.delete(userId))
    this.profiles.set(userId, { p, until: Date.now() + 30_000 })
    return p
  }

  async setProfile(name, bio, avatar) {
    const fields = [['name', String(name).slice(0, 60)], ['bio', String(bio).slice(0, 300)]]
    if (avatar?.data) fields.push(['avatar', await this.putBlob(avatar.data, MAX_AVATAR_BYTES)])
    await this.node.Hmset(this.own, 'profile', ...fields)
    await this.commit('profile')
  }

  async users() {
    const [local, known] = await Promise.all([this.node.Smembers(this.shared, 'users'), this.node.Smembers(this.shared, 'known')])
    return [...new Set([...(local ?? []), ...(known ?? [])].map(String))]
  }

  async following(userId = this.me) {
    const h = await this.area(userId)
    return h ? ((await this.node.Smembers(h, 'following')) ?? []).map(String) : []
  }

  async followers(userId = this.me) {
    const h = await this.area(userId)
    return h ? ((await this.node.Hkeys(h, 'followers')) ?? []).map(String) : []
  }

  async follow(userId) {
    if (!isUserId(userId)) throw new Error('bad user id')
    if (userId === this.me) return
    await this.node.Sadd(this.own, 'following', userId)
    await this.commit('follow')
    await this.node.Sadd(this.shared, 'known', userId)
    await this.watchLocal()
    // Her posts from now on are new here, whichever poll first sees them.
    this.tops ??= new Map()
    const now = Date.now().toString(36)
    if (!(this.tops.get(userId) >= now)) this.tops.set(userId, now)
    await this.need('net', () => this.node.AppDataFollow(this.appId, userId, true))
    await this.listen(userId)
    await this.announce(userId, { t: 'follow' })
  }

  async unfollow(userId) {
    await this.node.Srem(this.own, 'following', userId)
    await this.commit('follow')
    await this.need('net', () => this.node.AppDataFollow(this.appId, userId, false)).catch(() => {})
    if (this.live?.delete(userId)) {
      await this.need('msg', () => this.node.Unsubscribe(APP, `u/${userId}`)).catch(() => {})
      // The freed topic goes to a followee who had none.
      for (const u of await this.following()) if (!this.live.has(u) && (await this.listen(u)) !== true) break
    }
    await this.announce(userId, { t: 'follow' })
  }

  // — blobs (images): content-addressed values in the author's area, so they travel with it —
  async putBlob(data, max) {
    if (!(data instanceof Uint8Array)) throw new Error('image data must be bytes')
    if (data.length > max) throw new Error(`image too large: ${data.length} > ${max} bytes`)
    const cid = await sha(data)
    await this.node.Set(this.own, `blob:${cid}`, data)
    return cid
  }

  /** The bytes of an image of `author` (checked against its hash), or undefined. */
  async image(author, cid) {
    const h = await this.area(author)
    const v = h ? await this.node.Get(h, `blob:${cid}`) : undefined
    if (!(v instanceof Uint8Array) || (await sha(v)) !== cid) return undefined
    return v
  }

  async imageUrl(author, cid, type = 'image/jpeg') {
    this.urls ??= new Map()
    if (!this.urls.has(cid)) {
      const bytes = await this.image(author, cid)
      if (!bytes) return ''
      this.urls.set(cid, URL.createObjectURL(new Blob([bytes], { type })))
    }
    return this.urls.get(cid)
  }

  // — posts —
  async post(text, opts = {}) {
    text = String(text ?? '').trim()
    const imgs = opts.images ?? []
    if (!text && !imgs.length && !opts.repost) throw new Error('empty')
    if (text.length > MAX_POST) throw new Error(`too long: ${text.length} > ${MAX_POST}`)
    if (imgs.length > MAX_IMAGES) throw new Error(`at most ${MAX_IMAGES} images`)
    const images = []
    for (const im of imgs) {
      const cid = await this.putBlob(im.data, MAX_IMAGE_BYTES)
      const thumb = im.thumb ? await this.putBlob(im.thumb, MAX_THUMB_BYTES) : cid
      images.push({ cid, thumb, type: String(im.type ?? 'image/jpeg').slice(0, 40), w: Number(im.w) || 0, h: Number(im.h) || 0 })
    }
    const repost = opts.repost && isUserId(opts.repost.author) && typeof opts.repost.id === 'string' ? { author: opts.repost.author, id: opts.repost.id } : undefined
    const id = newId()
    const rec = { text, at: Date.now(), images, tags: hashtags(text), mentions: mentions(text).filter((u) => u !== this.me), ...(repost ? { repost } : {}) }
    await this.node.Hset(this.own, 'posts', id, JSON.stringify(rec))
    await this.commit('post', id)
    for (const u of rec.mentions) await this.announce(u, { t: 'mention', id })
    if (repost) await this.announce(repost.author, { t: 'repost', id, post: repost.id })
    return id
  }

  repost(author, postId, comment = '') {
    return this.post(comment, { repost: { author, id: postId } })
  }

  async deletePost(postId) {
    const rec = parse(await this.node.Hget(this.own, 'posts', postId))
    if (!rec) throw new Error('no such post of yours')
    await this.node.Hdel(this.own, 'posts', postId)
    for (const k of [`ix:l:${postId}`, `ix:c:${postId}`, `ix:r:${postId}`]) await this.node.Del(this.own, k)
    const used = new Set(Object.values((await this.node.Hgetall(this.own, 'posts')) ?? {}).flatMap((v) => (parse(v)?.images ?? []).flatMap((i) => [i.cid, i.thumb])))
    for (const im of rec.images ?? []) for (const c of [im.cid, im.thumb]) if (!used.has(c)) await this.node.Del(this.own, `blob:${c}`)
    await this.commit('delete', postId)
    if (rec.repost) await this.announce(rec.repost.author, { t: 'repost', id: postId, post: rec.repost.id })
  }

  // — interactions —
  async like(author, postId, on = true) {
    const key = `${author}/${postId}`
    await (on ? this.node.Sadd(this.own, 'likes', key) : this.node.Srem(this.own, 'likes', key))
    await this.commit('like')
    await this.announce(author, { t: 'like', post: postId })
  }

  async myLikes() {
    return new Set(((await this.node.Smembers(this.own, 'likes')) ?? []).map(String))
  }

  async comment(author, postId, text, replyTo) {
    text = String(text ?? '').trim()
    if (!text) throw new Error('empty')
    if (text.length > MAX_COMMENT) throw new Error(`too long: ${text.length} > ${MAX_COMMENT}`)
    const id = newId()
    await this.node.Hset(this.own, 'comments', id, JSON.stringify({ on: { author, id: postId }, text, at: Date.now(), replyTo: typeof replyTo === 'string' ? replyTo : null }))
    await this.commit('comment', id)
    await this.announce(author, { t: 'comment', id, post: postId })
    for (const u of mentions(text)) if (u !== this.me && u !== author) await this.announce(u, { t: 'mention', comment: id })
    return id
  }

  async deleteComment(commentId) {
    const c = parse(await this.node.Hget(this.own, 'comments', commentId))
    if (!c) throw new Error('no such comment of yours')
    await this.node.Hdel(this.own, 'comments', commentId)
    await this.commit('comment')
    await this.announce(c.on.author, { t: 'comment', id: commentId, post: c.on.id })
  }

  // — notifications (private area) —
  async notify(key, note) {
    if (!this.priv || (await this.node.Hget(this.priv, 'notes', key)) != null) return false
    await this.node.Hset(this.priv, 'notes', key, JSON.stringify(note))
    this.emit('notification', { id: key, ...note, read: false })
    this.emit('unread', { count: await this.unreadCount() })
    return true
  }

  async notifications({ limit = 50 } = {}) {
    if (!this.priv) return []
    const readAt = Number((await this.node.Get(this.priv, 'readAt')) ?? 0)
    const all = Object.entries((await this.node.Hgetall(this.priv, 'notes')) ?? {})
      .map(([id, v]) => ({ id, ...parse(v) }))
      .sort((a, b) => b.at - a.at)
      .slice(0, limit)
    return Promise.all(all.map(async (n) => ({ ...n, from: await this.profile(n.from), read: n.at <= readAt })))
  }

  async unreadCount() {
    if (!this.priv) return 0
    const readAt = Number((await this.node.Get(this.priv, 'readAt')) ?? 0)
    return Object.values((await this.node.Hgetall(this.priv, 'notes')) ?? {}).filter((v) => (parse(v)?.at ?? 0) > readAt).length
  }

  async markRead() {
    if (!this.priv) return
    await this.node.Set(this.priv, 'readAt', Date.now())
    this.emit('unread', { count: 0 })
  }
}
