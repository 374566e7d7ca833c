// Group commit of database writes: writes that arrive in the same turn of the event loop are
// applied together in one SQLite transaction, and each is answered only after that transaction
// committed. One commit (one WAL append) then serves many writes instead of one each.
import type { Database } from 'bun:sqlite'
import { WriteFailed } from '../../errors.ts'
import { transact } from './core.ts'

/** A group is committed at once when it holds this many writes (bounds a reply's wait). */
export const MAX_GROUP = 1024

interface Pending {
  run: () => unknown
  resolve(v: unknown): void
  reject(err: unknown): void
}

/**
 * The writes queued on one connection. A write runs in its own savepoint inside the group: when it
 * throws, it alone fails and is undone. When the group's commit fails, every write in it fails
 * (WriteFailed) and none is kept. Reads and transactions call `flush` first, so they see every
 * write that arrived before them, committed, in order.
 */
export class WriteQueue {
  private queue: Pending[] = []
  private scheduled = false
  /** Groups committed and writes in them (the monitor and the bench read these). */
  readonly stats = { groups: 0, writes: 0 }

  constructor(private readonly db: Database) {}

  /** Queues `run` for the current group; the promise settles once the group is committed. */
  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject })
      if (this.queue.length >= MAX_GROUP) this.flush()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Applies and commits the queued writes now; their promises settle after the commit. */
  flush(): void {
    this.scheduled = false
    const batch = this.queue
    if (!batch.length) return
    this.queue = []
    const results: ({ ok: true; value: unknown } | { ok: false; err: unknown })[] = []
    let failed: unknown
    try {
      transact(this.db, () => {
        for (const p of batch) {
          try {
            results.push({ ok: true, value: transact(this.db, p.run) })
          } catch (err) {
            results.push({ ok: false, err })
          }
        }
      })
    } catch (err) {
      failed = err
    }
    this.stats.groups++
    this.stats.writes += batch.length
    for (const [i, p] of batch.entries()) {
      const r = results[i]
      if (r && !r.ok) p.reject(r.err)
      else if (failed !== undefined) p.reject(new WriteFailed(`the write could not be committed (${String((failed as Error)?.message ?? failed).slice(0, 200)}); nothing of it was kept, send it again`))
      else p.resolve(r?.ok ? r.value : undefined)
    }
  }
}
