// Shared parts of the database engine: value encoding, key types, per-key bookkeeping.
import type { Database, Statement } from 'bun:sqlite'
import { addExtension, Encoder } from 'cbor-x'
import { classNameOf, Guid, withClassName } from '../../rpc/values.ts'
import { InvalidParams } from '../../errors.ts'

/** Lossless for every Hprose value the node keeps: BigInt, bytes, dates, Maps, nested objects. */
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false } as ConstructorParameters<typeof Encoder>[0])

/** An object of a named Hprose class (`c`/`o`) while it is stored: the name and the fields. */
class NamedObject {
  constructor(
    readonly name: string,
    readonly fields: Record<string, unknown>,
  ) {}
}

// CBOR tags from the first-come-first-served range for the two Hprose types CBOR lacks.
addExtension({ Class: Guid, tag: 40_101, encode: (g: Guid, enc) => enc(g.value), decode: (v: unknown) => new Guid(String(v)) })
addExtension({
  Class: NamedObject,
  tag: 40_102,
  encode: (o: NamedObject, enc) => enc([o.name, o.fields]),
  // Decoding yields the plain object marked with its class, not the storage wrapper.
  decode: (v: unknown) => {
    const [name, fields] = v as [string, Record<string, unknown>]
    return withClassName(fields, name) as unknown as NamedObject
  },
})

/** Deepest nesting of a stored value: as deep as the RPC codec reads. */
const MAX_VALUE_DEPTH = 512
/** Most containers a stored value expands to, a shared part counted each time it appears. */
const MAX_VALUE_CONTAINERS = 1 << 20

/**
 * True when a class-named object hides somewhere in `v` (most values have none: no copy then).
 * Walks `v` as the encoder will, so a value that contains itself, or whose shared parts expand
 * past the limit (references let a few bytes on the wire name 2^40 elements), is refused here
 * with InvalidParams before the encoder recurses on it.
 */
function hasNamed(v: unknown): boolean {
  let containers = 0
  let named = false
  const walk = (x: unknown, depth: number): void => {
    if (!x || typeof x !== 'object' || x instanceof Uint8Array || x instanceof Date || x instanceof Guid) return
    if (depth > MAX_VALUE_DEPTH) throw new InvalidParams(`a stored value may nest ${MAX_VALUE_DEPTH} levels deep at most and may not contain itself`)
    if (++containers > MAX_VALUE_CONTAINERS) throw new InvalidParams(`a stored value expands to more than ${MAX_VALUE_CONTAINERS} lists and maps; send shared parts once`)
    if (Array.isArray(x)) for (const y of x) walk(y, depth + 1)
    else if (x instanceof Map) for (const [k, y] of x) walk(k, depth + 1), walk(y, depth + 1)
    else {
      if (classNameOf(x) !== undefined) named = true
      for (const y of Object.values(x)) walk(y, depth + 1)
    }
  }
  walk(v, 0)
  return named
}

/** A copy of `v` with class-named objects wrapped, so their names survive storage. */
function tagNamed(v: unknown, seen: Map<object, unknown>): unknown {
  if (!v || typeof v !== 'object' || v instanceof Uint8Array || v instanceof Date || v instanceof Guid) return v
  if (seen.has(v)) return seen.get(v)
  if (Array.isArray(v)) {
    const out: unknown[] = []
    seen.set(v, out)
    for (const x of v) out.push(tagNamed(x, seen))
    return out
  }
  if (v instanceof Map) {
    const out = new Map()
    seen.set(v, out)
    for (const [k, x] of v) out.set(k, tagNamed(x, seen))
    return out
  }
  const fields: Record<string, unknown> = {}
  const name = classNameOf(v)
  const out = name === undefined ? fields : new NamedObject(name, fields)
  seen.set(v, out)
  for (const [k, x] of Object.entries(v)) fields[k] = tagNamed(x, seen)
  return out
}

export const encodeValue = (v: unknown): Uint8Array => cbor.encode(v === undefined || v === null ? null : typeof v === 'object' && hasNamed(v) ? tagNamed(v, new Map()) : v)
export const decodeValue = (b: Uint8Array | null | undefined): unknown => (b == null ? null : (decodeSimple(b) ?? cbor.decode(b)))

/**
 * The common small values without cbor-x: a one-byte integer (-24..23) or an ASCII text string
 * under 256 bytes, exactly as cbor-x decodes them. cbor-x first takes a DataView of the blob's
 * buffer, which for a fresh small Uint8Array from SQLite costs more than the whole decode here.
 * Returns undefined for anything else (cbor-x then decodes it).
 */
function decodeSimple(b: Uint8Array): number | string | undefined {
  const n = b.length
  if (n === 0) return undefined
  const head = b[0]!
  if (n === 1) return head <= 0x17 ? head : head >= 0x20 && head <= 0x37 ? 0x1f - head : undefined
  let start: number
  let len: number
  if (head >= 0x60 && head <= 0x77) {
    start = 1
    len = head - 0x60
  } else if (head === 0x78) {
    start = 2
    len = b[1]!
  } else return undefined
  if (start + len !== n) return undefined
  let s = ''
  for (let i = start; i < n; i++) {
    const c = b[i]!
    if (c >= 0x80) return undefined
    s += String.fromCharCode(c)
  }
  return s
}

