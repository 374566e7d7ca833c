// The db family: Redis-like operations on an opened database MiMei (the handle comes first),
// with Begin/Commit/Rollback transactions that fail with Conflict instead of applying half.
import { InvalidParams } from '../runtime/errors.ts'
import * as hash from '../runtime/mimei/db/hash.ts'
import * as list from '../runtime/mimei/db/list.ts'
import * as set from '../runtime/mimei/db/set.ts'
import * as str from '../runtime/mimei/db/strings.ts'
import * as zset from '../runtime/mimei/db/zset.ts'
import { encodeValue, transact, type DbTarget } from '../runtime/mimei/db/core.ts'
import { begin, commit, enqueue, lastSeq, MAX_TX_SEC, rollback } from '../runtime/mimei/db/tx.ts'
import { MiMeiType } from '../runtime/mimei/index.ts'
import { syscall, type CallContext, type ErrorCode, type ParamSpec, type SyscallRow } from './row.ts'

const HANDLE: ParamSpec = { name: 'handle', type: 'string', doc: 'from MMOpen or MMOpenAppData' }
const KEY: ParamSpec = { name: 'key', type: 'string', doc: 'the key' }
const s = (name: string, doc: string): ParamSpec => ({ name, type: 'string', doc })
const n = (name: string, doc: string): ParamSpec => ({ name, type: 'number', doc })
const i = (name: string, doc: string): ParamSpec => ({ name, type: 'int', doc })
const any = (name: string, doc: string): ParamSpec => ({ name, type: 'any', doc })
const rest = (name: string, doc: string, type: ParamSpec['type'] = 'any'): ParamSpec => ({ name, type, doc, rest: true })
const opt = (p: ParamSpec): ParamSpec => ({ ...p, optional: true })

export { MAX_TX_BYTES, MAX_TX_OPS } from '../runtime/mimei/db/tx.ts'

/** The handle the dispatcher already checked (the row's `handle.read` / `handle.write`). */
function handleOf(ctx: CallContext, id: string) {
  const h = ctx.sys.mimei.handles.get(id)
  if (h.type !== MiMeiType.database) throw new InvalidParams(`MiMei ${h.mid} is not a database; use the file calls`)
  return h
}

/**
 * One row of the family. `write` ops are queued inside a transaction and otherwise run in one
 * SQLite transaction each; `keys` names the keys an op touches, for conflict detection.
 */
function op(
  name: string,
  /** A read, a write, or a write that only removes data ('frees': never refused for space). */
  write: boolean | 'frees',
  params: ParamSpec[],
  /** What comes back: for the docs, and as a TypeScript type (a write may also answer 'QUEUED'). */
  [returns, type]: readonly [doc: string, type: string],
  doc: string,
  run: (t: DbTarget, ...args: any[]) => unknown,
  keys: (args: any[]) => string[] = (a) => [a[0]],
): SyscallRow {
  const errors: ErrorCode[] = write ? ['NotFound', 'InvalidParams', 'PermissionDenied', 'QuotaExceeded'] : ['NotFound', 'InvalidParams']
  return syscall<[string, ...unknown[]]>({
    name,
    sid: false,
    params: [HANDLE, ...params],
    returns: write ? `${returns} ("QUEUED" inside a transaction)` : returns,
    returnsType: write ? `${type} | 'QUEUED'` : type,
    capability: write ? 'handle.write' : 'handle.read',
    handle: 'mimei',
    errors,
    doc,
    handler(ctx, handleId, ...args) {
      const h = handleOf(ctx, handleId)
      const { mimei } = ctx.sys
      if (h.tx) for (const k of keys(args)) h.tx.keys.add(k)
      // Reads run in one read transaction: one WAL read lock for all their statements, not one
      // each. Writes queued for the next group commit come first: a read sees every write sent before it.
      if (!write) {
        if (h.target.db === mimei.db) mimei.writes.flush()
        return transact(h.target.db, () => run(h.target, ...args))
      }
      // The quota is checked when the write is applied, so queued writes are held to it at
      // Commit, each against the size the earlier ones of the transaction left. Writes that only
      // remove data free space: no quota or floor stops them.
      const frees = write === 'frees'
      const apply = (target: DbTarget = h.target) => {
        if (!frees) mimei.chargeWrite(h, () => args.reduce<number>((sum, a) => sum + encodeValue(a).length, 0))
        return run(target, ...args)
      }
      if (h.tx) return enqueue(mimei, h, name, args.reduce<number>((sum, a) => sum + encodeValue(a).length, 0), apply)
      // Answered once the group of writes holding it is committed (runtime/mimei/db/writes.ts).
      // Without quotas to size it against, a write counts its MiMei's sequence number and size in
      // memory with the rest of its group, stored once.
      return mimei.writes.write((counter) => apply(counter ? { ...h.target, counter } : h.target), mimei.quotasApply(h.payer) ? undefined : h.m)
    },
  })
}

