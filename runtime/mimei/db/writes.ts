// Group commit of database writes: writes that arrive in the same turn of the event loop are
// applied together in one SQLite transaction, and each is answered only after that transaction
// committed. One commit (one WAL append) then serves many writes instead of one each.
import type { Database } from 'bun:sqlite'
import { WriteFailed } from '../../errors.ts'
import { q } from './core.ts'

/** A group is committed at once when it holds this many writes (bounds a reply's wait). */
export const MAX_GROUP = 1024

/** A MiMei's sequence number and size change, counted in memory over a group and stored once. */
export interface SeqCounter {
  seq: number
  delta: number
}

interface Pending {
  /** The MiMei whose counters the write may count in memory (its writes are not sized for quotas). */
  m?: number
  run: (counter?: SeqCounter) => unknown
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

  /**
   * Queues `run` for the current group; the promise settles once the group is committed. With `m`,
   * `run` gets a counter of MiMei m's sequence number and size, shared by the group's writes to it
   * and stored once at the end (as a Commit does): two statements less per write.
   */
  write<T>(run: (counter?: SeqCounter) => T, m?: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ m, run: run as Pending['run'], resolve: resolve as (v: unknown) => void, reject })
      if (this.queue.length >= MAX_GROUP) this.flush()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Applies and commits the queued writes now; their promises settle after the commit. */
  flush(): void {
    // Nothing waiting (a turn scheduled before an earlier flush): nothing to touch, not even a closed database.
    if (!this.queue.length) {
      this.scheduled = false
      return
    }
    const { db } = this
    // Inside someone else's transaction a commit would not be ours to answer: wait for the next turn.
    if (db.inTransaction) {
      if (this.queue.length && !this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
      return
    }
    this.scheduled = false
    const batch = this.queue
    this.queue = []
    const results: ({ ok: true; value: unknown } | { ok: false; err: unknown })[] = []
    // Prepared once per connection: a savepoint per write costs two cached statements, where
    // db.transaction() would prepare its SAVEPOINT and RELEASE again on every call.
    const run = (sql: string) => void q(db, sql).run()
    let failed: unknown
    const counters = new Map<number, SeqCounter>()
    const store = () => {
      for (const [m, c] of counters) q(db, 'UPDATE mimei SET seq = ?, bytes = max(bytes + ?, 0) WHERE id = ?').run(c.seq, c.delta, m)
      counters.clear()
    }
    run('BEGIN')
    for (const p of batch) {
      let counter: SeqCounter | undefined
      if (p.m === undefined) store() // a write that reads the counters from the row: they are stored first
      else if (!(counter = counters.get(p.m))) {
        const row = q(db, 'SELECT seq FROM mimei WHERE id = ?').get(p.m) as { seq: number } | null
        if (row) counters.set(p.m, (counter = { seq: row.seq, delta: 0 }))
      }
      const before = counter && { ...counter }
      run('SAVEPOINT leither_write')
      try {
        results.push({ ok: true, value: p.run(counter) })
        run('RELEASE leither_write')
      } catch (err) {
        results.push({ ok: false, err })
        run('ROLLBACK TO leither_write')
        run('RELEASE leither_write')
        if (counter && before) Object.assign(counter, before)
      }
    }
    try {
      store()
      run('COMMIT')
    } catch (err) {
      failed = err
      try {
        run('ROLLBACK')
      } catch {}
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
