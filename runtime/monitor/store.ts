// The monitor's table: hourly rows and their days, written in batches, read for MonitorStats, pruned.
import type { Database } from 'bun:sqlite'
import { BUCKETS, decodeHistInto, encodeHist, mergeInto } from './histogram.ts'
import type { Kind, Snapshot } from './recorder.ts'

export const HOUR_SEC = 3600
export const DAY_SEC = 86400

/** Start of the UTC day holding `sec` (unix seconds). Days are UTC days on every node. */
export const dayStart = (sec: number) => sec - (((sec % DAY_SEC) + DAY_SEC) % DAY_SEC)

/** One stored row: a syscall or route over one hour (span 3600) or one UTC day (span 86400). */
export interface StoredRow {
  span: number
  /** Unix seconds. */
  start: number
  kind: Kind
  name: string
  count: number
  errors: number
  totalMs: number
  maxMs: number
  hist: Uint32Array
}

interface RawRow {
  span: number
  start: number
  kind: Kind
  name: string
  count: number
  errors: number
  total_ms: number
  max_ms: number
  hist: Uint8Array
}

export class MonitorTable {
  constructor(private readonly db: () => Database) {}

  /** Adds what the snapshots counted to their hour's row and their day's row, in one transaction. */
  write(snaps: readonly Snapshot[]): void {
    if (!snaps.length) return
    const db = this.db()
    const read = db.query<{ hist: Uint8Array }, [number, number, string, string]>(
      'SELECT hist FROM monitor_stats WHERE span = ? AND start = ? AND kind = ? AND name = ?',
    )
    const upsert = db.query(
      `INSERT INTO monitor_stats (span, start, kind, name, count, errors, total_ms, max_ms, hist) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (span, start, kind, name) DO UPDATE SET count = count + excluded.count, errors = errors + excluded.errors,
         total_ms = total_ms + excluded.total_ms, max_ms = max(max_ms, excluded.max_ms), hist = excluded.hist`,
    )
    const hist = new Uint32Array(BUCKETS)
    db.transaction(() => {
      for (const s of snaps) {
        const hour = Math.floor(s.hour / 1000)
        for (const [span, start] of [[HOUR_SEC, hour], [DAY_SEC, dayStart(hour)]] as const) {
          hist.set(s.hist)
          decodeHistInto(read.get(span, start, s.kind, s.name)?.hist, hist)
          upsert.run(span, start, s.kind, s.name, s.count, s.errors, s.totalMs, s.maxMs, encodeHist(hist))
        }
      }
    })()
  }

  /**
   * Rows of one span overlapping [fromSec, toSec), optionally of one kind or name, at most `limit`
   * (the caller learns there were more when it gets limit rows back).
   */
  read(span: number, fromSec: number, toSec: number, filter: { kind?: Kind; name?: string }, limit: number): StoredRow[] {
    const raw = this.db()
      .query<RawRow, [number, number, number, string | null, string | null, number]>(
        `SELECT span, start, kind, name, count, errors, total_ms, max_ms, hist FROM monitor_stats
         WHERE span = ?1 AND start > ?2 - ?1 AND start < ?3 AND (?4 IS NULL OR kind = ?4) AND (?5 IS NULL OR name = ?5)
         ORDER BY start, kind, name LIMIT ?6`,
      )
      .all(span, fromSec, toSec, filter.kind ?? null, filter.name ?? null, limit)
    return raw.map((r) => {
      const hist = new Uint32Array(BUCKETS)
      decodeHistInto(r.hist, hist)
      return { span: r.span, start: r.start, kind: r.kind, name: r.name, count: r.count, errors: r.errors, totalMs: r.total_ms, maxMs: r.max_ms, hist }
    })
  }

  /** Deletes hourly rows older than `hourlyDays` and daily rows older than `dailyDays`; returns how many. */
  prune(nowSec: number, hourlyDays: number, dailyDays: number): number {
    const db = this.db()
    const hours = db.run('DELETE FROM monitor_stats WHERE span = ? AND start < ?', [HOUR_SEC, nowSec - hourlyDays * DAY_SEC]).changes
    const days = db.run('DELETE FROM monitor_stats WHERE span = ? AND start < ?', [DAY_SEC, dayStart(nowSec) - dailyDays * DAY_SEC]).changes
    return hours + days
  }
}

/** Sums rows of the same kind and name (histograms merged, so p95 stays right). */
export function sumRows(rows: readonly StoredRow[], key: (r: StoredRow) => string): Map<string, StoredRow> {
  const out = new Map<string, StoredRow>()
  for (const r of rows) {
    const k = key(r)
    const acc = out.get(k)
    if (!acc) {
      out.set(k, { ...r, hist: r.hist.slice() })
      continue
    }
    acc.count += r.count
    acc.errors += r.errors
    acc.totalMs += r.totalMs
    if (r.maxMs > acc.maxMs) acc.maxMs = r.maxMs
    mergeInto(acc.hist, r.hist)
  }
  return out
}
