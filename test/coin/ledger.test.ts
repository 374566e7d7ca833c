// The ledger on a real node: mint, transfers between two users, history, refusals, a double spend, restarts.
import { describe, expect, test } from 'bun:test'
import { createUserKey, type KeyPair } from '../../runtime/identity/index.ts'
import { makeBlock, verifyChain, type Block } from '../../runtime/ledger/index.ts'
import { bootTest, callLocal, failure, loginPassport, ownerKey } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'

type Info = { account: string; balance: bigint; pending: bigint; height: number }
const login = async (node: Parameters<typeof callLocal>[0], key?: KeyPair) => ((await callLocal(node, 'Login', loginPassport(node, key))) as { sid: string }).sid

describe('coin ledger on one node', () => {
  test('mint, transfers between two users, balances, history; insufficient funds change nothing; all survives a restart', async () => {
    using dir = tempDir()
    let alice: KeyPair, bob: KeyPair
    {
      await using node = await bootTest({ coinSupply: 1_000_000 }, dir)
      alice = createUserKey(dir, 'alice')
      bob = createUserKey(dir, 'bob')
      const owner = await login(node)
      const genesis = ownerKey(node).id
      expect(((await callLocal(node, 'CoinBalance', owner)) as Info).balance).toBe(1_000_000n)

      const minted = (await callLocal(node, 'CoinMint', owner, alice.id, 5000)) as { type: string; amount: bigint }
      expect(minted).toMatchObject({ type: 'send', amount: 5000n })
      const sa = await login(node, alice)
      const sb = await login(node, bob)
      expect(await failure(callLocal(node, 'CoinMint', sa, bob.id, 1))).toMatch(/^PermissionDenied: .*genesis/)

      await callLocal(node, 'CoinTransfer', sa, bob.id, 1200, 'lunch')
      await callLocal(node, 'CoinTransfer', sb, alice.id, 200, '')
      expect(((await callLocal(node, 'CoinBalance', sa)) as Info).balance).toBe(4000n)
      expect(((await callLocal(node, 'CoinBalance', sa, bob.id)) as Info).balance).toBe(1000n)
      expect(((await callLocal(node, 'CoinBalance', owner)) as Info).balance).toBe(995_000n)

      const before = node.ledger.chain(alice.id).length
      expect(await failure(callLocal(node, 'CoinTransfer', sa, bob.id, 4001, ''))).toMatch(/^Conflict: insufficient funds/)
      expect(node.ledger.chain(alice.id).length).toBe(before)
      expect(((await callLocal(node, 'CoinBalance', sa)) as Info).balance).toBe(4000n)

      const hist = (await callLocal(node, 'CoinHistory', sa)) as { type: string; amount?: bigint; memo?: string; to?: string }[]
      expect(hist.map((h) => h.type)).toEqual(['receive', 'send', 'receive', 'open'])
      expect(hist[1]).toMatchObject({ type: 'send', to: bob.id, amount: 1200n, memo: 'lunch' })
      expect(node.ledger.total()).toBe(1_000_000n)
      expect(genesis).toBe(node.ledger.genesis)
    }
    // Restarted on the same data dir: balances are there and every chain verifies from its blocks.
    await using again = await bootTest({ coinSupply: 1_000_000 }, dir)
    const sb = await login(again, bob)
    expect(((await callLocal(again, 'CoinBalance', sb)) as Info).balance).toBe(1000n)
    const ctx = { genesis: again.ledger.genesis, supply: 1_000_000n, sendOf: (h: Uint8Array) => again.ledger.chain(alice.id).concat(again.ledger.chain(bob.id), again.ledger.chain(again.ledger.genesis)).find((b) => Buffer.from(b.hash).equals(Buffer.from(h))) }
    for (const a of [alice.id, bob.id, again.ledger.genesis]) expect(verifyChain(again.ledger.chain(a), ctx)).toBeDefined()
    expect(again.ledger.total()).toBe(1_000_000n)
  })

  test('a double spend: two conflicting sends after the same predecessor, at once: one is final, the other refused', async () => {
    await using node = await bootTest({ coinSupply: 1000 })
    const g = ownerKey(node)
    const alice = createUserKey(node.dataDir, 'alice')
    const bob = createUserKey(node.dataDir, 'bob')
    const head = node.ledger.chain(g.id).at(-1)!
    const spend = (to: string) => makeBlock(g, { type: 'send', prev: head.hash, balance: head.balance - 800n, time: Date.now(), to, amount: 800n })
    const results = await Promise.allSettled([node.ledger.submit(spend(alice.id)), node.ledger.submit(spend(bob.id))])
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Block>[]
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]
    expect(ok.length).toBe(1)
    expect(refused.length).toBe(1)
    expect(String(refused[0]!.reason.message)).toMatch(/double spend/)
    expect(node.ledger.total()).toBe(1000n)
    expect(node.ledger.info(g.id).balance).toBe(200n)

    // Through the syscall, two transfers at once that together exceed the balance: one goes through.
    const owner = await login(node)
    const both = await Promise.allSettled([callLocal(node, 'CoinTransfer', owner, alice.id, 150), callLocal(node, 'CoinTransfer', owner, bob.id, 150)])
    expect(both.filter((r) => r.status === 'fulfilled').length).toBe(1)
    expect(node.ledger.info(g.id).balance).toBe(50n)
    expect(node.ledger.total()).toBe(1000n)
  })

  test('with a notary that does not answer, a transfer fails with no quorum; after a restart the block is tried again first', async () => {
    using dir = tempDir()
    let aliceId: string
    {
      await using node = await bootTest({ coinSupply: 1000 }, dir)
      const owner = await login(node)
      const other = createUserKey(node.dataDir, 'absent').id // a node id no notary answers for
      aliceId = createUserKey(node.dataDir, 'alice').id
      ;(node.config as { coinNotaries: string[] }).coinNotaries = [node.identity.nodeId, other]
      expect(await failure(callLocal(node, 'CoinTransfer', owner, aliceId, 10))).toMatch(/^Timeout: no quorum: 1 of 2 .*tried again/)
      expect(node.ledger.info(ownerKey(node).id).balance).toBe(1000n)
    }
    // Back as a one-notary node: the co-signed block is final first, then the next transfer.
    await using node = await bootTest({ coinSupply: 1000 }, dir)
    await callLocal(node, 'CoinTransfer', await login(node), aliceId, 20)
    expect(node.ledger.info(ownerKey(node).id).balance).toBe(970n)
    expect(node.ledger.info(aliceId).balance).toBe(30n)
    expect(node.ledger.total()).toBe(1000n)
  })
})
