// DHT provider lookups in a network of in-process nodes: how long `contentRouting.findProviders`
// takes to name a provider of a key that a random other node provided. For bench/net.ts.
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { bootNetwork, link, until, waitForAddr } from '../test/helpers/network.ts'
import type { TestKernel } from '../test/helpers/kernel.ts'

const RAW_CODEC = 0x55

export interface DhtLookupResult {
  nodes: number
  keys: number
  /** contentRouting.findProviders: ms to the provider, one per successful lookup. */
  lookupMs: number[]
  /** The DHT walk: ms to the first answer from another node that names the provider. */
  networkMs: number[]
  /** Lookups where the finder held the provider record itself. */
  localHits: number
  failures: number
  provideMs: number[]
  /** Routing table sizes once the network settled. */
  tableSizes: number[]
  setupMs: number
}

interface RoutingTable extends EventTarget {
  size: number
}
const tableOf = (k: TestKernel) => (k.net!.libp2p.services.dht as unknown as { routingTable: RoutingTable }).routingTable

/** A small deterministic generator: the same run picks the same providers and finders. */
function seeded(seed: number) {
  let s = seed >>> 0
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s % n
  }
}

export async function measureDhtLookups(nodes: number, keys: number, timeoutMs = 20_000): Promise<DhtLookupResult> {
  const started = performance.now()
  const pick = seeded(20261125)
  // Every node joins through node 0, as through one bootstrap node, and also knows one earlier
  // node: the DHT has to carry lookups beyond the hub's first answer.
  await using net = await bootNetwork(nodes, { topology: 'star' })
  for (const [i, k] of net.nodes.slice(2).entries()) await link(k, net.nodes[1 + pick(i + 1)])
  // Settled: every routing table holds a quarter of the network or more (self-lookups fill them).
  const want = Math.floor(nodes / 4)
  await Promise.all(net.nodes.map((k) => until(tableOf(k), ['peer:add'], () => (tableOf(k).size >= want ? true : undefined), `a routing table of ${want}`, 60_000)))
  // And quiet: a node keeps walking the DHT in search of a relay until it holds a reservation
  // (circuit relay discovery), which would load the CPU the lookups share.
  await Promise.all(net.nodes.map((k) => waitForAddr(k, (a) => a.includes('/p2p-circuit'), 'a relay reservation')))
  const tableSizes = net.nodes.map((k) => tableOf(k).size)
  const setupMs = performance.now() - started

  const lookupMs: number[] = []
  const networkMs: number[] = []
  const provideMs: number[] = []
  let failures = 0
  let localHits = 0
  for (let i = 0; i < keys; i++) {
    const cid = CID.createV1(RAW_CODEC, await sha256.digest(new TextEncoder().encode(`leither bench key ${i}`)))
    const provider = net.nodes[pick(nodes)]
    const providerId = provider.net!.libp2p.peerId
    const finder = net.nodes.filter((k) => k !== provider)[pick(nodes - 1)]
    const finderId = finder.net!.libp2p.peerId
    const t0 = performance.now()
    await provider.net!.libp2p.contentRouting.provide(cid, { signal: AbortSignal.timeout(timeoutMs) })
    provideMs.push(performance.now() - t0)

    // What an app calls: libp2p's content routing, first answer naming the provider.
    const t1 = performance.now()
    let found = false
    try {
      for await (const p of finder.net!.libp2p.contentRouting.findProviders(cid, { signal: AbortSignal.timeout(timeoutMs) })) {
        if (p.id.equals(providerId)) {
          found = true
          break
        }
      }
    } catch {
      // A timeout or an exhausted query: counted as a failure.
    }
    if (found) lookupMs.push(performance.now() - t1)
    else failures++

    // The same walk, timed to the first answer from another node (the finder may hold the
    // record itself: provide() stores it on the k = 20 closest nodes, here nearly all of them).
    const t2 = performance.now()
    try {
      for await (const event of finder.net!.libp2p.services.dht.findProviders(cid, { signal: AbortSignal.timeout(timeoutMs) })) {
        // Every answer is a PEER_RESPONSE (the local store's too, from the finder itself); PROVIDER
        // events repeat only providers not seen before, so they cannot tell a remote answer.
        if (event.name !== 'PEER_RESPONSE' || !event.providers.some((p) => p.id.equals(providerId))) continue
        if (event.from.equals(finderId)) {
          localHits++
          continue
        }
        networkMs.push(performance.now() - t2)
        break
      }
    } catch {
      // As above; a missing network time shows as fewer samples.
    }
  }
  return { nodes, keys, lookupMs, networkMs, localHits, failures, provideMs, tableSizes, setupMs }
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}
