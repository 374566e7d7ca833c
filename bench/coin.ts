// Coin transfers made final: per second with one notary (one in-process node) and with three
// (three in-process nodes on loopback, each a notary), one after another and from several accounts
// at once, and the time to finality of each transfer. Anchors measured in the same run: Ed25519
// sign + verify per second with @noble/curves and with node:crypto (what the ledger uses), whose
// signatures are checked to be byte-identical. `bun bench/coin.ts [--quick]`
import { ed25519 } from '@noble/curves/ed25519.js'
import { rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { createUserKey, generateKeyPair, type KeyPair } from '../runtime/identity/index.ts'
import type { Ledger } from '../runtime/ledger/index.ts'
import { edSign, edVerify } from '../runtime/ledger/sig.ts'
import { bootTest, ownerKey, type TestKernel, giveUserKey } from '../test/helpers/kernel.ts'
import { bootNetwork, link } from '../test/helpers/network.ts'
import { tempDir } from '../test/helpers/node.ts'
import { machineLine, table, writeSection } from './results.ts'

const quick = process.argv.includes('--quick')
const N = quick ? 100 : 3000
const N3 = quick ? 20 : 300
/** Accounts sending at once in the concurrent rows, and transfers each. */
const SENDERS = 8
const EACH = quick ? 10 : 100
const EACH3 = quick ? 5 : 40
const SUPPLY = 1_000_000_000

const pct = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!

/** Sign + verify of a 200-byte message per second, for 700 ms. */
function perSecond(round: () => void): number {
  const t = performance.now()
  let n = 0
  while (performance.now() - t < 700) {
    round()
    n++
  }
  return n / ((performance.now() - t) / 1000)
}

function anchors() {
  const k = generateKeyPair()
  const msg = new Uint8Array(200).fill(7)
  if (!Buffer.from(edSign(k, msg)).equals(Buffer.from(ed25519.sign(msg, k.secretKey)))) throw new Error('node:crypto and @noble signatures differ')
  const noble = perSecond(() => ed25519.verify(ed25519.sign(msg, k.secretKey), msg, k.publicKey) || fail())
  const node = perSecond(() => edVerify(k.publicKey, msg, edSign(k, msg)) || fail())
  return { noble, node }
}
const fail = (): never => {
  throw new Error('a signature did not verify')
}

interface Run {
  rate: number
  times: number[]
}

/** `each` transfers of 1 毫 from each of `from` to `to`, every account's one after another, all accounts at once. */
async function transfers(ledger: Ledger, from: KeyPair[], to: string, each: number): Promise<Run> {
  const times: number[] = []
  const t0 = performance.now()
  await Promise.all(
    from.map(async (k) => {
      for (let i = 0; i < each; i++) {
        const t = performance.now()
        await ledger.transfer(k, to, 1n)
        times.push(performance.now() - t)
      }
    }),
  )
  return { rate: times.length / ((performance.now() - t0) / 1000), times }
}

/** Accounts on `node` funded from the genesis key, for the concurrent rows. */
async function funded(node: TestKernel, g: KeyPair, n: number): Promise<KeyPair[]> {
  const keys = Array.from({ length: n }, (_, i) => createUserKey(node.dataDir, `sender${i}`))
  for (const k of keys) await node.ledger.transfer(g, k.id, 1_000_000n)
  return keys
}

async function oneNotary() {
  await using node = await bootTest({ coinSupply: SUPPLY })
  const g = ownerKey(node)
  const alice = createUserKey(node.dataDir, 'alice')
  await transfers(node.ledger, [g], alice.id, 20) // warm-up
  const seq = await transfers(node.ledger, [g], alice.id, N)
  const par = await transfers(node.ledger, await funded(node, g, SENDERS), alice.id, EACH)
  if (node.ledger.total() !== BigInt(SUPPLY)) throw new Error('supply changed')
  return { seq, par }
}

async function threeNotaries() {
  // The genesis key is made apart and handed to node a after boot (as in test/coin/network.test.ts).
  const keys = tempDir()
  const g = createUserKey(keys, 'genesis')
  await using net = await bootNetwork(3, { topology: 'none', config: { coinSupply: SUPPLY, coinGenesis: g.id } })
  const [a, b, c] = net.nodes as [TestKernel, TestKernel, TestKernel]
  await link(b, a)
  await link(c, a)
  await link(c, b)
  giveUserKey(keys, g.id, a)
  for (const n of net.nodes) Object.assign(n.config, { coinNotaries: net.nodes.map((x) => x.identity.nodeId) })
  const bob = createUserKey(b.dataDir, 'bob')
  await transfers(a.ledger, [g], bob.id, 5) // warm-up
  const seq = await transfers(a.ledger, [g], bob.id, N3)
  const par = await transfers(a.ledger, await funded(a, g, SENDERS), bob.id, EACH3)
  rmSync(keys, { recursive: true, force: true })
  return { seq, par }
}

const loadStart = loadavg()[0]!
const sig = anchors()
const one = await oneNotary()
const three = await threeNotaries()
const loadEnd = loadavg()[0]!
const ms = (x: number) => `${x.toFixed(1)} ms`
const row = (name: string, r: Run) => [name, String(r.times.length), r.rate.toFixed(0), ms(pct(r.times, 50)), ms(pct(r.times, 95))]
const md = [
  machineLine(),
  `1-minute load average ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end.`,
  '',
  "Each transfer is a send block and the receiver's receive block (on the one-node network the same node signs both; with three, the receiver's node receives in the background). " +
    `Concurrent rows: ${SENDERS} accounts on the same node each sending one transfer after another, all at once.`,
  '',
  table(
    ['', 'transfers', 'transfers/s', 'finality p50', 'finality p95'],
    [
      row('1 notary, one after another', one.seq),
      row(`1 notary, ${SENDERS} accounts at once`, one.par),
      row('3 notaries (loopback, one process), one after another', three.seq),
      row(`3 notaries (loopback, one process), ${SENDERS} accounts at once`, three.par),
    ],
  ),
  '',
  table(['anchor: Ed25519 sign + verify of 200 bytes', 'per second'], [
    ['@noble/curves', sig.noble.toFixed(0)],
    ['node:crypto (the ledger; byte-identical signatures)', sig.node.toFixed(0)],
  ]),
].join('\n')
writeSection('Coin transfers (bench/coin.ts)', md, { quick })
process.exit(0)
