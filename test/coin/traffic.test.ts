// Traffic credits between real nodes on 127.0.0.1: node A serves a 50 MB file; B's debt on A's meter,
// C settling at the payment threshold, D (trafficPay false) cut off past the disconnect threshold
// and served again once it pays; the meters survive A's restart.
import { expect, test } from 'bun:test'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createUserKey } from '../../runtime/identity/index.ts'
import { trafficOf, type Traffic, type TrafficRow } from '../../runtime/ledger/traffic.ts'
import type { SyncResult } from '../../runtime/net/sync.ts'
import { bootTest, callLocal, failure, loginPassport, setNotaries, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork, link } from '../helpers/network.ts'
import { tempDir } from '../helpers/node.ts'

const FILE = 50_000_000
const owner = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid
const meter = (k: TestKernel): Traffic => trafficOf(k.ledger)!
const rowOf = (k: TestKernel, peer: TestKernel): TrafficRow => meter(k).row(peer.identity.nodeId)

/** Resolves once `check` holds, looked at after every change of `k`'s meters and every final block there. */
function until(k: TestKernel, check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const off = () => (meter(k).events.removeEventListener('change', on), offFinal(), clearTimeout(guard))
    const on = () => check() && (off(), resolve())
    const offFinal = k.ledger.onFinal(on)
    const guard = setTimeout(() => (off(), reject(new Error(`timed out waiting for ${what}`))), 30_000)
    meter(k).events.addEventListener('change', on)
    on()
  })
}

/** A file MiMei of `bytes` random bytes, published by `k`. */
async function publishFile(k: TestKernel, bytes: number): Promise<string> {
  const sid = await owner(k)
  const mid = (await callLocal(k, 'MMCreate', sid, 'traffic', 'blob', '', 1, 1)) as string
  const h = await callLocal(k, 'MMOpen', sid, mid, 'cur')
  const fsid = await callLocal(k, 'MFOpenByPath', sid, h, 'blob.bin', 0x42)
  const chunk = new Uint8Array(1_000_000)
  for (let off = 0; off < bytes; off += chunk.length) {
    for (let at = 0; at < chunk.length; at += 65536) crypto.getRandomValues(chunk.subarray(at, Math.min(at + 65536, chunk.length)))
    await callLocal(k, 'MFSetData', fsid, chunk, off)
  }
  await callLocal(k, 'MFClose', fsid)
  await callLocal(k, 'MMBackup', sid, mid, '')
  await callLocal(k, 'MiMeiPublish', sid, mid)
  return mid
}

const sync = async (k: TestKernel, mid: string) => (await callLocal(k, 'MiMeiSync', await owner(k), mid)) as SyncResult
/** The traffic payments in an account's chain, as `k`'s ledger has them. */
const payments = (k: TestKernel, from: TestKernel, to: TestKernel) =>
  k.ledger.history(from.identity.nodeId, 0, 1000).filter((b) => b.type === 'send' && b.to === to.identity.nodeId && b.memo === 'traffic')

