// File bytes on disk outside the write path: start-up repair after a crash, stray and temp cleanup.
import type { Database } from 'bun:sqlite'
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../../log/index.ts'
import { diskPath, type Tree } from './tree.ts'

/** Temp files belong to handles, and staging folders to installs: neither survives a restart. */
export function clearTemp(tmpRoot: string): void {
  for (const name of readdirSync(tmpRoot)) {
    if (name.startsWith('upload-') || name.startsWith('install-')) rmSync(join(tmpRoot, name), { recursive: true, force: true })
  }
}

/**
 * Makes the disk agree with the rows after a crash. Writes change bytes first and rows after, so
 * an interrupted one leaves a file longer or shorter than recorded: it is cut back or
 * zero-extended to the recorded size, its cached content id dropped. Interrupted creations and
 * deletions leave files no row names: they are deleted.
 */
export function reconcile(db: Database, filesRoot: string, log: Logger): void {
  const repairs: { m: number; ino: string; size: number; disk?: number }[] = []
  for (const r of db.query('SELECT m, ino, size FROM file_nodes WHERE dir = 0').iterate() as Iterable<{ m: number; ino: string; size: number }>) {
    let disk: number | undefined
    try {
      disk = statSync(join(filesRoot, String(r.m), r.ino)).size
    } catch {}
    if (disk !== r.size) repairs.push({ ...r, disk })
  }
  for (const r of repairs) {
    log.warn('file bytes disagree with their record; repaired', { m: r.m, ino: r.ino, disk: r.disk ?? 'missing', recorded: r.size })
    const path = join(filesRoot, String(r.m), r.ino)
    if (r.disk === undefined) {
      mkdirSync(join(filesRoot, String(r.m)), { recursive: true, mode: 0o700 })
      closeSync(openSync(path, 'w', 0o600))
    }
    truncateSync(path, r.size)
    db.query('UPDATE file_nodes SET cid = NULL WHERE m = ? AND ino = ?').run(r.m, r.ino)
  }
  const known = db.query('SELECT 1 FROM file_nodes WHERE m = ? AND ino = ? AND dir = 0')
  for (const m of readdirSync(filesRoot, { withFileTypes: true })) {
    if (!m.isDirectory()) continue
    for (const ino of readdirSync(join(filesRoot, m.name))) {
      if (!known.get(Number(m.name), ino)) rmSync(join(filesRoot, m.name, ino), { force: true })
    }
  }
}

/** Deletes the bytes of those inos no row refers to (any more, or after a rollback). */
export function unlinkUnreferenced(t: Tree, inos: string[]): void {
  const known = t.db.query('SELECT 1 FROM file_nodes WHERE m = ? AND ino = ?')
  for (const ino of inos) if (!known.get(t.m, ino)) rmSync(diskPath(t, ino), { force: true })
}
