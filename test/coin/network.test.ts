// The ledger across three nodes, each a notary: transfers between users on different nodes, balances
// agree everywhere; with one notary down transfers still finalize, with two down they fail clearly.
import { expect, test } from 'bun:test'
import { copyFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers/node.ts'
import { createUserKey } from '../../runtime/identity/index.ts'
import { giveUserKey, setNotaries, type TestKernel } from '../helpers/kernel.ts'
import { bootTest, callLocal, failure, loginPassport } from '../helpers/kernel.ts'
import { bootNetwork, link } from '../helpers/network.ts'
import { quorumOf } from '../../runtime/ledger/notary.ts'
import { makeBlock } from '../../runtime/ledger/block.ts'
import { sendFinal } from '../../runtime/ledger/proto.ts'

/** Resolves once `check` holds on `node`, looked at after every block that becomes final there. */
function until(node: TestKernel, check: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve()
    const guard = setTimeout(() => (off(), reject(new Error(`the ledger did not settle: ${check}`))), 20_000)
    const off = node.ledger.onFinal(() => {
      if (check()) (clearTimeout(guard), off(), resolve())
    })
  })
}

test('quorum: two thirds rounded up and a majority', () => {
  expect([1, 2, 3, 4, 5, 6, 7].map(quorumOf)).toEqual([1, 2, 2, 3, 4, 4, 5])
})

test('three nodes, three notaries: transfers between users on different nodes; one notary down; it catches up after a restart; two down', async () => {
  // The genesis key is made apart and handed to node a after boot, so no node opens an account before the notaries are set.
  using keys = tempDir()
  const g = createUserKey(keys, 'genesis')
  await using net = await bootNetwork(3, { topology: 'full', config: { coinSupply: 1_000_000, coinGenesis: g.id } })
  const [a, b, c] = net.nodes as [TestKernel, TestKernel, TestKernel]
  giveUserKey(keys, g.id, a)
  const alice = createUserKey(b.dataDir, 'alice')
  const carol = createUserKey(c.dataDir, 'carol')
  setNotaries(net.nodes)
  const login = async (n: TestKernel, key: typeof g) => ((await callLocal(n, 'Login', loginPassport(n, key))) as { sid: string }).sid

  await callLocal(a, 'CoinMint', await login(a, g), alice.id, 5000)
  await until(b, () => b.ledger.info(alice.id).balance === 5000n)
  await callLocal(b, 'CoinTransfer', await login(b, alice), carol.id, 1200, 'hello')
  const expected: Record<string, bigint> = { [g.id]: 995_000n, [alice.id]: 3800n, [carol.id]: 1200n }
  const agrees = (n: TestKernel) => () => Object.entries(expected).every(([acct, bal]) => n.ledger.info(acct).balance === bal)
  for (const n of net.nodes) await until(n, agrees(n))
  for (const n of net.nodes) expect(n.ledger.total()).toBe(1_000_000n)

  // Forged and replayed final blocks handed to a node over the wire: refused, or taken once.
  const libA = a.net!.libp2p
  const peerB = b.net!.libp2p.peerId
  const gHead = a.ledger.chain(g.id).at(-1)!
  const forged = makeBlock(g, { type: 'send', prev: gHead.hash, balance: gHead.balance - 7n, time: Date.now(), to: alice.id, amount: 7n })
  const fakeCosigs = net.nodes.map((n) => ({ notary: n.identity.nodeId, sig: new Uint8Array(64).fill(1) }))
  await expect(sendFinal(libA, peerB, { block: { body: forged.body, sig: forged.sig }, cosigs: fakeCosigs })).rejects.toThrow(/needs 2 valid notary co-signatures, it has 0/)
  const aliceChain = b.ledger.chain(alice.id)
  const aliceHead = aliceChain.at(-1)!
  await sendFinal(libA, peerB, { block: { body: aliceHead.body, sig: aliceHead.sig }, cosigs: [] }) // already there: taken once, nothing changes
  expect(b.ledger.chain(alice.id).length).toBe(aliceChain.length)
  expect(b.ledger.info(g.id).balance).toBe(995_000n)

  // A double spend: alice's key on two nodes, two conflicting sends after the same block, at once.
  copyFileSync(join(b.dataDir, 'keys', 'users', `${alice.id}.key`), join(c.dataDir, 'keys', 'users', `${alice.id}.key`))
  const head = b.ledger.chain(alice.id).at(-1)!
  const spend = (to: string) => makeBlock(alice, { type: 'send', prev: head.hash, balance: head.balance - 3000n, time: Date.now(), to, amount: 3000n })
  const results = await Promise.allSettled([b.ledger.submit(spend(carol.id)), c.ledger.submit(spend(g.id))])
  const final = results.filter((r) => r.status === 'fulfilled')
  expect(final.length).toBeLessThanOrEqual(1)
  for (const r of results) if (r.status === 'rejected') expect((r.reason as { wireText(): string }).wireText()).toMatch(/^Conflict: .*double spend/)
  const spent = final.length ? 3000n : 0n
  for (const n of net.nodes) await until(n, () => n.ledger.info(alice.id).balance === 3800n - spent)
  for (const n of net.nodes) await until(n, () => n.ledger.total() === 1_000_000n && n.ledger.info(carol.id).pending === 0n && n.ledger.info(g.id).pending === 0n)
  expected[alice.id] = 3800n - spent
  // The winner's receiver has it (carol when b's send won, the genesis account when c's did).
  if (results[0].status === 'fulfilled') expected[carol.id]! += 3000n
  if (results[1].status === 'fulfilled') expected[g.id]! += 3000n
  for (const n of net.nodes) await until(n, agrees(n))
  rmSync(join(c.dataDir, 'keys', 'users', `${alice.id}.key`))

  // One notary down: two of three co-sign.
  await c.stop()
  // Two blocks of alice's chain that c misses (so one dependency does not make up for them).
  await callLocal(b, 'CoinTransfer', await login(b, alice), g.id, 60, '')
  await callLocal(b, 'CoinTransfer', await login(b, alice), g.id, 40, '')
  await until(a, () => a.ledger.info(g.id).pending === 0n && a.ledger.info(alice.id).balance === expected[alice.id]! - 100n)
  expect(b.ledger.info(alice.id).balance).toBe(expected[alice.id]! - 100n)

  // The notary that was down comes back; with another one down, it catches up on what it missed from its peer and co-signs.
  const c2 = await bootTest({ p2p: true, coinSupply: 1_000_000, coinGenesis: g.id, coinNotaries: net.nodes.map((x) => x.identity.nodeId) }, c.dataDir)
  try {
    await link(c2, a)
    await link(c2, b)
    await a.stop()
    await callLocal(b, 'CoinTransfer', await login(b, alice), carol.id, 50, 'after the restart')
    await until(c2, () => c2.ledger.info(carol.id).balance === expected[carol.id]! + 50n && c2.ledger.info(alice.id).balance === expected[alice.id]! - 150n)
    expect(c2.ledger.total()).toBe(1_000_000n)

    // Two down: a clear failure, and nothing moved.
    await c2.stop()
    expect(await failure(callLocal(b, 'CoinTransfer', await login(b, alice), g.id, 1, ''))).toMatch(/^Timeout: no quorum: 1 of 3 notaries co-signed, 2 needed/)
    expect(b.ledger.info(alice.id).balance).toBe(expected[alice.id]! - 150n)
    expect(b.ledger.total()).toBe(1_000_000n)
  } finally {
    await c2.stop()
  }
}, 60_000)
