// MiMei: the unit of data and apps (docs/mimei.md). MiMeiStore is the subsystem: it owns the
// connection, blocks, handles and files, creates and lists MiMei, opens handles, and hands each
// concept to its module: rights (access.ts), versions (versions.ts, copies.ts), references
// (refs.ts), quotas (quota.ts), the database type (db/), the file type (files/).
import type { Database } from 'bun:sqlite'
import { randomUUID } from 'node:crypto'
import { Busy, InvalidParams, NotFound, PermissionDenied } from '../errors.ts'
import { holderKey, holderName, principalOf, type Grant, type HandleAccess, type Principal } from '../permissions/index.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import type { Store } from '../store/index.ts'
import { Access } from './access.ts'
import { blockStore, type BlockStore } from './blocks.ts'
import { VersionCopies } from './copies.ts'
import { totalBytes } from './db/core.ts'
import { loadSnapshot, snapshotDb } from './db/snapshot.ts'
import { WriteQueue } from './db/writes.ts'
import { FileStore } from './files/index.ts'
import { DEFAULT_HANDLE_LIMITS, handleTable, type Handle, type HandleLimits, type HandleTable } from './handles.ts'
import { AUTO_MARK, mimeiId, MiMeiType, type MiMeiRow, type TypeKind } from './model.ts'
import { Quotas } from './quota.ts'
import { References } from './refs.ts'
import { EVERYONE_MASK, requireRight, Right, rightNames, type RightName } from './rights.ts'
import { Storage } from './storage.ts'
import { parseVersion, Versions, type ReceivedVersion } from './versions.ts'

export { Right, type RightName } from './rights.ts'
export { DEFAULT_HANDLE_LIMITS, type Handle, type HandleLimits } from './handles.ts'
export { AUTO_MARK, mimeiId, MiMeiType, type MiMeiRow, type TypeKind } from './model.ts'
export { parseVersion } from './versions.ts'

export interface MiMeiComponents extends BaseComponents {
  readonly store: Store
}

export class MiMeiStore implements Subsystem {
  readonly name = 'mimei'
  readonly kinds = new Map<number, TypeKind>()
  /** File MiMei: trees of files, file handles, the file kind. */
  readonly files: FileStore
  /** Who may store here, what each user stored, and the gate every stored byte passes. */
  readonly storage: Storage
  readonly access: Access
  readonly versionStore: Versions
  readonly copies: VersionCopies
  readonly refs: References
  readonly quotas: Quotas
  private blocksStore: BlockStore | undefined
  private handleSet: HandleTable | undefined
  private writeQueue: WriteQueue | undefined
  private sweeper: ReturnType<typeof setInterval> | undefined
  /** Handles unused this long are closed (Leither: handles time out). */
  handleIdleSec = 600
  /**
   * The data space of an app: its id, or the namespace ("ns:<name>") its manifest declares and
   * holds on this node (runtime/apps/spaces.ts sets this). Its MiMei and data areas use that name.
   */
  dataSpace: (app: string) => string = (app) => app
  readonly limits: HandleLimits = { ...DEFAULT_HANDLE_LIMITS }