const txRows: SyscallRow[] = [
  syscall<[string, number]>({
    name: 'Begin',
    sid: false,
    params: [HANDLE, { name: 'timeoutSec', type: 'int', doc: `seconds before an uncommitted transaction rolls back by itself (1..${MAX_TX_SEC})` }],
    returns: 'true',
    returnsType: 'true',
    capability: 'handle.write',
    handle: 'mimei',
    errors: ['NotFound', 'InvalidParams', 'PermissionDenied'],
    doc: 'Starts a transaction on the handle: later writes are queued (they answer "QUEUED"), reads see committed data, and Commit applies every write at once — or none, with Conflict, if another writer changed any key the transaction touched.',
    handler(ctx, handleId, timeoutSec) {
      const h = handleOf(ctx, handleId)
      begin(ctx.sys.mimei, h, timeoutSec, () => ctx.sys.log.info('transaction rolled back after its timeout', { mid: h.mid, timeoutSec }))
      return true
    },
  }),
  syscall<[string]>({
    name: 'Commit',
    sid: false,
    params: [HANDLE],
    returns: 'list of the queued writes\u2019 results',
    returnsType: 'unknown[]',
    capability: 'handle.write',
    handle: 'mimei',
    errors: ['NotFound', 'InvalidParams', 'Conflict', 'QuotaExceeded'],
    doc: 'Applies the queued writes atomically. Fails with Conflict (nothing applied) when a key the transaction read or wrote was changed by someone else since Begin.',
    handler(ctx, handleId) {
      return commit(ctx.sys.mimei, handleOf(ctx, handleId))
    },
  }),
  syscall<[string]>({
    name: 'Rollback',
    sid: false,
    params: [HANDLE],
    returns: 'true',
    returnsType: 'true',
    capability: 'handle.write',
    handle: 'mimei',
    errors: ['NotFound', 'InvalidParams'],
    doc: 'Drops the queued writes of the open transaction.',
    handler(ctx, handleId) {
      rollback(ctx.sys.mimei, handleOf(ctx, handleId))
      return true
    },
  }),
  syscall<[string]>({
    name: 'GetLastSeq',
    sid: false,
    params: [HANDLE],
    returns: 'integer',
    returnsType: 'number',
    capability: 'handle.read',
    handle: 'mimei',
    errors: ['NotFound'],
    doc: 'The sequence number of the last write to this database (every write takes the next one).',
    handler(ctx, handleId) {
      const h = handleOf(ctx, handleId)
      if (h.target.db === ctx.sys.mimei.db) ctx.sys.mimei.writes.flush()
      return lastSeq(h.target)
    },
  }),
]

