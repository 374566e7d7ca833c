// The MiMei model: its types, its deterministic id, its row, and how a type snapshots and restores
// its `cur`. Every other part of runtime/mimei builds on these names (docs/mimei.md).
import type { Database } from 'bun:sqlite'
import { sha256 } from '@noble/hashes/sha2.js'
import { toBase64Url } from '../identity/index.ts'
import type { MiMeiInfo } from '../rpc/browser/types.ts'
import type { BlockStore } from './blocks.ts'

export const MiMeiType = { file: 1, database: 2 } as const
/** A mark that MMCreate replaces with a fresh random one: a new MiMei every time. */
export const AUTO_MARK = '{{auto}}'

/** Deterministic id: same author, app, ext and mark → same MiMei, on any node. */
export function mimeiId(author: string, app: string, ext: string, mark: string): string {
  return toBase64Url(sha256(new TextEncoder().encode(`mimei\n${author}\n${app}\n${ext}\n${mark}`)).subarray(0, 20))
}

/** A row of the mimei table: what MMList shows (MiMeiInfo, the wire's shape) and the node's own columns. */
export interface MiMeiRow extends MiMeiInfo {
  id: number
  next_ver: number
  /** Who pays for its bytes when not its author (a replica's requester); null = the author. */
  charge_to: string | null
}

/** How a MiMei type snapshots and restores its `cur` (database: db/snapshot.ts; files: files/). */
export interface TypeKind {
  snapshot(m: MiMeiRow, blocks: BlockStore | undefined): { cid: string; blocks: string[]; size: number }
  /** Long work done beforehand in slices (hashing files), so that `snapshot` is quick. */
  prepare?(m: MiMeiRow, blocks: BlockStore | undefined): Promise<void>
  /**
   * Replaces `cur` (live) or fills a private copy with version `cid`. `checked`: its blocks were
   * hash-checked as they arrived just now (a version received from a peer), so they are not hashed again.
   */
  load(m: MiMeiRow, db: Database, cid: string, live: boolean, checked?: boolean): void
  /**
   * The long part of a live `load` done beforehand, in slices (a file tree's bytes written out):
   * its `apply` then replaces `cur` inside the caller's transaction. `release` drops whatever
   * `apply` did not take; call it in every case, after the transaction.
   */
  stage?(cid: string, checked: boolean): Promise<StagedLoad>
}

export interface StagedLoad {
  apply(m: MiMeiRow): void
  release(): void
}
