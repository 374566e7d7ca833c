// List keys: values at integer positions; pushing left takes min-1, pushing right max+1.
import { InvalidParams } from '../../errors.ts'
import { decodeValue, dropIfEmpty, dropKey, encodeValue, expectType, q, touch, type DbTarget } from './core.ts'

function bounds(t: DbTarget, key: string): { lo: number | null; hi: number | null; n: number } {
  return q(t.db, 'SELECT min(pos) AS lo, max(pos) AS hi, count(*) AS n FROM kv_list WHERE m = ? AND key = ?').get(t.m, key) as {
    lo: number | null
    hi: number | null
    n: number
  }
}

function push(t: DbTarget, key: string, values: unknown[], left: boolean): number {
  expectType(t, key, 'list')
  if (!values.length) throw new InvalidParams('push needs at least one value')
  const b = bounds(t, key)
  const ins = q(t.db, 'INSERT INTO kv_list (m, key, pos, value) VALUES (?, ?, ?, ?)')
  let pos = left ? (b.lo ?? 1) : (b.hi ?? -1)
  let delta = 0
  for (const v of values) {
    const bytes = encodeValue(v)
    delta += bytes.length
    ins.run(t.m, key, left ? --pos : ++pos, bytes)
  }
  touch(t, key, 'list', null, delta)
  return b.n + values.length
}

export const lpush = (t: DbTarget, key: string, values: unknown[]) => push(t, key, values, true)
export const rpush = (t: DbTarget, key: string, values: unknown[]) => push(t, key, values, false)

function pop(t: DbTarget, key: string, left: boolean): unknown {
  if (!expectType(t, key, 'list')) return null
  const row = q(t.db, `SELECT pos, value FROM kv_list WHERE m = ? AND key = ? ORDER BY pos ${left ? 'ASC' : 'DESC'} LIMIT 1`).get(t.m, key) as {
    pos: number
    value: Uint8Array
  } | null
  if (!row) return null
  q(t.db, 'DELETE FROM kv_list WHERE m = ? AND key = ? AND pos = ?').run(t.m, key, row.pos)
  touch(t, key, 'list', null, -row.value.length)
  dropIfEmpty(t, key, 'kv_list')
  return decodeValue(row.value)
}

export const lpop = (t: DbTarget, key: string) => pop(t, key, true)
export const rpop = (t: DbTarget, key: string) => pop(t, key, false)

export function llen(t: DbTarget, key: string): number {
  return expectType(t, key, 'list') ? bounds(t, key).n : 0
}

/** Redis index rules: negative counts from the end; out of range gives null. */
function positionAt(t: DbTarget, key: string, index: number): number | null {
  const desc = index < 0
  const row = q(t.db, `SELECT pos FROM kv_list WHERE m = ? AND key = ? ORDER BY pos ${desc ? 'DESC' : 'ASC'} LIMIT 1 OFFSET ?`).get(
    t.m,
    key,
    desc ? -index - 1 : index,
  ) as { pos: number } | null
  return row ? row.pos : null
}

export function lindex(t: DbTarget, key: string, index: number): unknown {
  if (!expectType(t, key, 'list')) return null
  const pos = positionAt(t, key, index)
  if (pos === null) return null
  const row = q(t.db, 'SELECT value FROM kv_list WHERE m = ? AND key = ? AND pos = ?').get(t.m, key, pos) as { value: Uint8Array }
  return decodeValue(row.value)
}

export function lrange(t: DbTarget, key: string, start: number, stop: number): unknown[] {
  if (!expectType(t, key, 'list')) return []
  const n = bounds(t, key).n
  const from = start < 0 ? Math.max(n + start, 0) : start
  const to = stop < 0 ? n + stop : Math.min(stop, n - 1)
  if (from > to || from >= n) return []
  const rows = q(t.db, 'SELECT value FROM kv_list WHERE m = ? AND key = ? ORDER BY pos LIMIT ? OFFSET ?').all(t.m, key, to - from + 1, from) as {
    value: Uint8Array
  }[]
  return rows.map((r) => decodeValue(r.value))
}

export function lset(t: DbTarget, key: string, index: number, value: unknown): boolean {
  if (!expectType(t, key, 'list')) throw new InvalidParams(`no list "${key}"`)
  const pos = positionAt(t, key, index)
  if (pos === null) throw new InvalidParams(`index ${index} is out of range for list "${key}"`)
  const bytes = encodeValue(value)
  const prev = q(t.db, 'SELECT length(value) AS n FROM kv_list WHERE m = ? AND key = ? AND pos = ?').get(t.m, key, pos) as { n: number }
  q(t.db, 'UPDATE kv_list SET value = ? WHERE m = ? AND key = ? AND pos = ?').run(bytes, t.m, key, pos)
  touch(t, key, 'list', null, bytes.length - prev.n)
  return true
}

export function lclear(t: DbTarget, key: string): number {
  if (!expectType(t, key, 'list')) return 0
  const n = llen(t, key)
  dropKey(t, key)
  return n
}
