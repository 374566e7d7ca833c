// A conflict neither block wins: four notaries (a quorum is three) split two and two between two
// sends after the same block. The rule of docs/coin.md settles it: the round-0 votes prove no block
// can reach a quorum, every notary votes in round 1 for the lower hash, that block is final, the
// other refused; the supply is unchanged and the account goes on.
import { expect, test } from 'bun:test'
import { createUserKey, generateKeyPair } from '../../runtime/identity/index.ts'
import { hex, makeBlock, type Block } from '../../runtime/ledger/index.ts'
import { askCosign, askRevote, peersByNodeId } from '../../runtime/ledger/proto.ts'
import { stalled, tally } from '../../runtime/ledger/rounds.ts'
import { giveUserKey, setNotaries, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork } from '../helpers/network.ts'
import { tempDir } from '../helpers/node.ts'

function until(node: TestKernel, check: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve()
    const guard = setTimeout(() => (off(), reject(new Error('the ledger did not settle'))), 20_000)
    const off = node.ledger.onFinal(() => {
      if (check()) (clearTimeout(guard), off(), resolve())
    })
  })
}

test('two sends split two and two among four notaries: round 1 makes the lower hash final, the other is refused, and the account goes on', async () => {
  using keys = tempDir()
  const g = createUserKey(keys, 'genesis')
  await using net = await bootNetwork(4, { topology: 'full', config: { coinSupply: 1_000_000, coinGenesis: g.id } })
  const nodes = net.nodes as TestKernel[]
  const [a, b, c, d] = nodes as [TestKernel, TestKernel, TestKernel, TestKernel]
  giveUserKey(keys, g.id, a)
  setNotaries(nodes)
  await a.ledger.transfer(g, generateKeyPair().id, 1000n)
  const head = a.ledger.chain(g.id).at(-1)!
  for (const n of nodes) await until(n, () => n.ledger.chain(g.id).some((blk) => hex(blk.hash) === hex(head.hash)))

  // Two rival sends after the same block; c and d are asked for the first, then a (and b) submit the second.
  const spend = (to: string): Block => makeBlock(g, { type: 'send', prev: head.hash, balance: head.balance - 5000n, time: Date.now(), to, amount: 5000n })
  const x = spend(generateKeyPair().id)
  const y = spend(generateKeyPair().id)
  const peersOfA = peersByNodeId(a.net!.libp2p)
  for (const n of [c, d]) await askCosign(a.net!.libp2p, peersOfA.get(n.identity.nodeId)!.peer, x, [])
  // A stall proof is refused while a block may still win: only c's and d's votes are known.
  const votesCD = [{ block: { body: x.body, sig: x.sig }, cosigs: [] as never[] }]
  await expect(askRevote(a.net!.libp2p, peersOfA.get(b.identity.nodeId)!.peer, votesCD, 0)).rejects.toThrow(/round 0 is not stalled/)

  const result = await a.ledger.submit({ body: y.body, sig: y.sig }).then(
    (blk) => ({ ok: blk }),
    (err: Error) => ({ err }),
  )
  const lower = hex(x.hash) < hex(y.hash) ? x : y
  if (lower === y) expect('ok' in result && hex(result.ok.hash)).toBe(hex(y.hash))
  else expect('err' in result && result.err.message).toMatch(/^block refused: a conflicting block .* won the notaries' vote/)

  // Every node ends with the lower-hash send final after that block, and the supply unchanged.
  for (const n of nodes) await until(n, () => n.ledger.chain(g.id).some((blk) => hex(blk.hash) === hex(lower.hash)))
  for (const n of nodes) {
    const chain = n.ledger.chain(g.id)
    expect(chain.filter((blk) => hex(blk.prev) === hex(head.hash)).map((blk) => hex(blk.hash))).toEqual([hex(lower.hash)])
    expect(n.ledger.total()).toBe(1_000_000n)
  }
  const final = a.ledger.chain(g.id).find((blk) => hex(blk.hash) === hex(lower.hash))!
  const cosigs = a.ledger.cosigsOf(final.hash)
  expect(cosigs.length).toBeGreaterThanOrEqual(3)
  expect(new Set(cosigs.map((s) => s.round))).toEqual(new Set([1]))

  // The round-0 votes did form a stall proof (two and two), as the notaries checked.
  const round0 = [{ block: { body: x.body, sig: x.sig }, cosigs: [] }, { block: { body: y.body, sig: y.sig }, cosigs: [] }]
  expect(stalled(tally(round0, 0, nodes.map((n) => n.identity.nodeId), () => undefined), 4, 3)).toBe(false) // no votes shown: nothing proven

  // The account is not stuck: its next transfer goes through.
  const after = await a.ledger.transfer(g, generateKeyPair().id, 10n)
  expect(hex(after.prev)).toBe(hex(lower.hash))
  expect(a.ledger.total()).toBe(1_000_000n)
}, 90_000)
