// Weibo's data model on one node: each user's profile, posts, follows and likes are in her own
// data area of the app (MMOpenAppData 'user'), made readable to everyone; the node area lists the
// users and who liked what, so counts and discovery need no central server. See README.md.
const enc = new TextEncoder()
const B32 = 'abcdefghijklmnopqrstuvwxyz234567'
export const MAX_POST = 2000

const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

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

/** The MiMei id of a user's data area of this app: the node derives it the same way (mimeiId). */
export async function areaId(userId, appId) {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(`mimei\n${userId}\n${appId}\nappdata\nuser`)))
  return b64url(hash.subarray(0, 20))
}

const parse = (v) => {
  try {
    return typeof v === 'string' ? JSON.parse(v) : v
  } catch {
    return undefined
  }
}

export class Weibo {
  constructor(node, appId) {
    this.node = node
    this.appId = appId
    this.handles = new Map()
  }

  /** Opens this user's area and the node's; makes the user's area readable (needs the `mimei` grant). */
  async open() {
    this.me = (await this.node.WhoAmI()).userid
    this.own = await this.node.MMOpenAppData(this.appId, 'user')
    this.shared = await this.node.MMOpenAppData(this.appId, 'node')
    this.handles.set(this.me, this.own)
    await this.node.Sadd(this.shared, 'users', this.me)
    try {
      await this.node.MMSetRight(await areaId(this.me, this.appId), '', 1)
      this.readable = true
    } catch (e) {
      this.readable = false
      this.readableError = e.message
    }
  }

  /** A read handle on a user's area, or undefined when she has none here or keeps it private. */
  async area(userId) {
    if (this.handles.has(userId)) return this.handles.get(userId)
    let h
    try {
      h = await this.node.MMOpen(await areaId(userId, this.appId), 'cur')
    } catch {
      h = undefined
    }
    if (h) this.handles.set(userId, h)
    return h
  }

  async profile(userId = this.me) {
    const h = await this.area(userId)
    const p = h ? await this.node.Hgetall(h, 'profile') : {}
    return { id: userId, name: String(p?.name ?? ''), bio: String(p?.bio ?? ''), reachable: !!h }
  }

  async setProfile(name, bio) {
    await this.node.Hmset(this.own, 'profile', ['name', String(name).slice(0, 60)], ['bio', String(bio).slice(0, 300)])
  }

  async post(text) {
    text = String(text).trim()
    if (!text) throw new Error('empty')
    if (text.length > MAX_POST) throw new Error(`too long: ${text.length} > ${MAX_POST}`)
    const at = Date.now()
    const id = `${at.toString(36)}${Math.random().toString(36).slice(2, 8)}`
    await this.node.Hset(this.own, 'posts', id, JSON.stringify({ text, at }))
    return id
  }

  /** A user's posts, newest first, each with its author's profile. */
  async posts(userId) {
    const h = await this.area(userId)
    if (!h) return []
    const [all, author] = await Promise.all([this.node.Hgetall(h, 'posts'), this.profile(userId)])
    return Object.entries(all ?? {})
      .map(([id, v]) => ({ id, author, ...parse(v) }))
      .filter((p) => typeof p.text === 'string' && typeof p.at === 'number')
      .sort((a, b) => b.at - a.at)
  }

  async following() {
    return ((await this.node.Smembers(this.own, 'following')) ?? []).map(String)
  }

  async follow(userId) {
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(userId)) throw new Error('bad user id')
    if (userId !== this.me) await this.node.Sadd(this.own, 'following', userId)
  }

  async unfollow(userId) {
    await this.node.Srem(this.own, 'following', userId)
  }

  /** Own posts and those of everyone followed, merged newest first. */
  async home(limit = 50) {
    const lists = await Promise.all([this.me, ...(await this.following())].map((u) => this.posts(u)))
    return lists.flat().sort((a, b) => b.at - a.at).slice(0, limit)
  }

  /** Likes: a record in the liker's own area, and her id in the node's set for the post (a set: liking twice counts once). */
  async like(author, postId, on = true) {
    const key = `${author}/${postId}`
    if (on) {
      await this.node.Sadd(this.own, 'likes', key)
      await this.node.Sadd(this.shared, `likes:${key}`, this.me)
    } else {
      await this.node.Srem(this.own, 'likes', key)
      await this.node.Srem(this.shared, `likes:${key}`, this.me)
    }
  }

  async myLikes() {
    return new Set(((await this.node.Smembers(this.own, 'likes')) ?? []).map(String))
  }

  likeCount(author, postId) {
    return this.node.Scard(this.shared, `likes:${author}/${postId}`)
  }

  async users() {
    return ((await this.node.Smembers(this.shared, 'users')) ?? []).map(String)
  }
}
