// Final blocks spread over gossipsub: a node connected to no one who took part in a transfer (only
// to a notary that relays the topic) still learns of it; a malformed message on the topic is ignored.
import { expect, test } from 'bun:test'
import { createUserKey, generateKeyPair } from '../../runtime/identity/index.ts'
import { COIN_TOPIC } from '../../runtime/ledger/gossip.ts'
import { giveUserKey, setNotaries, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork, link, peerIdOf, until } from '../helpers/network.ts'
import { tempDir } from '../helpers/node.ts'

test('a final block reaches a node that only the gossip mesh connects to the sender', async () => {
  using keys = tempDir()
  const g = createUserKey(keys, 'genesis')
  await using net = await bootNetwork(3, { topology: 'none', config: { coinSupply: 1_000_000, coinGenesis: g.id } })
  const [a, b, d] = net.nodes as [TestKernel, TestKernel, TestKernel]
  await link(b, a)
  await link(d, b) // d knows b only; a never hands it anything directly
  giveUserKey(keys, g.id, a)
  setNotaries(net.nodes, [a, b])

  // b relays the topic to d once d is in its mesh (gossipsub grafts at a heartbeat).
  const pubsub = b.net!.libp2p.services.pubsub as unknown as EventTarget & { getMeshPeers(topic: string): string[] }
  await until(pubsub, ['gossipsub:heartbeat'], () => (pubsub.getMeshPeers(COIN_TOPIC).includes(peerIdOf(d)) ? true : undefined), 'd in b’s mesh')

  const x = generateKeyPair().id
  const sent = await a.ledger.transfer(g, x, 700n)
  await new Promise<void>((resolve) => {
    if (d.ledger.info(x).pending === 700n) return resolve()
    const off = d.ledger.onFinal((blk) => {
      if (Buffer.from(blk.hash).equals(Buffer.from(sent.hash))) (off(), resolve())
    })
  })
  expect(d.ledger.info(x).pending).toBe(700n)
  expect(d.ledger.info(g.id).balance).toBe(1_000_000n - 700n)
  expect(d.ledger.total()).toBe(1_000_000n)

  // Garbage and a block without co-signatures published on the topic change nothing.
  const aps = a.net!.libp2p.services.pubsub
  await aps.publish(COIN_TOPIC, new Uint8Array([1, 2, 3]))
  await aps.publish(COIN_TOPIC, new TextEncoder().encode('not cbor at all'))
  expect(d.ledger.chain(g.id).length).toBe(2)
  expect(d.ledger.total()).toBe(1_000_000n)
}, 60_000)
