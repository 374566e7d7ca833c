// MiMei: the unit of data and apps. Objects with deterministic ids, rights, git-like versions
// (immutable snapshots in content-addressed blocks), references, handles, and quotas.
import { Database } from 'bun:sqlite'
import { randomUUID } from 'node:crypto'
import { sha256 } from '@noble/hashes/sha2.js'
import { Busy, InvalidParams, NotFound, PermissionDenied, QuotaExceeded } from '../errors.ts'
import { holderKey, holderName, isOwnerOrSystem, principalOf, type Grant, type HandleAccess, type Principal } from '../permissions/index.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import { toBase64Url } from '../identity/index.ts'
import type { Store } from '../store/index.ts'
import { migrate } from '../store/index.ts'
import { blockStore, type BlockStore } from './blocks.ts'
import { FileStore } from './files/index.ts'
import { DEFAULT_HANDLE_LIMITS, handleTable, type Handle, type HandleLimits, type HandleTable, type VersionRef } from './handles.ts'
import { WriteQueue } from './db/writes.ts'
import { ALL_RIGHTS, EVERYONE_MASK, requireRight, Right, rightNames, type RightName } from './rights.ts'
import { totalBytes } from './db/core.ts'
import { loadSnapshot, snapshotDb } from './snapshot.ts'
import { Storage } from './storage.ts'
import type { MiMeiInfo } from '../rpc/browser/types.ts'

export { Right, type RightName } from './rights.ts'
export { DEFAULT_HANDLE_LIMITS, type Handle, type HandleLimits } from './handles.ts'

export const MiMeiType = { file: 1, database: 2 } as const
export const AUTO_MARK = '{{auto}}'

/** A read-only in-memory copy of one version, shared by every handle open on it. */
interface VersionCopy {
  readonly db: Database
  readonly bytes: number
  /** Users holding it, with their handle counts. */
  readonly holders: Map<string, number>
  refs: number
}

/** A row of the mimei table: what MMList shows (MiMeiInfo, the wire's shape) and the node's own columns. */
export interface MiMeiRow extends MiMeiInfo {
  id: number
  next_ver: number
  /** Who pays for its bytes when not its author (a replica's requester); null = the author. */
  charge_to: string | null
}

/** How a MiMei type snapshots and restores its `cur` (database here; files register theirs). */
export interface TypeKind {
  snapshot(m: MiMeiRow, blocks: BlockStore | undefined): { cid: string; blocks: string[]; size: number }
  /** Long work done beforehand in slices (hashing files), so that `snapshot` is quick. */
  prepare?(m: MiMeiRow, blocks: BlockStore | undefined): Promise<void>
  /** Replaces `cur` (live) or fills a private copy with version `cid`. */
  load(m: MiMeiRow, db: Database, cid: string, live: boolean): void
}

export interface MiMeiComponents extends BaseComponents {
  readonly store: Store
}

