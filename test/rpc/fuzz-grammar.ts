// Grammar-aware fuzz inputs: well-encoded Hprose calls of the node's real syscalls with hostile arguments, and a whole-reply check.
//
// Shared by test/rpc/fuzz.test.ts and bench/fuzz-rpc.ts. Names and parameters come from the
// syscall tables (syscalls/index.ts), so every new syscall is fuzzed without a change here. Each
// argument is, by chance, of the declared type with hostile content (empty, huge, boundary
// numbers, path tricks), of a wrong type, or a hostile structure (nesting near the codec's
// limit, cycles, shared references); a few carry a reference to nothing or a length that lies,
// inside an otherwise valid call. Real session ids, MiMei ids and handles from a Pool let calls
// get past the session and handle checks into the handlers.
import { DEFAULT_MAX_DEPTH, encode, Guid, Reader, Tag, withClassName } from '../../runtime/rpc/codec/index.ts'
import type { ParamSpec, ParamType, SyscallRow } from '../../syscalls/row.ts'
import { SYSCALL_TABLES } from '../../syscalls/index.ts'
import type { Kernel } from '../../runtime/boot.ts'
import { generateKeyPair, keyId, type KeyPair } from '../../runtime/identity/index.ts'
import { loginPassport, ownerKey } from '../helpers/kernel.ts'

export type Rand = () => number

/** Small seeded PRNG (mulberry32), so a failing run can be replayed from its seed. */
export function prng(seed: number): Rand {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Real values from the node under test; refreshed by the caller now and then (calls may log out or close them). */
export interface Pool {
  sids: string[]
  mids: string[]
  handles: string[]
  fsids: string[]
  users: string[]
  passports: string[]
}

export const ROWS: readonly SyscallRow[] = SYSCALL_TABLES.flat()

// ---- raw pieces spliced into an encoded call: a sentinel string in the value, replaced after encoding ----
const SENTINEL = '\u00a7fuzz-raw\u00a7'
const RAW_PIECES = [
  'r999999;', // a reference to nothing
  'r4294967296;',
  's999999999"ab"', // a string that claims more than it has
  'b2147483647"x"',
  'a999999999{1}',
  'm999999{}',
  'o9{}', // an object of a class never defined
]

const te = new TextEncoder()
const int = (rnd: Rand, n: number) => Math.floor(rnd() * n)
const pick = <T>(rnd: Rand, xs: readonly T[]): T => xs[int(rnd, xs.length)]!

function nested(rnd: Rand, depth: number): unknown {
  const kind = int(rnd, 3)
  let v: unknown = 'leaf'
  for (let i = 0; i < depth; i++) v = kind === 0 ? [v] : kind === 1 ? { k: v } : new Map<unknown, unknown>([[i, v]])
  return v
}

function cyclic(rnd: Rand): unknown {
  if (rnd() < 0.5) {
    const list: unknown[] = [1]
    list.push(list, { back: list })
    return list
  }
  const map: Record<string, unknown> = { name: 'loop' }
  map.self = map
  map.list = [map, map]
  return map
}

const STRINGS = [
  '', ' ', '\u0000', '..', '../../../etc/passwd', '/', '//a//b/', 'a/'.repeat(300), '{{auto}}', '%s%n', 'null', '__proto__', 'constructor',
  'é😀', '\u202e', 'x'.repeat(1000), 'AAAAAAAAAAAAAAAAAAAAAAAAAAA', '-1', '1e999', '*', '[', '\\',
]

/**
 * Values of a megabyte or a hundred thousand elements: at most one per request (the budget is
 * reset by grammarRequest), so requests stay under the node's 16 MiB body limit and a run of
 * thousands stays quick.
 */
let heavyLeft = 0
function heavy(rnd: Rand): unknown | undefined {
  if (heavyLeft <= 0 || rnd() > 0.08) return undefined
  heavyLeft--
  return pick(rnd, [
    () => 'x'.repeat(1 << 20),
    () => 'a/'.repeat(200_000),
    () => new Uint8Array(4 << 20).fill(7),
    () => Array.from({ length: 100_000 }, (_, i) => i),
    () => Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])),
    () => Array.from({ length: 2000 }, (_, i) => `member${i}`),
  ])()
}
const INTS = [0, -1, 1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e15, 86400 * 365 * 1000]
const NUMBERS = [NaN, Infinity, -Infinity, -0, 1e308, -1e308, 5e-324, 0.1, ...INTS]

