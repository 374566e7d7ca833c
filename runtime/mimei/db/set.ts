// Set keys: unordered unique members (any value, compared by their encoding).
import { decodeValue, dropKey, encodeValue, expectType, q, removeMembers, touch, type DbTarget } from './core.ts'
import { InvalidParams } from '../../errors.ts'

export function sadd(t: DbTarget, key: string, members: unknown[]): number {
  expectType(t, key, 'set')
  if (!members.length) throw new InvalidParams('Sadd needs at least one member')
  const ins = q(t.db, 'INSERT OR IGNORE INTO kv_set (m, key, member) VALUES (?, ?, ?)')
  let n = 0
  let delta = 0
  for (const v of members) {
    const bytes = encodeValue(v)
    if (ins.run(t.m, key, bytes).changes) {
      n++
      delta += bytes.length
    }
  }
  touch(t, key, 'set', null, delta)
  return n
}

export const srem = (t: DbTarget, key: string, members: unknown[]) => removeMembers(t, key, 'set', members, 0)

function memberBytes(t: DbTarget, key: string): Uint8Array[] {
  if (!expectType(t, key, 'set')) return []
  return (q(t.db, 'SELECT member FROM kv_set WHERE m = ? AND key = ? ORDER BY member').all(t.m, key) as { member: Uint8Array }[]).map((r) => r.member)
}

export const smembers = (t: DbTarget, key: string) => memberBytes(t, key).map(decodeValue)

export function scard(t: DbTarget, key: string): number {
  if (!expectType(t, key, 'set')) return 0
  return (q(t.db, 'SELECT count(*) AS n FROM kv_set WHERE m = ? AND key = ?').get(t.m, key) as { n: number }).n
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function combine(t: DbTarget, keys: string[], op: 'diff' | 'inter' | 'union'): unknown[] {
  if (!keys.length) throw new InvalidParams('at least one key is needed')
  const sets = keys.map((k) => new Map(memberBytes(t, k).map((b) => [hex(b), b])))
  let acc = sets[0]
  for (const s of sets.slice(1)) {
    if (op === 'union') acc = new Map([...acc, ...s])
    else acc = new Map([...acc].filter(([h]) => (op === 'inter' ? s.has(h) : !s.has(h))))
  }
  return [...acc.values()].map(decodeValue)
}

export const sdiff = (t: DbTarget, keys: string[]) => combine(t, keys, 'diff')
export const sinter = (t: DbTarget, keys: string[]) => combine(t, keys, 'inter')
export const sunion = (t: DbTarget, keys: string[]) => combine(t, keys, 'union')

export function sclear(t: DbTarget, key: string): number {
  if (!expectType(t, key, 'set')) return 0
  const n = scard(t, key)
  dropKey(t, key)
  return n
}
