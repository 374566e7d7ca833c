// References of a MiMei (MMAddRef): counted names of other MiMei or of content. A reference to
// content keeps its blocks alive (pinned as r:<m>:<ref>) until its count drops to zero.
import type { Database } from 'bun:sqlite'
import type { Grant } from '../permissions/index.ts'
import type { BlockStore } from './blocks.ts'
import type { MiMeiRow } from './model.ts'
import type { RightName } from './rights.ts'

export interface RefsHost {
  readonly db: Database
  readonly blocks: BlockStore
  row(mid: string): MiMeiRow
  require(row: MiMeiRow, who: Grant, need: RightName): void
  /** The blocks a content id stands for (a mac file: its manifest and chunks). */
  contentBlocks(cid: string): string[]
}

export class References {
  constructor(private readonly host: RefsHost) {}


  addRefs(who: Grant, mid: string, refs: string[]): number {
    const row = this.host.row(mid)
    this.host.require(row, who, 'admin')
    this.host.db.transaction(() => {
      for (const ref of refs) {
        this.host.db.query('INSERT INTO mimei_refs (m, ref, count) VALUES (?, ?, 1) ON CONFLICT (m, ref) DO UPDATE SET count = count + 1').run(row.id, ref)
        // A reference to content keeps its blocks alive: a mac file's chunks with its manifest.
        if (this.host.blocks.has(ref)) for (const cid of this.host.contentBlocks(ref)) this.host.blocks.pin(cid, `r:${row.id}:${ref}`)
      }
    })()
    return refs.length
  }

  delRefs(who: Grant, mid: string, refs: string[]): number {
    const row = this.host.row(mid)
    this.host.require(row, who, 'admin')
    let n = 0
    this.host.db.transaction(() => {
      for (const ref of refs) {
        const r = this.host.db.query('UPDATE mimei_refs SET count = count - 1 WHERE m = ? AND ref = ? RETURNING count').get(row.id, ref) as { count: number } | null
        if (!r) continue
        n++
        if (r.count <= 0) {
          this.host.db.query('DELETE FROM mimei_refs WHERE m = ? AND ref = ?').run(row.id, ref)
          this.host.blocks.unpinOwner(`r:${row.id}:${ref}`)
        }
      }
    })()
    return n
  }

  getRefs(who: Grant, mid: string): Record<string, number> {
    const row = this.host.row(mid)
    this.host.require(row, who, 'read')
    return Object.fromEntries((this.host.db.query('SELECT ref, count FROM mimei_refs WHERE m = ? ORDER BY ref').all(row.id) as { ref: string; count: number }[]).map((r) => [r.ref, r.count]))
  }
}
