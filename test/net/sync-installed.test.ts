// A sync of a version this node has already installed is skipped: no block of it is read again
// (nor fetched), no install runs; the answer names the version as before.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { SyncResult } from '../../runtime/net/sync.ts'
import { bootNetwork, type TestNetwork } from '../helpers/network.ts'
import { callLocal, loginPassport, type TestKernel } from '../helpers/kernel.ts'

let net: TestNetwork
beforeAll(async () => {
  net = await bootNetwork(2, { topology: 'chain' })
})
afterAll(() => net.stop())

const owner = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

test('syncing the version already installed reads no block and installs nothing', async () => {
  const [author, reader] = net.nodes
  const sa = await owner(author)
  const sr = await owner(reader)
  const mid = (await callLocal(author, 'MMCreate', sa, 'skip', 'blob', '', 1, 1)) as string
  const h = await callLocal(author, 'MMOpen', sa, mid, 'cur')
  const fsid = await callLocal(author, 'MFOpenByPath', sa, h, 'a.bin', 0x42)
  await callLocal(author, 'MFSetData', fsid, crypto.getRandomValues(new Uint8Array(600_000)), 0)
  await callLocal(author, 'MFClose', fsid)
  const ver = (await callLocal(author, 'MMBackup', sa, mid, '')) as number
  await callLocal(author, 'MiMeiPublish', sa, mid)

  const first = (await callLocal(reader, 'MiMeiSync', sr, mid)) as SyncResult
  expect(first.blocks).toBeGreaterThan(3)

  // Count what the second sync does with the reader's blocks and installs.
  const blocks = reader.mimei.blocks
  const get = blocks.get
  const has = blocks.has
  let reads = 0
  let looks = 0
  blocks.get = (cid, check) => (reads++, get(cid, check))
  blocks.has = (cid) => (looks++, has(cid))
  const install = reader.mimei.installVersion
  let installs = 0
  reader.mimei.installVersion = (...a) => (installs++, install.apply(reader.mimei, a))
  try {
    const again = (await callLocal(reader, 'MiMeiSync', sr, mid)) as SyncResult
    expect(again).toMatchObject({ mid, ver, cid: first.cid, blocks: 0, bytes: 0 })
    expect({ reads, looks, installs }).toEqual({ reads: 0, looks: 0, installs: 0 })
  } finally {
    blocks.get = get
    blocks.has = has
    reader.mimei.installVersion = install
  }
})
