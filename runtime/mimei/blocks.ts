// Content-addressed blocks: sha2-256 CIDv1 (raw for data, dag-cbor for manifests), appended to
// pack files under <data>/blocks/packs/ (those the hashing worker wrote are files of their own
// under <data>/blocks/), indexed in SQLite, kept alive by pins, collected when unpinned.
import type { Database } from 'bun:sqlite'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { Corrupt, NotFound } from '../errors.ts'
import { cidText } from './files/dagcbor.ts'
import { Packs, sizeOf } from './packs.ts'

export const CHUNK_SIZE = 256 * 1024
export const RAW = 0x55
export const DAG_CBOR = 0x71
const SHA2_256 = 0x12

export function cidOf(bytes: Uint8Array, codec: number = RAW): string {
  const hash = new Bun.CryptoHasher('sha256').update(bytes).digest() as Uint8Array
  // Raw and dag-cbor CIDs are spelled by hand (dagcbor.ts): multiformats took 2 of the 3.5 µs a small block's id cost.
  if (codec === RAW || codec === DAG_CBOR) {
    const cid = new Uint8Array(36)
    cid.set([0x01, codec, SHA2_256, 0x20])
    cid.set(hash, 4)
    return cidText(cid)
  }
  return CID.createV1(codec, Digest.create(SHA2_256, new Uint8Array(hash))).toString()
}

/** Parses a CID string, throwing NotFound-style errors for garbage (ids arrive from callers). */
export function parseCid(text: string): CID {
  try {
    return CID.parse(text)
  } catch {
    throw new NotFound(`"${String(text).slice(0, 80)}" is not a content id (CIDv1)`)
  }
}

export interface BlockStore {
  /** The folder of the block files (<dir>/<last two chars of the CID>/<CID>). */
  readonly dir: string
  /** Stores bytes (idempotent) and returns their CID. */
  put(bytes: Uint8Array, codec?: number): string
  /** Stores bytes whose CID the caller has just checked (a block received and verified; in the pieces it arrived in). */
  putChecked(cid: string, bytes: Uint8Array | readonly Uint8Array[]): void
  /** putChecked with the bytes written off the event loop; the block is here once this resolves. */
  putCheckedAsync(cid: string, parts: readonly Uint8Array[]): Promise<void>
  /** Records blocks whose files a worker has just written under `dir` (hashed as it wrote them). */
  adopt(blocks: { cid: string; size: number }[]): void
  /** Reads a block; its hash is checked unless `check` is false (a reader that checks anyway). */
  get(cid: string, check?: boolean): Uint8Array
  has(cid: string): boolean
  /** Where a block's bytes are (its pack or file, offset, length); undefined when it is not here. */
  where(cid: string): { path: string; off: number; size: number } | undefined
  size(cid: string): number | undefined
  pin(cid: string, owner: string): void
  /** Pins many blocks under one owner in one statement (a version's thousands of chunks). */
  pinAll(cids: string[], owner: string): void
  unpinOwner(owner: string): void
  /** Deletes blocks no pin holds and at least `graceSec` old (0: all); returns how many and bytes freed. */
  gc(graceSec?: number): { blocks: number; bytes: number }
  /** Closes the pack files (the node stops). */
  close(): void
}

export function blockStore(db: Database, dataDir: string, opts: { packMax?: number } = {}): BlockStore {
  const root = join(dataDir, 'blocks')
  mkdirSync(root, { recursive: true, mode: 0o700 })
  const packs = new Packs(db, root, opts.packMax)
  /** A block the hashing worker wrote: a file of its own, <root>/<last two chars>/<CID>. */
  const pathOf = (cid: string) => join(root, cid.slice(-2), cid)
  const insert = db.query('INSERT OR IGNORE INTO blocks (cid, size, created, pack, off) VALUES (?, ?, ?, ?, ?)')
  const lookup = db.query('SELECT size, pack, off FROM blocks WHERE cid = ?')
  const pinQ = db.query('INSERT OR IGNORE INTO block_pins (cid, owner) VALUES (?, ?)')
  const unpinQ = db.query('DELETE FROM block_pins WHERE owner = ?')
  const pinAllQ = db.query('INSERT OR IGNORE INTO block_pins (cid, owner) SELECT value, ? FROM json_each(?)')

  function store(cid: string, bytes: Uint8Array | readonly Uint8Array[]): void {
    if (lookup.get(cid)) return
    // The bytes first, the row after: after a crash a row always names whole bytes.
    // No fsync, like the database's synchronous=NORMAL: safe against process crashes.
    const at = packs.append(bytes)
    insert.run(cid, sizeOf(bytes), Math.floor(Date.now() / 1000), at.pack, at.off)
  }

  function read(cid: string): Uint8Array {
    const row = lookup.get(cid) as { size: number; pack: number | null; off: number | null } | null
    try {
      if (row && row.pack !== null && row.off !== null) return packs.read(row.pack, row.off, row.size)
      return readFileSync(pathOf(cid))
    } catch {
      throw new NotFound(`block ${cid} is not on this node`)
    }
  }

  return {
    put(bytes, codec = RAW) {
      const cid = cidOf(bytes, codec)
      store(cid, bytes)
      return cid
    },
    putChecked: (cid, bytes) => store(cid, bytes),
    async putCheckedAsync(cid, parts) {
      if (lookup.get(cid)) return
      // As store: the bytes first, the row once they are written.
      const at = await packs.appendAsync(parts)
      insert.run(cid, sizeOf(parts), Math.floor(Date.now() / 1000), at.pack, at.off)
    },
    dir: root,
    adopt(list) {
      const now = Math.floor(Date.now() / 1000)
      db.transaction(() => {
        for (const b of list) insert.run(b.cid, b.size, now, null, null)
      })()
    },
    get(cid, check = true) {
      const bytes = read(cid)
      if (check && cidOf(bytes, parseCid(cid).code) !== cid) throw new Corrupt(`block ${cid} is damaged on disk (hash mismatch)`)
      return bytes
    },
    has: (cid) => Boolean(lookup.get(cid)),
    where(cid) {
      const row = lookup.get(cid) as { size: number; pack: number | null; off: number | null } | null
      if (!row) return undefined
      return row.pack !== null && row.off !== null ? { path: packs.path(row.pack), off: row.off, size: row.size } : { path: pathOf(cid), off: 0, size: row.size }
    },
    size: (cid) => (lookup.get(cid) as { size: number } | null)?.size,
    pin: (cid, owner) => void pinQ.run(cid, owner),
    pinAll: (cids, owner) => void (cids.length && pinAllQ.run(owner, JSON.stringify(cids))),
    unpinOwner: (owner) => void unpinQ.run(owner),
    gc(graceSec = 3600) {
      const cutoff = Math.floor(Date.now() / 1000) - graceSec
      const dead = db
        .query('SELECT cid, size, pack FROM blocks WHERE created <= ? AND cid NOT IN (SELECT cid FROM block_pins)')
        .all(cutoff) as { cid: string; size: number; pack: number | null }[]
      const del = db.query('DELETE FROM blocks WHERE cid = ?')
      db.transaction(() => {
        for (const b of dead) del.run(b.cid)
      })()
      // Bytes go after the rows: a crash in between leaves dead bytes, never rows without bytes.
      for (const b of dead) if (b.pack === null) rmSync(pathOf(b.cid), { force: true })
      packs.reclaim(new Set(dead.flatMap((b) => (b.pack === null ? [] : [b.pack]))))
      return { blocks: dead.length, bytes: dead.reduce((n, b) => n + b.size, 0) }
    },
    close: () => packs.close(),
  }
}
