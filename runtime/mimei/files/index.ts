// File MiMei (type 1): a tree of directories and files. Owns the file handles, the file kind's
// snapshot/restore, and the lifecycle of file bytes on disk.
//
// Storage of `cur`: metadata in SQLite (`file_nodes`: one row per entry with parent, name, kind,
// size, mtime, a stable `ino` and a cached content id) and each file's bytes in a real file
// <dataDir>/files/<m>/<ino>. Real files make writes in place at any offset cheap and keep memory
// flat whatever the size (a 2 GB file is written and read through a 16 MiB window at most, and
// snapshots stream it in 256 KiB chunks); SQLite rows keep listing, rename (metadata only: bytes
// are named by ino, not path) and accounting transactional. Versions are content-addressed
// blocks (see snapshot.ts) and are read straight from the blocks, never copied back to disk.
// (Bytes in SQLite would need blob rewrites or chunk rows on every write past an offset, and
// would grow the node database and its WAL with bulk data.)
import { closeSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Conflict, InvalidParams, NotFound, PermissionDenied } from '../../errors.ts'
import type { Logger } from '../../log/index.ts'
import { principalOf, type Grant, type HandleAccess, type Principal } from '../../permissions/index.ts'
import type { Database } from 'bun:sqlite'
import type { BlockStore } from '../blocks.ts'
import { copyBlocks } from '../copier.ts'
import type { HandleTable } from '../handles.ts'
import { MiMeiType, type MiMeiRow, type TypeKind } from '../model.ts'
import { requireRight, Right, type RightName } from '../rights.ts'
import type { Storage } from '../storage.ts'
import { parseVersion } from '../versions.ts'
import { chunkFileSliced, readManifest } from './content.ts'
import { clearTemp, reconcile, unlinkUnreferenced } from './disk.ts'
import { fileHandleTable, newHandleId, type FileHandle, type FileSource } from './handles.ts'
import { stat, readdir, mimeOf, type FileInfo } from './info.ts'
import { read, truncate, write, type FileEnv } from './io.ts'
import { openFlags } from './flags.ts'
import { normalizePath } from './path.ts'
import { servable, type Served } from './serve.ts'
import { applyStaged, stageNow, stageSliced, stageTree, type StagedTree } from './install.ts'
import { prepareTree, resolveStored, snapshotTree } from './snapshot.ts'
import { createFile, diskPath, mkdirAll, nodeAt, nodeByIno, removeAll, rename, type Tree } from './tree.ts'

/** What the file store needs of the MiMei store (runtime/mimei/index.ts, which this module never imports). */
export interface FileMiMeiHost {
  readonly db: Database
  readonly blocks: BlockStore
  readonly handles: HandleTable
  readonly storage: Pick<Storage, 'charge' | 'requireStorer'>
  row(mid: string): MiMeiRow
  require(row: MiMeiRow, who: Grant, need: RightName): void
  checkQuota(row: MiMeiRow, incoming: number): void
  checkHandle(id: unknown, access: HandleAccess): Principal
  currentRights(mid: string, owner: Principal, cached: { rights: number; epoch: number }): number
}

export interface FileHost {
  readonly mimei: FileMiMeiHost
  readonly dataDir: string
  readonly log: Logger
  /** The node's largest file in bytes (config maxFileBytes). */
  maxFileBytes(): number
}

export class FileStore {
  readonly handles = fileHandleTable()
  readonly filesRoot: string
  readonly tmpRoot: string
  readonly env: FileEnv

  constructor(private readonly host: FileHost) {
    this.filesRoot = join(host.dataDir, 'files')
    this.tmpRoot = join(host.dataDir, 'tmp')
    this.env = {
      get blocks() {
        return host.mimei.blocks
      },
      live: (h) => this.live(h),
      checkQuota: (row, n) => host.mimei.checkQuota(row, n),
      chargeTemp: (h, n) => host.mimei.storage.charge(h.owner.userId, n),
      maxFileBytes: () => host.maxFileBytes(),
    }
  }

