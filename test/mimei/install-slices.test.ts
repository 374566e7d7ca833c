// Installing a large file version received from the network as `cur` does not hold up the event
// loop: the bytes are written out first (on a worker, or in slices that yield), and the version
// then replaces cur whole.
import { expect, test } from 'bun:test'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CHUNK_SIZE, DAG_CBOR } from '../../runtime/mimei/blocks.ts'
import { putManifest } from '../../runtime/mimei/files/content.ts'
import { encode, link } from '../../runtime/mimei/files/dagcbor.ts'
import { DIR_FORMAT } from '../../runtime/mimei/files/snapshot.ts'
import { mimeiId, MiMeiType } from '../../runtime/mimei/model.ts'
import { bootTest, callLocal, type TestKernel } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'
import { login, O } from './files-setup.ts'

const MiB = 1024 * 1024
const SIZE = 64 * MiB

/** The blocks of a version holding one 64 MiB file, stored on `node` as a sync leaves them; its record. */
function version64(node: TestKernel, mark: string) {
  const store = node.mimei.blocks
  // The version's blocks, as a sync leaves them: distinct chunks, the file's manifest, the root directory.
  const chunks: string[] = []
  const buf = new Uint8Array(CHUNK_SIZE)
  const view = new DataView(buf.buffer)
  const expected = new Bun.CryptoHasher('sha256')
  for (let i = 0; i < SIZE / CHUNK_SIZE; i++) {
    buf.fill(i & 0xff)
    view.setUint32(0, i)
    expected.update(buf)
    chunks.push(store.put(buf))
  }
  const manifest = putManifest(chunks, SIZE, store)
  const root = store.put(encode({ format: DIR_FORMAT, entries: [['big.bin', 0, link(manifest), SIZE]] }), DAG_CBOR)
  const author = node.config.owner
  const mid = mimeiId(author, 'slices', 'files', mark)
  const record = { mid, author, app: 'slices', ext: 'files', mark, type: MiMeiType.file, ver: 1, cid: root, seq: 1, size: SIZE, created: Math.floor(Date.now() / 1000) }
  return { mid, root, record, blocks: [...chunks, manifest, root], digest: expected.digest('hex') }
}

/** Runs `work` with a 5 ms timer going: how often it fired, and the longest gap between firings. */
async function loopDuring(work: () => Promise<unknown>): Promise<{ ticks: number; maxGap: number }> {
  let ticks = 0
  let maxGap = 0
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    maxGap = Math.max(maxGap, now - last)
    last = now
    ticks++
  }, 5)
  try {
    last = performance.now()
    await work()
    maxGap = Math.max(maxGap, performance.now() - last)
  } finally {
    clearInterval(timer)
  }
  return { ticks, maxGap }
}

test('a 64 MiB file version installs as cur in slices that yield to the event loop', async () => {
  await using node = await bootTest()
  const { mid, root, record, blocks, digest } = version64(node, 'm')

  // A 5 ms timer runs throughout. An install that writes all 64 MiB in one turn of the loop lets it
  // fire not once (the assertion on ticks fails whatever the machine's speed: that is what this
  // test is about). Copied on a worker, the loop only waits; in slices, the longest gap is one
  // slice (8 ms of work plus one 256 KiB chunk) plus the loop's own turn. 250 ms is some 25 times
  // that, so only a preempted or swapping process could miss it, and an install that copies all
  // 64 MiB in one turn cannot pass the ticks.
  const { ticks, maxGap } = await loopDuring(() => node.mimei.installVersion(record, blocks))
  expect(ticks).toBeGreaterThan(0)
  expect(maxGap).toBeLessThan(250)

  // cur is the version, whole: same content id, same bytes, its size counted; no staging left behind.
  const sid = await login(node)
  expect(await callLocal(node, 'MMSum', sid, mid, 'cur')).toBe(root)
  const h = (await callLocal(node, 'MMOpen', sid, mid, 'cur')) as string
  const f = (await callLocal(node, 'MFOpenByPath', sid, h, 'big.bin', O.RDONLY)) as string
  const got = new Bun.CryptoHasher('sha256')
  for (let at = 0; at < SIZE; at += 16 * MiB) got.update((await callLocal(node, 'MFGetData', f, at, 16 * MiB)) as Uint8Array)
  expect(got.digest('hex')).toBe(digest)
  expect(node.mimei.row(mid).bytes).toBe(SIZE)
  expect(readdirSync(join(node.dataDir, 'tmp'))).toEqual([])
})

test('restoring a 64 MiB file version (MMRestore) yields to the event loop while its bytes are checked and written', async () => {
  await using node = await bootTest()
  const { mid, root, record, blocks } = version64(node, 'r')
  await node.mimei.installVersion(record, blocks)
  const sid = await login(node)
  const h = (await callLocal(node, 'MMOpen', sid, mid, 'cur')) as string
  const f = (await callLocal(node, 'MFOpenByPath', sid, h, 'big.bin', O.RDWR)) as string
  await callLocal(node, 'MFSetData', f, new Uint8Array(16).fill(7), 0)
  expect(await callLocal(node, 'MMSum', sid, mid, 'cur')).not.toBe(root)
  // As above: an unsliced restore lets the timer fire not once.
  const { ticks, maxGap } = await loopDuring(() => callLocal(node, 'MMRestore', sid, mid, 1))
  expect(ticks).toBeGreaterThan(0)
  expect(maxGap).toBeLessThan(250)
  expect(await callLocal(node, 'MMSum', sid, mid, 'cur')).toBe(root)
  expect(readdirSync(join(node.dataDir, 'tmp'))).toEqual([])
})

test('a staging folder left by a crash is removed at start', async () => {
  using dir = tempDir()
  {
    await using node = await bootTest({}, dir)
    mkdirSync(join(node.dataDir, 'tmp', 'install-left'), { recursive: true })
    writeFileSync(join(node.dataDir, 'tmp', 'install-left', 'abc'), 'half a file')
  }
  await using node = await bootTest({}, dir)
  expect(readdirSync(join(node.dataDir, 'tmp'))).toEqual([])
})