/** A value of `type` whose content is hostile (empty, huge, at a boundary). */
function hostileOfType(rnd: Rand, type: ParamType): unknown {
  const big = type === 'string' || type === 'data' || type === 'bytes' || type === 'list' || type === 'map' || type === 'any' ? heavy(rnd) : undefined
  if (big !== undefined && (type !== 'string' || typeof big === 'string')) return big
  switch (type) {
    case 'string':
      return pick(rnd, STRINGS)
    case 'int':
      return rnd() < 0.15 ? BigInt(pick(rnd, INTS)) : pick(rnd, INTS)
    case 'number':
      return rnd() < 0.1 ? 2n ** 80n : pick(rnd, NUMBERS)
    case 'bool':
      return rnd() < 0.5
    case 'bytes':
    case 'data':
      return rnd() < 0.3 ? pick(rnd, STRINGS) : new Uint8Array(pick(rnd, [0, 1, 64, 4096])).fill(int(rnd, 256))
    case 'map':
      return pick(rnd, [
        () => ({}),
        () => ({ to: '', body: '', app: '', __proto__: { polluted: true } }),
        () => new Map<unknown, unknown>([['__proto__', { polluted: true }], ['constructor', 1]]),
        () => new Map<unknown, unknown>([[1, 'one'], [true, 'two']]),
        () => ({ version: 2n ** 70n, timeoutSec: -1, count: Infinity, when: new Date(Date.UTC(9999, 11, 31, 23, 59, 59)) }),
        () => cyclic(rnd),
      ])()
    case 'list':
      return pick(rnd, [() => [], () => [[]], () => cyclic(rnd)])()
    case 'any':
      return anyValue(rnd)
  }
}

/** Any value at all, hostile or not. */
function anyValue(rnd: Rand): unknown {
  const r = rnd()
  if (r < 0.1) return nested(rnd, pick(rnd, [10, 200, DEFAULT_MAX_DEPTH - 4, DEFAULT_MAX_DEPTH - 2, DEFAULT_MAX_DEPTH + 5]))
  if (r < 0.2) return cyclic(rnd)
  if (r < 0.25) return SENTINEL
  return hostileOfType(rnd, pick(rnd, ['string', 'int', 'number', 'bool', 'bytes', 'map', 'list'] as const))
}

/** A value that is not of `type` (where a wrong type exists). */
function wrongType(rnd: Rand, type: ParamType): unknown {
  const others = [
    'a string', 7, 2.5, 2n ** 64n, true, null, new Uint8Array([1, 2]), new Date(0), new Guid('AFA7F4B1-A64D-46FA-886F-ED7FBCE569B6'),
    ['list'], { map: 1 }, withClassName({ name: 'Tom' }, 'Person'), new Error('as value'),
  ]
  for (let i = 0; i < 8; i++) {
    const v = pick(rnd, others)
    const fits =
      (type === 'string' && typeof v === 'string') || (type === 'int' && typeof v === 'number' && Number.isInteger(v)) ||
      (type === 'number' && typeof v === 'number') || (type === 'bool' && typeof v === 'boolean') || type === 'any'
    if (!fits) return v
  }
  return null
}

