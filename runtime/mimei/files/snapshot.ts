// The file kind's versions: a tree as hash-addressed blocks — dag-cbor directory objects over file
// manifests over 256 KiB raw chunks — and back. Same tree → same root CID on any node.
import { Corrupt, InvalidSignature, NotFound, QuotaExceeded } from '../../errors.ts'
import { DAG_CBOR, cidOf, type BlockStore } from '../blocks.ts'
import { q } from '../db/core.ts'
import { chunkFile, chunkFileSliced, readManifest, type Chunked } from './content.ts'
import { decode, encode, link } from './dagcbor.ts'
import type { StoredEntry } from './handles.ts'
import { joinPath, MAX_NAME_BYTES } from './path.ts'
import { cacheCid, diskPath, listDir, nodeByIno, pathOf, type Tree, type TreeNode } from './tree.ts'

export const DIR_FORMAT = 'leither-dir/1'

/** [name, 1 for a directory or 0 for a file, CID (a link in the block), size (0 for a directory)] */
export type DirEntry = [string, number, string, number]

/**
 * A directory: its entries sorted by the UTF-8 bytes of their names (SQLite's BINARY order), each
 * pointing at a file manifest or another directory. Names, kinds, content and sizes only: no
 * mtimes and no modes, so the CID depends on the tree alone — two nodes that hold the same files
 * agree on it (MMSum) whenever and however they wrote them.
 */
export interface DirObject {
  format: typeof DIR_FORMAT
  entries: DirEntry[]
}

const utf8 = new TextEncoder()
const byteOrder = (a: string, b: string) => Buffer.compare(utf8.encode(a), utf8.encode(b))
const validName = (n: unknown) =>
  typeof n === 'string' && n !== '' && n !== '.' && n !== '..' && !n.includes('/') && !n.includes('\0') && utf8.encode(n).length <= MAX_NAME_BYTES

export function readDirObject(store: BlockStore, cid: string): DirObject {
  if (!store.has(cid)) throw new NotFound(`directory ${cid} is not on this node`)
  const d = decode(store.get(cid)) as unknown as DirObject
  if (d?.format !== DIR_FORMAT || !Array.isArray(d.entries)) throw new Corrupt(`block ${cid} is not a directory of a file snapshot`)
  // Checked, because snapshots may come from other nodes: names must be ones a path can reach.
  d.entries.forEach((e, i) => {
    const ok = Array.isArray(e) && validName(e[0]) && (e[1] === 0 || e[1] === 1) && typeof e[2] === 'string' && Number.isSafeInteger(e[3])
    if (!ok || (i > 0 && byteOrder(d.entries[i - 1][0], e[0]) >= 0)) throw new Corrupt(`directory ${cid} has a malformed or unsorted entry ${i}`)
  })
  return d
}

/** A file's content id and blocks; reuses the cached id when its blocks are (or need not be) stored. */
function fileContent(t: Tree, node: TreeNode, store: BlockStore | undefined): Chunked {
  if (node.cid !== null) {
    if (!store) return { cid: node.cid, blocks: [], size: node.size }
    if (store.has(node.cid)) {
      const m = readManifest(store, node.cid)
      if (m.chunks.every((c) => store.has(c))) return { cid: node.cid, blocks: [...m.chunks, node.cid], size: m.size }
    }
  }
  const r = chunkFile(diskPath(t, node.ino), store)
  cacheCid(t, node, r.cid)
  return r
}

/** The MiMei's write sequence number: every write to the tree moves it. */
const seqOf = (t: Tree) => (q(t.db, 'SELECT seq FROM mimei WHERE id = ?').get(t.m) as { seq: number } | null)?.seq

/**
 * Hashes (and with `store`, stores) a live file in slices, and caches its content id only when
 * no write reached the MiMei meanwhile (the bytes hashed are then the bytes on disk).
 */
async function hashLive(t: Tree, node: TreeNode, store: BlockStore | undefined): Promise<{ cid: string; cached: boolean }> {
  const seq = seqOf(t)
  const r = await chunkFileSliced(diskPath(t, node.ino), store)
  const cached = seq !== undefined && seqOf(t) === seq
  if (cached) cacheCid(t, node, r.cid)
  return { cid: r.cid, cached }
}

/** The content id of a live file (hashing its bytes once, in slices; later calls use the cached id). */
export async function liveFileCid(t: Tree, node: TreeNode): Promise<string> {
  if (node.cid !== null) return node.cid
  // A write during the hashing: hash again (the id must name the bytes now on disk), twice at most.
  let r = await hashLive(t, node, undefined)
  for (let i = 0; i < 2 && !r.cached; i++) r = await hashLive(t, nodeByIno(t, node.ino) ?? node, undefined)
  return r.cid
}

/**
 * Makes snapshotTree quick: every file whose content id is not cached is hashed in slices (and
 * with `store`, its blocks stored) beforehand. A file written meanwhile is done again, a few
 * times at most; what is still missing then is hashed by snapshotTree itself.
 */
