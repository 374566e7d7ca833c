// The values every client sends through Echo, and the JSON form ("Norm") replies are compared in.
//
// Norm is plain JSON, so a client running in a child process can report what it read. It keeps
// what a round trip must preserve: number values (NaN and ±Infinity tagged), BigInt digits, the
// instant of a Date, bytes, class names, and identity: the second visit of a list, map or object
// becomes {ref: n}, n counting containers in visiting order, so shared structure and cycles compare
// equal only if the client's reader restored the references. null and undefined are the same
// (3.x readers give undefined for `n`, docs/hprose.md §6); a Map whose keys are all strings is the
// same as a plain object (one wire map).

export type Norm = null | boolean | number | string | Norm[] | { [key: string]: Norm }

/** What a client may be unable to send or read back; see CLIENTS in peers.ts. */
export type Feature = 'bigint' | 'bytes' | 'maps' | 'classes'

/** The class registered under the name "Person" with every client (2.x ClassManager, 3.x TypeManager). */
export class Person {
  name?: string
  age?: number
  constructor(name?: string, age?: number) {
    this.name = name
    this.age = age
  }
}

export interface ValueCase {
  readonly name: string
  /** Builds a fresh value (cases are also built inside the child process). */
  readonly make: () => unknown
  readonly needs?: Feature
}

const shared = () => {
  const o = { k: 'v' }
  return [o, o, 'dup', 'dup']
}
const cyclicList = () => {
  const a: unknown[] = [1, 'two']
  a.push(a)
  return a
}
const cyclicMap = () => {
  const m: Record<string, unknown> = { name: 'loop' }
  m.self = m
  m.list = [m]
  return m
}
const repeatedPerson = () => {
  const p = new Person('Tom', 24)
  return [p, new Person('Jerry', 19), p]
}
/** Every byte value four times, and the quote byte, which bytes carry unescaped (§2.1). */
const allBytes = () => Uint8Array.from({ length: 1024 }, (_, i) => i % 256)

export const VALUE_CASES: readonly ValueCase[] = [
  { name: 'int 0', make: () => 0 },
  { name: 'int 9', make: () => 9 },
  { name: 'int 10', make: () => 10 },
  { name: 'negative int', make: () => -7 },
  { name: 'int32 max', make: () => 2147483647 },
  { name: 'int32 min', make: () => -2147483648 },
  { name: 'int32 max + 1', make: () => 2147483648 },
  { name: 'int32 min - 1', make: () => -2147483649 },
  { name: 'safe integer 2^53-1', make: () => Number.MAX_SAFE_INTEGER },
  { name: 'negative safe integer', make: () => -(2 ** 40 + 3) },
  { name: 'BigInt 2^64+1', make: () => 2n ** 64n + 1n, needs: 'bigint' },
  { name: 'BigInt -2^63', make: () => -(2n ** 63n), needs: 'bigint' },
  { name: 'BigInt 10^30', make: () => 10n ** 30n, needs: 'bigint' },
  { name: 'double 3.5', make: () => 3.5 },
  { name: 'double -0.1', make: () => -0.1 },
  { name: 'double 1e21 (exponent)', make: () => 1e21 },
  { name: 'double 1e-7 (negative exponent)', make: () => 1e-7 },
  { name: 'double -1.45e23', make: () => -1.45e23 },
  { name: 'double max', make: () => Number.MAX_VALUE },
  { name: 'double min subnormal', make: () => Number.MIN_VALUE },
  { name: 'unsafe integer 2^53+2', make: () => 2 ** 53 + 2 },
  { name: 'NaN', make: () => NaN },
  { name: '+Infinity', make: () => Infinity },
  { name: '-Infinity', make: () => -Infinity },
  { name: 'true', make: () => true },
  { name: 'false', make: () => false },
  { name: 'null', make: () => null },
  { name: 'empty string', make: () => '' },
  { name: 'single char', make: () => 'x' },
  { name: 'single non-ASCII char', make: () => '€' },
  { name: 'unicode with emoji', make: () => 'héllo 你好 😀' },
  { name: 'emoji only (2 UTF-16 units)', make: () => '😀' },
  { name: 'long string (120k UTF-16 units)', make: () => 'abc€😀'.repeat(20_000) },
  { name: 'bytes with a quote and 0xff', make: () => new Uint8Array([0, 1, 2, 34, 255]), needs: 'bytes' },
  { name: 'empty bytes', make: () => new Uint8Array(0), needs: 'bytes' },
  { name: 'bytes 0..255 x4', make: allBytes, needs: 'bytes' },
  { name: 'date with milliseconds', make: () => new Date(2020, 0, 2, 3, 4, 5, 678) },
  { name: 'date at local midnight (date only)', make: () => new Date(2020, 0, 2) },
  { name: 'time on 1970-01-01 (time only)', make: () => new Date(1970, 0, 1, 3, 4, 5) },
  { name: 'date before 1970', make: () => new Date(1969, 6, 20, 20, 17, 40, 5) },
  { name: 'empty list', make: () => [] },
  { name: 'mixed list', make: () => [1, 'two', 3.5, null, true, false] },
  { name: 'nested lists', make: () => [[1, 2], [3, [4, []]], []] },
  { name: 'list of 1000 ints', make: () => Array.from({ length: 1000 }, (_, i) => i * 7919) },
  { name: 'empty map', make: () => ({}) },
  { name: 'nested map', make: () => ({ name: 'Tom', list: [1, 'two', 3.5, null, true], nested: { k: [], deeper: { x: 'y' } } }) },
  { name: 'map with non-string keys', make: () => new Map<unknown, unknown>([[1, 'one'], [true, [1]], ['s', 2]]), needs: 'maps' },
  { name: 'objects of a registered class', make: () => [new Person('Tom', 24), new Person('Jerry', 19)], needs: 'classes' },
  { name: 'repeated object of a registered class', make: repeatedPerson, needs: 'classes' },
  { name: 'shared map and repeated strings', make: shared },
  { name: 'cyclic list', make: cyclicList },
  { name: 'cyclic map', make: cyclicMap },
]

