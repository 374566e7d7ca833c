// The newest installed version of many MiMei at once (MMLast), and the wait for a newer one: a
// page watching the areas of everyone it follows asks once instead of once per area, and learns
// of a version the moment this node backs it up or installs it from the network (no poll).
import { InvalidParams, NotFound, PermissionDenied } from '../errors.ts'
import type { MiMeiStore } from '../mimei/index.ts'
import type { Replication } from '../net/replication.ts'
import type { Grant } from '../permissions/index.ts'

/** Ids in one call. */
export const MAX_LAST_IDS = 256
/** The longest wait for a newer version, in seconds (under the browser client's 30 s call timeout). */
export const MAX_LAST_WAIT_SEC = 20
/** Calls waiting at once on one node; past it a call answers at once, as without a wait. */
const MAX_WAITERS = 2000

export type LastVersions = Record<string, number | null>

interface Watch {
  /** Fires 'v' with the MiMei id after each backup here and each version installed from the network. */
  events: EventTarget
  waiters: number
}
const watches = new WeakMap<MiMeiStore, Watch>()

function watchOf(mimei: MiMeiStore, replication: Replication | undefined): Watch {
  let w = watches.get(mimei)
  if (!w) {
    const events = new EventTarget()
    const fire = (mid: string) => events.dispatchEvent(new CustomEvent('v', { detail: mid }))
    mimei.onBackup((mid) => fire(mid))
    replication?.events.addEventListener('synced', (e) => fire((e as CustomEvent<{ mid: string }>).detail.mid))
    w = { events, waiters: 0 }
    watches.set(mimei, w)
  }
  return w
}

/** Checks the arguments where they enter: at most MAX_LAST_IDS string ids, versions seen as integers, the wait in range. */
export function checkLastArgs(mids: unknown, since: unknown, waitSec: unknown): { mids: string[]; since: Record<string, number>; waitSec: number } {
  if (!Array.isArray(mids)) throw new InvalidParams('mids must be a list of MiMei ids')
  if (mids.length > MAX_LAST_IDS) throw new InvalidParams(`MMLast takes at most ${MAX_LAST_IDS} MiMei ids per call (got ${mids.length}); split them over several calls`)
  for (const m of mids) if (typeof m !== 'string' || m.length > 64) throw new InvalidParams('each MiMei id must be a string of at most 64 characters')
  const seen: Record<string, number> = {}
  if (since !== undefined && since !== null) {
    if (typeof since !== 'object' || Array.isArray(since)) throw new InvalidParams('since must be a map of MiMei id to the version seen')
    for (const [k, v] of Object.entries(since)) {
      if (!mids.includes(k)) continue
      if (!Number.isSafeInteger(v)) throw new InvalidParams(`since[${k}] must be an integer version`)
      seen[k] = v as number
    }
  }
  const wait = waitSec ?? 0
  if (!Number.isSafeInteger(wait) || (wait as number) < 0 || (wait as number) > MAX_LAST_WAIT_SEC) throw new InvalidParams(`wait must be 0..${MAX_LAST_WAIT_SEC} seconds`)
  return { mids: mids as string[], since: seen, waitSec: wait as number }
}

/** Each id's newest version here; null when it is not here or the caller may not read it (the two are not told apart). */
export function lastVersions(mimei: MiMeiStore, who: Grant, mids: string[]): LastVersions {
  const out: LastVersions = {}
  for (const mid of mids) {
    try {
      out[mid] = mimei.info(who, mid).last ?? null
    } catch (err) {
      if (!(err instanceof NotFound) && !(err instanceof PermissionDenied)) throw err
      out[mid] = null
    }
  }
  return out
}

const newer = (got: LastVersions, since: Record<string, number>) => Object.entries(got).some(([mid, v]) => v !== null && v > (since[mid] ?? 0))

/**
 * The versions; with a wait, answers once one of `mids` has a version above the one in `since`
 * (an id not in `since` counts as seen at 0), or when the wait is over.
 */
export async function waitLast(mimei: MiMeiStore, replication: Replication | undefined, who: Grant, mids: string[], since: Record<string, number>, waitSec: number): Promise<LastVersions> {
  const now = lastVersions(mimei, who, mids)
  if (!waitSec || newer(now, since)) return now
  const w = watchOf(mimei, replication)
  if (w.waiters >= MAX_WAITERS) return now
  const wanted = new Set(mids)
  w.waiters++
  try {
    return await new Promise<LastVersions>((resolve) => {
      const done = (v: LastVersions) => {
        clearTimeout(timer)
        w.events.removeEventListener('v', onVersion)
        resolve(v)
      }
      // Read again when a version comes or the wait ends; a store closed meanwhile (the node
      // stopping) ends the wait with what was read at the start.
      const read = () => {
        try {
          return lastVersions(mimei, who, mids)
        } catch {
          return now
        }
      }
      const onVersion = (e: Event) => {
        if (!wanted.has((e as CustomEvent<string>).detail)) return
        const got = read()
        if (newer(got, since)) done(got)
      }
      const timer = setTimeout(() => done(read()), waitSec * 1000)
      w.events.addEventListener('v', onVersion)
    })
  } finally {
    w.waiters--
  }
}
