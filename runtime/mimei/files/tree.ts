// The live tree (`cur`) of a file MiMei: one SQLite row per file or directory, and each file's
// bytes in a real file under <dataDir>/files/<m>/<ino>, written in place at offsets.
import type { Database } from 'bun:sqlite'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { Conflict, InvalidParams, NotFound } from '../../errors.ts'
import { q } from '../db/core.ts'
import { isWithin, joinPath, splitPath, subtreeRange } from './path.ts'

/**
 * A row of `file_nodes`. `ino` names the node for its whole life (renames keep it), so an open
 * handle follows its file like a POSIX descriptor; for files it is also the name of the bytes on
 * disk. `cid` caches the content id of a file's bytes; every write clears it.
 */
export interface TreeNode {
  parent: string
  name: string
  dir: number
  ino: string
  cid: string | null
  size: number
  mtime: number
}

/** One MiMei's tree: its rows in `db` and its bytes under `disk`. */
export interface Tree {
  readonly db: Database
  readonly m: number
  readonly disk: string
  /** When the MiMei was created (ms): the root's modification time. */
  readonly created: number
}

/** The root exists implicitly (it has no row): every tree has one, it cannot be renamed or removed. */
const root = (t: Tree): TreeNode => ({ parent: '', name: '', dir: 1, ino: '', cid: null, size: 0, mtime: t.created })

export const pathOf = (n: TreeNode) => joinPath(n.parent, n.name)
export const diskPath = (t: Tree, ino: string) => join(t.disk, ino)
/** Hex, not base64: names that differ only in case would collide on macOS and Windows. */
export const newIno = () => randomBytes(16).toString('hex')

export function nodeAt(t: Tree, path: string): TreeNode | undefined {
  if (path === '') return root(t)
  const { parent, name } = splitPath(path)
  return (q(t.db, 'SELECT * FROM file_nodes WHERE m = ? AND parent = ? AND name = ?').get(t.m, parent, name) as TreeNode | null) ?? undefined
}

export function nodeByIno(t: Tree, ino: string): TreeNode | undefined {
  if (ino === '') return root(t)
  return (q(t.db, 'SELECT * FROM file_nodes WHERE m = ? AND ino = ?').get(t.m, ino) as TreeNode | null) ?? undefined
}

/** Children of a directory in name order (SQLite's byte order of UTF-8), after `after`. */
export function listDir(t: Tree, dir: string, after = '', limit = -1): TreeNode[] {
  return q(t.db, 'SELECT * FROM file_nodes WHERE m = ? AND parent = ? AND name > ? ORDER BY name LIMIT ?').all(t.m, dir, after, limit) as TreeNode[]
}

/** Every write takes a sequence number and moves the MiMei's stored size (quota accounting). */
export function bump(t: Tree, deltaBytes: number): void {
  q(t.db, 'UPDATE mimei SET seq = seq + 1, bytes = max(bytes + ?, 0) WHERE id = ?').run(deltaBytes, t.m)
}

/** The directory a new entry goes into, which must exist. */
function parentDir(t: Tree, path: string): { parent: string; name: string } {
  const { parent, name } = splitPath(path)
  const dir = nodeAt(t, parent)
  if (!dir) throw new NotFound(`directory "${parent}" does not exist; create it first with FSMkDir`)
  if (!dir.dir) throw new InvalidParams(`"${parent}" is a file, not a directory`)
  return { parent, name }
}

/** Creates an empty file (its bytes first: a crash leaves at worst an unreferenced file on disk). */
export function createFile(t: Tree, path: string): TreeNode {
  if (path === '') throw new InvalidParams('the root is a directory')
  const { parent, name } = parentDir(t, path)
  const node: TreeNode = { parent, name, dir: 0, ino: newIno(), cid: null, size: 0, mtime: Date.now() }
  mkdirSync(t.disk, { recursive: true, mode: 0o700 })
  closeSync(openSync(diskPath(t, node.ino), 'w', 0o600))
  t.db.transaction(() => {
    q(t.db, 'INSERT INTO file_nodes (m, parent, name, dir, ino, cid, size, mtime) VALUES (?, ?, ?, 0, ?, NULL, 0, ?)').run(t.m, parent, name, node.ino, node.mtime)
    bump(t, 0)
  })()
  return node
}

