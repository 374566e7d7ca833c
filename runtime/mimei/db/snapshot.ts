// Database snapshots: the whole keyspace of a MiMei as a canonical record stream, cut into
// 256 KiB raw blocks under a dag-cbor manifest. Same content → same manifest CID on any node.
import type { Database } from 'bun:sqlite'
import { Encoder } from 'cbor-x'
import { Corrupt } from '../../errors.ts'
import { CHUNK_SIZE, DAG_CBOR, cidOf, type BlockStore } from '../blocks.ts'
import { dropKey, KeyType, nextSeq, q, type DbTarget } from './core.ts'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false } as ConstructorParameters<typeof Encoder>[0])

export const DB_FORMAT = 'leither-db/1'

export interface DbManifest {
  format: typeof DB_FORMAT
  keys: number
  size: number
  chunks: string[]
}

/**
 * One record per key, sorted by key: [key, type, payload], payload in canonical order. In the
 * stream each record is framed as <4-byte big-endian length><CBOR>, so a reader can cut records
 * out of chunks without decoding to find their ends.
 */
function* records(t: DbTarget, sinceSeq = -1): Generator<unknown[]> {
  const keys = q(t.db, 'SELECT key, type, value FROM kv WHERE m = ? AND seq > ? ORDER BY key').all(t.m, sinceSeq) as { key: string; type: number; value: Uint8Array | null }[]
  for (const k of keys) {
    switch (k.type) {
      case KeyType.string:
        yield [k.key, k.type, k.value]
        break
      case KeyType.hash:
        yield [k.key, k.type, (q(t.db, 'SELECT field, value FROM kv_hash WHERE m = ? AND key = ? ORDER BY field').values(t.m, k.key) as unknown[][])]
        break
      case KeyType.list:
        yield [k.key, k.type, (q(t.db, 'SELECT value FROM kv_list WHERE m = ? AND key = ? ORDER BY pos').values(t.m, k.key) as unknown[][]).map((r) => r[0])]
        break
      case KeyType.set:
        yield [k.key, k.type, (q(t.db, 'SELECT member FROM kv_set WHERE m = ? AND key = ? ORDER BY member').values(t.m, k.key) as unknown[][]).map((r) => r[0])]
        break
      case KeyType.zset:
        yield [k.key, k.type, q(t.db, 'SELECT member, score FROM kv_zset WHERE m = ? AND key = ? ORDER BY member').values(t.m, k.key) as unknown[][]]
        break
    }
  }
}

export interface SnapshotResult {
  cid: string
  /** Every block of the snapshot, the manifest last. */
  blocks: string[]
  size: number
}

/**
 * Writes a snapshot of the database into the block store (or, with `store` undefined, only
 * computes its CID — MMSum of `cur`). Memory stays at one chunk whatever the database size.
 */
export function snapshotDb(t: DbTarget, store: BlockStore | undefined): SnapshotResult {
  const chunks: string[] = []
  let buf = new Uint8Array(CHUNK_SIZE * 2)
  let len = 0
  let size = 0
  let keys = 0
  const flush = (all: boolean) => {
    while (len >= CHUNK_SIZE || (all && len > 0)) {
      const n = Math.min(len, CHUNK_SIZE)
      const chunk = buf.slice(0, n)
      chunks.push(store ? store.put(chunk) : cidOf(chunk))
      buf.copyWithin(0, n, len)
      len -= n
    }
  }
  for (const rec of records(t)) {
    const bytes = cbor.encode(rec)
    keys++
    size += 4 + bytes.length
    if (len + 4 + bytes.length > buf.length) {
      const bigger = new Uint8Array(Math.max(buf.length * 2, len + 4 + bytes.length))
      bigger.set(buf.subarray(0, len))
      buf = bigger
    }
    new DataView(buf.buffer).setUint32(len, bytes.length)
    buf.set(bytes, len + 4)
    len += 4 + bytes.length
    flush(false)
  }
  flush(true)
  const manifest: DbManifest = { format: DB_FORMAT, keys, size, chunks }
  const bytes = cbor.encode(manifest)
  const cid = store ? store.put(bytes, DAG_CBOR) : cidOf(bytes, DAG_CBOR)
  return { cid, blocks: [...chunks, cid], size }
}

export function readManifest(store: BlockStore, cid: string): DbManifest {
  const m = cbor.decode(store.get(cid)) as DbManifest
  if (m?.format !== DB_FORMAT || !Array.isArray(m.chunks)) throw new Corrupt(`block ${cid} is not a database snapshot`)
  return m
}

