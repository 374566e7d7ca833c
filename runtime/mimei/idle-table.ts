// A table of open handles (MiMei handles, file handles): bearer ids, last use, idle expiry.
import { randomBytes } from 'node:crypto'
import { NotFound, PermissionDenied } from '../errors.ts'

/** Handles closed by a decision (rights, logout) are remembered this many at most, to say why. */
const TOMBSTONES = 4096

export interface IdleEntry {
  readonly id: string
  lastUsed: number
}

export interface IdleTable<T extends IdleEntry> {
  add(entry: Omit<T, 'id' | 'lastUsed'>): T
  /** The live entry (its idle clock restarts), or NotFound with `missing` as the message. */
  get(id: unknown): T
  close(id: string): boolean
  /**
   * Closes every entry `match` accepts; returns how many. With `because`, a later use of one of
   * them is PermissionDenied with that text instead of NotFound.
   */
  closeWhere(match: (entry: T) => boolean, because?: string): number
  /** Closes entries idle longer than `idleSec`; returns how many. */
  sweep(idleSec: number): number
  closeAll(): void
  /** The open entries (their idle clocks are not restarted). */
  values(): IterableIterator<T>
  readonly size: number
}

/** `release` runs once for every entry that goes (closed, expired, or all at stop). */
export function idleTable<T extends IdleEntry>(release: (entry: T) => void, missing: string): IdleTable<T> {
  const entries = new Map<string, T>()
  const tombstones = new Map<string, string>()
  return {
    add(fields) {
      // 128 random bits: a handle is a capability, so it must not be guessable.
      const entry = { ...fields, id: randomBytes(16).toString('base64url'), lastUsed: Date.now() } as T
      entries.set(entry.id, entry)
      return entry
    },
    get(id) {
      const entry = typeof id === 'string' ? entries.get(id) : undefined
      if (!entry) {
        const why = typeof id === 'string' ? tombstones.get(id) : undefined
        throw why ? new PermissionDenied(why) : new NotFound(missing)
      }
      entry.lastUsed = Date.now()
      return entry
    },
    close(id) {
      const entry = entries.get(id)
      if (!entry) return false
      entries.delete(id)
      release(entry)
      return true
    },
    closeWhere(match, because) {
      let n = 0
      for (const entry of [...entries.values()]) {
        if (!match(entry)) continue
        entries.delete(entry.id)
        release(entry)
        n++
        if (!because) continue
        tombstones.set(entry.id, because)
        if (tombstones.size > TOMBSTONES) tombstones.delete(tombstones.keys().next().value!)
      }
      return n
    },
    sweep(idleSec) {
      const cutoff = Date.now() - idleSec * 1000
      let n = 0
      for (const entry of entries.values()) {
        if (entry.lastUsed < cutoff) {
          entries.delete(entry.id)
          release(entry)
          n++
        }
      }
      return n
    },
    values: () => entries.values(),
    closeAll() {
      for (const entry of entries.values()) release(entry)
      entries.clear()
    },
    get size() {
      return entries.size
    },
  }
}
