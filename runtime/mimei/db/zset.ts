// Sorted-set keys: members (any value) with numeric scores, ordered by score then member.
import { InvalidParams } from '../../errors.ts'
import { decodeValue, dropIfEmpty, dropKey, encodeValue, expectType, q, removeMembers, touch, type DbTarget } from './core.ts'

export interface ScorePair {
  score: number
  member: unknown
}

/** Pairs as Leither's ScorePair {Score, Member} (any case), or [score, member] lists. */
export function scorePairs(pairs: unknown[]): ScorePair[] {
  return pairs.map((p, i) => {
    let score: unknown
    let member: unknown
    if (Array.isArray(p) && p.length === 2) [score, member] = p
    // Only maps are read field by field: bytes and dates are no pair (and bytes have a key per byte).
    else if (p && typeof p === 'object' && !ArrayBuffer.isView(p) && !(p instanceof Date)) {
      for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
        if (k.toLowerCase() === 'score') score = v
        if (k.toLowerCase() === 'member') member = v
      }
    }
    if (typeof score === 'bigint') score = Number(score)
    if (typeof score !== 'number' || Number.isNaN(score) || member === undefined) {
      throw new InvalidParams(`pair ${i + 1} must be {score, member} or [score, member] with a numeric score`)
    }
    return { score: score as number, member }
  })
}

const asPairs = (rows: { member: Uint8Array; score: number }[]): ScorePair[] => rows.map((r) => ({ member: decodeValue(r.member), score: r.score }))

export function zadd(t: DbTarget, key: string, pairs: unknown[]): number {
  expectType(t, key, 'zset')
  const list = scorePairs(pairs)
  if (!list.length) throw new InvalidParams('Zadd needs at least one {score, member}')
  // An existing member takes one UPDATE; only a new one is inserted.
  const update = q(t.db, 'UPDATE kv_zset SET score = ? WHERE m = ? AND key = ? AND member = ?')
  const insert = q(t.db, 'INSERT INTO kv_zset (m, key, member, score) VALUES (?, ?, ?, ?)')
  let added = 0
  let delta = 0
  for (const p of list) {
    const b = encodeValue(p.member)
    if (update.run(p.score, t.m, key, b).changes === 0) {
      insert.run(t.m, key, b, p.score)
      added++
      delta += b.length + 8
    }
  }
  touch(t, key, 'zset', null, delta)
  return added
}

export function zcard(t: DbTarget, key: string): number {
  if (!expectType(t, key, 'zset')) return 0
  return (q(t.db, 'SELECT count(*) AS n FROM kv_zset WHERE m = ? AND key = ?').get(t.m, key) as { n: number }).n
}

export function zcount(t: DbTarget, key: string, min: number, max: number): number {
  if (!expectType(t, key, 'zset')) return 0
  return (q(t.db, 'SELECT count(*) AS n FROM kv_zset WHERE m = ? AND key = ? AND score BETWEEN ? AND ?').get(t.m, key, min, max) as { n: number }).n
}

export function zscore(t: DbTarget, key: string, member: unknown): number | null {
  if (!expectType(t, key, 'zset')) return null
  const r = q(t.db, 'SELECT score FROM kv_zset WHERE m = ? AND key = ? AND member = ?').get(t.m, key, encodeValue(member)) as { score: number } | null
  return r ? r.score : null
}

export const zrem = (t: DbTarget, key: string, members: unknown[]) => removeMembers(t, key, 'zset', members, 8)

/** 0-based rank by ascending score, or null. */
export function zrank(t: DbTarget, key: string, member: unknown): number | null {
  const score = zscore(t, key, member)
  if (score === null) return null
  const b = encodeValue(member)
  return (
    q(t.db, 'SELECT count(*) AS n FROM kv_zset WHERE m = ? AND key = ? AND (score < ? OR (score = ? AND member < ?))').get(t.m, key, score, score, b) as {
      n: number
    }
  ).n
}

function range(t: DbTarget, key: string, start: number, stop: number, desc: boolean): ScorePair[] {
  if (!expectType(t, key, 'zset')) return []
  const n = zcard(t, key)
  const from = start < 0 ? Math.max(n + start, 0) : start
  const to = stop < 0 ? n + stop : Math.min(stop, n - 1)
  if (from > to || from >= n) return []
  const order = desc ? 'score DESC, member DESC' : 'score ASC, member ASC'
  return asPairs(q(t.db, `SELECT member, score FROM kv_zset WHERE m = ? AND key = ? ORDER BY ${order} LIMIT ? OFFSET ?`).all(t.m, key, to - from + 1, from) as never)
}

export const zrange = (t: DbTarget, key: string, start: number, stop: number) => range(t, key, start, stop, false)
export const zrevrange = (t: DbTarget, key: string, start: number, stop: number) => range(t, key, start, stop, true)

function byScore(t: DbTarget, key: string, lo: number, hi: number, offset: number | undefined, count: number | undefined, desc: boolean): ScorePair[] {
  if (!expectType(t, key, 'zset')) return []
  const order = desc ? 'score DESC, member DESC' : 'score ASC, member ASC'
  const limit = count === undefined || count < 0 ? -1 : count
  return asPairs(
    q(t.db, `SELECT member, score FROM kv_zset WHERE m = ? AND key = ? AND score BETWEEN ? AND ? ORDER BY ${order} LIMIT ? OFFSET ?`).all(
      t.m,
      key,
      lo,
      hi,
      limit,
      Math.max(offset ?? 0, 0),
    ) as never,
  )
}

export const zrangebyscore = (t: DbTarget, key: string, min: number, max: number, offset?: number, count?: number) =>
  byScore(t, key, min, max, offset, count, false)
/** Note the Redis argument order: max first. */
export const zrevrangebyscore = (t: DbTarget, key: string, max: number, min: number, offset?: number, count?: number) =>
  byScore(t, key, min, max, offset, count, true)

export function zremrangebyscore(t: DbTarget, key: string, min: number, max: number): number {
  if (!expectType(t, key, 'zset')) return 0
  const gone = q(t.db, 'DELETE FROM kv_zset WHERE m = ? AND key = ? AND score BETWEEN ? AND ? RETURNING length(member) + 8 AS n').all(t.m, key, min, max) as {
    n: number
  }[]
  const n = gone.length
  if (n) {
    touch(t, key, 'zset', null, -gone.reduce((a, r) => a + r.n, 0))
    dropIfEmpty(t, key, 'kv_zset')
  }
  return n
}

export function zincrBy(t: DbTarget, key: string, delta: number, member: unknown): number {
  const next = (zscore(t, key, member) ?? 0) + delta
  zadd(t, key, [{ score: next, member }])
  return next
}

export function zclear(t: DbTarget, key: string): number {
  if (!expectType(t, key, 'zset')) return 0
  const n = zcard(t, key)
  dropKey(t, key)
  return n
}
