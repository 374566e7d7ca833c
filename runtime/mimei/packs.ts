// Pack files: blocks appended one after another to <data>/blocks/packs/<n>.pack, each block's pack
// and offset in its row of `blocks`. One write per block and no file to create, rename or delete
// (bench/mimei-blocks.ts: three times the put rate of one file per block, blocks in SQLite a fifth).
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync, writev, writevSync } from 'node:fs'
import { join } from 'node:path'
import type { Database } from 'bun:sqlite'

/** A pack takes appends until it holds this many bytes; then the next one is started. */
export const PACK_MAX = 256 * 1024 * 1024

/** How many bytes a block has, whole or in pieces. */
export function sizeOf(bytes: Uint8Array | readonly Uint8Array[]): number {
  if (!Array.isArray(bytes)) return (bytes as Uint8Array).length
  let n = 0
  for (const p of bytes as readonly Uint8Array[]) n += p.length
  return n
}

interface Writer {
  id: number
  fd: number
  size: number
  pending: number
  retired: boolean
}

/** After a write of `n` of `size` bytes at `off`: writes the rest (a short write, rare), a piece at a time. */
function finish(fd: number, bytes: Uint8Array | readonly Uint8Array[], off: number, n: number, size: number): void {
  if (n >= size) return
  let at = 0
  for (const part of Array.isArray(bytes) ? (bytes as readonly Uint8Array[]) : [bytes as Uint8Array]) {
    const end = at + part.length
    while (n < end) n += writeSync(fd, part, n - at, end - n, off + n)
    at = end
  }
}

export interface PackLocation {
  pack: number
  off: number
}

/**
 * The pack files of one block folder. Crash safety comes from the order of writes: a block's bytes
 * are written before its row is committed, so a row never names bytes that are not there; bytes
 * without a row (a crash between the two) are dead space, reclaimed when the pack is compacted.
 */
export class Packs {
  readonly dir: string
  /** The pack taking appends; `pending`: writes still running on its fd, which is closed only after them. */
  private writer: Writer | undefined
  private readonly readers = new Map<number, number>()

  constructor(
    private readonly db: Database,
    root: string,
    /** Bytes after which a pack takes no more appends. */
    private readonly packMax = PACK_MAX,
  ) {
    this.dir = join(root, 'packs')
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    // Packs no row names were left by a crash (in a compaction, or before any row was written).
    const used = new Set((db.query('SELECT DISTINCT pack FROM blocks WHERE pack IS NOT NULL').values() as number[][]).map((r) => r[0]))
    for (const name of readdirSync(this.dir)) {
      const id = Number(name.replace(/\.pack$/, ''))
      if (!Number.isSafeInteger(id) || !used.has(id)) rmSync(join(this.dir, name), { force: true })
    }
  }

  /** The file of pack `id`. */
  path(id: number): string {
    return join(this.dir, `${id}.pack`)
  }

  /**
   * Appends `bytes` to the current pack (starting a new one when it is full) and says where they
   * are. A block that arrived in pieces is written from its pieces in one call, not joined first.
   */
  append(bytes: Uint8Array | readonly Uint8Array[]): PackLocation {
    const { w, off, size } = this.reserve(bytes)
    const n = Array.isArray(bytes) ? writevSync(w.fd, bytes as Uint8Array[], off) : 0
    finish(w.fd, bytes, off, n, size)
    return { pack: w.id, off }
  }

  /**
   * append, with the write done on Bun's I/O threads: the space is taken now (appends after it
   * go after it), the bytes land later. The caller records the location only once this resolves.
   */
  async appendAsync(bytes: readonly Uint8Array[]): Promise<PackLocation> {
    const { w, off, size } = this.reserve(bytes)
    w.pending++
    try {
      const n = await new Promise<number>((resolve, reject) => writev(w.fd, bytes as Uint8Array[], off, (err, n) => (err ? reject(err) : resolve(n))))
      finish(w.fd, bytes, off, n, size)
    } finally {
      if (--w.pending === 0 && w.retired) closeSync(w.fd)
    }
    return { pack: w.id, off }
  }

  /** Room for `bytes` at the end of the current pack (a new one when it is full). */
  private reserve(bytes: Uint8Array | readonly Uint8Array[]): { w: Writer; off: number; size: number } {
    let w = this.writer
    if (!w || w.size >= this.packMax) {
      if (w) this.retire(w)
      const last = this.db.query('SELECT max(pack) AS n FROM blocks').get() as { n: number | null }
      const id = Math.max(last.n ?? 0, w?.id ?? 0) + 1
      // Not O_APPEND: writes in flight together each land at the offset they were given.
      const fd = openSync(this.path(id), constants.O_RDWR | constants.O_CREAT, 0o600)
      w = this.writer = { id, fd, size: fstatSync(fd).size, pending: 0, retired: false }
    }
    const off = w.size
    const size = sizeOf(bytes)
    w.size += size
    return { w, off, size }
  }

  private retire(w: Writer): void {
    w.retired = true
    if (!w.pending) closeSync(w.fd)
  }

  read(pack: number, off: number, size: number): Uint8Array {
    let fd = this.readers.get(pack)
    if (fd === undefined) {
      fd = openSync(this.path(pack), 'r')
      this.readers.set(pack, fd)
    }
    const out = new Uint8Array(size)
    let n = 0
    while (n < size) {
      const got = readSync(fd, out, n, size - n, off + n)
      if (got === 0) throw new Error(`pack ${pack} ends before offset ${off + size}`)
      n += got
    }
    return out
  }

  /**
   * After rows were deleted from `packs`: a pack with no live block goes, one less than half live
   * has its live blocks copied to the current pack (rows moved in one transaction, then the old
   * file deleted; a crash in between leaves a file no row names, deleted at the next start).
   */
  reclaim(packs: Iterable<number>): void {
    for (const id of packs) {
      if (id === this.writer?.id) continue
      const rows = this.db.query('SELECT cid, off, size FROM blocks WHERE pack = ? ORDER BY off').all(id) as { cid: string; off: number; size: number }[]
      let fileSize = 0
      try {
        fileSize = fstatSync(this.readerFd(id)).size
      } catch {
        continue
      }
      const live = rows.reduce((n, r) => n + r.size, 0)
      if (live * 2 >= fileSize && rows.length) continue
      const moved = rows.map((r) => ({ cid: r.cid, to: this.append(this.read(id, r.off, r.size)) }))
      const move = this.db.query('UPDATE blocks SET pack = ?, off = ? WHERE cid = ? AND pack = ?')
      this.db.transaction(() => {
        for (const m of moved) move.run(m.to.pack, m.to.off, m.cid, id)
      })()
      this.drop(id)
    }
  }

  private readerFd(id: number): number {
    let fd = this.readers.get(id)
    if (fd === undefined) this.readers.set(id, (fd = openSync(this.path(id), 'r')))
    return fd
  }

  private drop(id: number): void {
    const fd = this.readers.get(id)
    if (fd !== undefined) closeSync(fd)
    this.readers.delete(id)
    rmSync(this.path(id), { force: true })
  }

  close(): void {
    if (this.writer) this.retire(this.writer)
    this.writer = undefined
    for (const fd of this.readers.values()) closeSync(fd)
    this.readers.clear()
  }
}
