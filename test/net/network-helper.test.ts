// test/helpers/network.ts itself: the bootstrap way of linking works as a deployment's does, and
// tearing a network down stops every node.
import { describe, expect, test } from 'bun:test'
import { bootNetwork, peerIdOf } from '../helpers/network.ts'

describe('bootNetwork', () => {
  test('a chain linked through bootstrap lists connects each node to the one before it; stop() ends all', async () => {
    const net = await bootNetwork(3, { link: 'bootstrap' })
    const [a, b, c] = net.nodes
    expect(b.config.bootstrap).toEqual([a.net!.addrs().find((x) => !x.includes('/ws') && !x.includes('/p2p-circuit'))!])
    const peersOf = (k: typeof a) => k.net!.libp2p.getPeers().map(String)
    expect(peersOf(b)).toContain(peerIdOf(a))
    expect(peersOf(c)).toContain(peerIdOf(b))
    const nets = net.nodes.map((k) => k.net!)
    await Promise.all([net.stop(), net.stop()])
    for (const n of nets) expect(() => n.libp2p).toThrow('net is not started')
  }, 30_000)
})
