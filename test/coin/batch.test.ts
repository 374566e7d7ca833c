// Co-signature requests batched per notary: many accounts sending at once from one node ask each
// other notary in a few requests, not one per block; every transfer is final and the supply holds.
import { expect, test } from 'bun:test'
import { createUserKey, generateKeyPair, type KeyPair } from '../../runtime/identity/index.ts'
import { COIN_PROTOCOL } from '../../runtime/ledger/proto.ts'
import { giveUserKey, setNotaries, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork } from '../helpers/network.ts'
import { tempDir } from '../helpers/node.ts'

test('eight accounts sending at once ask each of the two other notaries in batches', async () => {
  using keys = tempDir()
  const g = createUserKey(keys, 'genesis')
  await using net = await bootNetwork(3, { topology: 'full', config: { coinSupply: 1_000_000, coinGenesis: g.id } })
  const [a, b, c] = net.nodes as [TestKernel, TestKernel, TestKernel]
  giveUserKey(keys, g.id, a)
  setNotaries(net.nodes)
  const senders: KeyPair[] = []
  for (let i = 0; i < 8; i++) {
    const k = createUserKey(a.dataDir, `s${i}`)
    await a.ledger.transfer(g, k.id, 100n) // received on a: each sender's chain is open with 100
    senders.push(k)
  }

  // Count the streams a opens on the coin protocol while they all send at once.
  const lib = a.net!.libp2p
  const dial = lib.dialProtocol.bind(lib)
  let streams = 0
  lib.dialProtocol = ((peer: never, protocols: string | string[], opts?: never) => {
    if ([protocols].flat().includes(COIN_PROTOCOL.id)) streams++
    return dial(peer, protocols, opts)
  }) as typeof lib.dialProtocol
  const to = generateKeyPair().id
  const sent = await Promise.all(senders.map((k) => a.ledger.transfer(k, to, 10n)))
  lib.dialProtocol = dial
  expect(sent.length).toBe(8)
  for (const k of senders) expect(a.ledger.info(k.id).balance).toBe(90n)
  expect(a.ledger.info(to).pending).toBe(80n)
  expect(a.ledger.total()).toBe(1_000_000n)
  // 8 blocks × 2 notaries would be 16 streams one by one; batched, each notary gets the first alone and the rest together.
  expect(streams).toBeLessThan(16)
  expect(streams).toBeGreaterThanOrEqual(2)
}, 60_000)
