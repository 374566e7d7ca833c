// Coin transfers made final: per second with one notary (one in-process node) and with three
// (three in-process nodes on loopback, each a notary), and the time to finality of each transfer.
// Anchor: Ed25519 sign + verify per second, measured in the same run. `bun bench/coin.ts [--quick]`
import { createUserKey, generateKeyPair, sign, verify } from '../runtime/identity/index.ts'
import { bootTest, ownerKey } from '../test/helpers/kernel.ts'
import { bootNetwork, link } from '../test/helpers/network.ts'
import { copyFileSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../test/helpers/node.ts'
import { machineLine, table, writeSection } from './results.ts'

const quick = process.argv.includes('--quick')
const N = quick ? 50 : 1000
const N3 = quick ? 20 : 300

const pct = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!

function anchor(): number {
  const k = generateKeyPair()
  const msg = new Uint8Array(200)
  const t = performance.now()
  let n = 0
  while (performance.now() - t < 500) {
    verify(k.publicKey, msg, sign(k, msg))
    n++
  }
  return n / ((performance.now() - t) / 1000)
}

async function oneNotary() {
  await using node = await bootTest({ coinSupply: 1_000_000_000 })
  const g = ownerKey(node)
  const alice = createUserKey(node.dataDir, 'alice')
  const times: number[] = []
  const t0 = performance.now()
  for (let i = 0; i < N; i++) {
    const t = performance.now()
    await node.ledger.transfer(g, alice.id, 1n)
    times.push(performance.now() - t)
  }
  const rate = N / ((performance.now() - t0) / 1000)
  if (node.ledger.total() !== 1_000_000_000n) throw new Error('supply changed')
  return { rate, times }
}

async function threeNotaries() {
  // The genesis key is made apart and handed to node a after boot (as in test/coin/network.test.ts).
  const keys = tempDir()
  const g = createUserKey(keys, 'genesis')
  await using net = await bootNetwork(3, { topology: 'none', config: { coinSupply: 1_000_000_000, coinGenesis: g.id } })
  const [a, b, c] = net.nodes
  await link(b!, a!)
  await link(c!, a!)
  await link(c!, b!)
  mkdirSync(join(a!.dataDir, 'keys', 'users'), { recursive: true, mode: 0o700 })
  copyFileSync(join(keys, 'keys', 'users', `${g.id}.key`), join(a!.dataDir, 'keys', 'users', `${g.id}.key`))
  for (const n of net.nodes) Object.assign(n.config, { coinNotaries: net.nodes.map((x) => x.identity.nodeId) })
  const bob = createUserKey(b!.dataDir, 'bob')
  const times: number[] = []
  const t0 = performance.now()
  for (let i = 0; i < N3; i++) {
    const t = performance.now()
    await a!.ledger.transfer(g, bob.id, 1n)
    times.push(performance.now() - t)
  }
  const rate = N3 / ((performance.now() - t0) / 1000)
  rmSync(keys, { recursive: true, force: true })
  return { rate, times }
}

const signs = anchor()
const one = await oneNotary()
const three = await threeNotaries()
const ms = (x: number) => `${x.toFixed(2)} ms`
const md = [
  machineLine(),
  '',
  `Transfers one after another (each a send block and, on the one-node network, the receiver's receive block too), ${N} with one notary, ${N3} with three.`,
  '',
  table(
    ['', 'transfers/s', 'finality p50', 'finality p95', 'Ed25519 sign+verify/s (anchor)'],
    [
      ['1 notary', one.rate.toFixed(0), ms(pct(one.times, 50)), ms(pct(one.times, 95)), signs.toFixed(0)],
      ['3 notaries (loopback)', three.rate.toFixed(0), ms(pct(three.times, 50)), ms(pct(three.times, 95)), ''],
    ],
  ),
].join('\n')
writeSection('Coin transfers (bench/coin.ts)', md, { quick })
process.exit(0)
