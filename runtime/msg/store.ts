// The message tables: inbox (received, deduplicated), outbox (to deliver, retried with backoff)
// and the users this node receives messages for. All SQL of the msg family lives here.
import type { Database } from 'bun:sqlite'
import { decodeValue } from '../mimei/db/core.ts'
import { decodeCbor, encodeCbor } from '../net/wire.ts'
import type { Envelope } from './envelope.ts'

/** A message as ReadMsg and PullMsg return it. */
export interface InboxMessage {
  readonly kind: 'msg'
  /** This node's sequence number: the `since` cursor of ReadMsg. */
  readonly seq: number
  readonly id: string
  /**
   * The sender's user id, proven: the key id of `pk`, whose signature `sig` this node checked.
   * "" for messages received before senders signed (their sender is unknown).
   */
  readonly from: string
  readonly fromNode: string
  readonly to: string
  readonly app: string
  readonly body: unknown
  readonly sentAt: number
  readonly receivedAt: number
  /** The sender's public key (empty when from is ""). */
  readonly pk: Uint8Array
  /** The sender's Ed25519 signature of envelope.ts userSignedBytes (empty when from is ""). */
  readonly sig: Uint8Array
}

export type OutboxState = 'queued' | 'delivered' | 'expired'

export interface OutboxStatus {
  readonly id: string
  readonly to: string
  readonly state: OutboxState
  readonly attempts: number
  readonly created: number
  readonly nextTry: number | null
  readonly lastError: string | null
  readonly doneAt: number | null
  /** Node id that accepted it ("" when delivered on this node). */
  readonly deliveredTo: string | null
}

export interface DueMessage {
  readonly id: string
  readonly to: string
  readonly envelope: Envelope
  readonly step: number
}

interface InboxRow {
  seq: number
  id: string
  from_user: string
  from_node: string
  to_id: string
  app: string
  body: Uint8Array
  sent_at: number
  received_at: number
  user_pk: Uint8Array | null
  user_sig: Uint8Array | null
}

const NONE = new Uint8Array(0)
const toMessage = (r: InboxRow): InboxMessage => ({
  kind: 'msg',
  seq: r.seq,
  id: r.id,
  from: r.user_sig ? r.from_user : '',
  fromNode: r.from_node,
  to: r.to_id,
  app: r.app,
  body: decodeValue(r.body),
  sentAt: r.sent_at,
  receivedAt: r.received_at,
  pk: r.user_pk ?? NONE,
  sig: r.user_sig ?? NONE,
})

export interface ReadQuery {
  /** Ids whose messages the caller reads: the user, and the node id for the owner. */
  readonly recipients: readonly string[]
  readonly app?: string
  /** Messages after this seq, read or not; absent = only unread ones. */
  readonly since?: number
  readonly count: number
}

