// A stored tree written out as the live tree (`cur`): first staged — every file's bytes copied
// from its chunks into a staging folder, a chunk per step, so the copy can run in slices — then
// put in place inside the caller's transaction (renames and rows only, quick whatever the size).
import { closeSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Corrupt, NotFound, QuotaExceeded } from '../../errors.ts'
import { CHUNK_SIZE, type BlockStore } from '../blocks.ts'
import type { BlockPart, copyBlocks } from '../copier.ts'
import { q } from '../db/core.ts'
import { slicer } from '../slices.ts'
import { chunkOf, readManifest } from './content.ts'
import { writeFully } from './io.ts'
import { joinPath } from './path.ts'
import { MAX_TREE_DEPTH, readDirObject, type DirObject } from './snapshot.ts'
import { diskPath, newIno, type Tree } from './tree.ts'

/** A version's tree written out under `dir`, not yet the live tree; its rows wait for applyStaged. */
export interface StagedTree {
  readonly dir: string
  readonly rows: { parent: string; name: string; dir: number; ino: string; cid: string | null; size: number }[]
  /** The inos of the files written (their bytes are <dir>/<ino> until applied). */
  readonly written: string[]
  total: number
}

/**
 * Writes every file of stored tree `cid` into `dir` under a new ino (one chunk in memory at a
 * time), yielding after each chunk. Each directory block is decoded once however often it is
 * listed; more than `maxEntries` paths is refused (a version from the network is measured with
 * measureTree before it gets here). `checked`: the chunks were hash-checked as they arrived just
 * now, so they are not hashed again. On failure `dir` is removed.
 */
export function* stageTree(store: BlockStore, cid: string, dir: string, maxEntries = 1_000_000, checked = false, copy?: typeof copyBlocks): Generator<Step, StagedTree> {
  const staged: StagedTree = { dir, rows: [], written: [], total: 0 }
  const dirs = new Map<string, DirObject>()
  let entries = 0
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  function* walk(dirCid: string, path: string, depth: number): Generator<Step> {
    if (depth > MAX_TREE_DEPTH) throw new Corrupt(`directories nest deeper than ${MAX_TREE_DEPTH} levels`)
    let d = dirs.get(dirCid)
    if (!d) dirs.set(dirCid, (d = readDirObject(store, dirCid)))
    for (const [name, isDir, entryCid] of d.entries) {
      if (++entries > maxEntries) throw new QuotaExceeded(`this version has more than ${maxEntries} files and directories, the most this node installs`)
      const ino = newIno()
      if (isDir) {
        staged.rows.push({ parent: path, name, dir: 1, ino, cid: null, size: 0 })
        yield* walk(entryCid, joinPath(path, name), depth + 1)
        continue
      }
      const manifest = readManifest(store, entryCid)
      staged.written.push(ino)
      if (copy && checked) {
        // Checked on arrival: the bytes go from the blocks' files to the new file on a worker.
        yield copy(join(dir, ino), manifest.chunks.map((c, i) => partOf(store, c, Math.min(CHUNK_SIZE, manifest.size - i * CHUNK_SIZE))))
        staged.rows.push({ parent: path, name, dir: 0, ino, cid: entryCid, size: manifest.size })
        staged.total += manifest.size
        continue
      }
      const fd = openSync(join(dir, ino), 'w', 0o600)
      try {
        for (let i = 0; i < manifest.chunks.length; i++) {
          writeFully(fd, chunkOf(store, manifest, i, !checked), i * CHUNK_SIZE)
          yield
        }
      } finally {
        closeSync(fd)
      }
      staged.rows.push({ parent: path, name, dir: 0, ino, cid: entryCid, size: manifest.size })
      staged.total += manifest.size
    }
  }
  try {
    yield* walk(cid, '', 0)
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return staged
}

/** One chunk written (void), or a whole file being written off the event loop (to be awaited). */
type Step = void | Promise<void>

/** Where a chunk's bytes are, checked to have the length its manifest implies. */
function partOf(store: BlockStore, cid: string, want: number): BlockPart {
  const at = store.where(cid)
  if (!at) throw new NotFound(`block ${cid} is not on this node`)
  if (at.size !== want) throw new Corrupt(`a chunk of a file has ${at.size} bytes, not ${want}`)
  return at
}

/** Runs stageTree (without a copier) to the end in one go (inside a transaction, where nothing may wait). */
export function stageNow(steps: Generator<Step, StagedTree>): StagedTree {
  for (;;) {
    const r = steps.next()
    if (r.done) return r.value
    if (r.value) throw new Error('stageNow runs stageTree without a copier')
  }
}

/** Runs stageTree in slices: other requests run between them (slices.ts). */
export async function stageSliced(steps: Generator<Step, StagedTree>, signal?: AbortSignal): Promise<StagedTree> {
  const pause = slicer(signal)
  try {
    for (;;) {
      const r = steps.next()
      if (r.done) return r.value
      if (r.value) await r.value
      else await pause()
    }
  } catch (err) {
    // Cancelled between two steps: the generator's own clean-up runs.
    steps.return(undefined as never)
    throw err
  }
}

/**
 * Replaces the live tree with a staged one, inside the caller's transaction: the old rows go, the
 * staged files move into the tree's folder (renames) and their rows are written, the MiMei's size
 * set. Returns the inos of the old files and of the new ones: after the caller's transaction, the
 * ones no row names go (the old ones after a commit, the new ones after a rollback). A crash
 * before the commit leaves moved files no row names; they are deleted at the next start.
 */
export function applyStaged(t: Tree, s: StagedTree): { dropped: string[]; written: string[] } {
  const dropped = (q(t.db, 'SELECT ino FROM file_nodes WHERE m = ? AND dir = 0').values(t.m) as string[][]).map((r) => r[0])
  q(t.db, 'DELETE FROM file_nodes WHERE m = ?').run(t.m)
  mkdirSync(t.disk, { recursive: true, mode: 0o700 })
  const insert = q(t.db, 'INSERT INTO file_nodes (m, parent, name, dir, ino, cid, size, mtime) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
  const now = Date.now()
  for (const r of s.rows) {
    if (!r.dir) renameSync(join(s.dir, r.ino), diskPath(t, r.ino))
    insert.run(t.m, r.parent, r.name, r.dir, r.ino, r.cid, r.size, now)
  }
  q(t.db, 'UPDATE mimei SET seq = seq + 1, bytes = ? WHERE id = ?').run(s.total, t.m)
  return { dropped, written: s.written }
}
