// Open MiMei handles (Leither's mmsid): what is open, for whom, writable or not; idle ones expire.
import { Database } from 'bun:sqlite'
import { PermissionDenied } from '../errors.ts'
import { idleTable } from './idle-table.ts'
import type { DbTarget } from './db/core.ts'

export type VersionRef = 'cur' | number

export interface Transaction {
  /** MiMei sequence number when Begin ran: keys changed after it are conflicts. */
  readonly beginSeq: number
  /** Keys read or written inside the transaction. */
  readonly keys: Set<string>
  /** Queued writes, applied together by Commit. */
  readonly ops: { name: string; run: (target: DbTarget) => unknown }[]
  readonly timer: ReturnType<typeof setTimeout>
}

export interface Handle {
  readonly id: string
  readonly mid: string
  readonly m: number
  readonly type: number
  readonly ver: VersionRef
  readonly writable: boolean
  readonly userId: string
  /** Where the data is: the node database for `cur`, a private in-memory copy for versions. */
  readonly target: DbTarget
  lastUsed: number
  tx?: Transaction
}

export interface HandleTable {
  add(h: Omit<Handle, 'id' | 'lastUsed'>): Handle
  /** The live handle, or NotFound; `write` requires a writable one. */
  get(id: string, write?: boolean): Handle
  close(id: string): boolean
  /** Closes handles idle longer than `idleSec`. */
  sweep(idleSec: number): number
  closeAll(): void
  readonly size: number
}

export function handleTable(mainDb: Database): HandleTable {
  const table = idleTable<Handle>((h) => {
    if (h.tx) clearTimeout(h.tx.timer)
    if (h.target.db !== mainDb) h.target.db.close()
  }, 'unknown or expired MiMei handle; open it again with MMOpen')
  return {
    add: (h) => table.add(h),
    get(id, write = false) {
      const h = table.get(id)
      if (write && !h.writable) {
        throw new PermissionDenied(
          h.ver === 'cur' ? `handle of MiMei ${h.mid} was opened without the write right` : `version ${h.ver} of MiMei ${h.mid} is read-only; open "cur" to write`,
        )
      }
      return h
    },
    close: (id) => table.close(id),
    sweep: (idleSec) => table.sweep(idleSec),
    closeAll: () => table.closeAll(),
    get size() {
      return table.size
    },
  }
}
