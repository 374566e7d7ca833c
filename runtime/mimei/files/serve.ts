// Files as the HTTP server sends them: resolved by path in cur or a version, with their content id
// (the ETag), media type and a body for any byte range, streamed from disk or from blocks.
import type { BlockStore } from '../blocks.ts'
import { NotFound } from '../../errors.ts'
import { readStored, streamStored } from './content.ts'
import { readDisk } from './io.ts'
import { mimeType, SNIFF_BYTES } from './mime.ts'
import { joinPath } from './path.ts'
import { liveFileCid, resolveStored } from './snapshot.ts'
import { diskPath, nodeAt, nodeByIno, type Tree } from './tree.ts'

export const INDEX_FILE = 'index.html'

export type Served =
  /** A directory asked for without its trailing '/': relative links in its index need one. */
  | { readonly kind: 'redirect' }
  | {
      readonly kind: 'file'
      readonly name: string
      readonly size: number
      /** Content id of the bytes: a strong validator, equal for equal content anywhere. */
      readonly cid: string
      readonly type: string
      readonly modTime: number
      /** Bytes [start, end) — a lazily read file slice or a stream pulling one block at a time. */
      body(start: number, end: number): Blob | ReadableStream<Uint8Array>
    }

export interface ServeSource {
  readonly blocks: BlockStore
  readonly tree: Tree
  /** The version to serve from, or undefined for cur. */
  readonly version?: { cid: string; created: number }
}

const noIndex = (path: string) => new NotFound(`directory "${path || '/'}" has no ${INDEX_FILE}`)

/** What to send for a path; the ETag of a cur file not hashed since its last write is computed in slices. */
export async function servable(src: ServeSource, path: string, slash: boolean): Promise<Served> {
  if (src.version) {
    const modTime = src.version.created * 1000
    let entry = resolveStored(src.blocks, src.version.cid, path, modTime)
    if (entry.dir) {
      if (!slash) return { kind: 'redirect' }
      try {
        entry = resolveStored(src.blocks, src.version.cid, joinPath(path, INDEX_FILE), modTime)
      } catch (err) {
        if (err instanceof NotFound) throw noIndex(path)
        throw err
      }
      if (entry.dir) throw noIndex(path)
    }
    const manifest = entry.manifest!
    return {
      kind: 'file',
      name: entry.name,
      size: entry.size,
      cid: entry.cid,
      modTime,
      type: mimeType(entry.name, () => readStored(src.blocks, manifest, 0, SNIFF_BYTES)),
      body: (start, end) => streamStored(src.blocks, manifest, start, end),
    }
  }
  const t = src.tree
  let node = nodeAt(t, path)
  if (!node) throw new NotFound(`no file or directory "${path}"`)
  if (node.dir) {
    if (!slash) return { kind: 'redirect' }
    node = nodeAt(t, joinPath(path, INDEX_FILE))
    if (!node || node.dir) throw noIndex(path)
  }
  const cid = await liveFileCid(t, node)
  // Sizes and times as they are now, after the hashing let other requests run.
  node = nodeByIno(t, node.ino)
  if (!node) throw new NotFound(`"${path}" was removed while it was read`)
  const disk = diskPath(t, node.ino)
  const size = node.size
  return {
    kind: 'file',
    name: node.name,
    size,
    cid,
    modTime: node.mtime,
    type: mimeType(node.name, () => readDisk(disk, 0, Math.min(size, SNIFF_BYTES))),
    body: (start, end) => Bun.file(disk).slice(start, end),
  }
}
