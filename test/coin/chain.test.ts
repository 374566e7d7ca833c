// Verifying an account's chain from its blocks alone: good chains pass, each kind of fault is refused.
import { describe, expect, test } from 'bun:test'
import { generateKeyPair, sign, type KeyPair } from '../../runtime/identity/index.ts'
import { BlockError, makeBlock, verifyChain, type Block, type ChainContext } from '../../runtime/ledger/block.ts'
import { encodeCbor, decodeCbor } from '../../runtime/net/wire.ts'

const g = generateKeyPair()
const alice = generateKeyPair()
const SUPPLY = 1_000_000n
const open = (k: KeyPair, balance = k === g ? SUPPLY : 0n) => makeBlock(k, { type: 'open', prev: new Uint8Array(), balance, time: 1, key: k.publicKey })
const send = (k: KeyPair, prev: Block, to: string, amount: bigint, balance = prev.balance - amount) =>
  makeBlock(k, { type: 'send', prev: prev.hash, balance, time: 2, to, amount, memo: '' })
const receive = (k: KeyPair, prev: Block, source: Block, amount = source.amount!, balance = prev.balance + amount) =>
  makeBlock(k, { type: 'receive', prev: prev.hash, balance, time: 3, amount, source: source.hash })

/** The genesis chain with one send of 300 to alice, and alice's chain receiving it. */
function world() {
  const g0 = open(g)
  const g1 = send(g, g0, alice.id, 300n)
  const a0 = open(alice)
  const a1 = receive(alice, a0, g1)
  const sends = new Map([[Buffer.from(g1.hash).toString('hex'), g1]])
  const ctx: ChainContext = { genesis: g.id, supply: SUPPLY, sendOf: (h) => sends.get(Buffer.from(h).toString('hex')) }
  return { g0, g1, a0, a1, ctx }
}

const refused = (f: () => unknown, why: RegExp) => expect(f).toThrow(why)

describe('verifyChain', () => {
  test('accepts well-formed chains and returns their heads', () => {
    const { g0, g1, a0, a1, ctx } = world()
    expect(verifyChain([g0, g1], ctx)!.balance).toBe(SUPPLY - 300n)
    expect(verifyChain([a0, a1], ctx)!.balance).toBe(300n)
  })

  test('refuses a wrong predecessor, reordered and truncated chains', () => {
    const { g0, g1, ctx } = world()
    const g2 = send(g, g1, alice.id, 1n)
    refused(() => verifyChain([g0, g2], ctx), /wrong predecessor/)
    refused(() => verifyChain([g1, g0], ctx), /starts with an open/)
    refused(() => verifyChain([g0, g0], ctx), /only the first block opens/)
    const forked = makeBlock(g, { type: 'send', prev: new Uint8Array(32), balance: SUPPLY - 1n, time: 2, to: alice.id, amount: 1n })
    refused(() => verifyChain([g0, forked], ctx), /wrong predecessor/)
  })

  test('refuses a wrong balance and a negative one', () => {
    const { g0, ctx } = world()
    refused(() => verifyChain([g0, send(g, g0, alice.id, 10n, SUPPLY)], ctx), /wrong balance after send/)
    refused(() => verifyChain([g0, send(g, g0, alice.id, SUPPLY + 1n, 0n)], ctx), /insufficient funds/)
    expect(() => send(g, g0, alice.id, SUPPLY + 1n)).toThrow(BlockError) // a negative balance cannot even be encoded as a block
    refused(() => verifyChain([open(alice, 5n)], ctx), /open block has balance 0/)
    const { a0, g1 } = world()
    refused(() => verifyChain([a0, receive(alice, a0, g1, 300n, 301n)], { ...ctx, sendOf: () => g1 }), /wrong balance after receive/)
  })

  test('refuses a bad signature, a block signed by another key, and a tampered body', () => {
    const { g0, g1, ctx } = world()
    const sig = new Uint8Array(g1.sig)
    sig[0] ^= 1
    refused(() => verifyChain([g0, { body: g1.body, sig }], ctx), /bad signature/)
    const byOther = makeBlock(alice, { type: 'send', prev: g0.hash, balance: SUPPLY - 1n, time: 2, to: alice.id, amount: 1n })
    refused(() => verifyChain([g0, byOther], ctx), /another account/)
    const fields = decodeCbor(g1.body) as Record<string, unknown>
    const body = encodeCbor({ ...fields, amount: 1n, balance: SUPPLY - 1n })
    refused(() => verifyChain([g0, { body, sig: g1.sig }], ctx), /bad signature/)
    const stolenOpen = makeBlock(alice, { type: 'open', prev: new Uint8Array(), balance: 0n, time: 1, key: g.publicKey })
    refused(() => verifyChain([stolenOpen], ctx), /key does not match/)
    expect(sign(g, new Uint8Array(1)).length).toBe(64)
  })

  test('refuses a receive without a matching send, of another amount, and the same send twice', () => {
    const { a0, a1, g1, ctx } = world()
    const fake = { ...g1, hash: new Uint8Array(32).fill(7) }
    refused(() => verifyChain([a0, receive(alice, a0, fake)], ctx), /without a matching send/)
    refused(() => verifyChain([a0, receive(alice, a0, g1, 400n)], ctx), /another amount/)
    refused(() => verifyChain([a0, a1, receive(alice, a1, g1)], ctx), /received twice/)
    const bob = generateKeyPair()
    const b0 = open(bob)
    refused(() => verifyChain([b0, receive(bob, b0, g1)], ctx), /without a matching send/) // the send was to alice
  })
})