export async function prepareTree(t: Tree, store: BlockStore | undefined): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const todo = q(t.db, 'SELECT * FROM file_nodes WHERE m = ? AND dir = 0 AND cid IS NULL').all(t.m) as TreeNode[]
    if (!todo.length) return
    for (const node of todo) {
      try {
        await hashLive(t, node, store)
      } catch (err) {
        // Removed while we waited: nothing to prepare.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
  }
}

/**
 * Snapshots the tree into `store` (or, with `store` undefined, only computes the root CID — MMSum
 * of cur). Files stream from disk one chunk at a time. Returns every block, so a version pins them.
 */
export function snapshotTree(t: Tree, store: BlockStore | undefined): Chunked {
  const blocks: string[] = []
  let size = 0
  const dir = (path: string): string => {
    const entries: DirEntry[] = []
    for (const child of listDir(t, path)) {
      if (child.dir) {
        entries.push([child.name, 1, dir(pathOf(child)), 0])
        continue
      }
      const c = fileContent(t, child, store)
      for (const b of c.blocks) blocks.push(b)
      size += c.size
      entries.push([child.name, 0, c.cid, c.size])
    }
    const bytes = encode({ format: DIR_FORMAT, entries: entries.map(([name, isDir, cid, n]) => [name, isDir, link(cid), n]) })
    const cid = store ? store.put(bytes, DAG_CBOR) : cidOf(bytes, DAG_CBOR)
    blocks.push(cid)
    return cid
  }
  const cid = dir('')
  return { cid, blocks, size }
}

/** Deepest directory nesting a stored tree may have (a path has at most this many components). */
export const MAX_TREE_DEPTH = 256

export interface Expanded {
  /** Bytes of every file, counted once per path (what `cur` will hold). */
  bytes: number
  /** Files and directories, counted once per path. */
  entries: number
}

/**
 * What a stored tree expands to once every path is written out — without writing or walking it
 * path by path: each directory block is read once and its total remembered, so a subtree listed
 * many times costs one visit (a tree of 30 directories each listing the next twice is 2^30 files
 * from 32 blocks). Stops with QuotaExceeded as soon as the count passes `max.entries` or a file
 * passes `max.fileBytes`, and with InvalidSignature past `max.bytes` (the size its author signed).
 */
export function measureTree(store: BlockStore, rootCid: string, max: { entries: number; bytes: number; fileBytes: number }): Expanded {
  const memo = new Map<string, Expanded>()
  const files = new Map<string, number>()
  const tooMany = () => new QuotaExceeded(`this version has more than ${max.entries} files and directories, the most this node installs`)
  const dir = (cid: string, depth: number): Expanded => {
    const known = memo.get(cid)
    if (known) return known
    if (depth > MAX_TREE_DEPTH) throw new Corrupt(`directories nest deeper than ${MAX_TREE_DEPTH} levels`)
    const sum: Expanded = { bytes: 0, entries: 0 }
    for (const [, isDir, entryCid, size] of readDirObject(store, cid).entries) {
      sum.entries++
      if (isDir) {
        const sub = dir(entryCid, depth + 1)
        sum.bytes += sub.bytes
        sum.entries += sub.entries
      } else {
        let n = files.get(entryCid)
        if (n === undefined) files.set(entryCid, (n = readManifest(store, entryCid).size))
        if (n !== size) throw new Corrupt(`file ${entryCid} is listed with ${size} bytes but holds ${n}`)
        if (n > max.fileBytes) throw new QuotaExceeded(`a file of this version has ${n} bytes; this node takes files of at most ${max.fileBytes} (maxFileBytes)`)
        sum.bytes += n
      }
      if (sum.entries > max.entries) throw tooMany()
      if (sum.bytes > max.bytes) throw new InvalidSignature(`the tree expands to more than the ${max.bytes} bytes its signed record says; its blocks are not what the author signed`)
    }
    memo.set(cid, sum)
    return sum
  }
  return dir(rootCid, 0)
}

/** Follows a path through a stored tree; NotFound when a component is missing. */
export function resolveStored(store: BlockStore, rootCid: string, path: string, modTime: number): StoredEntry {
  let entry: StoredEntry = { name: '', dir: true, cid: rootCid, size: 0, modTime }
  for (const part of path === '' ? [] : path.split('/')) {
    if (!entry.dir) throw new NotFound(`"${entry.name}" is a file, so "${path}" does not exist`)
    const found = readDirObject(store, entry.cid).entries.find((e) => e[0] === part)
    if (!found) throw new NotFound(`no file or directory "${path}" in this version`)
    entry = { name: part, dir: found[1] === 1, cid: found[2], size: found[3], modTime }
  }
  if (entry.dir) return entry
  const manifest = readManifest(store, entry.cid)
  if (manifest.size !== entry.size) throw new Corrupt(`file ${entry.cid} is listed with ${entry.size} bytes but holds ${manifest.size}`)
  return { ...entry, manifest }
}
