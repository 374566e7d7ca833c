// A 64 MiB file written and read through the dispatcher in 1 MiB calls, snapshotted and served
// over HTTP: memory must stay flat (bounded by the call size, not the file size).
import { expect, test } from 'bun:test'
import { CHUNK_SIZE } from '../../runtime/mimei/blocks.ts'
import { bootTest, callLocal } from '../helpers/kernel.ts'
import { fileMiMei, login, O } from './files-setup.ts'

const MiB = 1024 * 1024
const SIZE = 64 * MiB

/** Chunk i of the file: distinct 256 KiB blocks, so nothing is deduplicated away. */
function chunk(i: number, buf: Uint8Array): Uint8Array {
  buf.fill(i & 0xff)
  const view = new DataView(buf.buffer)
  for (let at = 0; at < buf.length; at += CHUNK_SIZE) view.setUint32(at, i * MiB + at)
  return buf
}

const rss = () => {
  Bun.gc(true)
  return process.memoryUsage().rss
}

test('64 MiB in 1 MiB calls: write, read, backup, serve — RSS does not grow with the file', async () => {
  await using node = await bootTest({ maxBodyBytes: 4 * MiB })
  const sid = await login(node)
  const { mid, h } = await fileMiMei(node, sid, { right: 1 })
  const f = (await callLocal(node, 'MFOpenByPath', sid, h, 'big.bin', O.RDWR | O.CREATE)) as string
  const buf = new Uint8Array(MiB)
  const expected = new Bun.CryptoHasher('sha256')
  const before = rss()
  let peak = before

  for (let i = 0; i < SIZE / MiB; i++) {
    const data = chunk(i, buf)
    expected.update(data)
    expect(await callLocal(node, 'MFSetData', f, data, i * MiB)).toBe(MiB)
    if (i % 16 === 15) peak = Math.max(peak, rss())
  }
  const digest = expected.digest('hex')
  expect(await callLocal(node, 'MFGetSize', f)).toBe(SIZE)
  expect(node.mimei.row(mid).bytes).toBe(SIZE)

  const readBack = new Bun.CryptoHasher('sha256')
  for (let at = 0; at < SIZE; at += 4 * MiB) readBack.update((await callLocal(node, 'MFGetData', f, at, 4 * MiB)) as Uint8Array)
  expect(readBack.digest('hex')).toBe(digest)
  peak = Math.max(peak, rss())

  expect(await callLocal(node, 'MMBackup', sid, mid, 'big')).toBe(1)
  const pins = node.store.db.query('SELECT count(*) AS n FROM block_pins WHERE owner = ?').get(`v:${node.mimei.row(mid).id}:1`) as { n: number }
  expect(pins.n).toBe(SIZE / CHUNK_SIZE + 2) // the chunks, the file manifest, the root directory
  expect(await callLocal(node, 'MMSum', sid, mid, 'cur')).toBe(await callLocal(node, 'MMSum', sid, mid, 1))
  peak = Math.max(peak, rss())

  // Served from disk (cur) and from the version's blocks, hashed as it arrives.
  for (const spec of [mid, `${mid}:1`]) {
    const res = await fetch(`${node.url}/mm/${spec}/big.bin`)
    expect(res.status).toBe(200)
    const served = new Bun.CryptoHasher('sha256')
    let received = 0
    const reader = res.body!.getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      const part = r.value
      served.update(part)
      received += part.length
      if ((received & (16 * MiB - 1)) < part.length) peak = Math.max(peak, rss())
    }
    expect(received).toBe(SIZE)
    expect(served.digest('hex')).toBe(digest)
  }

  // Holding the file would take 64 MiB at least; the bound leaves room for allocator slack.
  const growth = peak - before
  expect(growth).toBeLessThan(40 * MiB)
}, 30_000)