const all = (a: string[]) => a
export const DB_SYSCALLS: SyscallRow[] = [
  ...txRows,
  // strings
  op('Set', true, [KEY, any('value', 'any value')], ['true', 'true'], 'Stores a value under a key.', str.set),
  op('Get', false, [KEY], ['the value or null', 'unknown'], 'Reads a value.', str.get),
  op('Del', 'frees', [rest('keys', 'keys of any type', 'string')], ['number deleted', 'number'], 'Deletes keys of any type.', (t, ...keys: string[]) => str.del(t, keys), all),
  op('Incr', true, [KEY], ['the new value', 'number | bigint'], 'Adds 1 to an integer value (missing = 0).', (t, k) => str.incrBy(t, k, 1)),
  op('IncrBy', true, [KEY, i('delta', 'amount to add')], ['the new value', 'number | bigint'], 'Adds delta to an integer value.', str.incrBy),
  op('Scan', false, [s('begin', 'start after this key ("" = from the first)'), opt(s('match', 'glob: * ? [abc]')), i('count', 'most keys to return (≤ 10000)')], ['list of keys', 'string[]'], 'Lists keys in order.', str.scan, () => []),
  // hashes
  op('Hset', true, [KEY, s('field', 'field name'), any('value', 'any value')], ['1 if the field is new, else 0', '0 | 1'], 'Sets one field.', hash.hset),
  op('Hget', false, [KEY, s('field', 'field name')], ['the value or null', 'unknown'], 'Reads one field.', hash.hget),
  op('Hmset', true, [KEY, rest('pairs', '{field, value} pairs, [field, value] lists, or one map')], ['true', 'true'], 'Sets several fields.', (t, k, ...p) => hash.hmset(t, k, p)),
  op('Hmget', false, [KEY, rest('fields', 'field names', 'string')], ['list of values (null where missing)', 'unknown[]'], 'Reads several fields.', (t, k, ...f) => hash.hmget(t, k, f)),
  op('Hgetall', false, [KEY], ['map of field → value', 'Record<string, unknown>'], 'Reads the whole hash.', hash.hgetall),
  op('Hkeys', false, [KEY], ['list of fields', 'string[]'], 'Lists the fields.', hash.hkeys),
  op('Hlen', false, [KEY], ['number of fields', 'number'], 'Counts the fields.', hash.hlen),
  op('Hdel', 'frees', [KEY, rest('fields', 'field names', 'string')], ['number deleted', 'number'], 'Deletes fields.', (t, k, ...f) => hash.hdel(t, k, f)),
  op('HincrBy', true, [KEY, s('field', 'field name'), i('delta', 'amount to add')], ['the new value', 'number | bigint'], 'Adds to an integer field.', hash.hincrBy),
  op('Hclear', 'frees', [KEY], ['number of fields deleted', 'number'], 'Deletes the hash.', hash.hclear),
  op('Hscan', false, [KEY, s('begin', 'start after this field'), opt(s('match', 'glob')), i('count', 'most fields (≤ 10000)')], ['list of {field, value}', '{ field: string; value: unknown }[]'], 'Lists fields in order.', hash.hscan),
  // lists
  op('Lpush', true, [KEY, rest('values', 'values to add at the head')], ['new length', 'number'], 'Adds values at the head.', (t, k, ...v) => list.lpush(t, k, v)),
  op('Rpush', true, [KEY, rest('values', 'values to add at the tail')], ['new length', 'number'], 'Adds values at the tail.', (t, k, ...v) => list.rpush(t, k, v)),
  op('Lpop', 'frees', [KEY], ['the value or null', 'unknown'], 'Removes the head.', list.lpop),
  op('Rpop', 'frees', [KEY], ['the value or null', 'unknown'], 'Removes the tail.', list.rpop),
  op('Lrange', false, [KEY, i('start', 'first index (negative = from the end)'), i('stop', 'last index, inclusive')], ['list of values', 'unknown[]'], 'Reads a range.', list.lrange),
  op('Lindex', false, [KEY, i('index', 'index (negative = from the end)')], ['the value or null', 'unknown'], 'Reads one element.', list.lindex),
  op('Llen', false, [KEY], ['length', 'number'], 'Counts the elements.', list.llen),
  op('Lset', true, [KEY, i('index', 'index (negative = from the end)'), any('value', 'any value')], ['true', 'true'], 'Replaces one element.', list.lset),
  op('Lclear', 'frees', [KEY], ['number of elements deleted', 'number'], 'Deletes the list.', list.lclear),
  // sets
  op('Sadd', true, [KEY, rest('members', 'members to add')], ['number added', 'number'], 'Adds members.', (t, k, ...m) => set.sadd(t, k, m)),
  op('Srem', 'frees', [KEY, rest('members', 'members to remove')], ['number removed', 'number'], 'Removes members.', (t, k, ...m) => set.srem(t, k, m)),
  op('Smembers', false, [KEY], ['list of members', 'unknown[]'], 'Lists the members.', set.smembers),
  op('Scard', false, [KEY], ['number of members', 'number'], 'Counts the members.', set.scard),
  op('Sdiff', false, [rest('keys', 'set keys', 'string')], ['list of members', 'unknown[]'], 'Members of the first set not in the others.', (t, ...k: string[]) => set.sdiff(t, k), all),
  op('Sinter', false, [rest('keys', 'set keys', 'string')], ['list of members', 'unknown[]'], 'Members in every set.', (t, ...k: string[]) => set.sinter(t, k), all),
  op('Sunion', false, [rest('keys', 'set keys', 'string')], ['list of members', 'unknown[]'], 'Members in any set.', (t, ...k: string[]) => set.sunion(t, k), all),
  op('Sclear', 'frees', [KEY], ['number of members deleted', 'number'], 'Deletes the set.', set.sclear),
  // sorted sets
  op('Zadd', true, [KEY, rest('pairs', '{score, member} pairs or [score, member] lists')], ['number of new members', 'number'], 'Adds members with scores (updates the score of existing ones).', (t, k, ...p) => zset.zadd(t, k, p)),
  op('Zcard', false, [KEY], ['number of members', 'number'], 'Counts the members.', zset.zcard),
  op('Zcount', false, [KEY, n('min', 'lowest score'), n('max', 'highest score')], ['number of members', 'number'], 'Counts members with min ≤ score ≤ max.', zset.zcount),
  op('Zrem', 'frees', [KEY, rest('members', 'members to remove')], ['number removed', 'number'], 'Removes members.', (t, k, ...m) => zset.zrem(t, k, m)),
  op('Zscore', false, [KEY, any('member', 'the member')], ['score or null', 'number | null'], "Reads a member's score.", zset.zscore),
  op('Zrank', false, [KEY, any('member', 'the member')], ['0-based rank or null', 'number | null'], 'Rank by ascending score.', zset.zrank),
  op('Zrange', false, [KEY, i('start', 'first rank'), i('stop', 'last rank, inclusive')], ['list of {member, score}', 'ScoredMember[]'], 'Members by ascending score.', zset.zrange),
  op('Zrevrange', false, [KEY, i('start', 'first rank'), i('stop', 'last rank, inclusive')], ['list of {member, score}', 'ScoredMember[]'], 'Members by descending score.', zset.zrevrange),
  op('Zrangebyscore', false, [KEY, n('min', 'lowest score'), n('max', 'highest score'), opt(i('offset', 'members to skip')), opt(i('count', 'most members'))], ['list of {member, score}', 'ScoredMember[]'], 'Members with min ≤ score ≤ max, ascending.', zset.zrangebyscore),
  op('Zrevrangebyscore', false, [KEY, n('max', 'highest score'), n('min', 'lowest score'), opt(i('offset', 'members to skip')), opt(i('count', 'most members'))], ['list of {member, score}', 'ScoredMember[]'], 'Members with min ≤ score ≤ max, descending.', zset.zrevrangebyscore),
  op('Zremrangebyscore', 'frees', [KEY, n('min', 'lowest score'), n('max', 'highest score')], ['number removed', 'number'], 'Removes members with min ≤ score ≤ max.', zset.zremrangebyscore),
  op('ZincrBy', true, [KEY, n('delta', 'amount to add'), any('member', 'the member')], ['the new score', 'number'], "Adds to a member's score.", zset.zincrBy),
  op('Zclear', 'frees', [KEY], ['number of members deleted', 'number'], 'Deletes the sorted set.', zset.zclear),
]
