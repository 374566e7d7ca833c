// Open MiMei handles (Leither's mmsid): what is open, by whom, with which rights; idle ones expire.
import { holderKey, type Principal } from '../permissions/index.ts'
import { idleTable } from './idle-table.ts'
import type { DbTarget } from './db/core.ts'

export type VersionRef = 'cur' | number

/**
 * Memory bounds of open handles. Past a limit MMOpen answers Busy; nothing already open suffers.
 * - handlesPerUser: open MiMei handles of one user (all guests count as one).
 * - versionCopies / versionCopyBytes: old database versions opened as in-memory copies, node-wide.
 * - versionCopyBytesPerUser: the bytes of such copies one user (all guests together) holds.
 * - txBytesPerUser / txBytes: writes queued in open transactions (Begin … Commit), per opener and
 *   node-wide; past them the queued write is refused with QuotaExceeded.
 */
export interface HandleLimits {
  handlesPerUser: number
  versionCopies: number
  versionCopyBytes: number
  versionCopyBytesPerUser: number
  txBytesPerUser: number
  txBytes: number
}

export const DEFAULT_HANDLE_LIMITS: Readonly<HandleLimits> = {
  handlesPerUser: 1024,
  versionCopies: 64,
  versionCopyBytes: 256 * 1024 * 1024,
  versionCopyBytesPerUser: 64 * 1024 * 1024,
  txBytesPerUser: 64 * 1024 * 1024,
  txBytes: 256 * 1024 * 1024,
}

export interface Transaction {
  /** MiMei sequence number when Begin ran: keys changed after it are conflicts. */
  readonly beginSeq: number
  /** Keys read or written inside the transaction. */
  readonly keys: Set<string>
  /** Queued writes, applied together by Commit. */
  readonly ops: { name: string; run: (target: DbTarget) => unknown }[]
  /** Encoded size of the queued writes' arguments (capped, see syscalls/db.ts); change it with HandleTable.addTxBytes. */
  bytes: number
  readonly timer: ReturnType<typeof setTimeout>
}

export interface Handle {
  readonly id: string
  readonly mid: string
  readonly m: number
  readonly type: number
  readonly ver: VersionRef
  /** Who opened it: the handle works for them only while their session lives. */
  readonly owner: Principal
  /** Who pays for what is written through it (the MiMei's author, or a replica's requester), and its app. */
  readonly payer: string
  readonly app: string
  /** The opener's rights bits on the MiMei, as of `epoch` (re-read when rights change). */
  rights: number
  epoch: number
  /** Where the data is: the node database for `cur`, a shared read-only copy for versions. */
  readonly target: DbTarget
  /** Drops this handle's hold on a version copy. */
  readonly release?: () => void
  lastUsed: number
  tx?: Transaction
}

export interface HandleTable {
  add(h: Omit<Handle, 'id' | 'lastUsed'>): Handle
  /** The live handle, or NotFound. Access is checked by MiMeiStore.checkHandle first. */
  get(id: string): Handle
  close(id: string): boolean
  /** Closes every handle `match` accepts; later uses are denied with `because` when given. */
  closeWhere(match: (h: Handle) => boolean, because?: string): number
  /** Open handles held by a holder (holderKey: a user, or the guests of one address). */
  countOf(key: string): number
  /** Bytes queued in the open transactions of handles a user opened. */
  txBytesOf(userId: string): number
  /** Bytes queued in every open transaction. */
  readonly txBytes: number
  /** Counts `bytes` more queued in the transaction open on `h`. */
  addTxBytes(h: Handle, bytes: number): void
  /** Ends the transaction open on `h` (Commit, Rollback, its timeout) and releases its bytes; returns it. */
  endTx(h: Handle): Transaction | undefined
  /** Closes handles idle longer than `idleSec`. */
  sweep(idleSec: number): number
  closeAll(): void
  readonly size: number
}

export function handleTable(): HandleTable {
  const perUser = new Map<string, number>()
  const txPerUser = new Map<string, number>()
  let txBytes = 0
  const countTx = (userId: string, bytes: number) => {
    txBytes += bytes
    const n = (txPerUser.get(userId) ?? 0) + bytes
    if (n > 0) txPerUser.set(userId, n)
    else txPerUser.delete(userId)
  }
  const endTx = (h: Handle) => {
    const tx = h.tx
    if (!tx) return undefined
    h.tx = undefined
    clearTimeout(tx.timer)
    countTx(h.owner.userId, -tx.bytes)
    return tx
  }
  const table = idleTable<Handle>((h) => {
    endTx(h)
    h.release?.()
    const key = holderKey(h.owner)
    const n = (perUser.get(key) ?? 1) - 1
    if (n > 0) perUser.set(key, n)
    else perUser.delete(key)
  }, 'unknown or expired MiMei handle; open it again with MMOpen')
  return {
    add(fields) {
      const h = table.add(fields)
      perUser.set(holderKey(h.owner), (perUser.get(holderKey(h.owner)) ?? 0) + 1)
      return h
    },
    get: (id) => table.get(id),
    close: (id) => table.close(id),
    closeWhere: (match, because) => table.closeWhere(match, because),
    countOf: (key) => perUser.get(key) ?? 0,
    txBytesOf: (userId) => txPerUser.get(userId) ?? 0,
    get txBytes() {
      return txBytes
    },
    addTxBytes(h, bytes) {
      if (!h.tx) return
      h.tx.bytes += bytes
      countTx(h.owner.userId, bytes)
    },
    endTx,
    sweep: (idleSec) => table.sweep(idleSec),
    closeAll: () => table.closeAll(),
    get size() {
      return table.size
    },
  }
}