export function valueCase(name: string): ValueCase {
  const found = VALUE_CASES.find((c) => c.name === name)
  if (!found) throw new Error(`no value case "${name}"`)
  return found
}

/** The Norm of any JS value a client may return (see the file head). */
export function normalize(value: unknown, seen = new Map<object, number>()): Norm {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value
    case 'number':
      return Number.isFinite(value) ? value : { double: String(value) }
    case 'bigint':
      return { long: value.toString() }
    case 'object':
      break
    default:
      throw new TypeError(`cannot normalize a ${typeof value}`)
  }
  const obj = value as object
  if (obj instanceof Date) return { date: Number.isNaN(obj.getTime()) ? 'invalid' : obj.toISOString() }
  if (obj instanceof Uint8Array) return { bytes: Array.from(obj) }
  // hprose-js in binary mode reads bytes as a BinaryString: one char per byte. Its class name is
  // mangled in the minified browser bundle, so it is also known by its shape: String's methods on
  // a prototype of its own, and its own toString.
  const binaryString =
    obj.constructor?.name === 'BinaryString' ||
    (Object.getPrototypeOf(obj)?.charCodeAt === String.prototype.charCodeAt && Object.getPrototypeOf(obj) !== String.prototype && Object.hasOwn(obj, 'toString'))
  if (binaryString) return { bytes: Array.from(String(obj), (c) => c.charCodeAt(0)) }
  if (obj instanceof Error) return { error: obj.message }
  const ref = seen.get(obj)
  if (ref !== undefined) return { ref }
  seen.set(obj, seen.size)
  if (Array.isArray(obj)) return { list: obj.map((v) => normalize(v, seen)) }
  if (obj instanceof Map) {
    const entries = [...obj]
    if (entries.every(([k]) => typeof k === 'string')) return { map: Object.fromEntries(entries.map(([k, v]) => [k, normalize(v, seen)])) }
    return { entries: entries.map(([k, v]) => [normalize(k, seen), normalize(v, seen)]) }
  }
  const fields: Record<string, Norm> = {}
  for (const key of Object.keys(obj)) fields[key] = normalize((obj as Record<string, unknown>)[key], seen)
  const ctor = Object.getPrototypeOf(obj)?.constructor
  return ctor && ctor !== Object ? { object: ctor.name, fields } : { map: fields }
}

/**
 * Plain JS for assertions on a Norm: maps → objects, lists → arrays, bytes → Uint8Array, long →
 * BigInt, date → Date. References are not rebuilt (use it on acyclic replies).
 */
export function unwrap(norm: Norm): any {
  if (norm === null || typeof norm !== 'object') return norm
  if (Array.isArray(norm)) return norm.map(unwrap)
  if ('list' in norm) return (norm.list as Norm[]).map(unwrap)
  if ('map' in norm) return Object.fromEntries(Object.entries(norm.map as Record<string, Norm>).map(([k, v]) => [k, unwrap(v)]))
  if ('bytes' in norm) return Uint8Array.from(norm.bytes as number[])
  if ('long' in norm) return BigInt(norm.long as string)
  if ('date' in norm) return new Date(norm.date as string)
  if ('double' in norm) return Number(norm.double)
  return norm
}

/** Call arguments as JSON: plain values, with {bytes: [...]} for bytes (made by the peer's bytes factory). */
export type WireArg = null | boolean | number | string | WireArg[] | { bytes: number[] } | { [key: string]: WireArg }

export function reviveArgs(args: readonly WireArg[], makeBytes: (bytes: Uint8Array) => unknown): unknown[] {
  const revive = (v: WireArg): unknown => {
    if (v === null || typeof v !== 'object') return v
    if (Array.isArray(v)) return v.map(revive)
    if ('bytes' in v && Array.isArray(v.bytes)) return makeBytes(Uint8Array.from(v.bytes as number[]))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x as WireArg)]))
  }
  return args.map(revive)
}
