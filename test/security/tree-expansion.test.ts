// Defect 2: a synced file tree must not expand past what its author signed. A hostile peer serves
// a tree whose directories list the same child twice: a few blocks that expand exponentially.
import { afterEach, expect, test } from 'bun:test'
import type { Libp2p } from 'libp2p'
import { bootTest, callLocal, failure, type TestKernel } from '../helpers/kernel.ts'
import { ownerSid } from '../helpers/replication.ts'
import { authorRecord, bareNode, doublingTree, serveHostile } from './hostile-peer.ts'

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()))
})

/** A node C and a hostile peer serving `tree` under a record that says `size`. */
async function victim(tree: ReturnType<typeof doublingTree>, size: number) {
  const c = await bootTest({ p2p: true })
  cleanup.push(() => c.stop())
  const evil: Libp2p = await bareNode()
  cleanup.push(async () => evil.stop())
  const { mid, record } = authorRecord({ type: 1, cid: tree.root, size })
  await serveHostile(evil, { record, blocks: tree.blocks })
  await c.net!.libp2p.dial(evil.getMultiaddrs()[0])
  return { c, sc: await ownerSid(c), mid }
}

/** Rows of file trees and versions on C (its bundled apps have some before the sync). */
const holdings = (c: TestKernel) => ({
  files: (c.mimei.db.query('SELECT count(*) AS n FROM file_nodes').get() as { n: number }).n,
  versions: (c.mimei.db.query('SELECT count(*) AS n FROM mimei_versions').get() as { n: number }).n,
})

function nothingInstalled(c: TestKernel, mid: string, before: ReturnType<typeof holdings>): void {
  expect(() => c.mimei.row(mid)).toThrow('no MiMei')
  expect(holdings(c)).toEqual(before)
}

test('a tree that expands past its signed size is refused whole: 14 blocks would be 4,096 files', async () => {
  const tree = doublingTree(12)
  // The record claims two files' worth; the blocks list 4,096 paths to the same file.
  const { c, sc, mid } = await victim(tree, 2048)
  const before = holdings(c)
  const err = await failure(callLocal(c, 'MiMeiSync', sc, mid))
  expect(err).toMatch(/^InvalidSignature: .*expands to more than the \d+ bytes its signed record says/)
  nothingInstalled(c, mid, before)
  expect(await callLocal(c, 'MiMeiSyncStatus', sc, mid)).toMatchObject({ state: 'failed' })
})

test('a tree whose signed size is honest but astronomical (2^30 files) is refused quickly by the entry limit', async () => {
  // One-byte files: the honest size (1 GiB) passes the storage gate, so the entry limit is what stops it.
  const tree = doublingTree(30, 1)
  const { c, sc, mid } = await victim(tree, tree.bytes)
  const before = holdings(c)
  const err = await failure(callLocal(c, 'MiMeiSync', sc, mid))
  expect(err).toMatch(/^QuotaExceeded: .*more than \d+ files and directories/)
  nothingInstalled(c, mid, before)
})

test('an honest tree that shares a subtree installs, each path with its own copy', async () => {
  const tree = doublingTree(3, 3000)
  const { c, sc, mid } = await victim(tree, tree.bytes)
  expect(await callLocal(c, 'MiMeiSync', sc, mid)).toMatchObject({ mid, ver: 1 })
  const h = await callLocal(c, 'MMOpen', sc, mid, 'cur')
  const f = await callLocal(c, 'MFOpenByPath', sc, h, 'b/a/b', 0)
  expect(await callLocal(c, 'MFGetSize', f)).toBe(3000)
  const m = c.mimei.row(mid).id
  expect(c.mimei.db.query('SELECT count(*) AS n FROM file_nodes WHERE dir = 0 AND m = ?').get(m)).toEqual({ n: 8 })
})
