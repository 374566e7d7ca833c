// A property across three real nodes: random transfers between node accounts and random downloads
// that run up traffic debts settled by automatic payments; after every step every node's ledger
// adds up to the supply, and in the end what each creditor credited is what each debtor paid.
import { expect, test } from 'bun:test'
import { createUserKey } from '../../runtime/identity/index.ts'
import { trafficOf } from '../../runtime/ledger/traffic.ts'
import { callLocal, loginPassport, setNotaries, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork } from '../helpers/network.ts'
import { tempDir } from '../helpers/node.ts'
import { randomBytes } from '../net/echo.ts'

const SUPPLY = 5_000_000n
const STEPS = 16

/** A small seeded generator (mulberry32), so a failing run can be replayed from its seed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const owner = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

/** Resolves once `check` holds on `k`, looked at after every final block and meter change there. */
function until(k: TestKernel, check: () => boolean, what: string): Promise<void> {
  const t = trafficOf(k.ledger)!
  return new Promise((resolve, reject) => {
    const off = () => (t.events.removeEventListener('change', on), offFinal(), clearTimeout(guard))
    const on = () => check() && (off(), resolve())
    const offFinal = k.ledger.onFinal(on)
    const guard = setTimeout(() => (off(), reject(new Error(`timed out waiting for ${what}`))), 30_000)
    t.events.addEventListener('change', on)
    on()
  })
}

test('random transfers and traffic across three nodes: every ledger adds up to the supply after each step', async () => {
  const seed = Number(process.env.TRAFFIC_SEED ?? Date.now() % 100_000)
  const rand = rng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  using keys = tempDir()
  const g = createUserKey(keys, 'genesis')
  // Small thresholds so downloads of a few hundred KB settle: 1 毫 per KB, 50 free, asked at 200.
  const config = { coinSupply: Number(SUPPLY), coinGenesis: g.id, trafficAllowance: 50, trafficRefill: 0, trafficPayThreshold: 200 }
  await using net = await bootNetwork(3, { topology: 'full', config })
  const nodes = net.nodes as [TestKernel, TestKernel, TestKernel]
  const [a, b, c] = nodes
  setNotaries(nodes, [a, b])
  for (const k of nodes) await a.ledger.transfer(g, k.identity.nodeId, 20_000n)
  // Received into the account or still pending (a payment receives what is pending first).
  const funds = (k: TestKernel, of: TestKernel) => ((i) => i.balance + i.pending)(k.ledger.info(of.identity.nodeId))
  for (const k of nodes) await until(k, () => funds(k, k) === 20_000n, 'every node account funded')

  const log: string[] = [`seed ${seed}`]
  for (let step = 0; step < STEPS; step++) {
    const x = pick(nodes)
    const y = pick(nodes.filter((n) => n !== x))
    // Every third step is a download, the others a coin toss.
    if (step % 3 !== 0 && rand() < 0.5) {
      // A transfer between node accounts (refused when the payer lacks the funds: nothing moves).
      const amount = BigInt(1 + Math.floor(rand() * 3000))
      const ok = await x.ledger.transfer(x.identity.nodeKey, y.identity.nodeId, amount).then(
        () => true,
        (err: Error) => (expect(err.message).toContain('insufficient funds'), false),
      )
      log.push(`${step}: transfer ${amount} ${ok ? 'final' : 'refused'}`)
    } else {
      // y downloads a new MiMei of 100–500 KB from x: past the threshold x asks y to settle.
      const sx = await owner(x)
      const mid = (await callLocal(x, 'MMCreate', sx, 'prop', `m${step}`, '', 2, 1)) as string
      const h = await callLocal(x, 'MMOpen', sx, mid, 'cur')
      const parts = 1 + Math.floor(rand() * 5)
      for (let i = 0; i < parts; i++) await callLocal(x, 'Set', h, `k${i}`, randomBytes(100_000))
      await callLocal(x, 'MMBackup', sx, mid, '')
      await callLocal(x, 'MiMeiPublish', sx, mid)
      const r = (await callLocal(y, 'MiMeiSync', await owner(y), mid)) as { ver: number }
      expect(r.ver).toBe(1)
      log.push(`${step}: download ${parts * 100} KB`)
    }
    for (const k of nodes) expect([log.join('; '), k.ledger.total()]).toEqual([log.join('; '), SUPPLY])
  }

  // Settled in the end: every payment reached its creditor, and what each credited is what the other paid.
  const settled = () =>
    nodes.every((k) => nodes.every((o) => o === k || (trafficOf(k.ledger)!.row(o.identity.nodeId).credited === trafficOf(o.ledger)!.row(k.identity.nodeId).paid && k.ledger.total() === SUPPLY)))
  for (const k of nodes) await until(k, settled, `the payments to arrive (${log.join('; ')})`)
  const balances = (k: TestKernel) => nodes.map((n) => funds(k, n))
  for (const k of nodes) await until(k, () => String(balances(k)) === String(balances(a)), 'the nodes to agree on the balances')
  const paid = nodes.flatMap((k) => nodes.map((o) => trafficOf(k.ledger)!.row(o.identity.nodeId).paid))
  expect([log.join('; '), paid.reduce((n, p) => n + p, 0n) > 0n]).toEqual([log.join('; '), true])
}, 180_000)
