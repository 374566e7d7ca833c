// Calls without a session, counted per remote address: one token bucket per address, so a guest
// cannot make the node do network work (or answer) as fast as it can send.
import { Busy } from '../errors.ts'

export interface RateLimiter {
  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string, now?: number): boolean
}

/**
 * Buckets of `burst` tokens refilled at `perSecond`. At most `maxKeys` addresses are tracked: past
 * that the oldest bucket is forgotten (an address seen again starts full, which errs toward
 * answering, never toward refusing someone who did nothing).
 */
export function rateLimiter(opts: { perSecond: number; burst: number; maxKeys?: number }): RateLimiter {
  const maxKeys = opts.maxKeys ?? 10_000
  const buckets = new Map<string, { tokens: number; at: number }>()
  return {
    take(key, now = performance.now()) {
      let b = buckets.get(key)
      if (b) {
        b.tokens = Math.min(opts.burst, b.tokens + ((now - b.at) / 1000) * opts.perSecond)
        b.at = now
        // Map order is insertion order: move the bucket to the young end.
        buckets.delete(key)
      } else {
        b = { tokens: opts.burst, at: now }
        if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!)
      }
      buckets.set(key, b)
      if (b.tokens < 1) return false
      b.tokens--
      return true
    },
  }
}

/** Guest calls that reach the network layer: 20 at once, then 5 a second, per address. */
export const GUEST_NET_RATE = { perSecond: 5, burst: 20 }

const perNode = new WeakMap<object, RateLimiter>()

/**
 * Refuses a guest's call past its address's rate (Busy, saying how to go on); calls with a session
 * and in-process calls are not counted. `node` is any object unique to the node (its services),
 * so nodes sharing a process keep their own counts.
 */
export function limitGuest(node: object, who: { kind: string }, meta: { transport: string; remote?: string }, what: string): void {
  if (who.kind !== 'guest' || meta.transport === 'local') return
  let limiter = perNode.get(node)
  if (!limiter) perNode.set(node, (limiter = rateLimiter(GUEST_NET_RATE)))
  if (!limiter.take(meta.remote ?? 'unknown')) {
    throw new Busy(`${what}: too many calls without a session from ${meta.remote ?? 'this address'}; wait a second, or log in (Login) and pass the sid`)
  }
}