  /** How versions of file MiMei are made and restored (registered by the MiMei store). */
  readonly kind: TypeKind = {
    snapshot: (m, blocks) => snapshotTree(this.tree(m), blocks),
    prepare: (m, blocks) => prepareTree(this.tree(m), blocks),
    load: (m, _db, cid, live, checked) => {
      // A version handle reads its files straight from the blocks; its private copy stays empty.
      if (!live) return
      const dir = this.stagingDir()
      try {
        this.applyStaged(m, stageNow(stageTree(this.host.mimei.blocks, cid, dir, undefined, checked)))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
    stage: async (cid, checked) => {
      // The bytes are copied in slices before the caller's transaction; it only moves them in.
      const dir = this.stagingDir()
      try {
        const staged = await stageSliced(stageTree(this.host.mimei.blocks, cid, dir, undefined, checked, copyBlocks))
        return { apply: (m) => this.applyStaged(m, staged), release: () => rmSync(dir, { recursive: true, force: true }) }
      } catch (err) {
        rmSync(dir, { recursive: true, force: true })
        throw err
      }
    },
  }

  /** A fresh folder to stage a version's files in (under tmp/, cleared at start). */
  private stagingDir(): string {
    return join(this.tmpRoot, `install-${newHandleId()}`)
  }

  private applyStaged(m: MiMeiRow, staged: StagedTree): void {
    const t = this.tree(m)
    const { dropped, written } = applyStaged(t, staged)
    // This runs inside the caller's transaction: delete bytes once it has settled, and only
    // those no row refers to — the old files after a commit, the new ones after a rollback.
    queueMicrotask(() => unlinkUnreferenced(t, [...dropped, ...written]))
  }

  tree(row: Pick<MiMeiRow, 'id' | 'created'>): Tree {
    return { db: this.host.mimei.db, m: row.id, disk: join(this.filesRoot, String(row.id)), created: row.created * 1000 }
  }

  start(): void {
    mkdirSync(this.filesRoot, { recursive: true, mode: 0o700 })
    mkdirSync(this.tmpRoot, { recursive: true, mode: 0o700 })
    clearTemp(this.tmpRoot)
    reconcile(this.host.mimei.db, this.filesRoot, this.host.log)
  }

  stop(): void {
    this.handles.closeAll()
  }

  sweep(idleSec: number): number {
    return this.handles.sweep(idleSec)
  }

  /** The live tree, row and node behind a `cur` handle. */
  live(h: FileHandle) {
    if (h.source.kind !== 'cur') throw new Error('not a cur handle')
    const row = this.host.mimei.row(h.source.mid)
    const t = this.tree(row)
    const node = nodeByIno(t, h.source.ino)
    if (!node) throw new NotFound(`the file of this handle was removed from MiMei ${h.source.mid}; open it again`)
    return { t, row, node }
  }

  get(id: string): FileHandle {
    return this.handles.get(id)
  }

  /** Checks a file handle for `access` and returns its opener (the resolver of permissions/). */
  checkHandle(id: unknown, access: HandleAccess): Principal {
    const h = this.handles.get(id as string)
    if (h.source.kind === 'cur' || h.source.kind === 'version') {
      // Rights on the MiMei are re-read when they changed since the handle last looked.
      const bits = this.host.mimei.currentRights(h.source.mid, h.owner, h)
      if ((bits & Right.read) === 0) {
        this.handles.close(h.id)
        requireRight(bits, 'read', h.owner.userId, h.source.mid)
      }
      if (access === 'write' && h.source.kind === 'cur') requireRight(bits, 'write', h.owner.userId, h.source.mid)
    }
    if (access === 'write' && !h.canWrite) {
      throw new PermissionDenied('this file was opened read-only; open it with O_WRONLY or O_RDWR (from a writable cur handle) to write')
    }
    return h.owner
  }

  /** Closes the file handles `match` accepts (given the MiMei they belong to, if any, and opener). */
  closeWhere(match: (mid: string | undefined, owner: Principal) => boolean, because?: string): number {
    return this.handles.closeWhere((h) => match('mid' in h.source ? h.source.mid : undefined, h.owner), because)
  }

  // — opening —

  /** Opens a path of an open file MiMei (or `mac://<cid>`), with Go's os.OpenFile flags. */
  openByPath(mmHandle: string, rawPath: string, flag: number): FileHandle {
    const f = openFlags(flag)
    const mh = this.host.mimei.handles.get(mmHandle)
    if (rawPath.startsWith('mac://')) {
      if (f.write || f.create) throw new InvalidParams('mac files are read-only; open them with O_RDONLY (0)')
      return this.openMacFor(mh.owner, rawPath.slice('mac://'.length))
    }
    if (mh.type !== MiMeiType.file) throw new InvalidParams(`MiMei ${mh.mid} is a database; use the db calls (Get, Set, ...) on its handle`)
    const path = normalizePath(rawPath)
    // Write access needs a writable handle; the MiMei handle table words the denial.
    const needWrite = () => this.host.mimei.checkHandle(mmHandle, 'write')
    // The file handle is its MiMei handle's opener's, with the rights that handle holds now.
    const add = (source: FileSource, dir: boolean) =>
      this.handles.add({ source, owner: mh.owner, rights: mh.rights, epoch: mh.epoch, canRead: f.read || dir, canWrite: f.write && !dir, append: f.append })
    if (mh.ver !== 'cur') {
      if (f.write || f.create) needWrite()
      const v = this.versionOf(mh.m, mh.ver)
      const entry = resolveStored(this.host.mimei.blocks, v.cid, path, v.created * 1000)
      return add({ kind: 'version', mid: mh.mid, ver: mh.ver, entry }, entry.dir)
    }
    const row = this.host.mimei.row(mh.mid)
    const t = this.tree(row)
    let node = nodeAt(t, path)
    if (node && f.create && f.excl) throw new Conflict(`"${path}" already exists in MiMei ${mh.mid} (O_EXCL)`)
    if (!node) {
      if (!f.create) throw new NotFound(`no file "${path}" in MiMei ${mh.mid}; pass O_CREATE (0x40) to create it`)
      needWrite()
      node = createFile(t, path)
    }
    if (node.dir && f.write) throw new InvalidParams(`"${path}" is a directory; open it with O_RDONLY (0) to list it`)
    if (f.write) needWrite()
    const h = add({ kind: 'cur', mid: mh.mid, ino: node.ino }, node.dir === 1)
    if (f.trunc && node.size > 0) truncate(this.env, h, 0)
    return h
  }

  private versionOf(m: number, ver: number): { cid: string; created: number } {
    const v = this.host.mimei.db.query('SELECT cid, created FROM mimei_versions WHERE m = ? AND ver = ?').get(m, ver) as { cid: string; created: number } | null
    if (!v) throw new NotFound(`version ${ver} no longer exists; open another version`)
    return v
  }

  /** A new, empty staging file for an upload; it goes away with its handle. */
  openTemp(who: Grant): FileHandle {
    this.host.mimei.storage.requireStorer(who.userId)
    // Its own random name: the handle id is a bearer secret and stays out of the file system.
    const path = join(this.tmpRoot, `upload-${newHandleId()}`)
    closeSync(openSync(path, 'w', 0o600))
    return this.handles.add({ source: { kind: 'temp', path }, owner: principalOf(who), rights: 0, epoch: 0, canRead: true, canWrite: true, append: false })
  }

  /** Opens a content-addressed file by the CID of its manifest (read-only). */
  openMac(who: Grant, cid: string): FileHandle {
    return this.openMacFor(principalOf(who), cid)
  }

  private openMacFor(owner: Principal, cid: string): FileHandle {
    const manifest = readManifest(this.host.mimei.blocks, cid)
    return this.handles.add({ source: { kind: 'mac', cid, manifest }, owner, rights: 0, epoch: 0, canRead: true, canWrite: false, append: false })
  }

  /**
   * Commits a temp file as a mac file: its chunks and manifest go into the block store (stored
   * once whoever commits the same bytes) and are pinned under the manifest's CID. Streams the
   * file one chunk at a time. The temp handle stays open until MFClose.
   */
  async commitTemp(id: string): Promise<string> {
    const h = this.get(id)
    if (h.source.kind !== 'temp') throw new InvalidParams('MFTemp2MacFile takes a handle from MFOpenTempFile')
    const { blocks, db } = this.host.mimei
    // In slices: other requests run while a large file is hashed and stored.
    // The handle may be closed (and its file removed) while the file is hashed: NotFound as for
    // any closed handle, whether the read noticed first or not; blocks stored meanwhile are
    // unpinned, gc takes them.
    let r: Awaited<ReturnType<typeof chunkFileSliced>>
    try {
      r = await chunkFileSliced(h.source.path, blocks, { maxBytes: this.host.maxFileBytes() })
    } catch (err) {
      this.get(id)
      throw err
    }
    this.get(id)
    const user = h.owner.userId
    const staged = statSync(h.source.path).size
    db.transaction(() => {
      // The committed file is charged to whoever holds the temp file, for as long as its pin lasts.
      // The temp file's bytes were charged as they were written; it goes when the handle closes.
      const held = db.query('SELECT size FROM mac_files WHERE cid = ? AND user_id = ?').get(r.cid, user) as { size: number } | null
      if (!held) this.host.mimei.storage.charge(user, r.size - staged)
      for (const b of r.blocks) {
        // A gc between storing and pinning may have taken a block that was already here, unpinned.
        if (!blocks.has(b)) throw new Conflict('blocks of this file were collected while it was committed; call MFTemp2MacFile again')
        blocks.pin(b, `f:${r.cid}`)
      }
      db.query('INSERT INTO mac_files (cid, user_id, size, pinned_until) VALUES (?, ?, ?, ?) ON CONFLICT (cid, user_id) DO UPDATE SET pinned_until = excluded.pinned_until').run(
        r.cid,
        user,
        r.size,
        Math.floor(Date.now() / 1000) + this.macPinSec,
      )
    })()
    return r.cid
  }

  /** The blocks a content id stands for: a mac file's manifest and chunks, else the one block. */
  contentBlocks(cid: string): string[] {
    try {
      return [cid, ...readManifest(this.host.mimei.blocks, cid).chunks]
    } catch {
      return [cid]
    }
  }

  /** How long a committed mac file stays pinned (and charged) without a reference: a day. */
  macPinSec = 86_400

  /** Bytes of the temp files `userId` holds open ("" = everyone's). */
  tempBytes(userId: string): number {
    let n = 0
    for (const h of this.handles.values()) {
      if (h.source.kind !== 'temp' || (userId && h.owner.userId !== userId)) continue
      try {
        n += statSync(h.source.path).size
      } catch {
        // closed meanwhile
      }
    }
    return n
  }

  /**
   * Unpins mac files whose pins ran out and that nothing else holds (references and versions pin
   * their blocks under their own names), so the next block gc frees them.
   */
  unpinExpiredMac(): number {
    const db = this.host.mimei.db
    const now = Math.floor(Date.now() / 1000)
    const expired = db.query('SELECT cid FROM mac_files GROUP BY cid HAVING max(pinned_until) <= ?').all(now) as { cid: string }[]
    db.transaction(() => {
      for (const { cid } of expired) {
        this.host.mimei.blocks.unpinOwner(`f:${cid}`)
        db.query('DELETE FROM mac_files WHERE cid = ?').run(cid)
      }
    })()
    return expired.length
  }

  // — I/O and metadata —

  read = (id: string, offset: number, count: number) => read(this.env, this.get(id), offset, count)
  write = (id: string, data: Uint8Array, offset: number) => write(this.env, this.get(id), data, offset)
  truncate = (id: string, size: number) => truncate(this.env, this.get(id), size)
  stat = (id: string): FileInfo => stat(this.env, this.get(id))
  readdir = (id: string, count: number): FileInfo[] => readdir(this.env, this.get(id), count)
  mimeType = (id: string): string => mimeOf(this.env, this.get(id))

  // — tree operations (on a writable cur handle) —

  private writableTree(mmHandle: string): Tree {
    this.host.mimei.checkHandle(mmHandle, 'write')
    const mh = this.host.mimei.handles.get(mmHandle)
    if (mh.type !== MiMeiType.file) throw new InvalidParams(`MiMei ${mh.mid} is a database; directories exist only in file MiMei`)
    return this.tree(this.host.mimei.row(mh.mid))
  }

  mkdir(mmHandle: string, path: string): number {
    return mkdirAll(this.writableTree(mmHandle), normalizePath(path))
  }

  rename(mmHandle: string, from: string, to: string): void {
    const t = this.writableTree(mmHandle)
    for (const ino of rename(t, normalizePath(from), normalizePath(to))) rmSync(diskPath(t, ino), { force: true })
  }

  removeAll(mmHandle: string, path: string): number {
    const t = this.writableTree(mmHandle)
    const { removed, inos } = removeAll(t, normalizePath(path))
    for (const ino of inos) rmSync(diskPath(t, ino), { force: true })
    return removed
  }

  // — HTTP —

  /** What GET /mm/<mid>[:ver]/<path> serves, checked against the caller's read right. */
  servable(who: Grant, mid: string, ver: string | undefined, path: string, slash: boolean): Promise<Served> {
    const row = this.host.mimei.row(mid)
    this.host.mimei.require(row, who, 'read')
    if (row.type !== MiMeiType.file) throw new NotFound(`MiMei ${mid} is a database, not a file tree`)
    const v = parseVersion(ver, row)
    const stored = v === 'cur' ? undefined : this.versionOf(row.id, v)
    return servable({ blocks: this.host.mimei.blocks, tree: this.tree(row), version: stored }, normalizePath(path), slash)
  }
}