export function msgStore(db: () => Database) {
  return {
    /**
     * Stores a received message once; `dup` when (from, id) was already here, whichever node relayed
     * it. Messages enter through limits.ts accept, which decides whether they fit.
     */
    receive(e: Envelope, now: number): { seq: number; dup: boolean } {
      const r = db()
        .query(`INSERT INTO msg_inbox (id, from_node, from_user, to_id, app, body, sent_at, received_at, sig, node_pk, user_pk, user_sig)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq`)
        .get(e.id, e.fromNode, e.from, e.to, e.app, e.body, e.sentAt, now, e.sig, e.nodePk, e.userPk, e.userSig) as { seq: number } | null
      return r ? { seq: r.seq, dup: false } : { seq: 0, dup: true }
    },

    hasMessage(fromUser: string, id: string): boolean {
      return db().query('SELECT 1 FROM msg_inbox WHERE from_user = ? AND id = ?').get(fromUser, id) !== null
    },

    /** Messages in a recipient's inbox, and unread ones (from the index alone). */
    inboxCount(to: string): { n: number; unread: number } {
      const r = db().query('SELECT count(*) AS n, sum(read = 0) AS unread FROM msg_inbox WHERE to_id = ?').get(to) as { n: number; unread: number | null }
      return { n: r.n, unread: r.unread ?? 0 }
    },

    /** What a recipient's inbox holds: messages, unread ones, body bytes. */
    inbox(to: string): { n: number; unread: number; bytes: number } {
      const r = db().query('SELECT count(*) AS n, sum(read = 0) AS unread, sum(length(body)) AS bytes FROM msg_inbox WHERE to_id = ?').get(to) as {
        n: number
        unread: number | null
        bytes: number | null
      }
      return { n: r.n, unread: r.unread ?? 0, bytes: r.bytes ?? 0 }
    },

    /** Body bytes of the inboxes of recipients not admitted to store (not in storage_users, nor in `also`). */
    inboxBytesExcept(also: readonly string[]): number {
      const r = db()
        .query(`SELECT sum(length(body)) AS n FROM msg_inbox WHERE to_id NOT IN (SELECT user_id FROM storage_users) AND to_id NOT IN (${also.map(() => '?').join(', ')})`)
        .get(...also) as { n: number | null }
      return r.n ?? 0
    },

    /** The recipient's oldest read messages that free at least `count` messages and `bytes` bytes (`enough` says whether they do). */
    oldestRead(to: string, count: number, bytes: number): { seqs: number[]; bytes: number; enough: boolean } {
      const seqs: number[] = []
      let freed = 0
      const page = db().query('SELECT seq, length(body) AS b FROM msg_inbox WHERE to_id = ? AND read = 1 AND seq > ? ORDER BY seq LIMIT 256')
      for (let after = 0; seqs.length < count || freed < bytes; ) {
        const rows = page.all(to, after) as { seq: number; b: number }[]
        if (!rows.length) break
        for (const r of rows) {
          if (seqs.length >= count && freed >= bytes) break
          seqs.push(r.seq)
          freed += r.b
        }
        after = rows[rows.length - 1].seq
      }
      return { seqs, bytes: freed, enough: seqs.length >= count && freed >= bytes }
    },

    deleteMessages(seqs: readonly number[]): number {
      let n = 0
      for (let i = 0; i < seqs.length; i += 500) {
        const part = seqs.slice(i, i + 500)
        n += db().query(`DELETE FROM msg_inbox WHERE seq IN (${part.map(() => '?').join(', ')})`).run(...part).changes
      }
      return n
    },

    /** Deletes up to `limit` read messages that arrived before `cutoff`. */
    deleteReadBefore(cutoff: number, limit: number): number {
      return db()
        .query('DELETE FROM msg_inbox WHERE seq IN (SELECT seq FROM msg_inbox WHERE read = 1 AND received_at < ? LIMIT ?)')
        .run(cutoff, limit).changes
    },

    /** Every id that has messages here. */
    recipients(): string[] {
      return (db().query('SELECT DISTINCT to_id FROM msg_inbox').all() as { to_id: string }[]).map((r) => r.to_id)
    },

    /** What a sender has waiting in the outbox: messages and envelope bytes. */
    queuedBy(fromUser: string): { n: number; bytes: number } {
      const r = db().query(`SELECT count(*) AS n, sum(length(envelope)) AS bytes FROM msg_outbox WHERE state = 'queued' AND from_user = ?`).get(fromUser) as {
        n: number
        bytes: number | null
      }
      return { n: r.n, bytes: r.bytes ?? 0 }
    },

    /** Returns the matching messages, oldest first, and marks them read (one transaction). */
    read(q: ReadQuery): InboxMessage[] {
      const marks = q.recipients.map(() => '?').join(', ')
      const where = [`to_id IN (${marks})`, q.since === undefined ? 'read = 0' : 'seq > ?', ...(q.app === undefined ? [] : ['app = ?'])]
      const args = [...q.recipients, ...(q.since === undefined ? [] : [q.since]), ...(q.app === undefined ? [] : [q.app]), q.count]
      return db().transaction(() => {
        const rows = db()
          .query(`SELECT seq, id, from_user, from_node, to_id, app, body, sent_at, received_at, user_pk, user_sig FROM msg_inbox
            WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`)
          .all(...(args as string[])) as InboxRow[]
        if (rows.length) db().query(`UPDATE msg_inbox SET read = 1 WHERE seq IN (${rows.map(() => '?').join(', ')})`).run(...rows.map((r) => r.seq))
        return rows.map(toMessage)
      })()
    },

    /** Queues a message for another node; `envelope` is e encoded (when the caller has it already). */
    enqueue(e: Envelope, now: number, envelope: Uint8Array = encodeCbor(e)): void {
      db()
        .query(`INSERT INTO msg_outbox (id, to_id, from_user, envelope, created, state, next_try) VALUES (?, ?, ?, ?, ?, 'queued', ?)`)
        .run(e.id, e.to, e.from, envelope, now, now)
    },

    /** Records a message SendMsg delivered on this node (already in the inbox) as delivered, for MsgStatus. */
    deliveredHere(e: Envelope, now: number): void {
      db()
        .query(`INSERT INTO msg_outbox (id, to_id, from_user, envelope, created, state, attempts, next_try, done_at, delivered_to)
          VALUES (?, ?, ?, ?, ?, 'delivered', 1, ?, ?, '')`)
        .run(e.id, e.to, e.from, new Uint8Array(0), now, now, now)
    },

    due(now: number, limit: number): DueMessage[] {
      const rows = db()
        .query(`SELECT id, to_id, envelope, step FROM msg_outbox WHERE state = 'queued' AND next_try <= ? ORDER BY next_try LIMIT ?`)
        .all(now, limit) as { id: string; to_id: string; envelope: Uint8Array; step: number }[]
      return rows.map((r) => ({ id: r.id, to: r.to_id, envelope: decodeCbor(r.envelope) as Envelope, step: r.step }))
    },

    /** When the next queued message falls due, if any. */
    nextDue(): number | undefined {
      const r = db().query(`SELECT min(next_try) AS t FROM msg_outbox WHERE state = 'queued'`).get() as { t: number | null }
      return r.t ?? undefined
    },

    delivered(id: string, nodeId: string, now: number): void {
      // The envelope is no longer needed; the row stays for MsgStatus until pruned.
      db()
        .query(`UPDATE msg_outbox SET state = 'delivered', attempts = attempts + 1, done_at = ?, delivered_to = ?, envelope = x'', last_error = NULL WHERE id = ?`)
        .run(now, nodeId, id)
    },

    failed(id: string, error: string, nextTry: number): void {
      db()
        .query('UPDATE msg_outbox SET attempts = attempts + 1, step = step + 1, next_try = ?, last_error = ? WHERE id = ?')
        .run(nextTry, error.slice(0, 300), id)
    },

    /** New connectivity is new information: every queued message is due now, backoff restarts. */
    retryAllNow(now: number): number {
      return db().query(`UPDATE msg_outbox SET next_try = ?, step = 0 WHERE state = 'queued'`).run(now).changes
    },

    /** Gives up on messages queued before `cutoff`; drops finished rows older than `forgetBefore`. */
    expire(cutoff: number, forgetBefore: number, now: number): number {
      const n = db()
        .query(`UPDATE msg_outbox SET state = 'expired', done_at = ?, envelope = x'' WHERE state = 'queued' AND created < ?`)
        .run(now, cutoff).changes
      db().query(`DELETE FROM msg_outbox WHERE state != 'queued' AND done_at < ?`).run(forgetBefore)
      return n
    },

    status(id: string, fromUser: string): OutboxStatus | undefined {
      const r = db()
        .query(`SELECT id, to_id, state, attempts, created, next_try, last_error, done_at, delivered_to FROM msg_outbox WHERE id = ? AND from_user = ?`)
        .get(id, fromUser) as {
        id: string
        to_id: string
        state: OutboxState
        attempts: number
        created: number
        next_try: number
        last_error: string | null
        done_at: number | null
        delivered_to: string | null
      } | null
      if (!r) return undefined
      return {
        id: r.id,
        to: r.to_id,
        state: r.state,
        attempts: r.attempts,
        created: r.created,
        nextTry: r.state === 'queued' ? r.next_try : null,
        lastError: r.last_error,
        doneAt: r.done_at,
        deliveredTo: r.delivered_to,
      }
    },

    /** Remembers a user as served here (they logged in or used messages on this node). */
    touchUser(userId: string, now: number): void {
      db()
        .query('INSERT INTO msg_users (user_id, last_seen) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)')
        .run(userId, now)
    },

    isKnownUser(userId: string, since: number): boolean {
      return db().query('SELECT 1 FROM msg_users WHERE user_id = ? AND last_seen >= ?').get(userId, since) !== null
    },

    knownUsers(since: number): string[] {
      return (db().query('SELECT user_id FROM msg_users WHERE last_seen >= ?').all(since) as { user_id: string }[]).map((r) => r.user_id)
    },

    hasSession(userId: string): boolean {
      return db().query('SELECT 1 FROM sessions WHERE user_id = ? AND revoked = 0 LIMIT 1').get(userId) !== null
    },

    /** Users with a live session on this node (the sessions table is the record of logins). */
    sessionUsers(): { userId: string; lastSeen: number }[] {
      const rows = db().query('SELECT user_id, max(last_seen) AS seen FROM sessions WHERE revoked = 0 GROUP BY user_id').all() as {
        user_id: string
        seen: number
      }[]
      return rows.map((r) => ({ userId: r.user_id, lastSeen: r.seen * 1000 }))
    },
  }
}

export type MsgStore = ReturnType<typeof msgStore>
