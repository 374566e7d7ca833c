// What this node keeps of MiMei across nodes: which MiMei it shares and how (publish: it is the
// author's node; provide: a replica that follows the author), and the signed version records it
// has seen (tables net_shared and net_records).
import type { Database } from 'bun:sqlite'
import { decodeRecord, encodeRecord, type VersionRecord } from './records.ts'

export type ShareMode = 'publish' | 'provide'

export function recordStore(db: () => Database) {
  /** Numeric MiMei ids shared here, cached: the block server asks for every block it serves. */
  let ids = new Set<number>()
  const refresh = () => {
    ids = new Set((db().query('SELECT m.id FROM net_shared s JOIN mimei m ON m.mid = s.mid').all() as { id: number }[]).map((r) => r.id))
  }
  const one = (sql: string, ...args: (string | number)[]) => {
    const row = db().query(sql).get(...args) as { record: Uint8Array } | null
    return row ? decodeRecord(row.record) : undefined
  }

  return {
    refresh,
    sharedIds: () => ids,
    shared(): { mid: string; mode: ShareMode }[] {
      return db().query('SELECT mid, mode FROM net_shared').all() as { mid: string; mode: ShareMode }[]
    },
    /** The MiMei this node provides (follows as a replica). */
    provided(): string[] {
      return (db().query("SELECT mid FROM net_shared WHERE mode = 'provide'").values() as string[][]).map((r) => r[0]!)
    },
    mode(mid: string): ShareMode | undefined {
      return (db().query('SELECT mode FROM net_shared WHERE mid = ?').get(mid) as { mode: ShareMode } | null)?.mode
    },
    share(mid: string, mode: ShareMode): void {
      db().query('INSERT INTO net_shared (mid, mode, since) VALUES (?, ?, ?) ON CONFLICT (mid) DO UPDATE SET mode = excluded.mode').run(mid, mode, Date.now())
      refresh()
    },
    unshare(mid: string): boolean {
      const gone = db().query('DELETE FROM net_shared WHERE mid = ?').run(mid).changes > 0
      refresh()
      return gone
    },
    keep(r: VersionRecord): void {
      db().query('INSERT OR REPLACE INTO net_records (mid, ver, record) VALUES (?, ?, ?)').run(r.mid, r.ver, encodeRecord(r))
    },
    /** The signed record of a version (newest when ver is undefined), if this node holds it. */
    get(mid: string, ver?: number): VersionRecord | undefined {
      return ver === undefined
        ? one('SELECT record FROM net_records WHERE mid = ? ORDER BY ver DESC LIMIT 1', mid)
        : one('SELECT record FROM net_records WHERE mid = ? AND ver = ?', mid, ver)
    },
    /** The newest record held here of a version older than `ver`. */
    before(mid: string, ver: number): VersionRecord | undefined {
      return one('SELECT record FROM net_records WHERE mid = ? AND ver < ? ORDER BY ver DESC LIMIT 1', mid, ver)
    },
  }
}

export type RecordStore = ReturnType<typeof recordStore>
