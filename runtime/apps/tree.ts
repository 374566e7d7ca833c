// An app package as a file MiMei version and back: files → content blocks under directory
// objects (the same layout snapshots of `cur` use, so the same files give the same root CID),
// and a stored version's files read out again for checking its signature.
import { CHUNK_SIZE, DAG_CBOR, cidOf, RAW, type BlockStore } from '../mimei/blocks.ts'
import { putManifest, readManifest, readStored } from '../mimei/files/content.ts'
import { encode, link } from '../mimei/files/dagcbor.ts'
import { joinPath } from '../mimei/files/path.ts'
import { DIR_FORMAT, readDirObject, type DirEntry } from '../mimei/files/snapshot.ts'
import { slicer } from '../mimei/slices.ts'
import { InvalidParams } from '../errors.ts'
import type { PackageFile, PackageLimits } from './package.ts'

interface Dir {
  files: Map<string, PackageFile>
  dirs: Map<string, Dir>
}

const utf8 = new TextEncoder()
const byteOrder = (a: string, b: string) => Buffer.compare(utf8.encode(a), utf8.encode(b))

/**
 * Stores the files as a snapshot tree and returns its root CID, every block (to pin) and the
 * bytes of its files (with `blocks` undefined, only computes them). Blocks stay unpinned until a
 * version pins them (a failed install leaves only garbage for the block gc). Gives the event
 * loop back between slices.
 */
export async function storeTree(blocks: BlockStore | undefined, files: readonly PackageFile[]): Promise<{ cid: string; blocks: string[]; size: number }> {
  const put = (bytes: Uint8Array, codec = RAW) => (blocks ? blocks.put(bytes, codec) : cidOf(bytes, codec))
  const root: Dir = { files: new Map(), dirs: new Map() }
  for (const f of files) {
    const parts = f.path.split('/')
    let d = root
    for (const p of parts.slice(0, -1)) {
      let next = d.dirs.get(p)
      if (!next) d.dirs.set(p, (next = { files: new Map(), dirs: new Map() }))
      d = next
    }
    d.files.set(parts.at(-1)!, f)
  }
  const all: string[] = []
  let size = 0
  const pause = slicer()
  const store = async (d: Dir): Promise<string> => {
    const entries: DirEntry[] = []
    for (const [name, sub] of d.dirs) entries.push([name, 1, await store(sub), 0])
    for (const [name, f] of d.files) {
      const chunks: string[] = []
      for (let at = 0; at < f.bytes.length; at += CHUNK_SIZE) {
        chunks.push(put(f.bytes.subarray(at, at + CHUNK_SIZE)))
        await pause()
      }
      const cid = putManifest(chunks, f.bytes.length, blocks)
      all.push(...chunks, cid)
      size += f.bytes.length
      entries.push([name, 0, cid, f.bytes.length])
    }
    entries.sort((a, b) => byteOrder(a[0], b[0]))
    const cid = put(encode({ format: DIR_FORMAT, entries: entries.map(([n, isDir, c, s]) => [n, isDir, link(c), s]) }), DAG_CBOR)
    all.push(cid)
    return cid
  }
  const cid = await store(root)
  return { cid, blocks: all, size }
}

/**
 * The files of a stored version, read from its blocks (each file at most `limits.fileBytes`, all
 * together at most `limits.totalBytes`), with the folders they sit in.
 */
export async function readTree(blocks: BlockStore, rootCid: string, limits: PackageLimits): Promise<{ files: Map<string, Uint8Array>; dirs: Set<string> }> {
  const files = new Map<string, Uint8Array>()
  const dirs = new Set<string>()
  let total = 0
  const pause = slicer()
  const walk = async (cid: string, path: string, depth: number) => {
    if (depth > 64) throw new InvalidParams('bad package: folders nest deeper than 64 levels')
    for (const [name, isDir, entryCid, n] of readDirObject(blocks, cid).entries) {
      const p = joinPath(path, name)
      if (isDir) {
        dirs.add(p)
        await walk(entryCid, p, depth + 1)
        continue
      }
      if (files.size + 1 > limits.files) throw new InvalidParams(`bad package: more than ${limits.files} files`)
      if (n > limits.fileBytes) throw new InvalidParams(`bad package: file "${p}" has ${n} bytes; a file may have at most ${limits.fileBytes}`)
      if ((total += n) > limits.totalBytes) throw new InvalidParams(`bad package: the files add up to more than ${limits.totalBytes} bytes`)
      const manifest = readManifest(blocks, entryCid)
      if (manifest.size !== n) throw new InvalidParams(`bad package: file "${p}" is listed with ${n} bytes but holds ${manifest.size}`)
      files.set(p, readStored(blocks, manifest, 0, manifest.size))
      await pause()
    }
  }
  await walk(rootCid, '', 0)
  return { files, dirs }
}
