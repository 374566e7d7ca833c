// What a file handle describes: Stat and Readdir entries (Leither's FileInfo) and media types.
import { basename } from 'node:path'
import { statSync } from 'node:fs'
import { InvalidParams } from '../../errors.ts'
import type { FileHandle, StoredEntry } from './handles.ts'
import { isDir, read, sizeOf, type FileEnv } from './io.ts'
import { DIRECTORY_TYPE, mimeType, SNIFF_BYTES } from './mime.ts'
import { readDirObject } from './snapshot.ts'
import { listDir, pathOf, type TreeNode } from './tree.ts'

/** Go's os.FileMode values, as Leither clients read FMode: 0644 files, ModeDir|0755 directories. */
export const FILE_MODE = 0o644
export const DIR_MODE = 0x80000000 + 0o755

/** Leither's FileInfo{FName, FSize, FModTime, FIsDir, FMode, FID}; `cid` only where it is known. */
export interface FileInfo {
  name: string
  size: number
  modTime: Date
  isDir: boolean
  mode: number
  cid?: string
}

function info(name: string, dir: boolean, size: number, modTime: number, cid: string | null | undefined): FileInfo {
  const out: FileInfo = { name, size: dir ? 0 : size, modTime: new Date(modTime), isDir: dir, mode: dir ? DIR_MODE : FILE_MODE }
  if (cid) out.cid = cid
  return out
}

const ofNode = (n: TreeNode) => info(n.name, n.dir === 1, n.size, n.mtime, n.cid)
const ofEntry = (e: StoredEntry) => info(e.name, e.dir, e.size, e.modTime, e.cid)

/** The name a handle's file goes by: the last path component ("/" for a root). */
function nameOf(env: FileEnv, h: FileHandle): string {
  const s = h.source
  if (s.kind === 'cur') return env.live(h).node.name || '/'
  if (s.kind === 'version') return s.entry.name || '/'
  return s.kind === 'mac' ? s.cid : basename(s.path)
}

export function stat(env: FileEnv, h: FileHandle): FileInfo {
  const s = h.source
  if (s.kind === 'cur') return { ...ofNode(env.live(h).node), name: nameOf(env, h) }
  if (s.kind === 'version') return { ...ofEntry(s.entry), name: nameOf(env, h) }
  // Content-addressed files have no time of their own.
  if (s.kind === 'mac') return info(s.cid, false, s.manifest.size, 0, s.cid)
  return info(nameOf(env, h), false, sizeOf(env, h), statSync(s.path).mtimeMs, undefined)
}

/**
 * The next entries of a directory in name order, as Go's File.Readdir(n): `count` > 0 returns at
 * most that many and the next call continues after them (an empty list at the end); `count` ≤ 0
 * returns all that remain.
 */
export function readdir(env: FileEnv, h: FileHandle, count: number): FileInfo[] {
  if (!isDir(env, h)) throw new InvalidParams('MFReaddir needs a directory; this handle is a file')
  const s = h.source
  if (s.kind === 'cur') {
    const { t, node } = env.live(h)
    const list = listDir(t, pathOf(node), typeof h.cursor === 'string' ? h.cursor : '', count > 0 ? count : -1)
    if (list.length) h.cursor = list.at(-1)!.name
    return list.map(ofNode)
  }
  if (s.kind !== 'version') throw new InvalidParams('MFReaddir needs a directory')
  const from = typeof h.cursor === 'number' ? h.cursor : 0
  const entries = readDirObject(env.blocks, s.entry.cid).entries
  const page = entries.slice(from, count > 0 ? from + count : undefined)
  h.cursor = from + page.length
  return page.map(([name, dir, cid, size]) => ofEntry({ name, dir: dir === 1, cid, size, modTime: s.entry.modTime }))
}

/** The media type: by the name's extension, else sniffed from the first bytes. */
export function mimeOf(env: FileEnv, h: FileHandle): string {
  if (isDir(env, h)) return DIRECTORY_TYPE
  // Sniffing looks at content whatever the open mode: a type is metadata, not the data itself.
  return mimeType(nameOf(env, h), () => read(env, { ...h, canRead: true }, 0, SNIFF_BYTES))
}