export const KeyType = { string: 1, hash: 2, list: 3, set: 4, zset: 5 } as const
export type KeyTypeName = keyof typeof KeyType
const TYPE_NAME: Record<number, KeyTypeName> = { 1: 'string', 2: 'hash', 3: 'list', 4: 'set', 5: 'zset' }

/** Where one database's rows live: a connection and the MiMei's numeric id. */
export interface DbTarget {
  readonly db: Database
  readonly m: number
  /** Inside a Commit batch: sequence number and size counted here, stored once at the end. */
  readonly counter?: { seq: number; delta: number }
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

/**
 * Runs `fn` in a transaction of `db` (a savepoint when one is already open), like
 * `db.transaction(fn)()`; the wrapper is built once per connection, as bun:sqlite builds a new
 * one, with its deferred/immediate/exclusive variants, on every db.transaction() call.
 */
const runners = new WeakMap<Database, (fn: () => unknown) => unknown>()
export function transact<T>(db: Database, fn: () => T): T {
  let run = runners.get(db)
  if (!run) runners.set(db, (run = db.transaction((f: () => unknown) => f())))
  return run(fn) as T
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
  if (t.counter) {
    t.counter.delta += delta
    return ++t.counter.seq
  }
  // UPDATE then SELECT on the same connection: half the cost of UPDATE … RETURNING in SQLite.
  q(t.db, 'UPDATE mimei SET seq = seq + 1, bytes = max(bytes + ?, 0) WHERE id = ?').run(delta, t.m)
  return (q(t.db, 'SELECT seq FROM mimei WHERE id = ?').get(t.m) as { seq: number }).seq
}

/** Marks `key` (of `type`) as changed at a new sequence number; `delta` is the change in stored bytes. */
export function touch(t: DbTarget, key: string, type: KeyTypeName, value: Uint8Array | null = null, delta = 0): number {
  const seq = nextSeq(t, delta)
  // Most writes change a key that exists: one UPDATE. A new key is inserted, and only a new key
  // can have a tombstone to clear (dropKey removes the row when it writes one).
  if (q(t.db, 'UPDATE kv SET value = ?, seq = ? WHERE m = ? AND key = ?').run(value, seq, t.m, key).changes === 0) {
    q(t.db, 'INSERT INTO kv (m, key, type, value, seq) VALUES (?, ?, ?, ?, ?)').run(t.m, key, KeyType[type], value, seq)
    q(t.db, 'DELETE FROM kv_deleted WHERE m = ? AND key = ?').run(t.m, key)
  }
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
/** Sizes in bytes: SQLite's length() of TEXT counts characters, of a BLOB bytes (UTF-8 here). */
const SIZE_EXPR: Record<KeyTypeName, string> = {
  string: 'length(value) + length(CAST(key AS BLOB))',
  hash: 'length(CAST(field AS BLOB)) + length(value)',
  list: 'length(value)',
  set: 'length(member)',
  zset: 'length(member) + 8',
}

/** Bytes a key holds, as counted against quotas: keys, fields and encoded values. */
export function storedBytes(t: DbTarget, key: string, type: KeyTypeName): number {
  const row = q(t.db, `SELECT coalesce(sum(${SIZE_EXPR[type]}), 0) AS n FROM ${TABLE_OF[type]} WHERE m = ? AND key = ?`).get(t.m, key) as { n: number }
  return row.n
}

/** Bytes the whole database holds, counted as storedBytes does (to recount after a restore). */
export function totalBytes(t: DbTarget): number {
  let n = 0
  for (const type of Object.keys(TABLE_OF) as KeyTypeName[]) {
    // In kv, only string keys hold a value; the others' NULL values drop out of the sum.
    n += (q(t.db, `SELECT coalesce(sum(${SIZE_EXPR[type]}), 0) AS n FROM ${TABLE_OF[type]} WHERE m = ?`).get(t.m) as { n: number }).n
  }
  return n
}

/**
 * Removes members of a set or sorted set; `overhead` is what each member row counts beyond its
 * encoding (a sorted set's score). Returns how many were there.
 */
export function removeMembers(t: DbTarget, key: string, type: 'set' | 'zset', members: unknown[], overhead: number): number {
  if (!expectType(t, key, type)) return 0
  const table = type === 'set' ? 'kv_set' : 'kv_zset'
  const del = q(t.db, `DELETE FROM ${table} WHERE m = ? AND key = ? AND member = ?`)
  let n = 0
  let freed = 0
  for (const v of members) {
    const bytes = encodeValue(v)
    if (del.run(t.m, key, bytes).changes) {
      n++
      freed += bytes.length + overhead
    }
  }
  if (n) {
    touch(t, key, type, null, -freed)
    dropIfEmpty(t, key, table)
  }
  return n
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

/** UTF-8 size of a key or field name, as SIZE_EXPR counts it. */
export const textBytes = (s: string): number => Buffer.byteLength(s, 'utf8')

/** Rows a Scan/Hscan returns: a negative count is a mistake, not "none"; past 10000 it is capped. */
export function scanLimit(count: unknown): number {
  const n = toInt(count, 'count')
  if (n < 0) throw new InvalidParams(`count must be 0 or more, not ${n} (at most 10000 are returned)`)
  return Math.min(n, 10_000)
}

export const toInt = (v: unknown, what: string): number => {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v)
  throw new InvalidParams(`${what} is not an integer`)
}
