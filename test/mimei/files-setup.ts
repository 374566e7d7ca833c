// Shared setup of the file-MiMei tests: a logged-in user, a file MiMei opened at cur, whole-file put/get.
import { generateKeyPair, type KeyPair } from '../../runtime/identity/index.ts'
import { callLocal, loginPassport, type TestKernel } from '../helpers/kernel.ts'

/** Go's os flags, as clients pass them. */
export const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, CREATE: 0x40, EXCL: 0x80, TRUNC: 0x200, APPEND: 0x400 } as const

export const bytes = (text: string) => new TextEncoder().encode(text)
export const text = (b: unknown) => new TextDecoder().decode(b as Uint8Array)

/** Logs in as the node owner, or as the owner of `key` (a plain user). */
export async function login(node: TestKernel, key?: KeyPair): Promise<string> {
  return ((await callLocal(node, 'Login', loginPassport(node, key))) as { sid: string }).sid
}

export const newUser = (node: TestKernel) => login(node, generateKeyPair())

/** Creates a file MiMei (right: rights of everyone) and opens its cur; returns its id and handle. */
export async function fileMiMei(node: TestKernel, sid: string, opts: { mark?: string; right?: number } = {}) {
  const mid = (await callLocal(node, 'MMCreate', sid, 'filetest', 'files', opts.mark ?? '{{auto}}', 1, opts.right ?? 0)) as string
  const h = (await callLocal(node, 'MMOpen', sid, mid, 'cur')) as string
  return { mid, h }
}

/** Writes a whole file (created or emptied first), in one call. */
export async function put(node: TestKernel, sid: string, h: string, path: string, content: string | Uint8Array): Promise<void> {
  const fsid = (await callLocal(node, 'MFOpenByPath', sid, h, path, O.WRONLY | O.CREATE | O.TRUNC)) as string
  await callLocal(node, 'MFSetData', fsid, typeof content === 'string' ? bytes(content) : content, 0)
  await callLocal(node, 'MFClose', fsid)
}

/** Reads a whole (small) file. */
export async function get(node: TestKernel, sid: string, h: string, path: string): Promise<Uint8Array> {
  const fsid = (await callLocal(node, 'MFOpenByPath', sid, h, path, O.RDONLY)) as string
  const out = (await callLocal(node, 'MFGetData', fsid, 0, 16 * 1024 * 1024)) as Uint8Array
  await callLocal(node, 'MFClose', fsid)
  return out
}

/** The MiMei's stored row: seq and bytes, as the quota sees them. */
export const usage = (node: TestKernel, mid: string) => {
  const row = node.mimei.row(mid)
  return { seq: row.seq, bytes: row.bytes }
}
