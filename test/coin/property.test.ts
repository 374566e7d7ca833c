// A property of the ledger across three nodes, each a notary: random transfers among users on
// different nodes (some for more than the sender holds), and after every step the node that sent
// holds exactly the supply (balances plus final sends not yet received); in the end every node
// agrees on every balance. Seeded: COIN_PROPERTY_SEED replays a run.
import { expect, test } from 'bun:test'
import { createUserKey, type KeyPair } from '../../runtime/identity/index.ts'
import { hex, type Block } from '../../runtime/ledger/index.ts'
import { giveUserKey, setNotaries, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork } from '../helpers/network.ts'
import { tempDir } from '../helpers/node.ts'

const SUPPLY = 100_000n
const STEPS = 40

/** A small deterministic generator (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n
  }
}

/** Resolves once `check` holds on `node`, looked at after every block that becomes final there. */
function until(node: TestKernel, check: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve()
    const guard = setTimeout(() => (off(), reject(new Error('the ledgers did not come to agree'))), 30_000)
    const off = node.ledger.onFinal(() => {
      if (check()) (clearTimeout(guard), off(), resolve())
    })
  })
}

test('random transfers across three nodes: the supply holds after every step, and the nodes agree in the end', async () => {
  const seed = Number(process.env.COIN_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31))
  console.log(`COIN_PROPERTY_SEED=${seed}`)
  const rand = rng(seed)
  using keys = tempDir()
  const g = createUserKey(keys, 'genesis')
  await using net = await bootNetwork(3, { topology: 'full', config: { coinSupply: Number(SUPPLY), coinGenesis: g.id } })
  const nodes = net.nodes as TestKernel[]
  giveUserKey(keys, g.id, nodes[0]!)
  setNotaries(nodes)

  // Two users on each node; the genesis account on the first.
  const users: { key: KeyPair; node: TestKernel }[] = [{ key: g, node: nodes[0]! }]
  for (const [i, n] of nodes.entries()) for (const name of ['u', 'v']) users.push({ key: createUserKey(n.dataDir, `${name}${i}`), node: n })
  for (const u of users.slice(1)) {
    const sent = await nodes[0]!.ledger.transfer(g, u.key.id, 5000n)
    await until(u.node, () => u.node.ledger.chain(g.id).some((b) => hex(b.hash) === hex(sent.hash)))
  }

  for (let step = 0; step < STEPS; step++) {
    const from = users[Math.floor(rand(users.length))]!
    let to = users[Math.floor(rand(users.length))]!
    if (to === from) to = users[(users.indexOf(from) + 1) % users.length]!
    const held = from.node.ledger.info(from.key.id)
    // One step in five asks for more than the sender holds (its receivable sends count: they are received first).
    const amount = rand(5) < 1 ? held.balance + held.pending + 1n : BigInt(1 + Math.floor(rand(2000)))
    const chainBefore = from.node.ledger.chain(from.key.id).length
    let sent: Block | undefined
    try {
      sent = await from.node.ledger.transfer(from.key, to.key.id, amount)
    } catch (err) {
      expect(String((err as Error).message)).toMatch(/^insufficient funds/)
      expect(amount).toBeGreaterThan(held.balance + held.pending)
      expect(from.node.ledger.info(from.key.id).balance).toBe(from.node.ledger.chain(from.key.id).at(-1)?.balance ?? 0n)
      expect(from.node.ledger.chain(from.key.id).length).toBeGreaterThanOrEqual(chainBefore) // only receives were added
    }
    if (sent) {
      expect(amount).toBeLessThanOrEqual(held.balance + held.pending)
      // The receiver's node has the send before the next step, so what each sender holds is known when it sends.
      const hash = hex(sent.hash)
      await until(to.node, () => to.node.ledger.chain(from.key.id).some((b) => hex(b.hash) === hash))
    }
    expect(from.node.ledger.total()).toBe(SUPPLY)
  }

  // Every node ends with the same balances (each learns the others' blocks), adding up to the supply.
  const a = nodes[0]!
  const expected = new Map(users.map((u) => [u.key.id, u.node.ledger.info(u.key.id).balance + u.node.ledger.info(u.key.id).pending]))
  expect([...expected.values()].reduce((x, y) => x + y, 0n)).toBe(SUPPLY)
  for (const n of nodes) {
    await until(n, () => users.every((u) => n.ledger.info(u.key.id).balance + n.ledger.info(u.key.id).pending === expected.get(u.key.id)))
    expect(n.ledger.total()).toBe(SUPPLY)
  }
  expect(a.ledger.total()).toBe(SUPPLY)
}, 120_000)
