// What a version from the network may become on this node, checked after its blocks arrived and
// before anything is installed: its expanded size against the size its author signed and the
// node's limits; and who may make the node fetch someone else's MiMei at all.
import { InvalidSignature, NotFound, PermissionDenied } from '../errors.ts'
import type { BlockStore } from '../mimei/blocks.ts'
import { measureTree, type Expanded } from '../mimei/files/snapshot.ts'
import { MiMeiType, type MiMeiStore } from '../mimei/index.ts'
import { readManifest as readDbManifest } from '../mimei/db/snapshot.ts'
import type { VersionRecord } from './records.ts'

/** Most files and directories a synced version may have. */
export const MAX_SYNC_ENTRIES = 1_000_000

export interface AdmitLimits {
  /** The node's largest file (config maxFileBytes). */
  maxFileBytes: number
  maxEntries?: number
  /**
   * Where storage quotas hook in: called with the version's expanded size before anything is
   * installed; throws QuotaExceeded to refuse. (None yet: synced data is not charged to anyone.)
   */
  charge?(record: VersionRecord, expanded: Expanded): void
}

/**
 * Measures the version whose blocks are all here and refuses it unless it expands to exactly the
 * size its record says (a file tree: the bytes of its files, counted per path; a database: its
 * record stream) and stays within the limits. Cheap: each block is read once.
 */
export function admitVersion(record: VersionRecord, blocks: BlockStore, limits: AdmitLimits): Expanded {
  const maxEntries = limits.maxEntries ?? MAX_SYNC_ENTRIES
  let expanded: Expanded
  if (record.type === MiMeiType.file) {
    expanded = measureTree(blocks, record.cid, { entries: maxEntries, bytes: record.size, fileBytes: limits.maxFileBytes })
  } else {
    const m = readDbManifest(blocks, record.cid)
    const stored = m.chunks.reduce((n, c) => n + (blocks.size(c) ?? 0), 0)
    if (m.size !== stored) throw new InvalidSignature(`version ${record.ver} of ${record.mid}: its manifest says ${m.size} bytes but its chunks hold ${stored}`)
    if (m.keys > maxEntries) throw new InvalidSignature(`version ${record.ver} of ${record.mid} has ${m.keys} keys, more than this node installs (${maxEntries})`)
    expanded = { bytes: m.size, entries: m.keys }
  }
  if (expanded.bytes !== record.size) {
    throw new InvalidSignature(`version ${record.ver} of ${record.mid} expands to ${expanded.bytes} bytes, not the ${record.size} its signed record says; its blocks are not what the author signed`)
  }
  limits.charge?.(record, expanded)
  return expanded
}

/** Who started a sync: a user (their id and kind), or the node itself (provide, gossip, references). */
export interface SyncStarter {
  readonly userId: string
  readonly kind: string
}

/**
 * Whether `who` may have this node fetch and install the version: the node itself and its owner
 * may sync anything; a user only MiMei they author, or that are here already and on which they
 * hold a right. Anyone else would make the node store what they like at its owner's expense.
 */
export function authorizeSync(who: SyncStarter | undefined, record: VersionRecord, mimei: MiMeiStore): void {
  if (!who || who.kind === 'owner' || who.kind === 'system') return
  if (who.userId && who.userId === record.author) return
  let held = 0
  try {
    held = who.userId ? mimei.rightsOf(mimei.row(record.mid), who as Parameters<MiMeiStore['rightsOf']>[1]) : 0
  } catch (err) {
    if (!(err instanceof NotFound)) throw err
  }
  if (held) return
  throw new PermissionDenied(
    `MiMei ${record.mid} is by user ${record.author}, not you, and this node holds no right of yours on it: ask the node owner to sync it (MiMeiSync or MiMeiProvide), or sync it on a node you own`,
  )
}
