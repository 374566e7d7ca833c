// The author's side of interactions: announcements (messages with app "weibo") are read in order
// from the node (ReadMsg since a cursor), and each is checked against the actor's own area before
// it counts: a like counts only while the liker's area holds it, a comment while the commenter's
// area holds it, and so on. Results go into the author's public area (ix:* hashes, followers),
// so followers see the counts; notifications and DMs go into her private area.
const parse = (v) => {
  try {
    return typeof v === 'string' ? JSON.parse(v) : v
  } catch {
    return undefined
  }
}
/** Announcements waiting for the actor's area to arrive are kept this long, then dropped. */
const PENDING_MS = 24 * 3600 * 1000
/** Hints the node gives per AppDataHints call (its HINTS_PER_TAKE): a full one means more wait. */
const MAX_HINTS = 500
/** Longest an actor whose area is not reachable waits before the next try (2 s, 4 s, … up to this). */
const RETRY_MS = 60 * 1000

export class Inbox {
  constructor(wb) {
    this.wb = wb
    this.node = wb.node
  }

  /** New announcements since the stored cursor, into the pending list; returns how many came. */
  async fetch() {
    const { node, wb } = this
    let since = Number((await node.Get(wb.priv, 'msgseq')) ?? 0)
    let n = 0
    for (;;) {
      const list = (await wb.need('msg', () => node.ReadMsg({ app: wb.APP, since, count: 500 }))) ?? []
      for (const m of list) {
        since = Math.max(since, Number(m.seq))
        if (!m.from || !m.body || typeof m.body !== 'object') continue
        await node.Hset(wb.priv, 'pending', String(m.id), JSON.stringify({ from: m.from, body: m.body, at: Number(m.sentAt ?? Date.now()) }))
        n++
      }
      await node.Set(wb.priv, 'msgseq', since)
      if (list.length < 500) break
    }
    // Users of this node leave hints through the node instead (no key needed to send; the node
    // names the sender and limits how many unread ones each may leave): taken, then pending.
    for (;;) {
      const hints = (await node.AppDataHints(wb.appId).catch(() => [])) ?? []
      for (const h of hints) {
        if (h && /^[A-Za-z0-9_-]{27}$/.test(h.from) && h.body && typeof h.body === 'object') {
          await node.Hset(wb.priv, 'pending', `h${h.from}/${h.at}/${Math.random().toString(36).slice(2, 10)}`, JSON.stringify({ from: h.from, body: h.body, at: Number(h.at) || Date.now(), hint: true }))
          n++
        }
      }
      if (hints.length < MAX_HINTS) break
    }
    // Hints of Weibo 0.2 in the node's shared area (anyone could write them, unlimited): dropped.
    if (!this.dropped) this.dropped = await node.Del(wb.shared, `inbox:${wb.me}`).then(() => true, () => false)
    return n
  }

  /** Checks every pending announcement against its actor's area; returns the number that changed the index. */
  async process() {
    const { node, wb } = this
    const pending = Object.entries((await node.Hgetall(wb.priv, 'pending')) ?? {}).map(([id, v]) => ({ id, ...parse(v) }))
    const byActor = new Map()
    for (const p of pending) byActor.set(p.from, [...(byActor.get(p.from) ?? []), p])
    let changed = 0
    this.waits ??= new Map()
    for (const [actor, items] of byActor) {
      // An actor whose area could not be fetched is tried again later (backing off), not on every sync.
      if ((this.waits.get(actor) ?? 0) > Date.now()) continue
      const needsArea = items.some((p) => p.body?.t !== 'dm')
      const h = needsArea ? await wb.freshArea(actor) : undefined
      this.tries ??= new Map()
      if (needsArea && !h) {
        const n = (this.tries.get(actor) ?? 0) + 1
        this.tries.set(actor, n)
        this.waits.set(actor, Date.now() + Math.min(RETRY_MS, 1000 * 2 ** n))
      } else this.tries.delete(actor)
      const memo = {}
      for (const p of items) {
        let r
        try {
          r = await this.apply(actor, h, p, memo)
        } catch (e) {
          r = 'retry'
          wb.log?.('announcement not applied', e.message)
        }
        if (r === 'retry' && Date.now() - p.at < PENDING_MS) continue
        if (r === true) changed++
        await node.Hdel(wb.priv, 'pending', p.id)
      }
      // Her area was fetched to check her records; this node need not keep following it for me.
      if (h && needsArea && !(await wb.isLocal(actor)) && !(await wb.following()).includes(actor)) {
        await wb.need('net', () => node.AppDataFollow(wb.appId, actor, false)).catch(() => {})
      }
    }
    return changed
  }