/** Deterministic id: same author, app, ext and mark → same MiMei, on any node. */
export function mimeiId(author: string, app: string, ext: string, mark: string): string {
  return toBase64Url(sha256(new TextEncoder().encode(`mimei\n${author}\n${app}\n${ext}\n${mark}`)).subarray(0, 20))
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

export class MiMeiStore implements Subsystem {
  readonly name = 'mimei'
  readonly kinds = new Map<number, TypeKind>()
  /** File MiMei: trees of files, file handles, the file kind. */
  readonly files: FileStore
  private blocksStore: BlockStore | undefined
  private handleSet: HandleTable | undefined
  private writeQueue: WriteQueue | undefined
  private sweeper: ReturnType<typeof setInterval> | undefined
  private readonly copies = new Map<string, VersionCopy>()
  /** Bumped whenever any rights change: handles re-read theirs on next use. */
  private rightsEpoch = 0
  /** Handles unused this long are closed (Leither: handles time out). */
  handleIdleSec = 600
  /**
   * The data space of an app: its id, or the namespace ("ns:<name>") its manifest declares and
   * holds on this node (runtime/apps/spaces.ts sets this). Its MiMei and data areas use that name.
   */
  dataSpace: (app: string) => string = (app) => app
  readonly limits: HandleLimits = { ...DEFAULT_HANDLE_LIMITS }
  /** Who may store here, what each user stored, and the gate every stored byte passes. */
  readonly storage: Storage

  constructor(private readonly c: MiMeiComponents) {
    this.storage = new Storage({
      get db() {
        return c.store.db
      },
      config: c.config,
      dataDir: c.dataDir,
      tempBytes: (user) => this.files.tempBytes(user),
    })
    this.files = new FileStore({ mimei: this, dataDir: c.dataDir, log: c.log.child('files'), parseVersion, maxFileBytes: () => c.config.maxFileBytes })
    this.kinds.set(MiMeiType.file, this.files.kind)
    this.kinds.set(MiMeiType.database, {
      snapshot: (m, blocks) => snapshotDb({ db: this.db, m: m.id }, blocks),
      load: (m, db, cid, live) => {
        loadSnapshot({ db, m: m.id }, this.blocks, cid, live)
        // The restored keys replace the old ones: recount the size quotas are checked against.
        if (live) db.query('UPDATE mimei SET bytes = ? WHERE id = ?').run(totalBytes({ db, m: m.id }), m.id)
      },
    })
  }

  /** The node owner's user id (who pays for what the node itself keeps). */
  get owner(): string {
    return this.c.config.owner
  }

  get db(): Database {
    return this.c.store.db
  }
  get blocks(): BlockStore {
    if (!this.blocksStore) throw new Error('mimei is not started')
    return this.blocksStore
  }
  /** Database writes, committed in groups (db/writes.ts). */
  get writes(): WriteQueue {
    return (this.writeQueue ??= new WriteQueue(this.db))
  }
  get handles(): HandleTable {
    if (!this.handleSet) throw new Error('mimei is not started')
    return this.handleSet
  }

  start(): void {
    this.blocksStore = blockStore(this.db, this.c.dataDir)
    this.handleSet = handleTable()
    this.storage.start()
    this.files.start()
    this.sweeper = setInterval(() => {
      this.handleSet?.sweep(this.handleIdleSec)
      this.files.sweep(this.handleIdleSec)
    }, 60_000)
    this.sweeper.unref?.()
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper)
    this.writeQueue?.flush()
    this.handleSet?.closeAll()
    this.files.stop()
    this.blocksStore?.close()
  }

  // — objects —

  row(mid: string): MiMeiRow {
    const r = this.db.query('SELECT * FROM mimei WHERE mid = ?').get(mid) as MiMeiRow | null
    if (!r) throw new NotFound(`no MiMei ${String(mid).slice(0, 40)} on this node`)
    return r
  }

  /** The rights bits `who` holds on the MiMei. Guests read at most: they never store. */
  rightsOf(row: MiMeiRow, who: Principal): number {
    const get = this.db.query('SELECT bits FROM mimei_rights WHERE m = ? AND member = ?')
    // An app's session holds its user's rights on the app's own MiMei only; elsewhere it reads what everyone may.
    if (who.app && row.app !== who.app && row.app !== this.dataSpace(who.app)) return ((get.get(row.id, '') as { bits: number } | null)?.bits ?? 0) & Right.read
    if (isOwnerOrSystem(who) || (who.userId && who.userId === row.author)) return ALL_RIGHTS
    const everyone = get.get(row.id, '') as { bits: number } | null
    if (!who.userId) return (everyone?.bits ?? 0) & Right.read
    const own = get.get(row.id, who.userId) as { bits: number } | null
    return (own?.bits ?? 0) | ((everyone?.bits ?? 0) & EVERYONE_MASK)
  }

  require(row: MiMeiRow, who: Grant, need: RightName): void {
    requireRight(this.rightsOf(row, who), need, who.userId, row.mid)
  }

  create(who: Grant, app: string, ext: string, mark: string, type: number, everyone: number): string {
    if (!who.userId) throw new InvalidParams('a guest cannot create MiMei; log in first')
    if (who.app && app !== who.app && app !== this.dataSpace(who.app)) throw new PermissionDenied(`an app creates MiMei of its own only: pass appid "${who.app}"`)
    this.storage.requireStorer(who.userId)
    return this.insert(who.userId, app, ext, mark, type, everyone)
  }

  /** Creates the MiMei of `author` unless it exists; the caller has checked who may. */
  private insert(author: string, app: string, ext: string, mark: string, type: number, everyone: number): string {
    if (type !== MiMeiType.file && type !== MiMeiType.database) throw new InvalidParams('type must be 1 (file) or 2 (database)')
    if (mark === AUTO_MARK) mark = randomUUID()
    const mid = mimeiId(author, app, ext, mark)
    this.db.transaction(() => {
      const existing = this.db.query('SELECT id FROM mimei WHERE mid = ?').get(mid)
      if (existing) return
      const r = this.db
        .query('INSERT INTO mimei (mid, author, app, ext, mark, type, created) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id')
        .get(mid, author, app, ext, mark, type, Math.floor(Date.now() / 1000)) as { id: number }
      const bits = everyone & EVERYONE_MASK
      if (bits) this.db.query('INSERT INTO mimei_rights (m, member, bits) VALUES (?, ?, ?)').run(r.id, '', bits)
    })()
    return mid
  }

  info(who: Grant, mid: string) {
    const row = this.row(mid)
    this.require(row, who, 'read')
    const rights = Object.fromEntries(
      (this.db.query('SELECT member, bits FROM mimei_rights WHERE m = ?').all(row.id) as { member: string; bits: number }[]).map((r) => [r.member, r.bits]),
    )
    return {
      mid: row.mid,
      author: row.author,
      app: row.app,
      ext: row.ext,
      mark: row.mark,
      type: row.type,
      created: row.created,
      seq: row.seq,
      bytes: row.bytes,
      last: row.last,
      release: row.release,
      rights,
      yourRights: rightNames(this.rightsOf(row, who)),
    }
  }

  /** MiMei the caller authored (the node owner: every MiMei on the node), newest first. */
  list(who: Grant, app: string | undefined, start: number, count: number) {
    if (!who.userId) throw new InvalidParams('a guest has no MiMei; log in first')
    if (who.app) app = who.app
    const all = who.kind === 'owner' && !who.app
    const rows = this.db
      .query(
        `SELECT mid, author, app, ext, mark, type, created, seq, bytes, last, release FROM mimei
         WHERE (? OR author = ?) AND (? IS NULL OR app = ?) ORDER BY created DESC, id DESC LIMIT ? OFFSET ?`,
      )
      .all(all ? 1 : 0, who.userId, app ?? null, app ?? null, Math.min(Math.max(count, 0), 1000), Math.max(start, 0))
    return rows
  }

  setRight(who: Grant, mid: string, member: string, bits: number): number {
    const row = this.row(mid)
    this.require(row, who, 'admin')
    if (!Number.isSafeInteger(bits) || bits < 0) throw new InvalidParams('rights must be a non-negative integer')
    const clean = bits & (member === '' ? EVERYONE_MASK : ALL_RIGHTS)
    if (clean === 0) this.db.query('DELETE FROM mimei_rights WHERE m = ? AND member = ?').run(row.id, member)
    else this.db.query('INSERT INTO mimei_rights (m, member, bits) VALUES (?, ?, ?) ON CONFLICT (m, member) DO UPDATE SET bits = excluded.bits').run(row.id, member, clean)
    this.rightsChanged()
    // Handles that lost the read right close now; lost write rights are refused on next use.
    const lost = (owner: Principal) => (this.rightsOf(row, owner) & Right.read) === 0
    const because = `the read right on MiMei ${mid} was taken away; this handle was closed`
    this.handles.closeWhere((h) => h.m === row.id && lost(h.owner), because)
    this.files.closeWhere((m, owner) => m === row.mid && lost(owner), because)
    return clean
  }

  /** Every open handle re-reads its rights on next use (cheap: one number compared per call). */
  rightsChanged(): void {
    this.rightsEpoch++
  }

  /** Closes the handles a principal opened: all of a user's, or one session's. */
  closeHandlesOf(ended: { userId: string; sid?: string; app?: string }): number {
    const match = (owner: Principal) =>
      ended.sid ? owner.sid === ended.sid : ended.app ? owner.app === ended.app : owner.userId === ended.userId && owner.kind !== 'guest'
    const because = 'the session that opened this handle has ended; log in again and reopen it'
    return this.handles.closeWhere((h) => match(h.owner), because) + this.files.closeWhere((_mid, owner) => match(owner), because)
  }

  /**
   * The rights `owner` holds on MiMei `mid`, re-read only when rights changed since `cached`
   * (permissions/ calls this on every handle use).
   */
  currentRights(mid: string, owner: Principal, cached: { rights: number; epoch: number }): number {
    if (cached.epoch !== this.rightsEpoch) {
      cached.rights = this.rightsOf(this.row(mid), owner)
      cached.epoch = this.rightsEpoch
    }
    return cached.rights
  }

  /** Checks a MiMei handle for `access` and returns its opener (the resolver of permissions/). */
  checkHandle(id: unknown, access: HandleAccess): Principal {
    const h = this.handles.get(id as string)
    const bits = this.currentRights(h.mid, h.owner, h)
    if ((bits & Right.read) === 0) {
      this.handles.close(h.id)
      requireRight(bits, 'read', h.owner.userId, h.mid)
    }
    if (access === 'write') {
      if (h.ver !== 'cur') throw new PermissionDenied(`version ${h.ver} of MiMei ${h.mid} is read-only; open "cur" to write`)
      requireRight(bits, 'write', h.owner.userId, h.mid)
    }
    return h.owner
  }

  getRight(who: Grant, mid: string, member: string): number {
    const row = this.row(mid)
    this.require(row, who, 'read')
    // "" is everyone: what every logged-in user holds (guests of those only read).
    if (member === '') return ((this.db.query("SELECT bits FROM mimei_rights WHERE m = ? AND member = ''").get(row.id) as { bits: number } | null)?.bits ?? 0) & EVERYONE_MASK
    return this.rightsOf(row, { userId: member, kind: 'user', sid: '' })
  }

  // — handles —

  open(who: Grant, mid: string, ver: unknown): Handle {
    const row = this.row(mid)
    const rights = this.rightsOf(row, who)
    requireRight(rights, 'read', who.userId, mid)
    const v = parseVersion(ver, row)
    if (this.handles.countOf(holderKey(who)) >= this.limits.handlesPerUser) {
      throw new Busy(`${holderName(who)} already hold ${this.limits.handlesPerUser} open MiMei handles; close some with MMClose`)
    }
    const owner = principalOf(who)
    const base = { mid, m: row.id, type: row.type, ver: v, owner, rights, epoch: this.rightsEpoch, payer: row.charge_to ?? row.author, app: row.app }
    if (v === 'cur') return this.handles.add({ ...base, target: { db: this.db, m: row.id } })
    const holder = holderKey(who)
    const copy = this.versionCopy(row, v, holder, holderName(who))
    return this.handles.add({ ...base, target: { db: copy.db, m: row.id }, release: () => this.releaseCopy(`${row.id}:${v}`, holder) })
  }

  /**
   * A read-only in-memory copy of a version, shared by every handle open on it and dropped with
   * the last one. Copies are capped per user and node-wide, so opening old versions cannot
   * exhaust memory.
   */
  private versionCopy(row: MiMeiRow, ver: number, userId: string, holder: string): VersionCopy {
    const key = `${row.id}:${ver}`
    let copy = this.copies.get(key)
    if (!copy) {
      const version = this.version(row, ver)
      // A file version's copy stays empty (its files are read from the blocks): nothing to cap.
      const bytes = row.type === MiMeiType.database ? version.size : 0
      const held = [...this.copies.values()].reduce((n, c) => n + (c.holders.has(userId) ? c.bytes : 0), 0)
      if (bytes && held + bytes > this.limits.versionCopyBytesPerUser) {
        throw new Busy(`${holder} already hold old versions of ${held} bytes open; close their handles (MMClose) first`)
      }
      const total = [...this.copies.values()].reduce((n, c) => n + c.bytes, 0)
      if (bytes && (this.copies.size >= this.limits.versionCopies || total + bytes > this.limits.versionCopyBytes)) {
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
      this.kind(row).load(row, db, version.cid, false)
      copy = { db, bytes, holders: new Map(), refs: 0 }
      this.copies.set(key, copy)
    }
    copy.refs++
    copy.holders.set(userId, (copy.holders.get(userId) ?? 0) + 1)
    return copy
  }

  /** Version copies open now, and their bytes (for tests and the monitor). */
  get versionCopies(): { count: number; bytes: number } {
    return { count: this.copies.size, bytes: [...this.copies.values()].reduce((n, c) => n + c.bytes, 0) }
  }

  private releaseCopy(key: string, userId: string): void {
    const copy = this.copies.get(key)
    if (!copy) return
    const n = (copy.holders.get(userId) ?? 1) - 1
    if (n > 0) copy.holders.set(userId, n)
    else copy.holders.delete(userId)
    if (--copy.refs > 0) return
    this.copies.delete(key)
    copy.db.close()
  }

  private kind(row: MiMeiRow): TypeKind {
    const k = this.kinds.get(row.type)
    if (!k) throw new InvalidParams(`MiMei type ${row.type} has no storage on this node`)
    return k
  }

  // — versions —

  private version(row: MiMeiRow, ver: number) {
    const v = this.db.query('SELECT * FROM mimei_versions WHERE m = ? AND ver = ?').get(row.id, ver) as
      | { ver: number; cid: string; memo: string; created: number; seq: number; size: number }
      | null
    if (!v) throw new NotFound(`MiMei ${row.mid} has no version ${ver}`)
    return v
  }

  async backup(who: Grant, mid: string, memo: string): Promise<number> {
    const row = this.row(mid)
    this.require(row, who, 'admin')
    // The version holds every write answered or sent before it.
    this.writeQueue?.flush()
    // Files are hashed and stored in slices first; the transaction below then finds their ids.
    await this.kind(row).prepare?.(row, this.blocks)
    const created = this.db.transaction(() => {
      const fresh = this.row(mid)
      const snap = this.kind(fresh).snapshot(fresh, this.blocks)
      // A version is stored data: its size is charged like cur (refused here, nothing is kept).
      this.storage.charge(fresh.charge_to ?? fresh.author, snap.size)
      const ver = fresh.next_ver
      this.db
        .query('INSERT INTO mimei_versions (m, ver, cid, memo, created, seq, size) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(fresh.id, ver, snap.cid, memo, Math.floor(Date.now() / 1000), fresh.seq, snap.size)
      for (const cid of snap.blocks) this.blocks.pin(cid, `v:${fresh.id}:${ver}`)
      this.db.query('UPDATE mimei SET last = ?, next_ver = ? WHERE id = ?').run(ver, ver + 1, fresh.id)
      return ver
    })()
    // After the commit: listeners (the network announcing new versions) see it durable.
    for (const listener of this.backupListeners) listener(mid, created)
    return created
  }

  private readonly backupListeners: ((mid: string, ver: number) => void)[] = []

  /** Calls `listener` after every successful backup. */
  onBackup(listener: (mid: string, ver: number) => void): void {
    this.backupListeners.push(listener)
  }

  /** A version as stored: its snapshot CID and facts. */
  versionInfo(mid: string, ver: number) {
    return this.version(this.row(mid), ver)
  }

  /**
   * Installs a version received from the network (already verified by its signed record): the
   * MiMei row is created as the author's if missing, the version recorded and pinned, and `cur`
   * replaced by it unless this node holds a newer one. Idempotent.
   */
  installVersion(
    r: { mid: string; author: string; app: string; ext: string; mark: string; type: number; ver: number; cid: string; seq: number; size: number; created: number },
    blocks: string[],
    /** `cur` already holds this version (a database delta was applied): do not reload it. */
    curReady = false,
    /** Who pays for a replica new to this node (default: the node owner, who decides what it provides). */
    chargeTo?: string,
  ): void {
    this.db.transaction(() => {
      if (!this.db.query('SELECT 1 FROM mimei WHERE mid = ?').get(r.mid)) {
        const payer = chargeTo ?? this.c.config.owner
        this.db
          .query('INSERT INTO mimei (mid, author, app, ext, mark, type, created, charge_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(r.mid, r.author, r.app, r.ext, r.mark, r.type, r.created, payer === r.author ? null : payer)
      }
      const row = this.row(r.mid)
      if (this.db.query('SELECT 1 FROM mimei_versions WHERE m = ? AND ver = ?').get(row.id, r.ver)) return
      // The version, and cur when it is replaced by it, are charged to whoever pays for the replica.
      const replacesCur = (row.last ?? 0) < r.ver && !curReady
      this.storage.charge(row.charge_to ?? row.author, r.size + (replacesCur ? Math.max(0, r.size - row.bytes) : 0))
      this.db
        .query('INSERT INTO mimei_versions (m, ver, cid, memo, created, seq, size) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(row.id, r.ver, r.cid, 'synced', r.created, r.seq, r.size)
      for (const cid of blocks) this.blocks.pin(cid, `v:${row.id}:${r.ver}`)
      if ((row.last ?? 0) < r.ver) {
        this.db.query('UPDATE mimei SET last = ?, next_ver = max(next_ver, ?) WHERE id = ?').run(r.ver, r.ver + 1, row.id)
        if (!curReady) this.kind(row).load(row, this.db, r.cid, true)
      }
    })()
  }

  release(who: Grant, mid: string, ver: unknown): number {
    const row = this.row(mid)
    this.require(row, who, 'admin')
    const v = parseVersion(ver, row)
    if (v === 'cur') throw new InvalidParams('only a numbered version can be released; back up cur first')
    this.version(row, v)
    this.db.query('UPDATE mimei SET release = ? WHERE id = ?').run(v, row.id)
    return v
  }

  restore(who: Grant, mid: string, ver: unknown): number {
    const row = this.row(mid)
    this.require(row, who, 'admin')
    const v = parseVersion(ver, row)
    if (v === 'cur') throw new InvalidParams('restore takes a numbered version')
    const version = this.version(row, v)
    this.db.transaction(() => this.kind(row).load(row, this.db, version.cid, true))()
    return v
  }

  delVersions(who: Grant, mid: string, vers: unknown[]): number {
    const row = this.row(mid)
    this.require(row, who, 'admin')
    const list = vers.map((v) => parseVersion(v, row))
    for (const v of list) {
      if (v === 'cur') throw new InvalidParams('cur cannot be deleted')
      if (v === row.release) throw new InvalidParams(`version ${v} is released; release another version first`)
    }
    return this.db.transaction(() => {
      let n = 0
      for (const v of list as number[]) {
        n += this.db.query('DELETE FROM mimei_versions WHERE m = ? AND ver = ?').run(row.id, v).changes
        this.blocks.unpinOwner(`v:${row.id}:${v}`)
      }
      const last = this.db.query('SELECT max(ver) AS v FROM mimei_versions WHERE m = ?').get(row.id) as { v: number | null }
      this.db.query('UPDATE mimei SET last = ? WHERE id = ?').run(last.v, row.id)
      return n
    })()
  }

  versions(who: Grant, mid: string) {
    const row = this.row(mid)
    this.require(row, who, 'read')
    const list = this.db.query('SELECT ver, cid, memo, created, seq, size FROM mimei_versions WHERE m = ? ORDER BY ver').all(row.id)
    return { mid, last: row.last, release: row.release, curSeq: row.seq, versions: list }
  }

  /** Content digest of a version (its snapshot CID); for cur, computed without storing blocks. */
  async sum(who: Grant, mid: string, ver: unknown): Promise<string> {
    const row = this.row(mid)
    this.require(row, who, 'read')
    const v = parseVersion(ver, row)
    if (v !== 'cur') return this.version(row, v).cid
    // Files are hashed in slices first; the snapshot then finds their ids cached.
    await this.kind(row).prepare?.(row, undefined)
    const fresh = this.row(mid)
    return this.kind(fresh).snapshot(fresh, undefined).cid
  }

  // — references —

  addRefs(who: Grant, mid: string, refs: string[]): number {
    const row = this.row(mid)
    this.require(row, who, 'admin')
    this.db.transaction(() => {
      for (const ref of refs) {
        this.db.query('INSERT INTO mimei_refs (m, ref, count) VALUES (?, ?, 1) ON CONFLICT (m, ref) DO UPDATE SET count = count + 1').run(row.id, ref)
        // A reference to content keeps its blocks alive: a mac file's chunks with its manifest.
        if (this.blocks.has(ref)) for (const cid of this.files.contentBlocks(ref)) this.blocks.pin(cid, `r:${row.id}:${ref}`)
      }
    })()
    return refs.length
  }

  delRefs(who: Grant, mid: string, refs: string[]): number {
    const row = this.row(mid)
    this.require(row, who, 'admin')
    let n = 0
    this.db.transaction(() => {
      for (const ref of refs) {
        const r = this.db.query('UPDATE mimei_refs SET count = count - 1 WHERE m = ? AND ref = ? RETURNING count').get(row.id, ref) as { count: number } | null
        if (!r) continue
        n++
        if (r.count <= 0) {
          this.db.query('DELETE FROM mimei_refs WHERE m = ? AND ref = ?').run(row.id, ref)
          this.blocks.unpinOwner(`r:${row.id}:${ref}`)
        }
      }
    })()
    return n
  }

  getRefs(who: Grant, mid: string): Record<string, number> {
    const row = this.row(mid)
    this.require(row, who, 'read')
    return Object.fromEntries((this.db.query('SELECT ref, count FROM mimei_refs WHERE m = ? ORDER BY ref').all(row.id) as { ref: string; count: number }[]).map((r) => [r.ref, r.count]))
  }

  /** Frees blocks nothing holds: mac files whose pins ran out first, then every unpinned block. */
  gc(graceSec?: number) {
    this.files.unpinExpiredMac()
    return this.blocks.gc(graceSec)
  }

  /**
   * Refuses a replica of `size` bytes for `payer` before any byte of it is fetched (the sync
   * calls this with the signed size of the version it is about to fetch).
   */
  admitReplica(mid: string, payer: string, size: number): void {
    const row = this.db.query('SELECT charge_to, author, bytes FROM mimei WHERE mid = ?').get(mid) as { charge_to: string | null; author: string; bytes: number } | null
    this.storage.charge(row ? (row.charge_to ?? row.author) : payer, row ? size + Math.max(0, size - row.bytes) : 2 * size)
  }

  // — quotas —

  /** Refuses a write of `incoming` bytes that would take the author or the app past its quota. */
  /**
   * The gate of a database write through handle `h`. Without limits that need sizes, the exact
   * size is not computed (only who may store and the disk floor are checked): `size` is lazy.
   */
  chargeWrite(h: Handle, size: () => number): void {
    if (!this.quotasApply(h.payer)) return this.storage.charge(h.payer, 1)
    const n = size()
    if (n > 0) this.checkQuota(this.row(h.mid), n)
  }

  /** Whether a write paid by `payer` must be sized: an app quota, the node's size limit or the payer's quota applies. */
  quotasApply(payer: string): boolean {
    const { config } = this.c
    return config.quotaAppBytes > 0 || config.storageMaxBytes > 0 || this.storage.quotaOf(payer) > 0
  }

  checkQuota(row: MiMeiRow, incoming: number): void {
    this.storage.charge(row.charge_to ?? row.author, incoming)
    const { quotaAppBytes } = this.c.config
    if (quotaAppBytes > 0 && incoming > 0) {
      const used = (this.db.query('SELECT coalesce(sum(bytes), 0) AS n FROM mimei WHERE app = ?').get(row.app) as { n: number }).n
      if (used + incoming > quotaAppBytes) {
        throw new QuotaExceeded(`app ${row.app || '(none)'} would use ${used + incoming} of ${quotaAppBytes} bytes; delete data or raise quotaAppBytes`)
      }
    }
  }

  // — app data —

  /** The database of an app for this user, this node or the app as a whole, created on first use. */
  openAppData(who: Grant, app: string, scope: string): Handle {
    if (!['user', 'node', 'app'].includes(scope)) throw new InvalidParams('scope must be user, node or app')
    // An app that holds a data namespace keeps its areas there: the same ids on every node.
    const space = this.dataSpace(app)
    if (who.app && space !== this.dataSpace(who.app)) throw new PermissionDenied(`an app opens its own data areas only: pass appid "${who.app}"`)
    if (scope === 'user' && !who.userId) throw new InvalidParams('user app data needs a session')
    // node and app scopes belong to the node owner's space, so they exist once per node.
    const owner = scope === 'user' ? who.userId : this.c.config.owner
    const mid = mimeiId(owner, space, 'appdata', scope)
    if (!this.db.query('SELECT 1 FROM mimei WHERE mid = ?').get(mid)) {
      if (scope === 'user') this.storage.requireStorer(owner)
      const everyone = scope === 'user' ? 0 : Right.read | Right.write
      this.insert(owner, space, 'appdata', scope, MiMeiType.database, everyone)
    }
    return this.open(who, mid, 'cur')
  }
}

export function mimei() {
  return (components: MiMeiComponents): MiMeiStore => new MiMeiStore(components)
}