  constructor(private readonly c: MiMeiComponents) {
    const self = this
    this.storage = new Storage({
      get db() {
        return c.store.db
      },
      config: c.config,
      dataDir: c.dataDir,
      tempBytes: (user) => this.files.tempBytes(user),
    })
    this.files = new FileStore({ mimei: this, dataDir: c.dataDir, log: c.log.child('files'), maxFileBytes: () => c.config.maxFileBytes })
    this.kinds.set(MiMeiType.file, this.files.kind)
    this.kinds.set(MiMeiType.database, {
      snapshot: (m, blocks) => snapshotDb({ db: this.db, m: m.id }, blocks),
      load: (m, db, cid, live) => {
        loadSnapshot({ db, m: m.id }, this.blocks, cid, live)
        // The restored keys replace the old ones: recount the size quotas are checked against.
        if (live) db.query('UPDATE mimei SET bytes = ? WHERE id = ?').run(totalBytes({ db, m: m.id }), m.id)
      },
    })
    // The modules see the store through narrow hosts: they never import this file.
    const base = {
      get db() {
        return self.db
      },
      get blocks() {
        return self.blocks
      },
      get handles() {
        return self.handles
      },
      /** Read when used: the owner is set after construction on a new node. */
      get owner() {
        return self.owner
      },
      row: (mid: string) => this.row(mid),
      require: (row: MiMeiRow, who: Grant, need: RightName) => this.require(row, who, need),
      kind: (row: MiMeiRow) => this.kind(row),
    }
    // Each host inherits `base`, so its getters stay lazy (a spread would read them now, before start).
    const host = <T extends object>(extra: T): typeof base & T => Object.assign(Object.create(base) as typeof base, extra)
    this.access = new Access(host({ dataSpace: (app: string) => this.dataSpace(app), closeFileHandles: (match: Parameters<FileStore['closeWhere']>[0], because: string) => this.files.closeWhere(match, because) }))
    this.versionStore = new Versions(host({ storage: this.storage, flushWrites: () => this.writeQueue?.flush() }))
    this.copies = new VersionCopies({ limits: this.limits, version: (row, ver) => this.versionStore.version(row, ver), kind: (row) => this.kind(row) })
    this.refs = new References(host({ contentBlocks: (cid: string) => this.files.contentBlocks(cid) }))
    this.quotas = new Quotas(host({ config: c.config, storage: this.storage }))
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

  private kind(row: MiMeiRow): TypeKind {
    const k = this.kinds.get(row.type)
    if (!k) throw new InvalidParams(`MiMei type ${row.type} has no storage on this node`)
    return k
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

  // — rights (access.ts) —

  rightsOf(row: MiMeiRow, who: Principal): number {
    return this.access.rightsOf(row, who)
  }
  require(row: MiMeiRow, who: Grant, need: RightName): void {
    this.access.require(row, who, need)
  }
  setRight(who: Grant, mid: string, member: string, bits: number): number {
    return this.access.setRight(who, mid, member, bits)
  }
  getRight(who: Grant, mid: string, member: string): number {
    return this.access.getRight(who, mid, member)
  }
  rightsChanged(): void {
    this.access.rightsChanged()
  }
  currentRights(mid: string, owner: Principal, cached: { rights: number; epoch: number }): number {
    return this.access.currentRights(mid, owner, cached)
  }
  checkHandle(id: unknown, access: HandleAccess): Principal {
    return this.access.checkHandle(id, access)
  }
  closeHandlesOf(ended: { userId: string; sid?: string; app?: string }): number {
    return this.access.closeHandlesOf(ended)
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
    const base = { mid, m: row.id, type: row.type, ver: v, owner, rights, epoch: this.access.rightsEpoch, payer: row.charge_to ?? row.author, app: row.app }
    if (v === 'cur') return this.handles.add({ ...base, target: { db: this.db, m: row.id } })
    const holder = holderKey(who)
    const copy = this.copies.open(row, v, holder, holderName(who))
    return this.handles.add({ ...base, target: { db: copy.db, m: row.id }, release: () => this.copies.release(`${row.id}:${v}`, holder) })
  }

  /** Version copies open now, and their bytes (for tests and the monitor). */
  get versionCopies(): { count: number; bytes: number } {
    return this.copies.stats
  }

  // — versions (versions.ts) —

  backup(who: Grant, mid: string, memo: string): Promise<number> {
    return this.versionStore.backup(who, mid, memo)
  }
  onBackup(listener: (mid: string, ver: number) => void): void {
    this.versionStore.onBackup(listener)
  }
  versionInfo(mid: string, ver: number) {
    return this.versionStore.versionInfo(mid, ver)
  }
  installVersion(r: ReceivedVersion, blocks: string[], curReady = false, chargeTo?: string): Promise<void> {
    return this.versionStore.installVersion(r, blocks, curReady, chargeTo)
  }
  /** installVersion in one go, inside a caller's transaction (a large file tree blocks the loop meanwhile). */
  installVersionNow(r: ReceivedVersion, blocks: string[], curReady = false, chargeTo?: string): void {
    this.versionStore.installNow(r, blocks, curReady, chargeTo)
  }
  release(who: Grant, mid: string, ver: unknown): number {
    return this.versionStore.release(who, mid, ver)
  }
  restore(who: Grant, mid: string, ver: unknown): Promise<number> {
    return this.versionStore.restore(who, mid, ver)
  }
  /** restore in one turn of the event loop (a large file version blocks it meanwhile). */
  restoreNow(who: Grant, mid: string, ver: unknown): number {
    return this.versionStore.restoreNow(who, mid, ver)
  }
  delVersions(who: Grant, mid: string, vers: unknown[]): number {
    return this.versionStore.delVersions(who, mid, vers)
  }
  versions(who: Grant, mid: string) {
    return this.versionStore.versions(who, mid)
  }
  sum(who: Grant, mid: string, ver: unknown): Promise<string> {
    return this.versionStore.sum(who, mid, ver)
  }

  /** Whether block `cid` may be served to peers: a version of a MiMei in `shared` holds it. */
  isServable(cid: string, shared: ReadonlySet<number>): boolean {
    return this.blocks.has(cid) && this.versionStore.holders(cid).some((m) => shared.has(m))
  }

  // — references (refs.ts) —

  addRefs(who: Grant, mid: string, refs: string[]): number {
    return this.refs.addRefs(who, mid, refs)
  }
  delRefs(who: Grant, mid: string, refs: string[]): number {
    return this.refs.delRefs(who, mid, refs)
  }
  getRefs(who: Grant, mid: string): Record<string, number> {
    return this.refs.getRefs(who, mid)
  }

  /** Frees blocks nothing holds: mac files whose pins ran out first, then every unpinned block. */
  gc(graceSec?: number) {
    this.files.unpinExpiredMac()
    return this.blocks.gc(graceSec)
  }

  // — quotas (quota.ts) —

  admitReplica(mid: string, payer: string, size: number): void {
    this.quotas.admitReplica(mid, payer, size)
  }
  chargeWrite(h: Handle, size: () => number): void {
    this.quotas.chargeWrite(h, size)
  }
  quotasApply(payer: string): boolean {
    return this.quotas.quotasApply(payer)
  }
  checkQuota(row: MiMeiRow, incoming: number): void {
    this.quotas.checkQuota(row, incoming)
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
