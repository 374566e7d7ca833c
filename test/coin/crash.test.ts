// A notary killed with SIGKILL in the middle of co-signing (a separate `leither run` from source,
// killed at a random point drawn from a printed seed): it loses nothing, and after its restart every
// chain verifies, its chains are the others' chains, and it never co-signed two blocks after the same
// predecessor. COIN_CRASH_SEED replays a run.
import { expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createUserKey, loadOrCreateNodeKey, peerIdOf } from '../../runtime/identity/index.ts'
import { decodeBlock, hex, verifyChain, type Block } from '../../runtime/ledger/index.ts'
import { bootTest, type TestKernel, giveUserKey } from '../helpers/kernel.ts'
import { link, tcpAddr, until, waitForPeer } from '../helpers/network.ts'
import { startNode, tempDir, type RunningNode } from '../helpers/node.ts'

const SUPPLY = 1_000_000

test('a notary SIGKILLed mid-co-signing loses nothing; after its restart chains verify and no block was signed twice', async () => {
  const seed = Number(process.env.COIN_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
  console.log(`COIN_CRASH_SEED=${seed}`)
  using keys = tempDir()
  using vdir = tempDir()
  const g = createUserKey(keys, 'genesis')
  const config = { p2p: true, coinSupply: SUPPLY, coinGenesis: g.id }
  await using a = await bootTest(config)
  await using b = await bootTest(config)
  await link(b, a)
  giveUserKey(keys, g.id, a)
  const bob = createUserKey(b.dataDir, 'bob')

  // The victim: its node key made first, so every node's notary list names it before it starts.
  const v = loadOrCreateNodeKey(vdir, () => {}).key
  const notaries = [a.identity.nodeId, b.identity.nodeId, v.id]
  for (const n of [a, b]) Object.assign(n.config, { coinNotaries: notaries })
  writeFileSync(join(vdir, 'leither.json'), JSON.stringify({ ...config, coinNotaries: notaries, bootstrap: [tcpAddr(a)], p2pHost: '127.0.0.1', logLevel: 'warn' }))
  const startVictim = async () => {
    const node = await startNode(['--data', vdir, '--port', '0', '--host', '127.0.0.1'])
    await waitForPeer(a, peerIdOf(v.publicKey))
    return node
  }
  let victim: RunningNode = await startVictim()
  try {
    for (let i = 0; i < 3; i++) await a.ledger.transfer(g, bob.id, 10n)

    // With b down every block needs the victim's co-signature; it is killed while they stream in.
    await b.stop()
    const done: Block[] = []
    const failed: string[] = []
    let sending = true
    let killed = false
    let failedOnce = () => {}
    const firstFailure = new Promise<void>((r) => (failedOnce = r))
    const loop = (async () => {
      while (sending) {
        try {
          done.push(await a.ledger.transfer(g, bob.id, 1n))
        } catch (err) {
          failed.push((err as Error).message)
          failedOnce()
          if (!killed) throw err
          return // after the kill: the first failure ends the stream (a failure may come back at once, and the loop would spin)
        }
      }
    })()
    // The kill point: a time drawn from the seed, while co-signature requests stream in (not a wait for an event).
    await Bun.sleep(seed % 400)
    killed = true
    victim.proc.kill('SIGKILL')
    await victim.proc.exited
    const beforeKill = done.length
    // The account's next block now fails (no quorum) until the victim is back.
    await firstFailure
    sending = false
    await loop
    expect(failed.every((m) => /no quorum/.test(m))).toBe(true)

    // a notices the connection gone before the victim comes back (else it would ask over the dead one).
    const vPeer = peerIdOf(v.publicKey)
    await until(a.net!.libp2p, ['connection:close'], () => (a.net!.libp2p.getConnections().some((cn) => cn.remotePeer.toString() === vPeer) ? undefined : true), 'the killed notary gone')
    victim = await startVictim()
    for (let i = 0; i < 3; i++) done.push(await a.ledger.transfer(g, bob.id, 2n))
    expect(done.length).toBeGreaterThanOrEqual(beforeKill + 3)
    await victim.stop()

    // What a holds: every chain verifies, the supply is whole, every transfer that returned is there.
    const chainOf = (n: TestKernel, acct: string) => n.ledger.chain(acct)
    const sends = new Map<string, Block>()
    for (const acct of [g.id, bob.id]) for (const blk of chainOf(a, acct)) if (blk.type === 'send') sends.set(hex(blk.hash), blk)
    const ctx = { genesis: g.id, supply: BigInt(SUPPLY), sendOf: (h: Uint8Array) => sends.get(hex(h)) }
    const gChain = chainOf(a, g.id)
    expect(verifyChain(gChain, ctx)).toBeDefined()
    expect(a.ledger.total()).toBe(BigInt(SUPPLY))
    const inChain = new Set(gChain.map((blk) => hex(blk.hash)))
    for (const blk of done) expect(inChain.has(hex(blk.hash))).toBe(true)

    // What the victim kept: its chain of the genesis account is a prefix of a's and verifies; each
    // block it noted (co-signed) after a predecessor is the final block after it: none was lost or
    // signed twice. a's final blocks the victim co-signed are the ones its notes name.
    const db = new Database(join(vdir, 'leither.db'), { readonly: true })
    try {
      const rows = db.query('SELECT body, sig FROM coin_blocks WHERE account = ? ORDER BY height').all(g.id) as { body: Uint8Array; sig: Uint8Array }[]
      const vChain = rows.map((r) => decodeBlock({ body: new Uint8Array(r.body), sig: new Uint8Array(r.sig) }))
      expect(verifyChain(vChain, ctx)).toBeDefined()
      expect(vChain.map((blk) => hex(blk.hash))).toEqual(gChain.slice(0, vChain.length).map((blk) => hex(blk.hash)))
      const notes = db.query('SELECT prev, hash FROM coin_notes WHERE account = ?').all(g.id) as { prev: Uint8Array; hash: Uint8Array }[]
      const finalAfter = new Map(gChain.map((blk) => [hex(blk.prev), hex(blk.hash)]))
      for (const n of notes) expect(hex(new Uint8Array(n.hash))).toBe(finalAfter.get(hex(new Uint8Array(n.prev)))!)
      const noted = new Map(notes.map((n) => [hex(new Uint8Array(n.prev)), hex(new Uint8Array(n.hash))]))
      for (const blk of gChain) {
        if (a.ledger.cosigsOf(blk.hash).some((c) => c.notary === v.id)) expect(noted.get(hex(blk.prev))).toBe(hex(blk.hash))
      }
      expect(notes.length).toBeGreaterThan(beforeKill)
    } finally {
      db.close()
    }
  } finally {
    await victim.stop('SIGKILL')
  }
}, 120_000)