/**
 * Replaces the keyspace of `t` with the snapshot: every present key is removed (leaving
 * tombstones where the target is the live database) and every snapshot key written anew with a
 * new sequence number, so a later delta carries the restore.
 */
export function loadSnapshot(t: DbTarget, store: BlockStore, cid: string, live: boolean): void {
  const manifest = readManifest(store, cid)
  const db: Database = t.db
  if (live) {
    for (const k of q(db, 'SELECT key FROM kv WHERE m = ?').values(t.m) as string[][]) {
      q(db, 'INSERT INTO kv_deleted (m, key, seq) VALUES (?, ?, ?) ON CONFLICT (m, key) DO UPDATE SET seq = excluded.seq').run(t.m, k[0], nextSeq(t))
    }
  }
  for (const table of ['kv', 'kv_hash', 'kv_list', 'kv_set', 'kv_zset']) q(db, `DELETE FROM ${table} WHERE m = ?`).run(t.m)
  const apply = (rec: unknown[]) => insertRecord(t, rec, live)
  // Records may straddle chunk boundaries: keep the unfinished tail for the next chunk.
  let pending = new Uint8Array(0)
  for (const chunkCid of manifest.chunks) {
    const chunk = store.get(chunkCid)
    const data = new Uint8Array(pending.length + chunk.length)
    data.set(pending)
    data.set(chunk, pending.length)
    const view = new DataView(data.buffer)
    let at = 0
    while (at + 4 <= data.length) {
      const n = view.getUint32(at)
      if (at + 4 + n > data.length) break
      apply(cbor.decode(data.subarray(at + 4, at + 4 + n)) as unknown[])
      at += 4 + n
    }
    pending = data.slice(at)
  }
  if (pending.length) throw new Corrupt(`snapshot ${cid} ends inside a record`)
}

/** Writes one snapshot record as a key (which must not exist); live targets take a new sequence number. */
function insertRecord(t: DbTarget, rec: unknown[], live: boolean): void {
  const { db } = t
  const [key, type, payload] = rec as [string, number, unknown]
  q(db, 'INSERT INTO kv (m, key, type, value, seq) VALUES (?, ?, ?, ?, ?)').run(t.m, key, type, type === KeyType.string ? (payload as Uint8Array) : null, live ? nextSeq(t) : 0)
  if (live) q(db, 'DELETE FROM kv_deleted WHERE m = ? AND key = ?').run(t.m, key)
  if (type === KeyType.hash) for (const [f, v] of payload as [string, Uint8Array][]) q(db, 'INSERT INTO kv_hash VALUES (?, ?, ?, ?)').run(t.m, key, f, v)
  if (type === KeyType.list) (payload as Uint8Array[]).forEach((v, i) => q(db, 'INSERT INTO kv_list VALUES (?, ?, ?, ?)').run(t.m, key, i, v))
  if (type === KeyType.set) for (const v of payload as Uint8Array[]) q(db, 'INSERT INTO kv_set VALUES (?, ?, ?)').run(t.m, key, v)
  if (type === KeyType.zset) for (const [v, sc] of payload as [Uint8Array, number][]) q(db, 'INSERT INTO kv_zset VALUES (?, ?, ?, ?)').run(t.m, key, v, sc)
}

/**
 * A database delta: every key changed after sequence number `sinceSeq` (whole, as snapshot
 * records) and every key deleted after it. Yields batches of at most ~`maxBytes` encoded.
 */
export function* deltaSince(t: DbTarget, sinceSeq: number, maxBytes = 1 << 20): Generator<{ records: unknown[][]; deleted: string[] }> {
  const deleted = (q(t.db, 'SELECT key FROM kv_deleted WHERE m = ? AND seq > ? ORDER BY key').values(t.m, sinceSeq) as string[][]).map((r) => r[0])
  let batch: unknown[][] = []
  let size = 0
  for (const rec of records(t, sinceSeq)) {
    const n = cbor.encode(rec).length
    if (batch.length && size + n > maxBytes) {
      yield { records: batch, deleted: [] }
      batch = []
      size = 0
    }
    batch.push(rec)
    size += n
  }
  yield { records: batch, deleted }
}

/** Applies a delta to a live database: deleted keys go, changed keys are replaced whole. */
export function applyDelta(t: DbTarget, delta: { records: unknown[][]; deleted: string[] }): void {
  for (const key of delta.deleted) dropKey(t, key)
  for (const rec of delta.records) {
    dropKey(t, rec[0] as string)
    insertRecord(t, rec, true)
  }
}