/** Creates a directory and any missing parents (like MkdirAll); returns how many were created. */
export function mkdirAll(t: Tree, path: string): number {
  let made = 0
  t.db.transaction(() => {
    let at = ''
    for (const part of path === '' ? [] : path.split('/')) {
      const next = joinPath(at, part)
      const node = nodeAt(t, next)
      if (node && !node.dir) throw new InvalidParams(`"${next}" is a file, not a directory`)
      if (!node) {
        q(t.db, 'INSERT INTO file_nodes (m, parent, name, dir, ino, cid, size, mtime) VALUES (?, ?, ?, 1, ?, NULL, 0, ?)').run(t.m, at, part, newIno(), Date.now())
        made++
      }
      at = next
    }
    if (made) bump(t, 0)
  })()
  return made
}

/**
 * Moves a file or directory, as os.Rename does: a file replaces an existing file; anything else
 * in the way is a Conflict. A directory's descendants move by rewriting their parent prefix.
 * Returns the inos whose bytes the caller deletes after the transaction committed.
 */
export function rename(t: Tree, from: string, to: string): string[] {
  if (from === '' || to === '') throw new InvalidParams('the root cannot be renamed')
  const src = nodeAt(t, from)
  if (!src) throw new NotFound(`no file or directory "${from}"`)
  if (from === to) return []
  if (src.dir && isWithin(to, from)) throw new InvalidParams(`cannot move directory "${from}" into itself ("${to}")`)
  const { parent, name } = parentDir(t, to)
  const dst = nodeAt(t, to)
  if (dst && (dst.dir || src.dir)) throw new Conflict(`"${to}" already exists; remove it first with FSRemoveAll`)
  return t.db.transaction(() => {
    if (dst) q(t.db, 'DELETE FROM file_nodes WHERE m = ? AND ino = ?').run(t.m, dst.ino)
    q(t.db, 'UPDATE file_nodes SET parent = ?, name = ?, mtime = ? WHERE m = ? AND ino = ?').run(parent, name, Date.now(), t.m, src.ino)
    if (src.dir) {
      const { from: lo, to: hi } = subtreeRange(from)
      // length() and substr() count characters the same way, whatever the script of the names.
      q(t.db, 'UPDATE file_nodes SET parent = ? || substr(parent, length(?) + 1) WHERE m = ? AND (parent = ? OR (parent >= ? AND parent < ?))').run(to, from, t.m, from, lo, hi)
    }
    bump(t, -(dst?.size ?? 0))
    return dst ? [dst.ino] : []
  })()
}

/** Removes a path and everything below it; returns the file inos whose bytes the caller deletes. */
export function removeAll(t: Tree, path: string): { removed: number; inos: string[] } {
  if (path === '') throw new InvalidParams('the root cannot be removed; remove its entries one by one')
  const node = nodeAt(t, path)
  if (!node) return { removed: 0, inos: [] }
  return t.db.transaction(() => {
    const { from: lo, to: hi } = subtreeRange(path)
    const below = node.dir
      ? (q(t.db, 'SELECT ino, dir, size FROM file_nodes WHERE m = ? AND (parent = ? OR (parent >= ? AND parent < ?))').all(t.m, path, lo, hi) as TreeNode[])
      : []
    const all = [node, ...below]
    const del = q(t.db, 'DELETE FROM file_nodes WHERE m = ? AND ino = ?')
    for (const n of all) del.run(t.m, n.ino)
    bump(t, -all.reduce((sum, n) => sum + n.size, 0))
    return { removed: all.length, inos: all.filter((n) => !n.dir).map((n) => n.ino) }
  })()
}

/** Records a file's new size after its bytes changed: mtime, cleared content id, seq and bytes. */
export function recordWrite(t: Tree, node: TreeNode, size: number): void {
  t.db.transaction(() => {
    q(t.db, 'UPDATE file_nodes SET size = ?, mtime = ?, cid = NULL WHERE m = ? AND ino = ?').run(size, Date.now(), t.m, node.ino)
    bump(t, size - node.size)
  })()
}

/** Forgets a file's cached content id before its bytes change (so a crash cannot leave a stale one). */
export function dropCid(t: Tree, node: TreeNode): void {
  if (node.cid !== null) q(t.db, 'UPDATE file_nodes SET cid = NULL WHERE m = ? AND ino = ?').run(t.m, node.ino)
}

export function cacheCid(t: Tree, node: TreeNode, cid: string): void {
  q(t.db, 'UPDATE file_nodes SET cid = ? WHERE m = ? AND ino = ?').run(cid, t.m, node.ino)
}
