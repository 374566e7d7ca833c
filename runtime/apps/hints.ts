// Hints between users of one node in one app's data space: a small note ("I liked your post")
// left for another user of this node, with the sender proven by her session, for users whose key
// is not on the node (they cannot send signed messages). Each sender may hold MAX_HINTS_PER_SENDER
// unread hints per recipient, and a recipient MAX_HINTS_PER_RECIPIENT in all: counted here, where
// a hint enters. Kept in the node's meta table under apphint/<space>/<to>/<from>/<id>.
import { InvalidParams, PermissionDenied, QuotaExceeded } from '../errors.ts'
import { isKeyId } from '../identity/keys.ts'
import type { MiMeiStore } from '../mimei/index.ts'
import type { Grant } from '../permissions/index.ts'

export const MAX_HINTS_PER_SENDER = 100
export const MAX_HINTS_PER_RECIPIENT = 5000
/** A hint's body as JSON, in bytes. */
export const MAX_HINT_BYTES = 2048
/** Hints taken per call (the rest wait for the next one). */
export const HINTS_PER_TAKE = 500

export interface Hint {
  from: string
  body: Record<string, unknown>
  at: number
}

const enc = new TextEncoder()
let lastId = 0
/** Keys from `prefix` (ending in '/') up to the next character: a range the primary key index answers. */
const range = (prefix: string) => [prefix, `${prefix.slice(0, -1)}0`] as const
const prefixOf = (space: string, to: string, from?: string) => `apphint/${space}/${to}/${from ? `${from}/` : ''}`

function spaceOf(mimei: MiMeiStore, who: Grant, app: string): string {
  if (!who.userId) throw new InvalidParams('hints need a logged-in user')
  if (typeof app !== 'string' || !app) throw new InvalidParams('appid must be an app id')
  const space = mimei.dataSpace(app)
  if (who.app && space !== mimei.dataSpace(who.app)) throw new PermissionDenied(`an app leaves hints in its own data only: pass appid "${who.app}"`)
  if (space.includes('/')) throw new InvalidParams('bad app id')
  return space
}

function count(mimei: MiMeiStore, prefix: string): number {
  const [lo, hi] = range(prefix)
  return (mimei.db.query('SELECT count(*) AS n FROM meta WHERE key >= ? AND key < ?').get(lo, hi) as { n: number }).n
}

/** Leaves `body` for user `to`; refused past the sender's and the recipient's limits. */
export function leaveHint(mimei: MiMeiStore, who: Grant, app: string, to: string, body: unknown): { at: number } {
  const space = spaceOf(mimei, who, app)
  if (!isKeyId(to)) throw new InvalidParams(`"${String(to).slice(0, 40)}" is not a user id (27 base64url characters)`)
  if (!body || typeof body !== 'object' || Array.isArray(body) || body instanceof Uint8Array) throw new InvalidParams('body must be a map')
  const text = JSON.stringify(body)
  if (enc.encode(text).length > MAX_HINT_BYTES) throw new InvalidParams(`a hint is at most ${MAX_HINT_BYTES} bytes as JSON`)
  const from = who.userId!
  if (count(mimei, prefixOf(space, to, from)) >= MAX_HINTS_PER_SENDER) {
    throw new QuotaExceeded(`user ${to} has ${MAX_HINTS_PER_SENDER} unread hints from you in this app; leave more once she has read them (or send a message)`)
  }
  if (count(mimei, prefixOf(space, to)) >= MAX_HINTS_PER_RECIPIENT) throw new QuotaExceeded(`user ${to} has ${MAX_HINTS_PER_RECIPIENT} unread hints in this app; try again once she has read them`)
  const at = Date.now()
  // Increasing on this node, so a sender's hints are taken in the order she left them.
  lastId = Math.max(lastId + 1, at * 1000)
  const id = String(lastId).padStart(17, '0')
  mimei.db.query('INSERT INTO meta (key, value) VALUES (?, ?)').run(`${prefixOf(space, to, from)}${id}`, JSON.stringify({ body, at }))
  return { at }
}

/** The caller's hints (up to HINTS_PER_TAKE, each sender's oldest first), removed as they are taken. */
export function takeHints(mimei: MiMeiStore, who: Grant, app: string): Hint[] {
  const space = spaceOf(mimei, who, app)
  const [lo, hi] = range(prefixOf(space, who.userId!))
  const db = mimei.db
  return db.transaction(() => {
    const rows = db.query('SELECT key, value FROM meta WHERE key >= ? AND key < ? ORDER BY key LIMIT ?').all(lo, hi, HINTS_PER_TAKE) as { key: string; value: string }[]
    const out: Hint[] = []
    for (const r of rows) {
      db.query('DELETE FROM meta WHERE key = ?').run(r.key)
      const v = JSON.parse(r.value) as { body: Record<string, unknown>; at: number }
      out.push({ from: r.key.slice(lo.length).split('/')[0], body: v.body, at: v.at })
    }
    return out
  })()
}
