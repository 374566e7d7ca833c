// Versions of a MiMei: immutable snapshots of `cur` numbered 1, 2, …, made by MMBackup or
// received from the network, with `last` and `release` pointing at them; restore and deletion.
import type { Database } from 'bun:sqlite'
import { InvalidParams, NotFound } from '../errors.ts'
import type { Grant } from '../permissions/index.ts'
import type { BlockStore } from './blocks.ts'
import type { VersionRef } from './handles.ts'
import type { MiMeiRow, StagedLoad, TypeKind } from './model.ts'
import type { RightName } from './rights.ts'
import type { Storage } from './storage.ts'

/** A version as stored: its snapshot's CID and facts. */
export interface VersionRow {
  ver: number
  cid: string
  memo: string
  created: number
  seq: number
  size: number
}

/** A version received from the network, as its signed record describes it. */
export interface ReceivedVersion {
  mid: string
  author: string
  app: string
  ext: string
  mark: string
  type: number
  ver: number
  /** Root CID of the version's snapshot. */
  cid: string
  seq: number
  size: number
  created: number
}

export function parseVersion(v: unknown, row: MiMeiRow): VersionRef {
  if (v === undefined || v === null || v === '' || v === 'cur') return 'cur'
  if (v === 'last' || v === 'release') {
    const n = row[v]
    if (n === null) throw new NotFound(`MiMei ${row.mid} has no ${v} version yet`)
    return n
  }
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN
  // The value is named only when it is a number or a short string: it may be any decoded value.
  const shown = typeof v === 'number' ? String(v) : typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : Array.isArray(v) ? 'a list' : `a ${typeof v === 'object' ? 'map' : typeof v}`
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidParams(`version must be cur, last, release or a number ≥ 1, not ${shown}`)
  return n
}

/** The pin that keeps a version's blocks: v:<MiMei's numeric id>:<version>. */
export const versionPin = (m: number, ver: number): string => `v:${m}:${ver}`

export interface VersionsHost {
  readonly db: Database
  readonly blocks: BlockStore
  readonly storage: Pick<Storage, 'charge'>
  /** The node owner: who pays for a replica nobody asked for. */
  readonly owner: string
  row(mid: string): MiMeiRow
  require(row: MiMeiRow, who: Grant, need: RightName): void
  kind(row: MiMeiRow): TypeKind
  /** Commits the database writes waiting for their group (db/writes.ts). */
  flushWrites(): void
}

export class Versions {
  private readonly backupListeners: ((mid: string, ver: number) => void)[] = []

  constructor(private readonly host: VersionsHost) {}

  /** Version `ver` of the MiMei; NotFound when it has none. */
  version(row: MiMeiRow, ver: number): VersionRow {
    const v = this.host.db.query('SELECT * FROM mimei_versions WHERE m = ? AND ver = ?').get(row.id, ver) as VersionRow | null
    if (!v) throw new NotFound(`MiMei ${row.mid} has no version ${ver}`)
    return v
  }

