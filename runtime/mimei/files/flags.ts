// Open flags of MFOpenByPath: the bits of Go's os package (Linux values), which Leither clients pass.
import { InvalidParams } from '../../errors.ts'

export const O_RDONLY = 0
export const O_WRONLY = 1
export const O_RDWR = 2
export const O_CREATE = 0x40
export const O_EXCL = 0x80
export const O_TRUNC = 0x200
export const O_APPEND = 0x400

const ACCESS = 3
const KNOWN = ACCESS | O_CREATE | O_EXCL | O_TRUNC | O_APPEND
const LIST = 'O_RDONLY 0, O_WRONLY 1, O_RDWR 2, O_CREATE 0x40, O_EXCL 0x80, O_TRUNC 0x200, O_APPEND 0x400'

export interface OpenFlags {
  readonly read: boolean
  readonly write: boolean
  readonly create: boolean
  readonly excl: boolean
  readonly trunc: boolean
  readonly append: boolean
}

/** Decodes a flag word; unknown bits and contradictory combinations are refused, not ignored. */
export function openFlags(flag: number): OpenFlags {
  if (!Number.isSafeInteger(flag) || flag < 0 || flag > 0x7fffffff || flag & ~KNOWN) {
    throw new InvalidParams(`unknown open flags in ${flag} (0x${flag.toString(16)}); known: ${LIST}`)
  }
  const access = flag & ACCESS
  if (access === ACCESS) throw new InvalidParams(`flag ${flag}: access mode 3 does not exist; use O_RDONLY 0, O_WRONLY 1 or O_RDWR 2`)
  const f = {
    read: access !== O_WRONLY,
    write: access !== O_RDONLY,
    create: (flag & O_CREATE) !== 0,
    excl: (flag & O_EXCL) !== 0,
    trunc: (flag & O_TRUNC) !== 0,
    append: (flag & O_APPEND) !== 0,
  }
  if ((f.trunc || f.append) && !f.write) throw new InvalidParams('O_TRUNC and O_APPEND need O_WRONLY (1) or O_RDWR (2)')
  if (f.excl && !f.create) throw new InvalidParams('O_EXCL (0x80) only goes with O_CREATE (0x40)')
  return f
}
