// The DHT through the dispatcher: finding a node two hops away, and the network size estimate
// (on a real ten-node star, and the estimator itself on synthetic networks of known size).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { sha256 } from '@noble/hashes/sha2.js'
import { callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork, knowledgeOf, peerIdOf, tcpAddr, unlink, waitForRoutingTable, type TestNetwork } from '../helpers/network.ts'
import { estimateNetworkSize, normalizedDistance } from '../../runtime/net/netsize.ts'

const ownerSid = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

describe('DhtFindPeer', () => {
  let net: TestNetwork
  beforeAll(async () => {
    // C — B — A: B dials C, A dials B; nobody gives A C's address.
    net = await bootNetwork(3, { topology: 'chain', waitForDht: true })
  }, 30_000)
  afterAll(() => net.stop())

  test('A finds C, two hops away, through B', async () => {
    const [c, b, a] = net.nodes
    // The DHT's start-up walks may already have connected A and C; take that back, so that A
    // knows only B and C only B.
    await unlink(a, c)
    expect(await knowledgeOf(a, peerIdOf(c))).toEqual({ connected: false, routingTable: false, addresses: 0 })
    expect(await knowledgeOf(c, peerIdOf(a))).toEqual({ connected: false, routingTable: false, addresses: 0 })
    expect(await knowledgeOf(a, peerIdOf(b))).toMatchObject({ connected: true, routingTable: true })
    const found = (await callLocal(a, 'DhtFindPeer', await ownerSid(a), peerIdOf(c))) as { peer: string; addrs: string[]; from: string }
    expect(found.peer).toBe(peerIdOf(c))
    expect(found.addrs).toContain(tcpAddr(c).replace(/\/p2p\/.*$/, ''))
    // A knew only B, so C's address came from B: the answer is B's, or C's own once A dialed the
    // address B gave (the walk asks whoever it learns of, and either may answer first). Never A's.
    expect([peerIdOf(b), peerIdOf(c)]).toContain(found.from)
  }, 30_000)

  test('an unknown peer is NotFound; a malformed id is InvalidParams; guests are denied', async () => {
    const a = net.nodes[2]
    const sid = await ownerSid(a)
    expect(await failure(callLocal(a, 'DhtFindPeer', sid, '12D3KooWLrgSSZ8EWAWrTt5ogC8fDKvUbjNkjHeH2ZgNQZNkL2NH'))).toStartWith('NotFound: ')
    expect(await failure(callLocal(a, 'DhtFindPeer', sid, 'bogus'))).toStartWith('InvalidParams: not a peer id')
    expect(await failure(callLocal(a, 'DhtFindPeer', '', peerIdOf(net.nodes[0])))).toStartWith('PermissionDenied')
  }, 30_000)
})

describe('DhtNetworkSize', () => {
  test('the hub of a ten-node star counts the network', async () => {
    await using net = await bootNetwork(10, { topology: 'star' })
    const hub = net.nodes[0]
    await Promise.all(net.nodes.slice(1).map((k) => waitForRoutingTable(hub, peerIdOf(k))))
    const size = (await callLocal(hub, 'DhtNetworkSize', '')) as { routingTable: number; estimate: number; method: string }
    expect(size).toMatchObject({ routingTable: 9, estimate: 10, method: 'count' })
  }, 60_000)

  test('the density estimate lands near the true size of synthetic networks', () => {
    const k = 20
    for (const n of [200, 5_000, 100_000]) {
      // Ids as a node would see them: SHA-256 of peer ids; the routing table keeps the k closest
      // (a node's own neighbourhood is always complete) plus a few far ones.
      const self = sha256(new TextEncoder().encode(`self-${n}`))
      const distances = Array.from({ length: n - 1 }, (_, i) => normalizedDistance(self, sha256(new TextEncoder().encode(`peer-${n}-${i}`))))
      const table = distances.sort((x, y) => x - y).slice(0, k).concat(distances.slice(-40))
      const est = estimateNetworkSize(table, k)
      expect(est.method).toBe('density')
      expect(est.sample).toBe(k)
      expect(est.estimate).toBeGreaterThan(n / 2)
      expect(est.estimate).toBeLessThan(n * 2)
    }
  }, 30_000)

  test('distances: equal ids are 0, complementary ids nearly 1; a small table is counted', () => {
    const id = new Uint8Array(32).fill(0xaa)
    expect(normalizedDistance(id, id)).toBe(0)
    expect(normalizedDistance(id, new Uint8Array(32).fill(0x55))).toBeCloseTo(1, 10)
    expect(estimateNetworkSize([0.5, 0.25], 20)).toEqual({ routingTable: 2, estimate: 3, method: 'count', sample: 0 })
  })
})
