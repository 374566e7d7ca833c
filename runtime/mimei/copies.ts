// Old versions opened for reading: a read-only in-memory database per version, shared by every
// handle open on it and dropped with the last one, capped per user and node-wide.
import { Database } from 'bun:sqlite'
import { Busy } from '../errors.ts'
import { migrate } from '../store/index.ts'
import type { HandleLimits } from './handles.ts'
import { MiMeiType, type MiMeiRow, type TypeKind } from './model.ts'
import type { VersionRow } from './versions.ts'

/** A read-only in-memory copy of one version, shared by every handle open on it. */
export interface VersionCopy {
  readonly db: Database
  readonly bytes: number
  /** Users holding it, with their handle counts. */
  readonly holders: Map<string, number>
  refs: number
}

export interface CopiesHost {
  readonly limits: HandleLimits
  version(row: MiMeiRow, ver: number): VersionRow
  kind(row: MiMeiRow): TypeKind
}

export class VersionCopies {
  private readonly copies = new Map<string, VersionCopy>()

  constructor(private readonly host: CopiesHost) {}

  /**
   * A read-only in-memory copy of a version, shared by every handle open on it and dropped with
   * the last one. Copies are capped per user and node-wide, so opening old versions cannot
   * exhaust memory.
   */
  open(row: MiMeiRow, ver: number, userId: string, holder: string): VersionCopy {
    const key = `${row.id}:${ver}`
    let copy = this.copies.get(key)
    if (!copy) {
      const version = this.host.version(row, ver)
      // A file version's copy stays empty (its files are read from the blocks): nothing to cap.
      const bytes = row.type === MiMeiType.database ? version.size : 0
      const held = [...this.copies.values()].reduce((n, c) => n + (c.holders.has(userId) ? c.bytes : 0), 0)
      if (bytes && held + bytes > this.host.limits.versionCopyBytesPerUser) {
        throw new Busy(`${holder} already hold old versions of ${held} bytes open; close their handles (MMClose) first`)
      }
      const total = [...this.copies.values()].reduce((n, c) => n + c.bytes, 0)
      if (bytes && (this.copies.size >= this.host.limits.versionCopies || total + bytes > this.host.limits.versionCopyBytes)) {
        throw new Busy(`too many old versions are open on this node (${this.copies.size}, ${total} bytes); try again later or open cur`)
      }
      const db = new Database(':memory:')
      migrate(db)
      // The copy carries the version's sequence number, so GetLastSeq on it tells which writes it holds.
      db.query('INSERT INTO mimei (id, mid, author, app, ext, mark, type, created, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        row.id,
        row.mid,
        row.author,
        row.app,
        row.ext,
        row.mark,
        row.type,
        row.created,
        version.seq,
      )
      this.host.kind(row).load(row, db, version.cid, false)
      copy = { db, bytes, holders: new Map(), refs: 0 }
      this.copies.set(key, copy)
    }
    copy.refs++
    copy.holders.set(userId, (copy.holders.get(userId) ?? 0) + 1)
    return copy
  }

  /** Version copies open now, and their bytes (for tests and the monitor). */
  get stats(): { count: number; bytes: number } {
    return { count: this.copies.size, bytes: [...this.copies.values()].reduce((n, c) => n + c.bytes, 0) }
  }

  release(key: string, userId: string): void {
    const copy = this.copies.get(key)
    if (!copy) return
    const n = (copy.holders.get(userId) ?? 1) - 1
    if (n > 0) copy.holders.set(userId, n)
    else copy.holders.delete(userId)
    if (--copy.refs > 0) return
    this.copies.delete(key)
    copy.db.close()
  }
}
