// Open file handles (Leither's fsid): what each one reads or writes; idle ones expire.
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import type { Principal } from '../../permissions/index.ts'
import { idleTable } from '../idle-table.ts'
import type { FileManifest } from './content.ts'

/**
 * Where a handle's bytes are:
 * - `cur`: a file or directory of a MiMei's live tree, found by its ino (it follows renames);
 * - `version`: an entry of a numbered version, read from its snapshot blocks;
 * - `mac`: a content-addressed file, read from blocks;
 * - `temp`: an upload staging file under <dataDir>/tmp, deleted when the handle goes.
 */
export type FileSource =
  | { readonly kind: 'cur'; readonly mid: string; readonly ino: string }
  | { readonly kind: 'version'; readonly mid: string; readonly ver: number; readonly entry: StoredEntry }
  | { readonly kind: 'mac'; readonly cid: string; readonly manifest: FileManifest }
  | { readonly kind: 'temp'; readonly path: string }

/** An entry of a stored directory (or a version's root), with its manifest once it is a file. */
export interface StoredEntry {
  readonly name: string
  readonly dir: boolean
  readonly cid: string
  readonly size: number
  readonly modTime: number
  readonly manifest?: FileManifest
}

export interface FileHandle {
  readonly id: string
  readonly source: FileSource
  /** Who opened it: the handle works for them only while their session lives. */
  readonly owner: Principal
  /** The opener's rights on the MiMei (cur and version sources), as of `epoch`. */
  rights: number
  epoch: number
  readonly canRead: boolean
  readonly canWrite: boolean
  /** O_APPEND: every write goes to the end, whatever offset it names. */
  readonly append: boolean
  /** Where the next MFReaddir continues: the last name returned (cur) or an index (stored). */
  cursor?: string | number
  lastUsed: number
}

export interface FileHandleTable {
  add(h: Omit<FileHandle, 'id' | 'lastUsed'>): FileHandle
  /** The live handle, or NotFound. */
  get(id: string): FileHandle
  close(id: string): boolean
  closeWhere(match: (h: FileHandle) => boolean, because?: string): number
  /** Closes handles idle longer than `idleSec`. */
  sweep(idleSec: number): number
  closeAll(): void
  values(): IterableIterator<FileHandle>
  readonly size: number
}

export const newHandleId = () => randomBytes(16).toString('base64url')

export function fileHandleTable(): FileHandleTable {
  return idleTable<FileHandle>(
    (h) => {
      if (h.source.kind === 'temp') rmSync(h.source.path, { force: true })
    },
    'unknown or expired file handle; open the file again (MFOpenByPath, MFOpenTempFile, MFOpenMacFile)',
  )
}
