// Where synced blocks are written: off the event loop, up to 16 MiB at once; when the disk falls that
// far behind, the next blocks are written at once (holding the loop, so the sender waits) instead
// of piling up in memory or overflowing the stream's buffer. The sync completes either way.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { CHUNK_SIZE, parseCid, RAW } from '../../runtime/mimei/blocks.ts'
import { STORE_BYTES_IN_FLIGHT, type SyncResult } from '../../runtime/net/sync.ts'
import { bootNetwork, type TestNetwork } from '../helpers/network.ts'
import { callLocal, loginPassport, type TestKernel } from '../helpers/kernel.ts'

let net: TestNetwork
beforeAll(async () => {
  net = await bootNetwork(2, { topology: 'chain' })
})
afterAll(() => net.stop())

const owner = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

test('with the writes off the loop stalled, the rest of the blocks are written at once and the sync completes', async () => {
  const [author, reader] = net.nodes
  const sa = await owner(author)
  const sr = await owner(reader)
  const mid = (await callLocal(author, 'MMCreate', sa, 'stall', 'blob', '', 1, 1)) as string
  const h = await callLocal(author, 'MMOpen', sa, mid, 'cur')
  const fsid = await callLocal(author, 'MFOpenByPath', sa, h, 'a.bin', 0x42)
  // 32 chunks more than the writes off the loop may hold, far more than the stream buffers while nothing is read.
  const offLoop = STORE_BYTES_IN_FLIGHT / CHUNK_SIZE
  const chunks = offLoop + 32
  for (let off = 0; off < chunks * CHUNK_SIZE; off += 1024 * 1024) await callLocal(author, 'MFSetData', fsid, crypto.getRandomValues(new Uint8Array(1024 * 1024)), off)
  await callLocal(author, 'MFClose', fsid)
  await callLocal(author, 'MMBackup', sa, mid, '')
  await callLocal(author, 'MiMeiPublish', sa, mid)

  const blocks = reader.mimei.blocks
  const later = blocks.putCheckedAsync
  const now = blocks.putChecked
  const held: (() => void)[] = []
  let atOnce = 0
  // The disk "stalls" for the file's chunks: no write of one off the loop finishes until every
  // other chunk was written at once (the directory and manifest, fetched first, pass).
  const release = Promise.withResolvers<void>()
  blocks.putCheckedAsync = (cid, parts) =>
    parseCid(cid).code !== RAW ? later(cid, parts) : new Promise<void>((resolve) => held.push(resolve)).then(() => later(cid, parts))
  blocks.putChecked = (cid, bytes) => {
    now(cid, bytes)
    if (++atOnce + held.length === chunks) release.resolve()
  }
  void release.promise.then(() => held.splice(0).forEach((go) => go()))
  try {
    const r = (await callLocal(reader, 'MiMeiSync', sr, mid)) as SyncResult
    expect(r.blocks).toBe(chunks + 2) // the chunks, the manifest, the directory
    expect(held.length).toBe(0)
    // As many chunks as fit went off the loop and stalled; the other 32 were written at once.
    expect(atOnce).toBe(32)
    expect(await callLocal(reader, 'MMSum', sr, mid, 'cur')).toBe(await callLocal(author, 'MMSum', sa, mid, 'cur'))
  } finally {
    blocks.putCheckedAsync = later
    blocks.putChecked = now
  }
})
