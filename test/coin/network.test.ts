// The ledger across three nodes, each a notary: transfers between users on different nodes, balances
// agree everywhere; with one notary down transfers still finalize, with two down they fail clearly.
import { expect, test } from 'bun:test'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers/node.ts'
import { createUserKey } from '../../runtime/identity/index.ts'
import type { TestKernel } from '../helpers/kernel.ts'
import { callLocal, failure, loginPassport } from '../helpers/kernel.ts'
import { bootNetwork, link } from '../helpers/network.ts'
import { quorumOf } from '../../runtime/ledger/notary.ts'

/** Resolves once `check` holds on `node`, looked at after every block that becomes final there. */
function until(node: TestKernel, check: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve()
    const guard = setTimeout(() => (off(), reject(new Error('the ledger did not settle'))), 20_000)
    const off = node.ledger.onFinal(() => {
      if (check()) (clearTimeout(guard), off(), resolve())
    })
  })
}

test('quorum: two thirds rounded up and a majority', () => {
  expect([1, 2, 3, 4, 5, 6, 7].map(quorumOf)).toEqual([1, 2, 2, 3, 4, 4, 5])
})

test('three nodes, three notaries: transfers between users on different nodes; one notary down; two down', async () => {
  // The genesis key is made apart and handed to node a after boot, so no node opens an account before the notaries are set.
  using keys = tempDir()
  const g = createUserKey(keys, 'genesis')
  await using net = await bootNetwork(3, { topology: 'none', config: { coinSupply: 1_000_000, coinGenesis: g.id } })
  const [a, b, c] = net.nodes as [TestKernel, TestKernel, TestKernel]
  await link(b, a)
  await link(c, a)
  await link(c, b)
  mkdirSync(join(a.dataDir, 'keys', 'users'), { recursive: true, mode: 0o700 })
  copyFileSync(join(keys, 'keys', 'users', `${g.id}.key`), join(a.dataDir, 'keys', 'users', `${g.id}.key`))
  const alice = createUserKey(b.dataDir, 'alice')
  const carol = createUserKey(c.dataDir, 'carol')
  for (const n of net.nodes) Object.assign(n.config, { coinNotaries: net.nodes.map((x) => x.identity.nodeId) })
  const login = async (n: TestKernel, key: typeof g) => ((await callLocal(n, 'Login', loginPassport(n, key))) as { sid: string }).sid

  await callLocal(a, 'CoinMint', await login(a, g), alice.id, 5000)
  await until(b, () => b.ledger.info(alice.id).balance === 5000n)
  await callLocal(b, 'CoinTransfer', await login(b, alice), carol.id, 1200, 'hello')
  const expected = { [g.id]: 995_000n, [alice.id]: 3800n, [carol.id]: 1200n }
  const agrees = (n: TestKernel) => () => Object.entries(expected).every(([acct, bal]) => n.ledger.info(acct).balance === bal)
  for (const n of net.nodes) await until(n, agrees(n))
  for (const n of net.nodes) expect(n.ledger.total()).toBe(1_000_000n)

  // One notary down: two of three co-sign.
  await c.stop()
  await callLocal(b, 'CoinTransfer', await login(b, alice), g.id, 100, '')
  await until(a, () => a.ledger.info(g.id).balance === 995_100n)
  expect(b.ledger.info(alice.id).balance).toBe(3700n)

  // Two down: a clear failure, and nothing moved.
  await b.stop()
  expect(await failure(callLocal(a, 'CoinTransfer', await login(a, g), alice.id, 1, ''))).toMatch(/^Timeout: no quorum: 1 of 3 notaries co-signed, 2 needed/)
  expect(a.ledger.info(g.id).balance).toBe(995_100n)
  expect(a.ledger.total()).toBe(1_000_000n)
}, 60_000)