  /** true: the index changed; false: nothing to do; 'retry': the actor's area is not here yet. */
  async apply(actor, h, { id: msgId, body, at, hint }, memo) {
    const { node, wb } = this
    const me = wb.me
    if (body.t === 'dm') return wb.receiveDM(actor, body, msgId, !hint)
    if (!h) return 'retry'
    const set = async (key) => (memo[key] ??= new Set(((await node.Smembers(h, key)) ?? []).map(String)))
    const post = typeof body.post === 'string' ? body.post : ''
    const rec = async (field, id) => (typeof id === 'string' ? parse(await node.Hget(h, field, id)) : undefined)
    switch (body.t) {
      case 'like': {
        const on = (await set('likes')).has(`${me}/${post}`)
        return this.index(`ix:l:${post}`, actor, on ? String(at) : undefined, on && { kind: 'like', from: actor, post: { author: me, id: post }, at }, post)
      }
      case 'comment': {
        const c = await rec('comments', body.id)
        const on = c && c.on?.author === me && c.on?.id === post
        const v = on ? JSON.stringify({ text: String(c.text ?? '').slice(0, 2000), at: c.at, replyTo: c.replyTo ?? null }) : undefined
        return this.index(`ix:c:${post}`, `${actor}/${body.id}`, v, on && { kind: 'comment', from: actor, post: { author: me, id: post }, text: String(c.text ?? '').slice(0, 140), at }, post)
      }
      case 'repost': {
        const p = await rec('posts', body.id)
        const on = p && p.repost?.author === me && p.repost?.id === post
        return this.index(`ix:r:${post}`, `${actor}/${body.id}`, on ? String(at) : undefined, on && { kind: 'repost', from: actor, post: { author: me, id: post }, text: String(p.text ?? '').slice(0, 140), at }, post)
      }
      case 'follow': {
        const on = (await set('following')).has(me)
        return this.index('followers', actor, on ? String(at) : undefined, on && { kind: 'follow', from: actor, at })
      }
      case 'mention': {
        if (typeof body.comment === 'string') {
          const c = await rec('comments', body.comment)
          if (!c || !String(c.text ?? '').includes(`@${me}`)) return false
          return wb.notify(`mention:${actor}/c${body.comment}`, { kind: 'mention', from: actor, post: { author: c.on?.author, id: c.on?.id }, text: String(c.text).slice(0, 140), at })
        }
        const p = await rec('posts', body.id)
        if (!p || !Array.isArray(p.mentions) || !p.mentions.includes(me)) return false
        return wb.notify(`mention:${actor}/${body.id}`, { kind: 'mention', from: actor, post: { author: actor, id: body.id }, text: String(p.text ?? '').slice(0, 140), at })
      }
      default:
        return false
    }
  }

  /** Puts (value) or removes (undefined) one entry of an index hash of the author's area; notifies on a new one. */
  async index(key, field, value, note, post) {
    const { node, wb } = this
    if (post !== undefined && !(await node.Hget(wb.own, 'posts', post))) value = undefined
    const had = (await node.Hget(wb.own, key, field)) != null
    if (value === undefined) {
      if (!had) return false
      await node.Hdel(wb.own, key, field)
      return true
    }
    if (had) return false
    await node.Hset(wb.own, key, field, value)
    if (note) await wb.notify(`${note.kind}:${field}:${post ?? ''}`, note)
    return true
  }
}
