// Shared parts of the database engine: value encoding, key types, per-key bookkeeping.
import type { Database, Statement } from 'bun:sqlite'
import { Encoder } from 'cbor-x'
import { InvalidParams } from '../../errors.ts'

/** Lossless for every Hprose value the node keeps: BigInt, bytes, dates, Maps, nested objects. */
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false } as ConstructorParameters<typeof Encoder>[0])

export const encodeValue = (v: unknown): Uint8Array => cbor.encode(v === undefined ? null : v)
export const decodeValue = (b: Uint8Array | null | undefined): unknown => (b == null ? null : cbor.decode(b))

export const KeyType = { string: 1, hash: 2, list: 3, set: 4, zset: 5 } as const
export type KeyTypeName = keyof typeof KeyType
const TYPE_NAME: Record<number, KeyTypeName> = { 1: 'string', 2: 'hash', 3: 'list', 4: 'set', 5: 'zset' }

/** Where one database's rows live: a connection and the MiMei's numeric id. */
export interface DbTarget {
  readonly db: Database
  readonly m: number
}

/** Prepared statements are cached per connection: the hot path re-parses no SQL. */
const cache = new WeakMap<Database, Map<string, Statement>>()
export function q(db: Database, sql: string): Statement {
  let stmts = cache.get(db)
  if (!stmts) cache.set(db, (stmts = new Map()))
  let s = stmts.get(sql)
  if (!s) stmts.set(sql, (s = db.query(sql)))
  return s
}

export function keyType(t: DbTarget, key: string): KeyTypeName | undefined {
  const row = q(t.db, 'SELECT type FROM kv WHERE m = ? AND key = ?').get(t.m, key) as { type: number } | null
  return row ? TYPE_NAME[row.type] : undefined
}

/** Throws when `key` holds another type; returns whether it exists. */
export function expectType(t: DbTarget, key: string, want: KeyTypeName): boolean {
  const have = keyType(t, key)
  if (have && have !== want) throw new InvalidParams(`key "${key}" holds a ${have}, not a ${want}`)
  return have !== undefined
}

/**
 * Next sequence number of the MiMei: every write takes one, so deltas can be cut by it. The same
 * statement keeps the MiMei's stored size (`bytes`, for quotas) up to date by `delta`.
 */
export function nextSeq(t: DbTarget, delta = 0): number {
  return (q(t.db, 'UPDATE mimei SET seq = seq + 1, bytes = max(bytes + ?, 0) WHERE id = ? RETURNING seq').get(delta, t.m) as { seq: number }).seq
}

/** Marks `key` (of `type`) as changed at a new sequence number; `delta` is the change in stored bytes. */
export function touch(t: DbTarget, key: string, type: KeyTypeName, value: Uint8Array | null = null, delta = 0): number {
  const seq = nextSeq(t, delta)
  q(t.db, 'INSERT INTO kv (m, key, type, value, seq) VALUES (?, ?, ?, ?, ?) ON CONFLICT (m, key) DO UPDATE SET value = excluded.value, seq = excluded.seq').run(
    t.m,
    key,
    KeyType[type],
    value,
    seq,
  )
  q(t.db, 'DELETE FROM kv_deleted WHERE m = ? AND key = ?').run(t.m, key)
  return seq
}

/** Removes a key and everything under it, leaving a tombstone; returns whether it existed. */
export function dropKey(t: DbTarget, key: string): boolean {
  const type = keyType(t, key)
  if (!type) return false
  const freed = storedBytes(t, key, type)
  if (type === 'hash') q(t.db, 'DELETE FROM kv_hash WHERE m = ? AND key = ?').run(t.m, key)
  if (type === 'list') q(t.db, 'DELETE FROM kv_list WHERE m = ? AND key = ?').run(t.m, key)
  if (type === 'set') q(t.db, 'DELETE FROM kv_set WHERE m = ? AND key = ?').run(t.m, key)
  if (type === 'zset') q(t.db, 'DELETE FROM kv_zset WHERE m = ? AND key = ?').run(t.m, key)
  q(t.db, 'DELETE FROM kv WHERE m = ? AND key = ?').run(t.m, key)
  q(t.db, 'INSERT INTO kv_deleted (m, key, seq) VALUES (?, ?, ?) ON CONFLICT (m, key) DO UPDATE SET seq = excluded.seq').run(t.m, key, nextSeq(t, -freed))
  return true
}

const TABLE_OF: Record<KeyTypeName, string> = { string: 'kv', hash: 'kv_hash', list: 'kv_list', set: 'kv_set', zset: 'kv_zset' }
const SIZE_EXPR: Record<KeyTypeName, string> = {
  string: 'length(value) + length(key)',
  hash: 'length(field) + length(value)',
  list: 'length(value)',
  set: 'length(member)',
  zset: 'length(member) + 8',
}

/** Bytes a key holds, as counted against quotas: keys, fields and encoded values. */
export function storedBytes(t: DbTarget, key: string, type: KeyTypeName): number {
  const row = q(t.db, `SELECT coalesce(sum(${SIZE_EXPR[type]}), 0) AS n FROM ${TABLE_OF[type]} WHERE m = ? AND key = ?`).get(t.m, key) as { n: number }
  return row.n
}

/** A collection that became empty disappears, as in Redis. */
export function dropIfEmpty(t: DbTarget, key: string, table: 'kv_hash' | 'kv_list' | 'kv_set' | 'kv_zset'): void {
  const any = q(t.db, `SELECT 1 FROM ${table} WHERE m = ? AND key = ? LIMIT 1`).get(t.m, key)
  if (!any) dropKey(t, key)
}

/** Redis-style glob (`*`, `?`, `[abc]`) as SQLite GLOB, which has the same syntax. */
export function globOrAll(match: string | undefined): string {
  return match === undefined || match === '' ? '*' : match
}

export const toInt = (v: unknown, what: string): number => {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v)
  throw new InvalidParams(`${what} is not an integer`)
}
