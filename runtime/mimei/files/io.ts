// Byte I/O on open file handles: ranged reads and writes, truncation, sizes. Writes to `cur` go
// to the file's bytes on disk in place; versions and mac files are read from blocks.
import { closeSync, openSync, readSync, statSync, truncateSync, writeSync } from 'node:fs'
import { InvalidParams, PermissionDenied, QuotaExceeded } from '../../errors.ts'
import type { BlockStore } from '../blocks.ts'
import type { MiMeiRow } from '../model.ts'
import { readStored } from './content.ts'
import type { FileHandle } from './handles.ts'
import { diskPath, dropCid, recordWrite, type Tree, type TreeNode } from './tree.ts'

/** Most bytes one MFGetData or MFSetData moves: large files go in several calls. */
export const MAX_IO_BYTES = 16 * 1024 * 1024

export interface FileEnv {
  readonly blocks: BlockStore
  /** The live tree, MiMei row and node behind a `cur` handle; NotFound when the node is gone. */
  live(h: FileHandle): { t: Tree; row: MiMeiRow; node: TreeNode }
  checkQuota(row: MiMeiRow, incoming: number): void
  /** Charges a temp file's growth to the user holding it (temp files count against their quota). */
  chargeTemp(h: FileHandle, growth: number): void
  /** The node's largest file in bytes (config maxFileBytes). */
  maxFileBytes(): number
}

/**
 * The one gate every size a file may grow to passes (truncate, write end, commit): the node's
 * file-size limit. Temp files belong to no MiMei yet, so no quota counts them here; charging
 * them to their user hooks in at this place.
 */
export function admitSize(env: FileEnv, h: FileHandle, size: number): void {
  const max = env.maxFileBytes()
  if (size > max) {
    throw new QuotaExceeded(`files on this node are at most ${max} bytes (config maxFileBytes); this ${h.source.kind} file would reach ${size}`)
  }
}

/** Reads [start, end) of a file on disk; bytes past its end (none, normally) read as zeros. */
export function readDisk(path: string, start: number, end: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, end - start))
  const fd = openSync(path, 'r')
  try {
    let n = 0
    while (n < out.length) {
      const got = readSync(fd, out, n, out.length - n, start + n)
      if (got === 0) break
      n += got
    }
  } finally {
    closeSync(fd)
  }
  return out
}

/** Writes all of `data` at `at` (a write may take less than it was given). */
export function writeFully(fd: number, data: Uint8Array, at: number): void {
  let n = 0
  while (n < data.length) n += writeSync(fd, data, n, data.length - n, at + n)
}

function writeDisk(path: string, data: Uint8Array, at: number): void {
  const fd = openSync(path, 'r+')
  try {
    writeFully(fd, data, at)
  } finally {
    closeSync(fd)
  }
}

/** Whether the handle is a directory (only `cur` and version handles can be). */
export function isDir(env: FileEnv, h: FileHandle): boolean {
  if (h.source.kind === 'cur') return env.live(h).node.dir === 1
  return h.source.kind === 'version' && h.source.entry.dir
}

export function sizeOf(env: FileEnv, h: FileHandle): number {
  const s = h.source
  if (s.kind === 'cur') return env.live(h).node.size
  if (s.kind === 'temp') return statSync(s.path).size
  return s.kind === 'mac' ? s.manifest.size : s.entry.size
}

function requireFile(env: FileEnv, h: FileHandle, verb: string): void {
  if (isDir(env, h)) throw new InvalidParams(`cannot ${verb} a directory; list it with MFReaddir`)
}

/** Up to `count` bytes from `offset`; a negative offset counts from the end. Short at the end. */
export function read(env: FileEnv, h: FileHandle, offset: number, count: number): Uint8Array {
  if (!h.canRead) throw new PermissionDenied('this file was opened write-only (O_WRONLY); open it with O_RDONLY or O_RDWR to read')
  if (count < 0) throw new InvalidParams('count must not be negative')
  if (count > MAX_IO_BYTES) throw new InvalidParams(`count is at most ${MAX_IO_BYTES} bytes per call; read large files in several calls`)
  requireFile(env, h, 'read')
  const size = sizeOf(env, h)
  const start = offset < 0 ? Math.max(0, size + offset) : offset
  const end = Math.min(size, start + count)
  if (start >= end) return new Uint8Array(0)
  const s = h.source
  if (s.kind === 'cur') {
    const { t, node } = env.live(h)
    return readDisk(diskPath(t, node.ino), start, end)
  }
  if (s.kind === 'temp') return readDisk(s.path, start, end)
  return readStored(env.blocks, s.kind === 'mac' ? s.manifest : s.entry.manifest!, start, end)
}

function writable(h: FileHandle): void {
  if (!h.canWrite) throw new PermissionDenied('this file was opened read-only; open it with O_WRONLY or O_RDWR (from a writable cur handle) to write')
}

/** Where a write lands: the end for O_APPEND; a negative offset counts from the end. */
function writeStart(h: FileHandle, size: number, offset: number): number {
  if (h.append) return size
  const start = offset < 0 ? size + offset : offset
  if (start < 0) throw new InvalidParams(`offset ${offset} is before the start of the file (size ${size})`)
  return start
}

/**
 * Writes `data` at `offset` (a gap past the end reads as zeros). For `cur`: the quota is checked
 * first, so a refused write changes nothing; the cached content id is dropped before the bytes
 * change and the new size, seq and bytes recorded after.
 */
export function write(env: FileEnv, h: FileHandle, data: Uint8Array, offset: number): number {
  writable(h)
  if (data.length > MAX_IO_BYTES) throw new InvalidParams(`data is at most ${MAX_IO_BYTES} bytes per call; write large files in several calls`)
  const s = h.source
  if (s.kind === 'temp') {
    const size = statSync(s.path).size
    const start = writeStart(h, size, offset)
    if (start + data.length > size) {
      admitSize(env, h, start + data.length)
      env.chargeTemp(h, start + data.length - size)
    }
    if (data.length) writeDisk(s.path, data, start)
    return data.length
  }
  requireFile(env, h, 'write')
  const { t, row, node } = env.live(h)
  const start = writeStart(h, node.size, offset)
  const end = start + data.length
  if (data.length === 0) return 0
  if (end > node.size) admitSize(env, h, end)
  const size = Math.max(node.size, end)
  if (size > node.size) env.checkQuota(row, size - node.size)
  dropCid(t, node)
  writeDisk(diskPath(t, node.ino), data, start)
  recordWrite(t, node, size)
  return data.length
}

/** Cuts or extends (with zeros) a file to `size`; returns the new size. */
export function truncate(env: FileEnv, h: FileHandle, size: number): number {
  writable(h)
  if (size < 0) throw new InvalidParams('size must not be negative')
  admitSize(env, h, size)
  const s = h.source
  if (s.kind === 'temp') {
    const before = statSync(s.path).size
    if (size > before) env.chargeTemp(h, size - before)
    truncateSync(s.path, size)
    return size
  }
  requireFile(env, h, 'truncate')
  const { t, row, node } = env.live(h)
  if (size === node.size) return size
  if (size > node.size) env.checkQuota(row, size - node.size)
  dropCid(t, node)
  truncateSync(diskPath(t, node.ino), size)
  recordWrite(t, node, size)
  return size
}
