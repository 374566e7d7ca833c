// Defects 2 and 11: who may make the node fetch, cancel and walk the network. A user syncs only MiMei
// they author or hold a right on; only who started a sync (or the owner) cancels it; DHT walks
// need a session; guest calls to the net family are rate-limited per remote address.
import { afterEach, expect, test } from 'bun:test'
import type { Libp2p } from 'libp2p'
import { generateKeyPair, type KeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { ownerSid } from '../helpers/replication.ts'
import { authorRecord, bareNode, doublingTree, serveHostile } from './hostile-peer.ts'

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()))
})

async function node(): Promise<TestKernel> {
  const c = await bootTest({ p2p: true })
  cleanup.push(() => c.stop())
  return c
}

const login = async (k: TestKernel, key: KeyPair) => ((await callLocal(k, 'Login', loginPassport(k, key))) as { sid: string }).sid

/** A peer serving a small honest file tree of a MiMei by `author`, connected to `c`. */
async function provider(c: TestKernel, author: KeyPair, opts: { stallBlocks?: boolean } = {}) {
  const tree = doublingTree(1)
  const { mid, record } = authorRecord({ type: 1, cid: tree.root, size: tree.bytes }, author)
  const evil: Libp2p = await bareNode()
  cleanup.push(async () => evil.stop())
  await serveHostile(evil, { record, blocks: tree.blocks, stallBlocks: opts.stallBlocks })
  await c.net!.libp2p.dial(evil.getMultiaddrs()[0])
  return mid
}

const settled = (k: TestKernel, mid: string) =>
  (k.replication as unknown as { jobs: Map<string, { done: Promise<unknown> }> }).jobs.get(mid)!.done.catch(() => undefined)

test('a user syncs only what they author (or hold a right on); the owner syncs anything', async () => {
  const c = await node()
  const [author, stranger] = [generateKeyPair(), generateKeyPair()]
  const mid = await provider(c, author)
  const err = await failure(callLocal(c, 'MiMeiSync', await login(c, stranger), mid))
  expect(err).toMatch(/^PermissionDenied: .*ask the node owner to sync it/)
  expect(() => c.mimei.row(mid)).toThrow('no MiMei')
  expect(c.replication!.recordFor(mid)).toBeUndefined()
  // Its author may.
  const sa = await login(c, author)
  expect(await callLocal(c, 'MiMeiSync', sa, mid)).toMatchObject({ mid, ver: 1 })
  // Now that it is here and the stranger holds no right on it, still no; the owner may.
  expect(await failure(callLocal(c, 'MiMeiSync', await login(c, stranger), mid))).toStartWith('PermissionDenied')
  expect(await callLocal(c, 'MiMeiSync', await ownerSid(c), mid)).toMatchObject({ mid, ver: 1 })
})

test('only who started a sync, or the owner, may cancel it', async () => {
  const c = await node()
  const [author, other] = [generateKeyPair(), generateKeyPair()]
  const mid = await provider(c, author, { stallBlocks: true })
  const [sa, so] = [await login(c, author), await login(c, other)]
  await callLocal(c, 'MiMeiSync', sa, mid, { wait: false })
  expect(await failure(callLocal(c, 'MiMeiSyncCancel', so, mid))).toMatch(/^PermissionDenied: .*only who started it or the node owner/)
  expect(await callLocal(c, 'MiMeiSyncCancel', sa, mid)).toBe(true)
  await settled(c, mid)
  await callLocal(c, 'MiMeiSync', sa, mid, { wait: false })
  expect(await callLocal(c, 'MiMeiSyncCancel', await ownerSid(c), mid)).toBe(true)
  await settled(c, mid)
  expect(await callLocal(c, 'MiMeiSyncStatus', sa, mid)).toMatchObject({ state: 'cancelled' })
})

test('guests cannot make the node walk the DHT', async () => {
  const c = await node()
  const mid = 'A'.repeat(27)
  const meta = { transport: 'http' as const, remote: '198.51.100.9' }
  for (const [name, args] of [
    ['GetVar', ['', 'mmprovs', mid]],
    ['MiMeiFindProvs', ['', mid]],
    ['MiMeiShow', ['', mid]],
    ['DhtFindPeer', ['', c.identity.peerId]],
  ] as const) {
    expect(await failure(c.dispatcher.call(name, [...args], meta))).toMatch(/^PermissionDenied: .*(session|Login)/)
  }
})

test('guest calls to the net family are rate-limited per remote address; sessions are not', async () => {
  const c = await node()
  const from = (remote: string) => ({ transport: 'http' as const, remote })
  const answers: string[] = []
  for (let i = 0; i < 40; i++) {
    answers.push(await c.dispatcher.call('SwarmAddrs', [''], from('198.51.100.7')).then(() => 'ok', (err) => failure(Promise.reject(err))))
  }
  const refused = answers.filter((a) => a !== 'ok')
  expect(refused.length).toBeGreaterThan(0)
  expect(answers.filter((a) => a === 'ok').length).toBeGreaterThanOrEqual(20)
  expect(refused[0]).toMatch(/^Busy: .*too many calls without a session from 198\.51\.100\.7.*log in/)
  // Another address has its own allowance; a session is not counted.
  expect(await c.dispatcher.call('SwarmAddrs', [''], from('198.51.100.8'))).toHaveProperty('peer')
  const sid = await ownerSid(c)
  for (let i = 0; i < 30; i++) await c.dispatcher.call('SwarmAddrs', [sid], from('198.51.100.7'))
})
