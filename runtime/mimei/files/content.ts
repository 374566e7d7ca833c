// File content as blocks: 256 KiB raw chunks under a dag-cbor manifest, streamed in and out.
import { closeSync, openSync, readSync } from 'node:fs'
import { Corrupt, InvalidParams, NotFound } from '../../errors.ts'
import { CHUNK_SIZE, DAG_CBOR, cidOf, parseCid, type BlockStore } from '../blocks.ts'
import { hashChunks } from '../hasher.ts'
import { slicer } from '../slices.ts'
import { decode, encode, link } from './dagcbor.ts'

export const FILE_FORMAT = 'leither-file/1'

/**
 * The manifest of one file: its size and links to its chunks, every chunk CHUNK_SIZE bytes but
 * the last. Encoded as strict DAG-CBOR (chunks are CID links), so the bytes — and the CID — are
 * the same on every node. Decoded, the links read as CID strings.
 */
export interface FileManifest {
  size: number
  chunks: string[]
  format: typeof FILE_FORMAT
}

export interface Chunked {
  /** CID of the manifest: the content id of the file. */
  cid: string
  /** Every block: the chunks, then the manifest. */
  blocks: string[]
  size: number
}

/** Stores a manifest (or only computes its CID when `store` is undefined). */
export function putManifest(chunks: string[], size: number, store: BlockStore | undefined): string {
  const bytes = encode({ size, chunks: chunks.map(link), format: FILE_FORMAT })
  return store ? store.put(bytes, DAG_CBOR) : cidOf(bytes, DAG_CBOR)
}

/** Reads one chunk at `at` into `buf`; fewer bytes only at the end of the file. */
function readChunk(fd: number, buf: Uint8Array, at: number): number {
  let n = 0
  // A short read only happens at the end of a regular file, but loop to be exact.
  while (n < CHUNK_SIZE) {
    const got = readSync(fd, buf, n, CHUNK_SIZE - n, at + n)
    if (got === 0) break
    n += got
  }
  return n
}

/**
 * Cuts a file on disk into chunks and stores them (or, with `store` undefined, only hashes them).
 * One chunk buffer is reused throughout, so memory does not grow with the file. Synchronous: for
 * work that must not be interleaved (inside a transaction) on files whose ids are mostly cached;
 * anything that may meet a large file uses chunkFileSliced.
 */
export function chunkFile(diskPath: string, store: BlockStore | undefined): Chunked {
  const fd = openSync(diskPath, 'r')
  const buf = new Uint8Array(CHUNK_SIZE)
  const chunks: string[] = []
  let size = 0
  try {
    for (let n = readChunk(fd, buf, 0); n > 0; n = n < CHUNK_SIZE ? 0 : readChunk(fd, buf, size)) {
      const chunk = buf.subarray(0, n)
      chunks.push(store ? store.put(chunk) : cidOf(chunk))
      size += n
    }
  } finally {
    closeSync(fd)
  }
  const cid = putManifest(chunks, size, store)
  return { cid, blocks: [...chunks, cid], size }
}

/** Blocks recorded per slice when a worker's chunks are adopted. */
const ADOPT_BATCH = 512

/**
 * chunkFile off the event loop: a worker reads, hashes and (with `store`) writes the chunks as
 * block files (../hasher.ts); this thread records them a batch per slice and stores the
 * manifest. `maxBytes` stops a file that grows while it is read.
 */
export async function chunkFileSliced(diskPath: string, store: BlockStore | undefined, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Chunked> {
  const r = await hashChunks(diskPath, { blocksDir: store?.dir, maxBytes: opts.maxBytes })
  if (store) {
    const pause = slicer(opts.signal)
    for (let i = 0; i < r.cids.length; i += ADOPT_BATCH) {
      store.adopt(r.cids.slice(i, i + ADOPT_BATCH).map((cid, j) => ({ cid, size: r.sizes[i + j] })))
      await pause()
    }
  }
  const cid = putManifest(r.cids, r.size, store)
  return { cid, blocks: [...r.cids, cid], size: r.size }
}

/** Reads and checks a file manifest; NotFound for an unknown CID, InvalidParams for another kind of block. */
export function readManifest(store: BlockStore, cid: string): FileManifest {
  if (parseCid(cid).code !== DAG_CBOR) throw new InvalidParams(`${cid} is a raw block, not a file; pass the CID MFTemp2MacFile returned`)
  if (!store.has(cid)) throw new NotFound(`file ${cid} is not on this node`)
  const m = decode(store.get(cid)) as unknown as FileManifest
  if (m?.format !== FILE_FORMAT || !Array.isArray(m.chunks) || !Number.isSafeInteger(m.size) || m.chunks.some((c) => typeof c !== 'string')) {
    throw new InvalidParams(`block ${cid} is not a file manifest`)
  }
  if (m.chunks.length !== Math.ceil(m.size / CHUNK_SIZE)) throw new Corrupt(`file manifest ${cid} lists ${m.chunks.length} chunks for ${m.size} bytes`)
  return m
}

/** One chunk of a stored file, checked to have the length the manifest implies (and its hash, unless `check` is false). */
export function chunkOf(store: BlockStore, m: FileManifest, i: number, check = true): Uint8Array {
  const bytes = store.get(m.chunks[i], check)
  const want = Math.min(CHUNK_SIZE, m.size - i * CHUNK_SIZE)
  if (bytes.length !== want) throw new Corrupt(`chunk ${i} of a file has ${bytes.length} bytes, not ${want}`)
  return bytes
}

/** Bytes [start, end) of a stored file; the caller bounds the range (at most one I/O call's worth). */
export function readStored(store: BlockStore, m: FileManifest, start: number, end: number): Uint8Array {
  end = Math.min(end, m.size)
  if (start >= end) return new Uint8Array(0)
  const out = new Uint8Array(end - start)
  for (let i = Math.floor(start / CHUNK_SIZE); i * CHUNK_SIZE < end; i++) {
    const chunk = chunkOf(store, m, i)
    const base = i * CHUNK_SIZE
    const from = Math.max(start, base) - base
    const to = Math.min(end, base + chunk.length) - base
    out.set(chunk.subarray(from, to), base + from - start)
  }
  return out
}

/** Bytes [start, end) of a stored file as a stream that reads one chunk per pull. */
export function streamStored(store: BlockStore, m: FileManifest, start: number, end: number): ReadableStream<Uint8Array> {
  let at = start
  end = Math.min(end, m.size)
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= end) return controller.close()
      const i = Math.floor(at / CHUNK_SIZE)
      const base = i * CHUNK_SIZE
      const chunk = chunkOf(store, m, i)
      const to = Math.min(end, base + chunk.length)
      controller.enqueue(chunk.subarray(at - base, to - base))
      at = to
    },
  })
}