  async backup(who: Grant, mid: string, memo: string): Promise<number> {
    const row = this.host.row(mid)
    this.host.require(row, who, 'admin')
    // The version holds every write answered or sent before it.
    this.host.flushWrites()
    // Files are hashed and stored in slices first; the transaction below then finds their ids.
    await this.host.kind(row).prepare?.(row, this.host.blocks)
    const created = this.host.db.transaction(() => {
      const fresh = this.host.row(mid)
      const snap = this.host.kind(fresh).snapshot(fresh, this.host.blocks)
      // A version is stored data: its size is charged like cur (refused here, nothing is kept).
      this.host.storage.charge(fresh.charge_to ?? fresh.author, snap.size)
      const ver = fresh.next_ver
      this.host.db
        .query('INSERT INTO mimei_versions (m, ver, cid, memo, created, seq, size) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(fresh.id, ver, snap.cid, memo, Math.floor(Date.now() / 1000), fresh.seq, snap.size)
      this.host.blocks.pinAll(snap.blocks, versionPin(fresh.id, ver))
      this.host.db.query('UPDATE mimei SET last = ?, next_ver = ? WHERE id = ?').run(ver, ver + 1, fresh.id)
      return ver
    })()
    // After the commit: listeners (the network announcing new versions) see it durable.
    for (const listener of this.backupListeners) listener(mid, created)
    return created
  }

  /** Numeric ids of the MiMei whose versions hold block `cid`. */
  holders(cid: string): number[] {
    const owners = this.host.db.query("SELECT owner FROM block_pins WHERE cid = ? AND owner LIKE 'v:%'").values(cid) as string[][]
    return owners.map((o) => Number(o[0].split(':')[1]))
  }

  /** Calls `listener` after every successful backup. */
  onBackup(listener: (mid: string, ver: number) => void): void {
    this.backupListeners.push(listener)
  }

  /** A version as stored: its snapshot CID and facts. */
  versionInfo(mid: string, ver: number) {
    return this.version(this.host.row(mid), ver)
  }

  /**
   * Installs a version received from the network (already verified by its signed record): the
   * MiMei row is created as the author's if missing, the version recorded and pinned, and `cur`
   * replaced by it unless this node holds a newer one. Idempotent. When it will replace `cur`,
   * the long part (a file tree's bytes written out) is done first in slices; the transaction
   * then only moves it in (files/install.ts).
   */
  async installVersion(r: ReceivedVersion, blocks: string[], curReady = false, chargeTo?: string): Promise<void> {
    const held = this.host.db.query('SELECT last FROM mimei WHERE mid = ?').get(r.mid) as { last: number | null } | null
    // The kind depends on the type alone (the row may not exist yet).
    const kind = this.host.kind({ type: r.type } as MiMeiRow)
    const staged = !curReady && (held?.last ?? 0) < r.ver && kind.stage ? await kind.stage(r.cid, true) : undefined
    try {
      this.installNow(r, blocks, curReady, chargeTo, staged)
    } finally {
      staged?.release()
    }
  }

  /** installVersion in one go, for a caller inside a transaction of its own (the app installer). */
  installNow(
    r: ReceivedVersion,
    blocks: string[],
    /** `cur` already holds this version (a database delta was applied): do not reload it. */
    curReady = false,
    /** Who pays for a replica new to this node (default: the node owner, who decides what it provides). */
    chargeTo?: string,
    /** `cur`'s replacement, staged beforehand (installVersion). */
    staged?: StagedLoad,
  ): void {
    this.host.db.transaction(() => {
      if (!this.host.db.query('SELECT 1 FROM mimei WHERE mid = ?').get(r.mid)) {
        const payer = chargeTo ?? this.host.owner
        this.host.db
          .query('INSERT INTO mimei (mid, author, app, ext, mark, type, created, charge_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(r.mid, r.author, r.app, r.ext, r.mark, r.type, r.created, payer === r.author ? null : payer)
      }
      const row = this.host.row(r.mid)
      if (this.host.db.query('SELECT 1 FROM mimei_versions WHERE m = ? AND ver = ?').get(row.id, r.ver)) return
      // The version, and cur when it is replaced by it, are charged to whoever pays for the replica.
      const replacesCur = (row.last ?? 0) < r.ver && !curReady
      this.host.storage.charge(row.charge_to ?? row.author, r.size + (replacesCur ? Math.max(0, r.size - row.bytes) : 0))
      this.host.db
        .query('INSERT INTO mimei_versions (m, ver, cid, memo, created, seq, size) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(row.id, r.ver, r.cid, 'synced', r.created, r.seq, r.size)
      this.host.blocks.pinAll(blocks, versionPin(row.id, r.ver))
      if ((row.last ?? 0) < r.ver) {
        this.host.db.query('UPDATE mimei SET last = ?, next_ver = max(next_ver, ?) WHERE id = ?').run(r.ver, r.ver + 1, row.id)
        if (!curReady) staged ? staged.apply(row) : this.host.kind(row).load(row, this.host.db, r.cid, true, true)
      }
    })()
  }

  release(who: Grant, mid: string, ver: unknown): number {
    const row = this.host.row(mid)
    this.host.require(row, who, 'admin')
    const v = parseVersion(ver, row)
    if (v === 'cur') throw new InvalidParams('only a numbered version can be released; back up cur first')
    this.version(row, v)
    this.host.db.query('UPDATE mimei SET release = ? WHERE id = ?').run(v, row.id)
    return v
  }

  /**
   * Replaces `cur` with a version. A file version's bytes are read, hash-checked and written out
   * first in slices (kind.stage); the transaction then only moves them in.
   */
  async restore(who: Grant, mid: string, ver: unknown): Promise<number> {
    const { row, v, cid } = this.toRestore(who, mid, ver)
    const kind = this.host.kind(row)
    const staged = kind.stage ? await kind.stage(cid, false) : undefined
    try {
      this.host.db.transaction(() => {
        const fresh = this.host.row(mid)
        if (staged) staged.apply(fresh)
        else kind.load(fresh, this.host.db, cid, true)
      })()
    } finally {
      staged?.release()
    }
    return v
  }

  /** restore in one turn of the event loop (for a caller that cannot wait: the app installer's undo). */
  restoreNow(who: Grant, mid: string, ver: unknown): number {
    const { row, v, cid } = this.toRestore(who, mid, ver)
    this.host.db.transaction(() => this.host.kind(row).load(row, this.host.db, cid, true))()
    return v
  }

  private toRestore(who: Grant, mid: string, ver: unknown): { row: MiMeiRow; v: number; cid: string } {
    const row = this.host.row(mid)
    this.host.require(row, who, 'admin')
    const v = parseVersion(ver, row)
    if (v === 'cur') throw new InvalidParams('restore takes a numbered version')
    return { row, v, cid: this.version(row, v).cid }
  }

  delVersions(who: Grant, mid: string, vers: unknown[]): number {
    const row = this.host.row(mid)
    this.host.require(row, who, 'admin')
    const list = vers.map((v) => parseVersion(v, row))
    for (const v of list) {
      if (v === 'cur') throw new InvalidParams('cur cannot be deleted')
      if (v === row.release) throw new InvalidParams(`version ${v} is released; release another version first`)
    }
    return this.host.db.transaction(() => {
      let n = 0
      for (const v of list as number[]) {
        n += this.host.db.query('DELETE FROM mimei_versions WHERE m = ? AND ver = ?').run(row.id, v).changes
        this.host.blocks.unpinOwner(versionPin(row.id, v))
      }
      const last = this.host.db.query('SELECT max(ver) AS v FROM mimei_versions WHERE m = ?').get(row.id) as { v: number | null }
      this.host.db.query('UPDATE mimei SET last = ? WHERE id = ?').run(last.v, row.id)
      return n
    })()
  }

  versions(who: Grant, mid: string) {
    const row = this.host.row(mid)
    this.host.require(row, who, 'read')
    const list = this.host.db.query('SELECT ver, cid, memo, created, seq, size FROM mimei_versions WHERE m = ? ORDER BY ver').all(row.id)
    return { mid, last: row.last, release: row.release, curSeq: row.seq, versions: list }
  }

  /** Content digest of a version (its snapshot CID); for cur, computed without storing blocks. */
  async sum(who: Grant, mid: string, ver: unknown): Promise<string> {
    const row = this.host.row(mid)
    this.host.require(row, who, 'read')
    const v = parseVersion(ver, row)
    if (v !== 'cur') return this.version(row, v).cid
    // Files are hashed in slices first; the snapshot then finds their ids cached.
    await this.host.kind(row).prepare?.(row, undefined)
    const fresh = this.host.row(mid)
    return this.host.kind(fresh).snapshot(fresh, undefined).cid
  }
}
