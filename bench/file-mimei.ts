// A published file MiMei of random bytes on a node, for the benches that move one between nodes.
import { callLocal, type TestKernel } from '../test/helpers/kernel.ts'

/** Writes `bytes` random bytes as blob.bin of a new file MiMei (mark `mark`) of `sid`'s user on `author`, backs it up and publishes it. */
export async function publishRandomFile(author: TestKernel, sid: string, bytes: number, mark = ''): Promise<{ mid: string; ver: number }> {
  const mid = (await callLocal(author, 'MMCreate', sid, 'bench', 'blob', mark, 1, 1)) as string
  const h = await callLocal(author, 'MMOpen', sid, mid, 'cur')
  const fsid = await callLocal(author, 'MFOpenByPath', sid, h, 'blob.bin', 0x42)
  const chunk = new Uint8Array(1024 * 1024)
  for (let off = 0; off < bytes; off += chunk.length) {
    for (let at = 0; at < chunk.length; at += 65536) crypto.getRandomValues(chunk.subarray(at, at + 65536))
    await callLocal(author, 'MFSetData', fsid, chunk, off)
  }
  await callLocal(author, 'MFClose', fsid)
  const ver = (await callLocal(author, 'MMBackup', sid, mid, '')) as number
  await callLocal(author, 'MiMeiPublish', sid, mid)
  return { mid, ver }
}
