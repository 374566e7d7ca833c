// Reading Weibo's areas: posts of each author (cached until her area changes), the home and user
// timelines merged newest first with a cursor, counts from the author's index (plus my own
// records not indexed yet), threaded comments, repost chains, hashtag and text search.
import { Messages } from './messages.js'
import { tagKey } from './text.js'

const parse = (v) => {
  try {
    return typeof v === 'string' ? JSON.parse(v) : v
  } catch {
    return undefined
  }
}
/** The sort key of a post: newest first is descending order of this string. */
const keyOf = (p) => `${String(p.at).padStart(15, '0')}~${p.authorId}/${p.id}`
const MAX_CHAIN = 8

export class Feed extends Messages {
  /** Drops the cached posts (and profile) of an author, or of everyone. */
  forget(author) {
    this.postCache ??= new Map()
    this.profiles ??= new Map()
    this.stamps ??= new Map()
    if (author === undefined) this.postCache.clear(), this.profiles.clear(), this.stamps.clear()
    else this.postCache.delete(author), this.profiles.delete(author), this.stamps.delete(author)
    if (author === this.me || author === undefined) this.local = undefined
  }

  /** An author's posts, newest first, as stored (authorId, no profile); [] when her area is not here. */
  rawPosts(author) {
    this.postCache ??= new Map()
    if (!this.postCache.has(author)) {
      const p = (async () => {
        const h = await this.area(author)
        if (!h) return []
        const all = (await this.node.Hgetall(h, 'posts')) ?? {}
        return Object.entries(all)
          .map(([id, v]) => ({ id, authorId: author, ...parse(v) }))
          .filter((x) => typeof x.text === 'string' && typeof x.at === 'number')
          .map((x) => ({ ...x, key: keyOf(x) }))
          .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0))
      })()
      p.catch(() => this.postCache.delete(author))
      this.postCache.set(author, p)
    }
    return this.postCache.get(author)
  }

  /** Merges sorted lists newest first, after `cursor`, up to `limit`: {posts, cursor}. */
  static merge(lists, cursor, limit) {
    const at = lists.map((l) => {
      if (!cursor) return 0
      let lo = 0
      let hi = l.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (l[mid].key < cursor) hi = mid
        else lo = mid + 1
      }
      return lo
    })
    const out = []
    while (out.length < limit) {
      let best = -1
      for (let i = 0; i < lists.length; i++) if (at[i] < lists[i].length && (best < 0 || lists[i][at[i]].key > lists[best][at[best]].key)) best = i
      if (best < 0) break
      out.push(lists[best][at[best]++])
    }
    const more = lists.some((l, i) => at[i] < l.length)
    return { posts: out, cursor: more && out.length ? out[out.length - 1].key : null }
  }

  /** What counting needs of my own area, read once for a page of posts. */
  async mine() {
    const [likes, comments, posts] = await Promise.all([
      this.myLikes(),
      this.node.Hgetall(this.own, 'comments').then((all) => Object.entries(all ?? {}).map(([id, v]) => ({ id, ...parse(v) }))),
      this.rawPosts(this.me),
    ])
    return { likes, comments, reposts: posts.filter((p) => p.repost) }
  }

  /** Posts with their author's profile, counts and whether I liked them. */
  async decorate(posts, full = true) {
    const ctx = full ? await this.mine() : undefined
    const likes = ctx?.likes ?? new Set()
    const profiles = new Map()
    const prof = (u) => (profiles.has(u) ? profiles.get(u) : (profiles.set(u, this.profile(u)), profiles.get(u)))
    return Promise.all(
      posts.map(async (p) => {
        const { key, authorId, ...rest } = p
        const out = { ...rest, images: rest.images ?? [], tags: rest.tags ?? [], mentions: rest.mentions ?? [], author: await prof(authorId), mine: authorId === this.me }
        if (!full) return out
        const c = await this.counts(authorId, p.id, ctx)
        return { ...out, ...c, liked: likes.has(`${authorId}/${p.id}`) }
      }),
    )
  }

  /**
   * Drops the cached posts of the authors whose area changed since they were read (its version
   * and write count, one small call each): a first page is current without reading every post again.
   */
  async refreshChanged(authors) {
    this.stamps ??= new Map()
    await Promise.all(
      authors.map(async (a) => {
        let stamp = ''
        try {
          const i = await this.node.GetVar('mminfo', await this.areaIdOf(a))
          stamp = `${i.last}:${i.seq}`
        } catch {}
        if (!stamp || this.stamps.get(a) !== stamp) {
          this.forget(a)
          if (stamp) this.stamps.set(a, stamp)
        }
      }),
    )
  }

  async page(authors, { cursor, limit = 20 } = {}) {
    if (!cursor) await this.refreshChanged(authors)
    const lists = await Promise.all(authors.map((a) => this.rawPosts(a)))
    const r = Feed.merge(lists, cursor, Math.max(1, Math.min(100, limit)))
    return { posts: await this.decorate(r.posts), cursor: r.cursor }
  }

  /** Home: my posts and those of everyone I follow, newest first, a page at a time. */
  async timeline(opts = {}) {
    return this.page([this.me, ...(await this.following())], opts)
  }

  userTimeline(userId, opts = {}) {
    return this.page([userId], opts)
  }

  /** The first `limit` posts of the home timeline (the first UI's call). */
  async home(limit = 50) {
    return (await this.timeline({ limit })).posts
  }

  /** All of a user's posts, newest first, with the author's profile. */
  async posts(userId) {
    this.forget(userId)
    return this.decorate(await this.rawPosts(userId), false)
  }

  async getPost(author, postId) {
    const h = await this.area(author)
    const v = h ? parse(await this.node.Hget(h, 'posts', postId)) : undefined
    if (!v || typeof v.text !== 'string') return undefined
    return (await this.decorate([{ id: postId, authorId: author, ...v }]))[0]
  }

  /** The posts a repost refers to, nearest first; a missing one is {author, id, deleted: true}. */
  async repostChain(post) {
    const out = []
    let ref = post?.repost
    while (ref && out.length < MAX_CHAIN) {
      const p = await this.getPost(ref.author, ref.id)
      if (!p) {
        out.push({ author: await this.profile(ref.author), id: ref.id, deleted: true })
        break
      }
      out.push(p)
      ref = p.repost
    }
    return out
  }

  /** Counts as indexed in the author's area; my own like, comments and reposts count at once. */
  async counts(author, postId, ctx) {
    const h = await this.area(author)
    if (!h) return { likes: 0, comments: 0, reposts: 0 }
    ctx ??= await this.mine()
    const [likes, comments, reposts, mineIndexed] = await Promise.all([
      this.node.Hlen(h, `ix:l:${postId}`),
      this.node.Hlen(h, `ix:c:${postId}`),
      this.node.Hlen(h, `ix:r:${postId}`),
      this.node.Hget(h, `ix:l:${postId}`, this.me),
    ])
    const liked = ctx.likes.has(`${author}/${postId}`)
    const extra = liked && mineIndexed == null ? 1 : !liked && mineIndexed != null ? -1 : 0
    const own = await this.myPending(author, postId, h, ctx)
    return { likes: Number(likes) + extra, comments: Number(comments) + own.comments.length, reposts: Number(reposts) + own.reposts }
  }

  likeCount(author, postId) {
    return this.counts(author, postId).then((c) => c.likes)
  }

  /** My comments and reposts of a post that its author has not indexed yet. */
  async myPending(author, postId, h, ctx) {
    if (author === this.me) return { comments: [], reposts: 0 }
    ctx ??= await this.mine()
    const mine = ctx.comments.filter((c) => c.on?.author === author && c.on?.id === postId)
    const indexed = await Promise.all(mine.map((c) => this.node.Hget(h, `ix:c:${postId}`, `${this.me}/${c.id}`)))
    const reposts = ctx.reposts.filter((p) => p.repost?.author === author && p.repost?.id === postId)
    const rIndexed = await Promise.all(reposts.map((p) => this.node.Hget(h, `ix:r:${postId}`, `${this.me}/${p.id}`)))
    return { comments: mine.filter((_, i) => indexed[i] == null), reposts: rIndexed.filter((x) => x == null).length }
  }

  /** Comments of a post, threaded: top level oldest first, each with its replies (key "actor/id"). */
  async comments(author, postId) {
    const h = await this.area(author)
    if (!h) return []
    const flat = Object.entries((await this.node.Hgetall(h, `ix:c:${postId}`)) ?? {}).map(([key, v]) => ({ key, ...parse(v) }))
    for (const c of (await this.myPending(author, postId, h)).comments) flat.push({ key: `${this.me}/${c.id}`, text: c.text, at: c.at, replyTo: c.replyTo })
    const byKey = new Map()
    for (const c of flat) {
      const by = c.key.slice(0, c.key.indexOf('/'))
      byKey.set(c.key, { id: c.key, by: await this.profile(by), at: c.at, text: String(c.text ?? ''), replyTo: c.replyTo ?? null, mine: by === this.me, replies: [] })
    }
    const top = []
    for (const c of [...byKey.values()].sort((a, b) => a.at - b.at)) {
      const parent = c.replyTo && byKey.get(c.replyTo)
      ;(parent ? parent.replies : top).push(c)
    }
    return top
  }

  /** Every author whose area this node holds for Weibo: its users, and those followed or heard from. */
  async everyone() {
    return [...new Set([this.me, ...(await this.users()), ...(await this.following())])]
  }

  async hashtag(tag, { limit = 50 } = {}) {
    this.forget()
    const k = tagKey(tag)
    const lists = await Promise.all((await this.everyone()).map((a) => this.rawPosts(a)))
    const hits = lists.map((l) => l.filter((p) => Array.isArray(p.tags) && p.tags.includes(k)))
    return this.decorate(Feed.merge(hits, null, limit).posts)
  }

  async search(query, { limit = 50 } = {}) {
    // A search looks at what is on the node now: no profile or posts from before.
    this.forget()
    const q = String(query ?? '').trim().toLowerCase()
    if (!q) return { posts: [], users: [] }
    if (q.startsWith('#')) return { posts: await this.hashtag(q, { limit }), users: [] }
    const authors = await this.everyone()
    const lists = await Promise.all(authors.map((a) => this.rawPosts(a)))
    const hits = lists.map((l) => l.filter((p) => p.text.toLowerCase().includes(q)))
    const profiles = await Promise.all(authors.map((a) => this.profile(a)))
    const users = profiles.filter((p) => p.reachable && (p.id.toLowerCase() === q || p.name.toLowerCase().includes(q) || p.bio.toLowerCase().includes(q))).slice(0, limit)
    return { posts: await this.decorate(Feed.merge(hits, null, limit).posts), users }
  }
}
