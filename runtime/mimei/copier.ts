// Copying blocks into a file off the event loop: a Bun Worker reads each block's bytes from its
// pack (or block file) and writes them one after another into the destination file. Used to write
// out a file version just received (its blocks hash-checked on arrival) as `cur`: the main thread
// only looks up where the blocks are. Made from the source below (a Blob URL), as hasher.ts is.
import { Corrupt, NotFound } from '../errors.ts'

const SOURCE = `
const { closeSync, openSync, readSync, writeSync } = require('node:fs')
self.onmessage = (e) => {
  const { id, dest, parts } = e.data
  const fds = new Map()
  let out
  try {
    out = openSync(dest, 'w', 0o600)
    let buf = new Uint8Array(256 * 1024)
    let at = 0
    for (const p of parts) {
      let fd = fds.get(p.path)
      if (fd === undefined) fds.set(p.path, (fd = openSync(p.path, 'r')))
      if (buf.length < p.size) buf = new Uint8Array(p.size)
      let n = 0
      while (n < p.size) {
        const got = readSync(fd, buf, n, p.size - n, p.off + n)
        if (got === 0) throw Object.assign(new Error(p.path + ' ends before offset ' + (p.off + p.size)), { code: 'SHORT' })
        n += got
      }
      let w = 0
      while (w < p.size) w += writeSync(out, buf, w, p.size - w, at + w)
      at += p.size
    }
    self.postMessage({ id })
  } catch (err) {
    self.postMessage({ id, error: err && err.code === 'ENOENT' ? 'NotFound' : 'Corrupt', message: String(err && err.message) })
  } finally {
    if (out !== undefined) closeSync(out)
    for (const fd of fds.values()) closeSync(fd)
  }
}
`

/** Where one block's bytes are: a file, an offset in it, a length. */
export interface BlockPart {
  path: string
  off: number
  size: number
}

interface Job {
  dest: string
  parts: BlockPart[]
  resolve(): void
  reject(err: Error): void
}

const refOf = (w: Worker) => w as unknown as { ref(): void; unref(): void }

let worker: Worker | undefined
let busy: { id: number; job: Job } | undefined
const queue: Job[] = []
let nextId = 1

function spawn(): Worker {
  const w = new Worker(URL.createObjectURL(new Blob([SOURCE], { type: 'application/javascript' })))
  w.onmessage = (e: MessageEvent) => {
    const r = e.data as { id: number; error?: string; message?: string }
    const done = busy
    busy = undefined
    refOf(w).unref()
    if (done && done.id === r.id) {
      if (!r.error) done.job.resolve()
      else if (r.error === 'NotFound') done.job.reject(new NotFound(`a block went away while it was copied: ${r.message}`))
      else done.job.reject(new Corrupt(`copying blocks failed: ${r.message}`))
    }
    pump()
  }
  // A worker that dies fails its job; the next job starts a new one.
  w.onerror = (e: ErrorEvent) => {
    const done = busy
    busy = undefined
    worker = undefined
    w.terminate()
    done?.job.reject(new Corrupt(`copying blocks failed: ${e.message}`))
    pump()
  }
  return w
}

function pump(): void {
  if (busy || !queue.length) return
  const job = queue.shift()!
  worker ??= spawn()
  busy = { id: nextId++, job }
  refOf(worker).ref()
  worker.postMessage({ id: busy.id, dest: job.dest, parts: job.parts })
}

/** Writes the blocks `parts` one after another into a new file `dest`, on a worker thread. */
export function copyBlocks(dest: string, parts: BlockPart[]): Promise<void> {
  return new Promise((resolve, reject) => {
    queue.push({ dest, parts, resolve, reject })
    pump()
  })
}
