// Paths inside a file MiMei: normalized, '/'-separated, relative to the tree's root ('' = root).
import { InvalidParams } from '../../errors.ts'

/** Longest accepted path and path component, in UTF-8 bytes (the limits of common file systems). */
export const MAX_PATH_BYTES = 4096
export const MAX_NAME_BYTES = 255

const utf8 = new TextEncoder()

/**
 * Normalizes a caller's path: a leading '/' is optional, empty and '.' components are dropped and
 * '..' steps up — but never above the root, because a MiMei tree has nothing above it and a path
 * that tries is a mistake or an attack. NUL is refused (C APIs would cut the name there).
 * Names never reach the OS file system (file bytes live under generated names), so '\' and the
 * like are ordinary characters.
 */
export function normalizePath(input: unknown): string {
  if (typeof input !== 'string') throw new InvalidParams('a path must be a string')
  if (input.includes('\0')) throw new InvalidParams('a path must not contain NUL characters')
  if (utf8.encode(input).length > MAX_PATH_BYTES) throw new InvalidParams(`a path may be at most ${MAX_PATH_BYTES} bytes long`)
  const out: string[] = []
  for (const part of input.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length === 0) throw new InvalidParams(`path "${input.slice(0, 200)}" climbs above the root of the MiMei with ".."`)
      out.pop()
      continue
    }
    if (utf8.encode(part).length > MAX_NAME_BYTES) throw new InvalidParams(`a path component may be at most ${MAX_NAME_BYTES} bytes long`)
    out.push(part)
  }
  return out.join('/')
}

/** The parent directory and the last component of a normalized path ('' for the root). */
export function splitPath(path: string): { parent: string; name: string } {
  const at = path.lastIndexOf('/')
  return at < 0 ? { parent: '', name: path } : { parent: path.slice(0, at), name: path.slice(at + 1) }
}

export function joinPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`
}

/**
 * Bounds of every path strictly below `dir` for a range query: '0' is the character after '/',
 * so `p >= 'dir/' AND p < 'dir0'` selects exactly the descendants in SQLite's byte order.
 */
export function subtreeRange(dir: string): { from: string; to: string } {
  return { from: `${dir}/`, to: `${dir}0` }
}

/** Whether `path` is `dir` or lies below it. */
export function isWithin(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(`${dir}/`)
}
