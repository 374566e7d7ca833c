// Transactions on a database handle (Begin … Commit): writes queued in memory within limits, then
// applied at once, or not at all (Conflict) when another writer changed a key the transaction touched.
import { Conflict, InvalidParams, QuotaExceeded } from '../../errors.ts'
import type { Handle, HandleLimits, HandleTable } from '../handles.ts'
import { q, type DbTarget } from './core.ts'
import type { WriteQueue } from './writes.ts'

/** Longest a transaction may stay open before it is rolled back by itself. */
export const MAX_TX_SEC = 3600
/** Most writes, and most encoded bytes, one transaction may queue before Commit. */
export const MAX_TX_OPS = 10_000
export const MAX_TX_BYTES = 16 * 1024 * 1024

/** What transactions need of the MiMei store. */
export interface TxHost {
  readonly handles: HandleTable
  readonly limits: HandleLimits
  readonly writes: WriteQueue
  /** Whether a write by `payer` must be sized (some quota or the node's size limit applies). */
  quotasApply(payer: string): boolean
}

/** The sequence number of the last write to the handle's database. */
export function lastSeq(t: DbTarget): number {
  return (q(t.db, 'SELECT seq FROM mimei WHERE id = ?').get(t.m) as { seq: number }).seq
}

/** Opens a transaction on `h`; it rolls back by itself after `timeoutSec` unless committed. */
export function begin(host: TxHost, h: Handle, timeoutSec: number, onTimeout: () => void): void {
  if (h.tx) throw new InvalidParams('a transaction is already open on this handle; Commit or Rollback it first')
  if (!(timeoutSec >= 1 && timeoutSec <= MAX_TX_SEC)) throw new InvalidParams(`timeoutSec must be 1..${MAX_TX_SEC}`)
  // Writes answered before Begin are in the database before its sequence number is read.
  host.writes.flush()
  const beginSeq = lastSeq(h.target)
  const timer = setTimeout(() => {
    if (h.tx?.timer === timer) {
      host.handles.endTx(h)
      onTimeout()
    }
  }, timeoutSec * 1000)
  timer.unref?.()
  h.tx = { beginSeq, keys: new Set(), ops: [], bytes: 0, timer }
}

/**
 * Queues a write of `bytes` encoded bytes in the open transaction, held to a count and a size
 * where it enters: per transaction, per user (over all their handles) and node-wide.
 */
export function enqueue(host: TxHost, h: Handle, name: string, bytes: number, run: (target: DbTarget) => unknown): 'QUEUED' {
  const tx = h.tx
  if (!tx) throw new InvalidParams('no transaction is open on this handle')
  if (tx.ops.length >= MAX_TX_OPS || tx.bytes + bytes > MAX_TX_BYTES) {
    throw new QuotaExceeded(`a transaction queues at most ${MAX_TX_OPS} writes and ${MAX_TX_BYTES} bytes; Commit it and begin another`)
  }
  const { handles, limits } = host
  if (handles.txBytesOf(h.owner.userId) + bytes > limits.txBytesPerUser) {
    throw new QuotaExceeded(`your open transactions queue at most ${limits.txBytesPerUser} bytes in all; Commit or Rollback one first`)
  }
  if (handles.txBytes + bytes > limits.txBytes) {
    throw new QuotaExceeded(`the node's open transactions already queue ${handles.txBytes} bytes (at most ${limits.txBytes}); Commit now or try again later`)
  }
  handles.addTxBytes(h, bytes)
  tx.ops.push({ name, run })
  return 'QUEUED'
}

/**
 * Applies the queued writes of `h`'s transaction in one group of the write queue: Conflict (nothing
 * applied) when a key it touched was changed after Begin. Answers once the group is committed.
 */
export function commit(host: TxHost, h: Handle): Promise<unknown[]> {
  if (!h.tx) throw new InvalidParams('no transaction is open on this handle; call Begin first')
  const tx = host.handles.endTx(h)!
  const { db } = h.target
  return host.writes.write(() => {
    const changed = q(db, 'SELECT key FROM kv WHERE m = ? AND key = ? AND seq > ? UNION SELECT key FROM kv_deleted WHERE m = ? AND key = ? AND seq > ?')
    for (const key of tx.keys) {
      if (changed.get(h.m, key, tx.beginSeq, h.m, key, tx.beginSeq)) {
        throw new Conflict(`key "${key}" was changed by another writer after Begin; nothing was applied, retry the transaction`)
      }
    }
    // Without quotas nothing reads the MiMei's counters mid-batch: the writes count the sequence
    // number and size in memory and store them once, at the end.
    const target: DbTarget = host.quotasApply(h.payer) ? h.target : { ...h.target, counter: { seq: lastSeq(h.target), delta: 0 } }
    const results = tx.ops.map((queued) => queued.run(target))
    if (target.counter) q(db, 'UPDATE mimei SET seq = ?, bytes = max(bytes + ?, 0) WHERE id = ?').run(target.counter.seq, target.counter.delta, h.m)
    return results
  })
}

/** Drops the queued writes of the open transaction. */
export function rollback(host: TxHost, h: Handle): void {
  if (!h.tx) throw new InvalidParams('no transaction is open on this handle')
  host.handles.endTx(h)
}
