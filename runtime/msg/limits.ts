// What the msg family may keep on this node: the one gate every message for a recipient here
// passes (a local SendMsg, the outbox delivering here, /leither/msg from other nodes), the sweep
// that prunes inboxes, and the bound on what a sender queues for other nodes.
//
// A recipient's inbox holds at most msgInboxMax messages, read and unread, and its bytes are
// charged to the recipient (the node owner for messages to the node id): their quota, the node's
// storageMaxBytes and the disk's floor. A recipient the owner has not admitted to store here gets
// a small allowance instead (100 messages and 1 MiB; such inboxes together 32 MiB, however many
// keys log in), so anyone can still be written to but nobody can fill the disk through them.
// When a message does not fit, the recipient's oldest read messages make room (they have been
// read: they are history); when unread ones alone leave no room, it is refused — a local sender
// gets QuotaExceeded, a remote one the protocol's refusal, which its outbox keeps and retries.
// Unread messages are never deleted here; read ones go msgRetentionDays after they arrived.
import type { Database } from 'bun:sqlite'
import type { Config } from '../config/index.ts'
import { QuotaExceeded } from '../errors.ts'
import type { Storage } from '../mimei/storage.ts'
import type { MsgStore } from './store.ts'
import type { Envelope } from './envelope.ts'

const MiB = 1024 * 1024
/** Messages, and bytes, a recipient not admitted to store here may hold. */
export const GUEST_INBOX_MAX = 100
export const GUEST_INBOX_BYTES = 1 * MiB
/** Bytes all inboxes of recipients not admitted hold together. */
export const GUEST_INBOXES_BYTES = 32 * MiB
/** Messages, and bytes, one sender may have waiting in the outbox for other nodes. */
export const OUTBOX_MAX = 1000
export const OUTBOX_MAX_BYTES = 32 * MiB
/** The guests' total is read again after this long (between readings it is kept up to date here). */
const GUESTS_READ_MS = 5_000
/** Rows the sweep deletes for age in one slice. */
const SWEEP_BATCH = 1_000
const DAY_MS = 86400_000

export interface LimitsInit {
  readonly db: () => Database
  readonly store: MsgStore
  readonly storage: Storage
  readonly config: Config
  /** This node's id (known once identity has started). */
  readonly nodeId: () => string
}

