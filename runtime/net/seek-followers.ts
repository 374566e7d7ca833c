// Finding a peer that follows a provided MiMei when no connected peer does. Gossipsub forwards a
// topic only through peers subscribed to it: a replica whose only connections are to peers that do
// not follow the MiMei (a hub, a bootstrap node) hears no announcement, and the replica poll asks
// only connected peers. Such a replica looks up the MiMei's providers in the DHT and dials one,
// again and again with a growing pause while it stays alone; lookups are few at a time.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../log/index.ts'

/** How often the provided MiMei are checked for a subscribed connected peer. */
export const SEEK_CHECK_MS = 5_000
/** The pause after a lookup that left the MiMei alone, doubled each time up to SEEK_MAX_PAUSE_MS. */
const FIRST_PAUSE_MS = 10_000
const SEEK_MAX_PAUSE_MS = 600_000
/** DHT lookups in flight at once, and started per check: 1000 lonely MiMei do not flood the DHT. */
const MAX_LOOKUPS = 2
/** Providers dialed per lookup. */
const DIALS = 2
const LOOKUP_MS = 10_000
const DIAL_MS = 5_000

export interface SeekDeps {
  libp2p: Libp2p
  log: Logger
  /** The MiMei this node provides (follows) now. */
  provided(): string[]
  /** Peers subscribed to the MiMei's gossip topic among those connected. */
  subscribers(mid: string): PeerId[]
  /** The MiMei's providers in the DHT (not this node), with the addresses the DHT knows. */
  findProviders(mid: string, timeoutMs: number): Promise<{ peer: string; addrs: string[] }[]>
  /** Called with each provider connected to: asks it for a version missed while alone. */
  connected(peer: PeerId, mid: string): void
}

interface Alone {
  /** When the next lookup may start. */
  next: number
  pause: number
  looking: boolean
}

/** `checkMs`: how often the check runs (SEEK_CHECK_MS; tests shorten it). */
export function seekFollowers(deps: SeekDeps, checkMs = SEEK_CHECK_MS) {
  const { libp2p, log } = deps
  const alone = new Map<string, Alone>()
  let inFlight = 0
  let timer: ReturnType<typeof setInterval> | undefined
  let running = false

  const lookup = async (mid: string, s: Alone) => {
    s.looking = true
    inFlight++
    let reached = 0
    try {
      const found = (await deps.findProviders(mid, LOOKUP_MS)).filter((p) => libp2p.getConnections(peerIdFromString(p.peer)).length === 0)
      for (const p of found.sort(() => Math.random() - 0.5).slice(0, DIALS)) {
        if (!running) break
        const peer = peerIdFromString(p.peer)
        const addrs = p.addrs.flatMap((a) => {
          try {
            return [multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${p.peer}`)]
          } catch {
            return []
          }
        })
        try {
          await libp2p.dial(addrs.length ? addrs : peer, { signal: AbortSignal.timeout(DIAL_MS) })
          reached++
          deps.connected(peer, mid)
        } catch (err) {
          log.debug('provider not reached', { mid, peer: p.peer, error: (err as Error).message })
        }
      }
      log.info('no connected peer follows a provided MiMei; looked for providers', { mid, found: found.length, reached })
    } catch (err) {
      log.debug('provider lookup failed', { mid, error: (err as Error).message })
    } finally {
      inFlight--
      s.looking = false
      s.next = Date.now() + s.pause
      s.pause = Math.min(s.pause * 2, SEEK_MAX_PAUSE_MS)
    }
  }

  /** One check: notes which provided MiMei are alone and starts lookups for those due. */
  const check = () => {
    if (!running || libp2p.getPeers().length === 0) return
    const now = Date.now()
    const provided = new Set(deps.provided())
    for (const mid of alone.keys()) if (!provided.has(mid)) alone.delete(mid)
    let started = 0
    for (const mid of provided) {
      if (deps.subscribers(mid).length > 0) {
        alone.delete(mid)
        continue
      }
      const s = alone.get(mid)
      // Seen alone for the first time: subscriptions may still be on their way; looked up next check.
      if (!s) {
        alone.set(mid, { next: now + checkMs - 100, pause: FIRST_PAUSE_MS, looking: false })
        continue
      }
      if (s.looking || s.next > now || inFlight >= MAX_LOOKUPS || started >= MAX_LOOKUPS) continue
      started++
      void lookup(mid, s)
    }
  }

  return {
    start(): void {
      running = true
      timer = setInterval(check, checkMs)
      timer.unref?.()
    },
    stop(): void {
      running = false
      clearInterval(timer)
      alone.clear()
    },
    check,
  }
}
