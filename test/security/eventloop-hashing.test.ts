// Defect 1: hashing a large file must not freeze the node. While a 256 MiB file is committed
// (MFTemp2MacFile), summed (MMSum of cur) or given its ETag (/mm/ of cur), /getvar keeps
// answering; and temp files, truncation and write offsets stop at the node's file-size limit.
import { expect, test } from 'bun:test'
import { bootTest, callLocal, failure, type TestKernel } from '../helpers/kernel.ts'
import { fileMiMei, login, O } from '../mimei/files-setup.ts'

const MiB = 1024 * 1024
const BIG = 256 * MiB

/**
 * Runs `work` and, while it runs, /getvar one call after another. Returns how many answered
 * before the work finished: 0 when the work held the event loop from start to end.
 */
async function answeredDuring(k: TestKernel, work: () => Promise<unknown>): Promise<{ answered: number; result: unknown }> {
  let finished = false
  const running = work().finally(() => (finished = true))
  let answered = 0
  while (!finished && answered < 3) {
    const r = await fetch(`${k.url}/getvar?name=ver`)
    expect(r.status).toBe(200)
    await r.json()
    if (!finished) answered++
  }
  return { answered, result: await running }
}

test('MFTemp2MacFile of a 256 MiB temp file: /getvar answers while it is hashed and stored', async () => {
  await using k = await bootTest()
  const sid = await login(k)
  const fsid = (await callLocal(k, 'MFOpenTempFile', sid)) as string
  expect(await callLocal(k, 'MFTruncate', fsid, BIG)).toBe(BIG)
  const { answered, result } = await answeredDuring(k, () => callLocal(k, 'MFTemp2MacFile', fsid))
  expect(answered).toBe(3)
  // The commit still produced the file, whole.
  const mac = (await callLocal(k, 'MFOpenMacFile', sid, result)) as string
  expect(await callLocal(k, 'MFGetSize', mac)).toBe(BIG)
})

test('MMSum of cur and the /mm/ ETag of a 256 MiB cur file: /getvar answers while it is hashed', async () => {
  await using k = await bootTest()
  const sid = await login(k)
  const { mid, h } = await fileMiMei(k, sid, { right: 1 })
  const f = (await callLocal(k, 'MFOpenByPath', sid, h, 'big.bin', O.RDWR | O.CREATE)) as string
  await callLocal(k, 'MFTruncate', f, BIG)
  const sum = await answeredDuring(k, () => callLocal(k, 'MMSum', sid, mid, 'cur'))
  expect(sum.answered).toBe(3)
  // A write drops the cached content id: the ETag hashes the file again.
  await callLocal(k, 'MFSetData', f, new Uint8Array([1]), 0)
  const served = await answeredDuring(k, async () => {
    const r = await fetch(`${k.url}/mm/${mid}/big.bin`, { method: 'HEAD' })
    expect(r.status).toBe(200)
    return r.headers.get('etag')
  })
  expect(served.answered).toBe(3)
  // The ETag is the content id the sum is built from: same bytes, same id.
  expect(served.result).toBe(`"${(await callLocal(k, 'MFStat', f) as { cid: string }).cid}"`)
  expect(await callLocal(k, 'MMSum', sid, mid, 'cur')).not.toBe(sum.result)
})

test('temp files, truncation and write offsets stop at maxFileBytes', async () => {
  await using k = await bootTest({ maxFileBytes: 8 * MiB })
  const sid = await login(k)
  const temp = (await callLocal(k, 'MFOpenTempFile', sid)) as string
  expect(await failure(callLocal(k, 'MFTruncate', temp, 8 * MiB + 1))).toMatch(/^QuotaExceeded: .*maxFileBytes/)
  expect(await failure(callLocal(k, 'MFSetData', temp, new Uint8Array(2), 8 * MiB - 1))).toMatch(/^QuotaExceeded: .*maxFileBytes/)
  expect(await callLocal(k, 'MFTruncate', temp, 8 * MiB)).toBe(8 * MiB)
  const { h } = await fileMiMei(k, sid)
  const f = (await callLocal(k, 'MFOpenByPath', sid, h, 'f', O.RDWR | O.CREATE)) as string
  expect(await failure(callLocal(k, 'MFTruncate', f, 2 ** 40))).toMatch(/^QuotaExceeded: .*maxFileBytes/)
  expect(await failure(callLocal(k, 'MFSetData', f, new Uint8Array(1), 8 * MiB))).toMatch(/^QuotaExceeded: .*maxFileBytes/)
  expect(await callLocal(k, 'MFGetSize', f)).toBe(0)
})
