// Removing a MiMei outright (an uninstalled app's package and data areas): its rows, its
// versions' and references' pins, its network records, its open handles, and its files on disk.
// What it used stops counting against whoever paid: usage is summed from these rows.
import { rmSync } from 'node:fs'
import type { MiMeiRow, MiMeiStore } from '../mimei/index.ts'

/** Tables keyed by the MiMei's row id (`m`). */
const BY_ROW = ['mimei_rights', 'mimei_versions', 'mimei_refs', 'file_nodes', 'kv', 'kv_hash', 'kv_list', 'kv_set', 'kv_zset', 'kv_deleted']
/** Tables keyed by its public id. */
const BY_MID = ['net_shared', 'net_records']

/** Removes MiMei `mid` from this node if it is here; returns whether it was. Blocks go at the next gc. */
export function removeMiMei(mimei: MiMeiStore, mid: string, because: string): boolean {
  const { db } = mimei
  const row = db.query('SELECT * FROM mimei WHERE mid = ?').get(mid) as MiMeiRow | null
  if (!row) return false
  mimei.handles.closeWhere((h) => h.m === row.id, because)
  mimei.files.closeWhere((m) => m === mid, because)
  db.transaction(() => {
    const vers = db.query('SELECT ver FROM mimei_versions WHERE m = ?').all(row.id) as { ver: number }[]
    for (const { ver } of vers) mimei.blocks.unpinOwner(`v:${row.id}:${ver}`)
    const refs = db.query('SELECT ref FROM mimei_refs WHERE m = ?').all(row.id) as { ref: string }[]
    for (const { ref } of refs) mimei.blocks.unpinOwner(`r:${row.id}:${ref}`)
    for (const t of BY_ROW) db.query(`DELETE FROM ${t} WHERE m = ?`).run(row.id)
    for (const t of BY_MID) db.query(`DELETE FROM ${t} WHERE mid = ?`).run(mid)
    db.query('DELETE FROM mimei WHERE id = ?').run(row.id)
  })()
  // After the commit: the rows naming these bytes are gone.
  rmSync(mimei.files.tree(row).disk, { recursive: true, force: true })
  mimei.rightsChanged()
  return true
}
