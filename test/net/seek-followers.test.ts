// The search for a peer that follows a provided MiMei stays bounded: with a thousand MiMei that no
// connected peer follows, at most two DHT lookups run at once, at most two start per check, and a
// MiMei looked up once is not looked up again before its pause (10 s, doubling).
import { describe, expect, test } from 'bun:test'
import type { Libp2p } from '@libp2p/interface'
import { bootNetwork } from '../helpers/network.ts'
import { seekFollowers } from '../../runtime/net/seek-followers.ts'
import { createLogger } from '../../runtime/log/index.ts'

describe('seeking followers', () => {
  test('a thousand lonely MiMei: two DHT lookups at a time, none repeated within its pause', async () => {
    await using net = await bootNetwork(2)
    const [k] = net.nodes
    const mids = Array.from({ length: 1000 }, (_, i) => `lonely-${String(i).padStart(20, '0')}`)
    let inFlight = 0
    let most = 0
    const looked = new Map<string, number>()
    let ended = 0
    const lookupEnded = new EventTarget()
    const seeker = seekFollowers(
      {
        libp2p: k.net!.libp2p as unknown as Libp2p,
        log: createLogger({ level: 'warn', stderr: false }),
        provided: () => mids,
        subscribers: () => [],
        // The node's real DHT lookup (nobody provides these), counted.
        findProviders: async (mid, timeoutMs) => {
          inFlight++
          most = Math.max(most, inFlight)
          looked.set(mid, (looked.get(mid) ?? 0) + 1)
          try {
            return await k.replication!.findProviders(mid, undefined, timeoutMs)
          } finally {
            inFlight--
            ended++
            lookupEnded.dispatchEvent(new Event('ended'))
          }
        },
        connected: () => {},
      },
      100,
    )
    seeker.start()
    try {
      // The first check notes the MiMei alone (no lookup); later checks start lookups as they are due.
      seeker.check()
      expect(looked.size).toBe(0)
      for (let checks = 1; ended < 20; checks++) {
        const before = looked.size
        seeker.check()
        expect(looked.size - before).toBeLessThanOrEqual(2)
        expect(inFlight).toBeLessThanOrEqual(2)
        if (inFlight > 0) await new Promise((r) => lookupEnded.addEventListener('ended', r, { once: true }))
      }
    } finally {
      seeker.stop()
    }
    expect(most).toBeLessThanOrEqual(2)
    expect([...looked.values()].every((n) => n === 1)).toBe(true)
  }, 120_000)
})
