// Direct messages: sealed in the page (dm.js) with the key the two users' nodes derive, sent by
// SendMsg (the network keeps them for a recipient who is away), kept as ciphertext in each side's
// private area (hash dm:<peer>), opened only when shown.
import { MAX_POST } from './text.js'

const parse = (v) => {
  try {
    return typeof v === 'string' ? JSON.parse(v) : v
  } catch {
    return undefined
  }
}
const newId = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`

export class Messages {
  /** The peer's public key from her profile (her area must be here: followed, local, or synced now). */
  async peerKey(peer) {
    let pk = (await this.profile(peer)).pk
    if (!pk) {
      await this.freshArea(peer)
      this.forget(peer)
      pk = (await this.profile(peer)).pk
    }
    if (!pk) throw new Error(`no public key of ${peer} yet: she has not opened Weibo, or her area is not reachable`)
    return pk
  }

  async sendDM(peer, text) {
    text = String(text ?? '').trim()
    if (!text) throw new Error('empty')
    if (text.length > MAX_POST) throw new Error(`too long: ${text.length} > ${MAX_POST}`)
    if (!this.priv) throw new Error('direct messages need the mimei permission')
    const pk = await this.peerKey(peer)
    const at = Date.now()
    const id = newId()
    const box = await this.sealer.seal(this.me, peer, pk, { text, at })
    await this.node.Hset(this.priv, `dm:${peer}`, id, JSON.stringify({ from: this.me, to: peer, at, box }))
    await this.node.Sadd(this.priv, 'dmpeers', peer)
    await this.announce(peer, { t: 'dm', id, at, box }, true)
    this.emit('dm', { peer, id, at, text, mine: true })
    return id
  }

  /**
   * Called by the inbox for a DM announcement: kept sealed; a notification and a 'dm' event. One
   * whose sender is not proven (a hint left on this node) is kept only if it opens with her key.
   */
  async receiveDM(from, body, msgId, proven) {
    const box = body?.box
    if (!box || typeof box.iv !== 'string' || typeof box.ct !== 'string' || box.ct.length > 4 * MAX_POST * 3) return false
    const id = typeof body.id === 'string' ? body.id.slice(0, 40) : msgId
    if ((await this.node.Hget(this.priv, `dm:${from}`, id)) != null) return false
    if (!proven && !(await this.openDM(from, { from, to: this.me, box }).catch(() => undefined))) return false
    const at = Number(body.at) || Date.now()
    await this.node.Hset(this.priv, `dm:${from}`, id, JSON.stringify({ from, to: this.me, at, box: { iv: box.iv, ct: box.ct } }))
    await this.node.Sadd(this.priv, 'dmpeers', from)
    await this.notify(`dm:${from}:${id}`, { kind: 'dm', from, at })
    const opened = await this.openDM(from, { from, to: this.me, box }).catch(() => undefined)
    this.emit('dm', { peer: from, id, at, text: opened?.text ?? '', mine: false })
    return false
  }

  async openDM(peer, m) {
    const pk = await this.peerKey(peer)
    return this.sealer.open(m.from, m.to, peer, pk, m.box)
  }

  /** Messages with `peer`, oldest first, opened (a message that does not open shows text null); marks them read. */
  async conversation(peer) {
    if (!this.priv) return []
    const all = Object.entries((await this.node.Hgetall(this.priv, `dm:${peer}`)) ?? {}).map(([id, v]) => ({ id, ...parse(v) }))
    const out = await Promise.all(
      all.map(async (m) => {
        const v = await this.openDM(peer, m).catch(() => undefined)
        return { id: m.id, at: m.at, text: v?.text ?? null, mine: m.from === this.me }
      }),
    )
    await this.node.Set(this.priv, `dmread:${peer}`, Date.now())
    return out.sort((a, b) => a.at - b.at)
  }

  /** Everyone I exchanged messages with, newest conversation first, with the last message and the unread count. */
  async conversations() {
    if (!this.priv) return []
    const peers = ((await this.node.Smembers(this.priv, 'dmpeers')) ?? []).map(String)
    const rows = await Promise.all(
      peers.map(async (peer) => {
        const all = Object.values((await this.node.Hgetall(this.priv, `dm:${peer}`)) ?? {}).map(parse).filter(Boolean).sort((a, b) => a.at - b.at)
        const readAt = Number((await this.node.Get(this.priv, `dmread:${peer}`)) ?? 0)
        const last = all[all.length - 1]
        const v = last ? await this.openDM(peer, last).catch(() => undefined) : undefined
        return {
          peer: await this.profile(peer),
          last: last ? { at: last.at, text: v?.text ?? null, mine: last.from === this.me } : null,
          unread: all.filter((m) => m.from !== this.me && m.at > readAt).length,
        }
      }),
    )
    return rows.sort((a, b) => (b.last?.at ?? 0) - (a.last?.at ?? 0))
  }
}
