// Hash keys: fields (strings) to values.
import { InvalidParams } from '../../errors.ts'
import { decodeValue, dropIfEmpty, dropKey, encodeValue, expectType, globOrAll, q, scanLimit, textBytes, touch, type DbTarget } from './core.ts'

/** Writes one field; returns the change in stored bytes and whether the field is new. */
function putField(t: DbTarget, key: string, field: string, value: unknown): { delta: number; added: boolean } {
  const bytes = encodeValue(value)
  const prev = q(t.db, 'SELECT length(value) AS n FROM kv_hash WHERE m = ? AND key = ? AND field = ?').get(t.m, key, field) as { n: number } | null
  q(t.db, 'INSERT INTO kv_hash (m, key, field, value) VALUES (?, ?, ?, ?) ON CONFLICT (m, key, field) DO UPDATE SET value = excluded.value').run(
    t.m,
    key,
    field,
    bytes,
  )
  return prev ? { delta: bytes.length - prev.n, added: false } : { delta: bytes.length + textBytes(field), added: true }
}

export function hset(t: DbTarget, key: string, field: string, value: unknown): number {
  expectType(t, key, 'hash')
  const r = putField(t, key, field, value)
  touch(t, key, 'hash', null, r.delta)
  return r.added ? 1 : 0
}

export function hget(t: DbTarget, key: string, field: string): unknown {
  if (!expectType(t, key, 'hash')) return null
  const row = q(t.db, 'SELECT value FROM kv_hash WHERE m = ? AND key = ? AND field = ?').get(t.m, key, field) as { value: Uint8Array } | null
  return row ? decodeValue(row.value) : null
}

/** Pairs as Leither's FVPair {Field, Value} (any case), [field, value] lists, or one map. */
export function fieldPairs(pairs: unknown[]): [string, unknown][] {
  // Only maps are read field by field: bytes and dates are no pair (and bytes have a key per byte).
  const isMap = (p: unknown) => !!p && typeof p === 'object' && !Array.isArray(p) && !ArrayBuffer.isView(p) && !(p instanceof Date)
  if (pairs.length === 1 && isMap(pairs[0])) {
    const m = pairs[0] as Record<string, unknown>
    const keys = Object.keys(m).map((k) => k.toLowerCase())
    if (!(keys.length === 2 && keys.includes('field') && keys.includes('value'))) {
      return Object.entries(m instanceof Map ? Object.fromEntries(m) : m)
    }
  }
  return pairs.map((p, i) => {
    if (Array.isArray(p) && p.length === 2 && typeof p[0] === 'string') return [p[0], p[1]]
    if (isMap(p)) {
      const e = Object.entries(p as Record<string, unknown>)
      const f = e.find(([k]) => k.toLowerCase() === 'field')
      const v = e.find(([k]) => k.toLowerCase() === 'value')
      if (f && v && typeof f[1] === 'string') return [f[1], v[1]]
    }
    throw new InvalidParams(`pair ${i + 1} must be {field, value} or [field, value]`)
  })
}

export function hmset(t: DbTarget, key: string, pairs: unknown[]): boolean {
  expectType(t, key, 'hash')
  const fields = fieldPairs(pairs)
  if (!fields.length) throw new InvalidParams('Hmset needs at least one field')
  let delta = 0
  for (const [f, v] of fields) delta += putField(t, key, f, v).delta
  touch(t, key, 'hash', null, delta)
  return true
}

export function hmget(t: DbTarget, key: string, fields: string[]): unknown[] {
  return fields.map((f) => hget(t, key, f))
}

export function hgetall(t: DbTarget, key: string): Record<string, unknown> {
  if (!expectType(t, key, 'hash')) return {}
  const out: Record<string, unknown> = {}
  for (const r of q(t.db, 'SELECT field, value FROM kv_hash WHERE m = ? AND key = ? ORDER BY field').all(t.m, key) as { field: string; value: Uint8Array }[]) {
    out[r.field] = decodeValue(r.value)
  }
  return out
}

export function hkeys(t: DbTarget, key: string): string[] {
  if (!expectType(t, key, 'hash')) return []
  return (q(t.db, 'SELECT field FROM kv_hash WHERE m = ? AND key = ? ORDER BY field').all(t.m, key) as { field: string }[]).map((r) => r.field)
}

export function hlen(t: DbTarget, key: string): number {
  if (!expectType(t, key, 'hash')) return 0
  return (q(t.db, 'SELECT count(*) AS n FROM kv_hash WHERE m = ? AND key = ?').get(t.m, key) as { n: number }).n
}

export function hdel(t: DbTarget, key: string, fields: string[]): number {
  if (!expectType(t, key, 'hash')) return 0
  const del = q(t.db, 'DELETE FROM kv_hash WHERE m = ? AND key = ? AND field = ? RETURNING length(CAST(field AS BLOB)) + length(value) AS n')
  let n = 0
  let freed = 0
  for (const f of fields) {
    const r = del.get(t.m, key, f) as { n: number } | null
    if (r) {
      n++
      freed += r.n
    }
  }
  if (n) {
    touch(t, key, 'hash', null, -freed)
    dropIfEmpty(t, key, 'kv_hash')
  }
  return n
}

export function hincrBy(t: DbTarget, key: string, field: string, delta: number): number | bigint {
  const current = hget(t, key, field) ?? 0
  let next: number | bigint
  if (typeof current === 'bigint') next = current + BigInt(delta)
  else if (typeof current === 'number' && Number.isSafeInteger(current)) next = current + delta
  else throw new InvalidParams(`field "${field}" of "${key}" does not hold an integer`)
  if (typeof next === 'number' && !Number.isSafeInteger(next)) next = BigInt(current as number) + BigInt(delta)
  hset(t, key, field, next)
  return next
}

export function hclear(t: DbTarget, key: string): number {
  if (!expectType(t, key, 'hash')) return 0
  const n = hlen(t, key)
  dropKey(t, key)
  return n
}

/** Fields after `begin` (exclusive), in order, matching `match`, at most `count`, with values. */
export function hscan(t: DbTarget, key: string, begin: string, match: string | undefined, count: number): { field: string; value: unknown }[] {
  if (!expectType(t, key, 'hash')) return []
  const limit = scanLimit(count)
  const rows = q(t.db, 'SELECT field, value FROM kv_hash WHERE m = ? AND key = ? AND field > ? AND field GLOB ? ORDER BY field LIMIT ?').all(
    t.m,
    key,
    begin,
    globOrAll(match),
    limit,
  ) as { field: string; value: Uint8Array }[]
  return rows.map((r) => ({ field: r.field, value: decodeValue(r.value) }))
}
