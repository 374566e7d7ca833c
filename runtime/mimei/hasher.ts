// Hashing files off the event loop: Bun Workers that read a file in 256 KiB chunks, hash each
// (sha2-256) and, when given the block folder, write the chunks as block files themselves. The
// main thread only records the blocks. Measured (bench/eventloop.ts, and 1 GiB hashed against
// slices of 8 ms): the same total time, and the event loop stays free instead of pausing a slice
// at a time. The worker is made from the source below (a Blob URL), so a compiled binary needs no
// second entry point.
import { InvalidParams, NotFound, QuotaExceeded } from '../errors.ts'

/** The worker: plain JavaScript, Node and Bun built-ins only. */
const SOURCE = `
const { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')
const CHUNK = ${256 * 1024}
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'
// CIDv1, raw codec, sha2-256 multihash, as multibase base32 ("b" + RFC 4648 lower case, no padding).
function cidText(digest) {
  const bytes = new Uint8Array(36)
  bytes.set([0x01, 0x55, 0x12, 0x20])
  bytes.set(digest, 4)
  let out = 'b', bits = 0, value = 0
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5) { out += ALPHABET[(value >>> (bits - 5)) & 31]; bits -= 5 }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}
self.onmessage = (e) => {
  const { id, path, root, maxBytes } = e.data
  let fd
  try {
    fd = openSync(path, 'r')
    const buf = new Uint8Array(CHUNK)
    const cids = [], sizes = []
    let size = 0
    for (;;) {
      let n = 0
      while (n < CHUNK) { const got = readSync(fd, buf, n, CHUNK - n, size + n); if (got === 0) break; n += got }
      if (n === 0) break
      if (size + n > maxBytes) { self.postMessage({ id, error: 'QuotaExceeded', message: 'the file grew past ' + maxBytes + ' bytes (maxFileBytes) while it was read' }); return }
      const chunk = buf.subarray(0, n)
      const cid = cidText(new Bun.CryptoHasher('sha256').update(chunk).digest())
      if (root) {
        const dir = join(root, cid.slice(-2))
        const file = join(dir, cid)
        if (!existsSync(file)) {
          mkdirSync(dir, { recursive: true, mode: 0o700 })
          const tmp = file + '.tmp-w' + id
          writeFileSync(tmp, chunk, { mode: 0o600 })
          renameSync(tmp, file)
        }
      }
      cids.push(cid)
      sizes.push(n)
      size += n
      if (n < CHUNK) break
    }
    self.postMessage({ id, cids, sizes, size })
  } catch (err) {
    self.postMessage({ id, error: err && err.code === 'ENOENT' ? 'NotFound' : 'Error', message: String(err && err.message) })
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
`

export interface HashedChunks {
  /** CIDs (raw, sha2-256) of the chunks in order. */
  cids: string[]
  sizes: number[]
  size: number
}

interface Job {
  path: string
  root?: string
  maxBytes: number
  resolve(r: HashedChunks): void
  reject(err: Error): void
}

/** Workers at most: one keeps a large commit from waiting behind another, two leave a core free. */
const POOL = 2

const refOf = (w: Worker) => w as unknown as { ref(): void; unref(): void }

let source: string | undefined
const idle: Worker[] = []
let made = 0
const queue: Job[] = []
const running = new Map<number, { worker: Worker; job: Job }>()
let nextId = 1

function newWorker(): Worker {
  source ??= URL.createObjectURL(new Blob([SOURCE], { type: 'application/javascript' }))
  const w = new Worker(source)
  made++
  w.onmessage = (e: MessageEvent) => {
    const r = e.data as { id: number; error?: string; message?: string } & HashedChunks
    const entry = running.get(r.id)
    running.delete(r.id)
    idle.push(w)
    // An idle worker must not keep the process alive (Bun's Worker has ref/unref; the types lack them).
    refOf(w).unref()
    if (entry) {
      if (!r.error) entry.job.resolve({ cids: r.cids, sizes: r.sizes, size: r.size })
      else if (r.error === 'QuotaExceeded') entry.job.reject(new QuotaExceeded(r.message ?? ''))
      else if (r.error === 'NotFound') entry.job.reject(new NotFound(`the file went away while it was read: ${r.message}`))
      else entry.job.reject(new InvalidParams(`the file could not be read: ${r.message}`))
    }
    pump()
  }
  // A worker that dies fails its job, and a new one takes its place for the next.
  w.onerror = (e: ErrorEvent) => {
    for (const [id, entry] of running) {
      if (entry.worker !== w) continue
      running.delete(id)
      entry.job.reject(new InvalidParams(`hashing the file failed: ${e.message}`))
    }
    made--
    w.terminate()
    pump()
  }
  return w
}

function pump(): void {
  while (queue.length && (idle.length || made < POOL)) {
    const w = idle.pop() ?? newWorker()
    const job = queue.shift()!
    const id = nextId++
    running.set(id, { worker: w, job })
    refOf(w).ref()
    w.postMessage({ id, path: job.path, root: job.root, maxBytes: job.maxBytes })
  }
}

/**
 * Reads a file in chunks on a worker thread and hashes each; with `blocksDir`, also writes every
 * chunk not yet there as a block file (the caller then records them: BlockStore.adopt).
 */
export function hashChunks(path: string, opts: { blocksDir?: string; maxBytes?: number } = {}): Promise<HashedChunks> {
  return new Promise((resolve, reject) => {
    queue.push({ path, root: opts.blocksDir, maxBytes: opts.maxBytes ?? Number.MAX_SAFE_INTEGER, resolve, reject })
    pump()
  })
}