export function msgLimits(init: LimitsInit) {
  const { db, store: st, storage, config, nodeId } = init
  /** Who pays for a recipient's inbox: the node owner for the node id. */
  const payerOf = (to: string) => (to === nodeId() ? config.owner : to)
  let guests = { at: 0, bytes: 0 }
  const guestBytes = (now: number) => {
    if (now - guests.at > GUESTS_READ_MS) guests = { at: now, bytes: st.inboxBytesExcept([config.owner, nodeId()]) }
    return guests.bytes
  }

  /** Who pays for a recipient's inbox, whether they may store here, and how many messages it may hold. */
  const recipient = (to: string) => {
    const payer = payerOf(to)
    const admitted = storage.mayStore(payer)
    return { payer, admitted, max: admitted ? config.msgInboxMax : Math.min(GUEST_INBOX_MAX, config.msgInboxMax) }
  }

  /** Throws why one more message of `bytes` does not fit for `to` (nothing written), or returns when it does. */
  const check = (to: string, bytes: number, now: number) => {
    const { payer, admitted, max } = recipient(to)
    if (admitted) {
      const box = st.inboxCount(to)
      if (box.n >= max) {
        throw new QuotaExceeded(`the inbox of ${to} is full: ${box.unread} unread messages, the most one recipient holds here (config msgInboxMax); it takes more once they are read`)
      }
      try {
        storage.charge(payer, bytes)
      } catch (err) {
        if (err instanceof QuotaExceeded) throw new QuotaExceeded(`the inbox of ${to} is full: ${err.message}`)
        throw err
      }
      return
    }
    const box = st.inbox(to)
    if (box.n >= max || box.bytes + bytes > GUEST_INBOX_BYTES) {
      throw new QuotaExceeded(
        `${to} is not admitted to store data on this node, so their inbox holds at most ${max} messages and ${GUEST_INBOX_BYTES} bytes ` +
          `(it holds ${box.unread} unread, ${box.bytes} bytes); it takes more once they are read, or when the owner admits them: leither user admit ${to}`,
      )
    }
    if (guestBytes(now) + bytes > GUEST_INBOXES_BYTES) {
      throw new QuotaExceeded(
        `the inboxes of users not admitted to store on this node hold at most ${GUEST_INBOXES_BYTES} bytes together; ` +
          `${to} receives more once messages waiting here are read, or when the owner admits them: leither user admit ${to}`,
      )
    }
    storage.chargeNode(bytes)
  }

  /**
   * What the recipient's inbox must free for one more message of `bytes`: messages and bytes.
   * `nodeWide` adds what the node's own limits lack (storageMaxBytes; the guests' total).
   */
  const shortfall = (to: string, bytes: number, now: number, nodeWide: boolean) => {
    const { payer, admitted, max } = recipient(to)
    const box = st.inbox(to)
    let free = 0
    if (admitted) {
      const quota = storage.quotaOf(payer)
      if (quota > 0) free = Math.max(free, storage.usageOf(payer).total + bytes - quota)
    } else {
      free = Math.max(free, box.bytes + bytes - GUEST_INBOX_BYTES)
      if (nodeWide) free = Math.max(free, guestBytes(now) + bytes - GUEST_INBOXES_BYTES)
    }
    if (nodeWide && config.storageMaxBytes > 0) free = Math.max(free, storage.totalUsed() + bytes - config.storageMaxBytes)
    return { admitted, count: Math.max(0, box.n + 1 - max), bytes: Math.max(0, free) }
  }

  let sweeping: Promise<{ old: number; over: number }> | undefined
  const runSweep = async (now: number, signal?: AbortSignal) => {
    let old = 0
    for (let n = SWEEP_BATCH; n === SWEEP_BATCH && !signal?.aborted; await yieldNow()) {
      n = st.deleteReadBefore(now - config.msgRetentionDays * DAY_MS, SWEEP_BATCH)
      old += n
    }
    let over = 0
    for (const to of st.recipients()) {
      if (signal?.aborted) break
      // shortfall asks room for one more message: a full inbox is not over its cap.
      const s = shortfall(to, 0, now, false)
      const count = s.count - 1
      if (count > 0 || s.bytes > 0) over += st.deleteMessages(st.oldestRead(to, Math.max(0, count), s.bytes).seqs)
      await yieldNow()
    }
    guests.at = 0
    return { old, over }
  }

  return {
    /**
     * Stores a message for a recipient on this node if it fits, making room with the recipient's
     * oldest read messages; throws QuotaExceeded or DiskFull (nothing deleted, nothing stored) when
     * it does not. A message already here (same sender and id) is a `dup` and costs nothing.
     */
    accept(e: Envelope, now: number): { seq: number; dup: boolean } {
      if (st.hasMessage(e.from, e.id)) return { seq: 0, dup: true }
      const bytes = e.body.length
      return db().transaction(() => {
        try {
          check(e.to, bytes, now)
        } catch (err) {
          // Read messages make room for what counts against a cap; they free no disk at once.
          if (!(err instanceof QuotaExceeded)) throw err
          const s = shortfall(e.to, bytes, now, true)
          const room = st.oldestRead(e.to, s.count, s.bytes)
          if (!room.enough || !room.seqs.length) throw err
          st.deleteMessages(room.seqs)
          if (!s.admitted) guests.bytes -= room.bytes
          check(e.to, bytes, now)
        }
        const r = st.receive(e, now)
        if (!r.dup && !recipient(e.to).admitted) guests.bytes += bytes
        return r
      })()
    },

    /**
     * Deletes read messages older than msgRetentionDays, and in inboxes past their caps (lowered
     * since, or a user no longer admitted) read ones, oldest first, until they fit; unread stay.
     * Works in slices that yield, until `signal` aborts; a sweep asked for while one runs starts after it.
     */
    async sweep(now: number, signal?: AbortSignal): Promise<{ old: number; over: number }> {
      while (sweeping) await sweeping.catch(() => {})
      sweeping = runSweep(now, signal)
      try {
        return await sweeping
      } finally {
        sweeping = undefined
      }
    },

    /** Refuses a message for another node when its sender's queue here is full, or the node's storage. */
    checkOutbox(from: string, bytes: number): void {
      const q = st.queuedBy(from)
      if (q.n >= OUTBOX_MAX) {
        throw new QuotaExceeded(`you have ${q.n} messages waiting to be delivered, the most one sender may queue here; wait until some are delivered or expire (MsgStatus tells where each stands)`)
      }
      if (q.bytes + bytes > OUTBOX_MAX_BYTES) {
        throw new QuotaExceeded(`your messages waiting to be delivered would hold ${q.bytes + bytes} bytes, the most one sender may queue here is ${OUTBOX_MAX_BYTES}; wait until some are delivered or expire (MsgStatus tells where each stands)`)
      }
      storage.chargeNode(bytes)
    },
  }
}

const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve))

export type MsgLimits = ReturnType<typeof msgLimits>
