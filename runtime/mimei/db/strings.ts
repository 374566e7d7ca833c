// String keys (any value under a key), key deletion and scanning.
import { InvalidParams } from '../../errors.ts'
import { decodeValue, dropKey, encodeValue, expectType, globOrAll, q, scanLimit, textBytes, touch, type DbTarget } from './core.ts'

export function set(t: DbTarget, key: string, value: unknown): boolean {
  expectType(t, key, 'string')
  const bytes = encodeValue(value)
  const prev = q(t.db, 'SELECT length(value) + length(CAST(key AS BLOB)) AS n FROM kv WHERE m = ? AND key = ?').get(t.m, key) as { n: number } | null
  touch(t, key, 'string', bytes, bytes.length + textBytes(key) - (prev?.n ?? 0))
  return true
}

export function get(t: DbTarget, key: string): unknown {
  if (!expectType(t, key, 'string')) return null
  const row = q(t.db, 'SELECT value FROM kv WHERE m = ? AND key = ?').get(t.m, key) as { value: Uint8Array }
  return decodeValue(row.value)
}

export function del(t: DbTarget, keys: string[]): number {
  let n = 0
  for (const k of keys) if (dropKey(t, k)) n++
  return n
}

export function incrBy(t: DbTarget, key: string, delta: number): number | bigint {
  const current = get(t, key) ?? 0
  let next: number | bigint
  if (typeof current === 'bigint') next = current + BigInt(delta)
  else if (typeof current === 'number' && Number.isSafeInteger(current)) next = current + delta
  else throw new InvalidParams(`key "${key}" does not hold an integer`)
  // Past 2^53 a number would round: keep counting exactly as BigInt.
  if (typeof next === 'number' && !Number.isSafeInteger(next)) next = BigInt(current as number) + BigInt(delta)
  set(t, key, next)
  return next
}

/** Keys after `begin` (exclusive), in order, matching `match`, at most `count`. */
export function scan(t: DbTarget, begin: string, match: string | undefined, count: number): string[] {
  const limit = scanLimit(count)
  return (q(t.db, 'SELECT key FROM kv WHERE m = ? AND key > ? AND key GLOB ? ORDER BY key LIMIT ?').all(t.m, begin, globOrAll(match), limit) as { key: string }[]).map(
    (r) => r.key,
  )
}
