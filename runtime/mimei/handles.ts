// Open MiMei handles (Leither's mmsid): what is open, for whom, writable or not; idle ones expire.
import { Database } from 'bun:sqlite'
import { randomBytes } from 'node:crypto'
import { NotFound, PermissionDenied } from '../errors.ts'
import type { DbTarget } from './db/core.ts'

export type VersionRef = 'cur' | number

export interface Transaction {
  /** MiMei sequence number when Begin ran: keys changed after it are conflicts. */
  readonly beginSeq: number
  /** Keys read or written inside the transaction. */
  readonly keys: Set<string>
  /** Queued writes, applied together by Commit. */
  readonly ops: { name: string; run: () => unknown }[]
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
  const handles = new Map<string, Handle>()
  const release = (h: Handle) => {
    if (h.tx) clearTimeout(h.tx.timer)
    if (h.target.db !== mainDb) h.target.db.close()
  }
  return {
    add(h) {
      const handle: Handle = { ...h, id: randomBytes(16).toString('base64url'), lastUsed: Date.now() }
      handles.set(handle.id, handle)
      return handle
    },
    get(id, write = false) {
      const h = typeof id === 'string' ? handles.get(id) : undefined
      if (!h) throw new NotFound('unknown or expired MiMei handle; open it again with MMOpen')
      if (write && !h.writable) {
        throw new PermissionDenied(
          h.ver === 'cur' ? `handle of MiMei ${h.mid} was opened without the write right` : `version ${h.ver} of MiMei ${h.mid} is read-only; open "cur" to write`,
        )
      }
      h.lastUsed = Date.now()
      return h
    },
    close(id) {
      const h = handles.get(id)
      if (!h) return false
      handles.delete(id)
      release(h)
      return true
    },
    sweep(idleSec) {
      const cutoff = Date.now() - idleSec * 1000
      let n = 0
      for (const h of handles.values()) {
        if (h.lastUsed < cutoff) {
          handles.delete(h.id)
          release(h)
          n++
        }
      }
      return n
    },
    closeAll() {
      for (const h of handles.values()) release(h)
      handles.clear()
    },
    get size() {
      return handles.size
    },
  }
}
