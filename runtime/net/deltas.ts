// Database versions as deltas: the keys changed between two versions, served on request
// (/leither/mimei since=…), carried inside a version's gossip announcement when small, and applied
// by a replica only when the result hashes to the author's signed CID.
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from '../log/index.ts'
import { MiMeiType, type MiMeiStore } from '../mimei/index.ts'
import { applyDelta, deltaSince, snapshotDb } from '../mimei/db/snapshot.ts'
import { deltaLimit, fetchDelta, type Delta } from './mimeiproto.ts'
import type { VersionRecord } from './records.ts'
import { encodeCbor } from './wire.ts'

/** A delta from the version whose author sequence is `since`. */
export interface SinceDelta extends Delta {
  since: number
}

/** Largest delta (encoded) sent inside an announcement; larger ones are fetched on request. */
export const INLINE_DELTA_MAX = 64 * 1024
/** How long one peer may take to send a delta before the next is asked. */
const DELTA_ASK_MS = 10_000

export interface DeltaDeps {
  mimei: MiMeiStore
  log: Logger
  /** Numeric ids of MiMei this node shares (only their deltas are served). */
  sharedIds(): Set<number>
  /** The signed record of a version held here. */
  recordFor(mid: string, ver?: number): VersionRecord | undefined
  /** The newest record held here of a version older than `ver`. */
  recordBefore(mid: string, ver: number): VersionRecord | undefined
}

export function deltas(deps: DeltaDeps) {
  const { mimei } = deps
  const rowOf = (mid: string) => {
    try {
      return mimei.row(mid)
    } catch {
      return undefined
    }
  }

  /**
   * The keys changed from the author's sequence `since` to version `ver`, when this node's
   * database still is exactly that version (the author's node right after a backup); else none.
   */
  function since(mid: string, ver: number, since: number, maxBytes?: number): Iterable<Delta> | undefined {
    const row = rowOf(mid)
    if (!row || row.type !== MiMeiType.database || row.last !== ver || !deps.sharedIds().has(row.id)) return undefined
    if (mimei.versionInfo(mid, ver).seq !== row.seq || since > row.seq) return undefined
    return deltaSince({ db: mimei.db, m: row.id }, since, maxBytes)
  }

  /** The delta from the previous announced version to `record`, if it is small enough to announce. */
  function forAnnouncement(record: VersionRecord): SinceDelta | undefined {
    if (record.type !== MiMeiType.database) return undefined
    const prev = deps.recordBefore(record.mid, record.ver)
    if (!prev) return undefined
    const parts = since(record.mid, record.ver, prev.seq, INLINE_DELTA_MAX)
    if (!parts) return undefined
    // deltaSince cuts batches at INLINE_DELTA_MAX: a second batch means the delta is too large.
    let one: Delta | undefined
    for (const part of parts) {
      if (one) return undefined
      one = part
    }
    const all: SinceDelta = { since: prev.seq, records: one?.records ?? [], deleted: one?.deleted ?? [] }
    return encodeCbor(all).length <= INLINE_DELTA_MAX ? all : undefined
  }

  /** This replica's last version, when `cur` still is exactly it (no local writes since). */
  function base(record: VersionRecord) {
    if (record.type !== MiMeiType.database) return undefined
    const row = rowOf(record.mid)
    const base = row?.last == null ? undefined : deps.recordFor(record.mid, row.last)
    if (!row || !base || base.ver >= record.ver) return undefined
    const target = { db: mimei.db, m: row.id }
    if (snapshotDb(target, undefined).cid !== base.cid) return undefined
    return { base, target }
  }

  /** Applies a delta in one transaction, kept only if it leads to the signed CID; returns the version's blocks. */
  function apply(record: VersionRecord, target: { db: MiMeiStore['db']; m: number }, delta: Delta): string[] {
    return mimei.db.transaction(() => {
      applyDelta(target, delta)
      if (snapshotDb(target, undefined).cid !== record.cid) throw new Error('the delta does not lead to the signed version')
      return snapshotDb(target, mimei.blocks).blocks
    })()
  }

  /**
   * Database sync by delta: the one that came with the announcement when it starts from this
   * replica's version, else asked of providers. Returns the version's blocks, or undefined to
   * sync by blocks instead.
   */
  async function sync(libp2p: Libp2p, record: VersionRecord, providers: PeerId[], signal: AbortSignal, inline?: SinceDelta): Promise<string[] | undefined> {
    const b = base(record)
    if (!b) return undefined
    if (inline && inline.since === b.base.seq) {
      try {
        return apply(record, b.target, inline)
      } catch (err) {
        deps.log.info('announced delta refused; asking providers', { mid: record.mid, error: (err as Error).message })
      }
    }
    for (const peer of providers.slice(0, 3)) {
      // A peer that does not answer in DELTA_ASK_MS is passed over (the next one, or blocks, instead).
      const one = AbortSignal.any([signal, AbortSignal.timeout(DELTA_ASK_MS)])
      const delta = await fetchDelta(libp2p, peer, record.mid, record.ver, b.base.seq, one, deltaLimit(record, b.base)).catch(() => undefined)
      if (!delta) continue
      try {
        return apply(record, b.target, delta)
      } catch (err) {
        deps.log.info('delta refused; syncing by blocks', { mid: record.mid, peer: peer.toString(), error: (err as Error).message })
      }
    }
    return undefined
  }

  return { since, forAnnouncement, sync }
}

export type Deltas = ReturnType<typeof deltas>