/** A real value for a parameter whose name says what it holds, or a near miss of one. */
function fromPool(rnd: Rand, name: string, pool: Pool): unknown {
  const key = name.toLowerCase()
  const source =
    key === 'mid' ? pool.mids : key.endsWith('handle') ? pool.handles : key === 'fsid' ? pool.fsids : key === 'member' || key === 'userid' ? pool.users : key === 'ppt' ? pool.passports : undefined
  if (!source?.length) return undefined
  const real = pick(rnd, source)
  if (rnd() < 0.8) return real
  // A near miss: one character changed, cut short, or doubled.
  return pick(rnd, [real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A'), real.slice(0, 5), real + real])
}

/**
 * Calls that wait by design (a long poll): mostly no wait, one in twenty a second, and out-of-range
 * values; else one call in a few hundred would hold a sequential run for up to a minute.
 */
const WAITS: Record<string, string> = { PullMsg: 'timeoutSec' }

function argFor(rnd: Rand, p: ParamSpec, pool: Pool, row: SyscallRow): unknown {
  if (WAITS[row.name] === p.name) return rnd() < 0.05 ? 1 : pick(rnd, [0, -1, 2 ** 31, 'x'])
  const real = rnd() < 0.6 ? fromPool(rnd, p.name, pool) : undefined
  if (real !== undefined) return real
  const r = rnd()
  if (r < 0.55) return hostileOfType(rnd, p.type)
  if (r < 0.8) return wrongType(rnd, p.type)
  return anyValue(rnd)
}

function sidFor(rnd: Rand, pool: Pool): unknown {
  const r = rnd()
  if (r < 0.6 && pool.sids.length) return pick(rnd, pool.sids)
  if (r < 0.75) return ''
  if (r < 0.85) return 'not-a-session-' + int(rnd, 1000)
  return wrongType(rnd, 'string')
}

/** The arguments of one call of `row`: usually its exact shape; sometimes too few, too many, or many rest values. */
function argsFor(rnd: Rand, row: SyscallRow, pool: Pool): unknown[] {
  const args: unknown[] = row.sid ? [sidFor(rnd, pool)] : []
  for (const p of row.params) {
    if (p.rest) {
      const n = rnd() < 0.03 ? 1000 : int(rnd, 5)
      for (let i = 0; i < n; i++) args.push(argFor(rnd, p, pool, row))
    } else if (!(p.optional && rnd() < 0.3) || WAITS[row.name] === p.name) args.push(argFor(rnd, p, pool, row))
  }
  const r = rnd()
  if (r < 0.05 && !WAITS[row.name]) args.length = int(rnd, args.length + 1)
  else if (r < 0.1) args.push(anyValue(rnd), anyValue(rnd))
  return args
}

function cat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Replaces each encoded sentinel string with one of the raw pieces. */
function spliceRaw(rnd: Rand, bytes: Uint8Array): Uint8Array {
  const marker = encode(SENTINEL)
  const parts: Uint8Array[] = []
  let from = 0
  for (let at = indexOf(bytes, marker, 0); at >= 0; at = indexOf(bytes, marker, from)) {
    parts.push(bytes.subarray(from, at), te.encode(pick(rnd, RAW_PIECES)))
    from = at + marker.length
  }
  if (!parts.length) return bytes
  parts.push(bytes.subarray(from))
  return cat(parts)
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

/** One `C…` call (no `z`): name (sometimes in another case), arguments, sometimes the byref flag. */
function encodeCall(rnd: Rand, row: SyscallRow, pool: Pool): Uint8Array {
  const name = rnd() < 0.1 ? row.name.toLowerCase() : row.name
  const args = argsFor(rnd, row, pool)
  const byref = rnd() < 0.1
  return cat([te.encode('C'), encode(name), spliceRaw(rnd, encode(args)), te.encode(byref ? 't' : '')])
}

export interface GrammarInput {
  body: Uint8Array
  /** Names of the syscalls called, in order. */
  calls: string[]
}

/** A request of one call (sometimes a batch of 2–4, or with a 3.x `H` header) to real syscalls. */
export function grammarRequest(rnd: Rand, pool: Pool): GrammarInput {
  heavyLeft = 1
  const n = rnd() < 0.1 ? 2 + int(rnd, 3) : 1
  const rows = Array.from({ length: n }, () => pick(rnd, ROWS))
  const header = rnd() < 0.05 ? [te.encode('H'), encode(rnd() < 0.5 ? { simple: true } : { k: anyValue(rnd) })] : []
  const body = cat([...header, ...rows.map((row) => encodeCall(rnd, row, pool)), te.encode('z')])
  return { body, calls: rows.map((r) => r.name) }
}

export interface ReplyPart {
  tag: 'R' | 'E' | 'F'
  value: unknown
}

/**
 * Reads a whole reply with the project's codec: an optional `H` map, then `F` list, or one `R`
 * value (with optional `A` list) or `E` string per call, each with its own reference table; then
 * `z` and nothing after it. Throws with the reason for anything else.
 */
export function parseReply(bytes: Uint8Array): ReplyPart[] {
  const reader = new Reader(bytes)
  const parts: ReplyPart[] = []
  if (reader.peekTag() === Tag.Header) {
    reader.readTag()
    const headers = reader.readValue()
    if (!headers || typeof headers !== 'object' || Array.isArray(headers)) throw new Error('the H header is not a map')
    reader.reset()
  }
  for (;;) {
    const at = reader.pos
    const tag = reader.readTag()
    if (tag === Tag.End) break
    if (tag === Tag.Result) {
      parts.push({ tag: 'R', value: reader.readValue() })
      reader.reset()
      if (reader.peekTag() === Tag.Argument) {
        reader.readTag()
        if (!Array.isArray(reader.readValue())) throw new Error('byref arguments (A) are not a list')
        reader.reset()
      }
    } else if (tag === Tag.Error) {
      const text = reader.readValue()
      if (typeof text !== 'string') throw new Error(`an E reply carries ${typeof text}, not a string`)
      parts.push({ tag: 'E', value: text })
      reader.reset()
    } else if (tag === Tag.FunctionList && parts.length === 0) {
      const list = reader.readValue()
      if (!Array.isArray(list) || list.some((n) => typeof n !== 'string')) throw new Error('F is not a list of names')
      parts.push({ tag: 'F', value: list })
    } else throw new Error(`unexpected tag ${JSON.stringify(String.fromCharCode(tag))} at byte ${at}`)
  }
  if (!reader.atEnd) throw new Error(`${bytes.length - reader.pos} bytes after the final z`)
  if (!parts.length) throw new Error('a reply with no result, error or function list')
  return parts
}

/** The `Internal: …` errors of a reply: what a handler that crashed answers. */
export function internalErrors(parts: ReplyPart[]): string[] {
  return parts.filter((p) => p.tag === 'E' && String(p.value).startsWith('Internal')).map((p) => String(p.value))
}

/** Printable start of a request or reply, for failure messages. */
export function show(bytes: Uint8Array, max = 300): string {
  const s = new TextDecoder('latin1').decode(bytes.subarray(0, max))
  return JSON.stringify(s) + (bytes.length > max ? ` …(${bytes.length} bytes)` : '')
}

/**
 * Fills `pool` from the node: sessions of the owner and of a second user, a database and a file
 * tree with handles, a temp file. Steps the node refuses (a user not admitted to store, say) are
 * left out; the pool then holds less.
 */
export async function fillPool(kernel: Kernel, pool: Pool): Promise<void> {
  const call = (name: string, ...args: unknown[]) => kernel.dispatcher.call(name, args, { transport: 'local' })
  const attempt = async <T>(f: () => Promise<T>): Promise<T | undefined> => f().catch(() => undefined)
  const owner = ownerKey(kernel)
  const user = (userKey ??= generateKeyPair())
  pool.users = [kernel.config.owner, keyId(user.publicKey)]
  pool.passports = [loginPassport(kernel, owner), loginPassport(kernel, user)]
  pool.sids = []
  for (const ppt of pool.passports) {
    const login = (await attempt(() => call('Login', ppt))) as { sid?: string } | undefined
    if (login?.sid) pool.sids.push(login.sid)
  }
  pool.mids = []
  pool.handles = []
  pool.fsids = []
  for (const sid of pool.sids) {
    for (const tp of [1, 2]) {
      const mid = (await attempt(() => call('MMCreate', sid, 'fuzz', 'ext', `mark${tp}`, tp, 1))) as string | undefined
      if (typeof mid !== 'string') continue
      pool.mids.push(mid)
      const handle = await attempt(() => call('MMOpen', sid, mid))
      if (typeof handle === 'string') pool.handles.push(handle)
    }
    const app = await attempt(() => call('MMOpenAppData', sid, 'fuzz', 'user'))
    if (typeof app === 'string') pool.handles.push(app)
    const temp = await attempt(() => call('MFOpenTempFile', sid))
    if (typeof temp === 'string') pool.fsids.push(temp)
  }
}
let userKey: KeyPair | undefined

export const emptyPool = (): Pool => ({ sids: [], mids: [], handles: [], fsids: [], users: [], passports: [] })