test('a 50 MB download: the debt on the meter, settlement at the threshold, a peer that will not pay is cut off and served once it pays, the meters survive a restart', async () => {
  using keys = tempDir()
  const g = createUserKey(keys, 'genesis')
  // A's prices: 1 毫 per KB, 5000 毫 free that do not refill (so the counts are exact), no settlement at first.
  const config = { coinSupply: 10_000_000, coinGenesis: g.id, trafficAllowance: 5000, trafficRefill: 0, trafficPayThreshold: 1_000_000_000 }
  await using net = await bootNetwork(4, { topology: 'none', config })
  const [a, b, c, d] = net.nodes as [TestKernel, TestKernel, TestKernel, TestKernel]
  for (const k of [b, c, d]) await link(k, a)
  // Every node learns the notaries' keys (a and b) from a connection to them, to check co-signatures.
  for (const k of [c, d]) await link(k, b)
  // Two notaries (a sole notary does not hand its blocks to other nodes); every node pays and is paid in its node account.
  setNotaries(net.nodes, [a, b])
  for (const k of [b, c, d]) await a.ledger.transfer(g, k.identity.nodeId, 200_000n)
  // Received into the account or still pending (a payment receives what is pending first).
  const funds = (k: TestKernel, of: TestKernel) => ((i) => i.balance + i.pending)(k.ledger.info(of.identity.nodeId))
  for (const k of [b, c, d]) await until(k, () => funds(k, k) === 200_000n, 'the node account funded')
  const mid = await publishFile(a, FILE)

  // B: about 50,000 毫 minus the 5,000 free.
  expect((await sync(b, mid)).bytes).toBeGreaterThanOrEqual(FILE)
  const onA = rowOf(a, b)
  expect(onA.served).toBeGreaterThanOrEqual(FILE)
  expect(onA.served).toBeLessThan(FILE * 1.01)
  expect(onA.debt).toBe(BigInt(Math.ceil(onA.served / 1000 - 5000)))
  expect(onA).toMatchObject({ allowance: 0n, state: 'ok', credited: 0n })
  // B's own count of what it received from A is what A counts as served.
  expect(rowOf(b, a).received).toBe(onA.served)
  expect(payments(a, b, a)).toEqual([])

  // C: asked to settle at 10,000 毫 (cut off past 12,500), its node pays on its own, the download never stops.
  a.config.trafficPayThreshold = 10_000
  expect((await sync(c, mid)).bytes).toBeGreaterThanOrEqual(FILE)
  const cOnA = rowOf(a, c)
  await until(a, () => rowOf(a, c).debt < 10_000n, "C's debt below the threshold")
  const paidByC = payments(c, c, a)
  expect(paidByC.length).toBeGreaterThanOrEqual(3)
  for (const p of paidByC) expect(p.amount!).toBeGreaterThanOrEqual(10_000n)
  const sum = paidByC.reduce((n, p) => n + p.amount!, 0n)
  await until(a, () => payments(a, c, a).length === paidByC.length, 'the payments in A’s ledger')
  expect(rowOf(a, c).credited).toBe(sum)
  expect(rowOf(c, a).paid).toBe(sum)
  expect(rowOf(a, c).debt).toBe(BigInt(Math.ceil(cOnA.served / 1000 - 5000)) - sum)
  expect(funds(a, c)).toBe(200_000n - sum)

  // D refuses to pay: cut off past 12,500 毫 with a clear error, served again once it pays.
  d.config.trafficPay = false
  const refused = await failure(sync(d, mid))
  expect(refused).toStartWith('PaymentRequired: ')
  expect(refused).toContain(`does not serve node ${d.identity.nodeId} until it pays`)
  expect(refused).toContain('trafficPay is false')
  const dOnA = rowOf(a, d)
  expect(dOnA.state).toBe('cut off')
  expect(dOnA.debt).toBeGreaterThan(12_500n)
  // Cut off at the threshold: the gate is passed block by block, so only blocks already under way (a few of 256 KiB) go past it.
  expect(dOnA.debt).toBeLessThan(14_500n)
  expect(dOnA.served).toBeLessThan(FILE)
  expect(payments(a, d, a)).toEqual([])
  d.config.trafficPay = true
  expect((await sync(d, mid)).ver).toBe(1)
  expect(payments(d, d, a).length).toBeGreaterThanOrEqual(1)
  expect(rowOf(a, d).state).not.toBe('cut off')

  // Every balance adds up to the supply on every node.
  for (const k of net.nodes) await until(k, () => k.ledger.total() === 10_000_000n, 'the supply on every node')

  // A restarts: nothing is forgiven.
  const before = meter(a).rows()
  await a.stop()
  const a2 = await bootTest({ ...config, p2p: true, coinNotaries: [a.identity.nodeId, b.identity.nodeId] }, a.dataDir)
  try {
    const after = meter(a2).rows()
    expect(after.map((r) => [r.peer, r.served, r.received, r.debt, r.credited, r.paid])).toEqual(before.map((r) => [r.peer, r.served, r.received, r.debt, r.credited, r.paid]))
    expect(after.find((r) => r.peer === b.identity.nodeId)!.debt).toBe(onA.debt)
  } finally {
    await a2.stop()
  }
}, 240_000)
