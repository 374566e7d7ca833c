// Hprose value writer: JS values to the bytes the official JS writers produce (docs/hprose.md §2.1, §2.2).

import { type ClassEntry, ClassTable, dataKeys } from './classes.ts'
import { formatDate, MAX_DATE_BYTES } from './datetime.ts'
import { HproseEncodeError } from './errors.ts'
import { Tag } from './tags.ts'
import { writeUtf8 } from './utf8.ts'
import { Guid, HPROSE_CLASS } from '../values.ts'

export interface EncodeOptions {
  /** Write no references (3.x `simple:true`): repeats are written out again, cycles hit maxDepth. Default false. */
  simple?: boolean
  /** Write dates in UTC with `Z` (3.x `codec.utc`). Default false: local time and `;`, as every JS writer does. */
  utc?: boolean
  /** Deepest nesting written before HproseEncodeError; guards the stack. Default 1024. */
  maxDepth?: number
}

export const DEFAULT_WRITE_DEPTH = 1024

/**
 * Appends Hprose values to a growing buffer. Values written by one Writer share a reference
 * table and a class table until `reset()`, exactly like the official writers: strings of 2+
 * units are deduped by value; bytes, dates, GUIDs, lists, maps and objects by identity, so
 * repeated and cyclic structures come out as `r<n>;`.
 */
export class Writer {
  private buf: Uint8Array<ArrayBuffer>
  private len = 0
  private readonly simple: boolean
  private readonly utc: boolean
  private readonly maxDepth: number
  private refs = new Map<unknown, number>()
  private refCount = 0
  private readonly classes = new ClassTable()
  private depth = 0

  constructor(options: EncodeOptions = {}) {
    this.buf = new Uint8Array(256)
    this.simple = options.simple ?? false
    this.utc = options.utc ?? false
    this.maxDepth = options.maxDepth ?? DEFAULT_WRITE_DEPTH
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len
  }

  /**
   * The bytes written so far. Later writes only append, so the result never changes. Small
   * outputs are copied: in JSC a view of a small heap-allocated array first has to move it into
   * an ArrayBuffer, which costs more than copying a few hundred bytes.
   */
  toBytes(): Uint8Array<ArrayBuffer> {
    const len = this.len
    if (len > 512) return this.buf.subarray(0, len)
    const out = new Uint8Array(len)
    const buf = this.buf
    for (let i = 0; i < len; i++) out[i] = buf[i]!
    return out
  }

  /** Forgets references and class definitions (§2.2 reset points), keeping the bytes. */
  reset(): this {
    if (this.refCount > 0) this.refs.clear()
    this.refCount = 0
    this.classes.reset()
    return this
  }

  /** Appends one raw byte: an RPC tag such as `C`, `R`, `A`, `t` or `z`. */
  writeTag(tag: number): this {
    this.ensure(1)
    this.buf[this.len++] = tag
    return this
  }

  /** Appends raw bytes unchanged (an already-encoded value, a cached function list). */
  writeRaw(bytes: Uint8Array): this {
    this.ensure(bytes.length)
    this.buf.set(bytes, this.len)
    this.len += bytes.length
    return this
  }

  /**
   * Appends `s` always in `s<units>"…"` form, even for 0 or 1 units, taking a slot: how hprose 2
   * writes an `E` reply message. (Use write() for ordinary string values.)
   */
  writeString(s: string): this {
    if (!this.simple) this.refs.set(s, this.refCount++)
    this.stringBody(s)
    return this
  }

  /** Appends one value. On HproseEncodeError the buffer holds a partial value: discard the writer. */
  write(value: unknown): this {
    this.depth = 0
    this.value(value)
    return this
  }

  private ensure(extra: number): void {
    const need = this.len + extra
    if (need <= this.buf.length) return
    const grown = new Uint8Array(Math.max(need, this.buf.length * 2))
    grown.set(this.buf.subarray(0, this.len))
    this.buf = grown
  }

  private value(value: unknown): void {
    switch (typeof value) {
      case 'number':
        return this.number(value)
      case 'string':
        return this.string(value)
      case 'boolean':
        return void this.writeTag(value ? Tag.True : Tag.False)
      case 'bigint':
        return this.bigint(value)
      case 'object':
        if (value === null) return void this.writeTag(Tag.Null)
        return this.object(value)
      default:
        // undefined, functions and symbols are null, as in both JS writers.
        return void this.writeTag(Tag.Null)
    }
  }

  /** int32 → digit or `i`; other safe integers → `l` (3.x; 2.x wrote `d`); the rest → `d` with JS toString. */
  private number(n: number): void {
    if ((n | 0) === n) {
      // -0 lands here too and is written as 0, as both JS writers do.
      if (n >= 0 && n <= 9) return void this.writeTag(0x30 + n)
      this.ensure(13)
      this.buf[this.len++] = Tag.Integer
      this.int32(n)
      this.buf[this.len++] = Tag.Semicolon
    } else if (n !== n) {
      this.writeTag(Tag.NaN)
    } else if (n === Infinity || n === -Infinity) {
      this.ensure(2)
      this.buf[this.len++] = Tag.Infinity
      this.buf[this.len++] = n > 0 ? Tag.Pos : Tag.Neg
    } else {
      this.writeTag(Number.isSafeInteger(n) ? Tag.Long : Tag.Double)
      this.ascii(String(n))
      this.writeTag(Tag.Semicolon)
    }
  }

  private bigint(n: bigint): void {
    if (n >= 0n && n <= 9n) return void this.writeTag(0x30 + Number(n))
    this.writeTag(Tag.Long)
    this.ascii(n.toString())
    this.writeTag(Tag.Semicolon)
  }

  /** Decimal digits of an int32 (room already ensured); `n | 0` arithmetic stays in integer registers. */
  private int32(n: number): void {
    const buf = this.buf
    if (n < 0) {
      buf[this.len++] = Tag.Neg
      if (n === -2147483648) {
        this.ascii('2147483648')
        return
      }
      n = -n
    }
    if (n < 10) {
      buf[this.len++] = 0x30 + n
      return
    }
    let width = 2
    for (let t = (n / 100) | 0; t > 0; t = (t / 10) | 0) width++
    let p = this.len + width
    this.len = p
    while (n > 0) {
      const q = (n / 10) | 0
      buf[--p] = 0x30 + n - q * 10
      n = q
    }
  }

  /** A non-negative count or length, as digits; zero is written as nothing when `omitZero` (`a{}`, `s""`). */
  private count(n: number, omitZero: boolean): void {
    if (n === 0 && omitZero) return
    this.ensure(16)
    if (n <= 0x7fffffff) this.int32(n)
    else this.ascii(String(n))
  }

  private ascii(text: string): void {
    this.ensure(text.length)
    const buf = this.buf
    for (let i = 0; i < text.length; i++) buf[this.len++] = text.charCodeAt(i)
  }

  /** Writes `r<n>;` if `value` already has a slot, and says so. */
  private refSeen(value: unknown): boolean {
    if (this.simple) return false
    const index = this.refs.get(value)
    if (index === undefined) return false
    this.ensure(13)
    this.buf[this.len++] = Tag.Ref
    this.int32(index)
    this.buf[this.len++] = Tag.Semicolon
    return true
  }

  /** Reference check, else takes the next slot for `value`; true if `r<n>;` was written instead. */
  private refOrAdd(value: unknown): boolean {
    if (this.simple) return false
    if (this.refSeen(value)) return true
    this.refs.set(value, this.refCount++)
    return false
  }

  /** `e` empty, `u` one UTF-16 unit, `s` otherwise with a by-value reference. */
  private string(s: string): void {
    const n = s.length
    if (n === 0) return void this.writeTag(Tag.Empty)
    if (n === 1) {
      this.ensure(4)
      this.buf[this.len++] = Tag.UTF8Char
      this.utf8(s)
      return
    }
    if (this.refOrAdd(s)) return
    this.stringBody(s)
  }

  /** `s<units>"<utf8>"`, the length omitted when empty. No reference handling. */
  private stringBody(s: string): void {
    this.ensure(s.length * 3 + 18)
    this.buf[this.len++] = Tag.String
    this.count(s.length, true)
    this.buf[this.len++] = Tag.Quote
    this.utf8(s)
    this.buf[this.len++] = Tag.Quote
  }

  /** UTF-8 of `s`; room for 3 bytes per unit must be ensured. */
  private utf8(s: string): void {
    this.len = writeUtf8(s, this.buf, this.len)
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) {
      throw new HproseEncodeError(`nesting is deeper than ${this.maxDepth}${this.simple ? ' (a cycle in simple mode?)' : ''}`)
    }
  }

  private object(value: object): void {
    if (Array.isArray(value)) return this.list(value)
    const proto = Object.getPrototypeOf(value)
    const className = (value as { [HPROSE_CLASS]?: unknown })[HPROSE_CLASS]
    if (typeof className === 'string') return this.classObject(value, className)
    if (proto === Object.prototype || proto === null) return this.plainMap(value)
    if (value instanceof Date) return this.date(value)
    if (value instanceof Uint8Array) return this.bytes(value, value)
    if (value instanceof Map) return this.map(value)
    if (value instanceof ArrayBuffer) return this.bytes(value, new Uint8Array(value))
    if (ArrayBuffer.isView(value)) return this.view(value)
    if (value instanceof Set) return this.list(value, [...value])
    if (value instanceof Guid) return this.guid(value)
    if (value instanceof Error) return this.error(value)
    if (value instanceof Number || value instanceof String || value instanceof Boolean || value instanceof BigInt) {
      return this.value(value.valueOf())
    }
    // Instances of other classes go out under their constructor name, as hprose 2 does.
    const ctorName = (proto as { constructor?: { name?: unknown } }).constructor?.name
    if (typeof ctorName === 'string' && ctorName !== '' && ctorName !== 'Object') return this.classObject(value, ctorName)
    return this.plainMap(value)
  }

  /** `a<n>{…}`; `value` is the identity used for the reference (the array, or the Set whose `items` these are). */
  private list(value: object, items: ArrayLike<unknown> = value as unknown[]): void {
    if (this.refOrAdd(value)) return
    this.enter()
    this.writeTag(Tag.List)
    this.count(items.length, true)
    this.writeTag(Tag.OpenBrace)
    for (let i = 0; i < items.length; i++) this.value(items[i])
    this.writeTag(Tag.CloseBrace)
    this.depth--
  }

  private plainMap(value: object): void {
    if (this.refOrAdd(value)) return
    this.enter()
    const record = value as Record<string, unknown>
    const keys = Object.keys(record)
    this.writeTag(Tag.Map)
    const countAt = this.len
    this.count(keys.length, true)
    const countEnd = this.len
    this.writeTag(Tag.OpenBrace)
    let n = 0
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      const item = record[key]
      if (typeof item === 'function') continue // methods are skipped, as both JS writers do
      this.string(key)
      this.value(item)
      n++
    }
    this.writeTag(Tag.CloseBrace)
    if (n !== keys.length) this.shrinkCount(countAt, countEnd, n)
    this.depth--
  }

  /**
   * Rewrites a count already written at [at, end) as the smaller `n`, pulling what follows to the
   * left. Only objects with methods get here; each value is read once and the common case pays
   * nothing, where counting first would read every value twice.
   */
  private shrinkCount(at: number, end: number, n: number): void {
    const digits = n === 0 ? '' : String(n)
    const newEnd = at + digits.length
    this.buf.copyWithin(newEnd, end, this.len)
    this.len -= end - newEnd
    for (let i = 0; i < digits.length; i++) this.buf[at + i] = digits.charCodeAt(i)
  }

  private map(value: Map<unknown, unknown>): void {
    if (this.refOrAdd(value)) return
    this.enter()
    this.writeTag(Tag.Map)
    this.count(value.size, true)
    this.writeTag(Tag.OpenBrace)
    for (const [k, v] of value) {
      this.value(k)
      this.value(v)
    }
    this.writeTag(Tag.CloseBrace)
    this.depth--
  }

  /**
   * `c` definition on first use of a class name, then `o<index>{values}`. Field names are
   * always written as `s` strings and take reference slots (hprose 2 `writeClass`); the object's
   * slot comes after them. An object of a known name but other fields gets its own definition.
   */
  private classObject(value: object, name: string): void {
    if (this.refSeen(value)) return
    this.enter()
    const fields = dataKeys(value)
    const entry = this.classes.find(name, fields, value) ?? this.classDef(name, fields)
    // The object's slot comes after its class's field names.
    if (!this.simple) this.refs.set(value, this.refCount++)
    this.writeTag(Tag.Object)
    this.count(entry.index, false)
    this.writeTag(Tag.OpenBrace)
    for (const field of entry.fields) this.value((value as Record<string, unknown>)[field])
    this.writeTag(Tag.CloseBrace)
    this.depth--
  }

  /** Writes `c<len>"name"<n>{fieldnames}` and records it. */
  private classDef(name: string, fields: string[]): ClassEntry {
    this.ensure(name.length * 3 + 18)
    this.buf[this.len++] = Tag.Class
    this.count(name.length, true)
    this.buf[this.len++] = Tag.Quote
    this.utf8(name)
    this.buf[this.len++] = Tag.Quote
    this.count(fields.length, true)
    this.writeTag(Tag.OpenBrace)
    for (const field of fields) {
      if (!this.simple) this.refs.set(field, this.refCount++)
      this.stringBody(field)
    }
    this.writeTag(Tag.CloseBrace)
    return this.classes.add(name, fields)
  }

  private date(value: Date): void {
    if (this.refOrAdd(value)) return
    this.ensure(MAX_DATE_BYTES)
    this.len = formatDate(value, this.utc, this.buf, this.len)
  }

  private bytes(identity: object, data: Uint8Array): void {
    if (this.refOrAdd(identity)) return
    this.ensure(data.length + 18)
    this.buf[this.len++] = Tag.Bytes
    this.count(data.length, true)
    this.buf[this.len++] = Tag.Quote
    this.buf.set(data, this.len)
    this.len += data.length
    this.buf[this.len++] = Tag.Quote
  }

  /** Typed arrays: a DataView is bytes; number arrays are lists (hprose 2 writes them element-wise). */
  private view(value: ArrayBufferView): void {
    if (value instanceof DataView) return this.bytes(value, new Uint8Array(value.buffer, value.byteOffset, value.byteLength))
    if (this.refOrAdd(value)) return
    const items = value as unknown as ArrayLike<number | bigint>
    const floats = value instanceof Float32Array || value instanceof Float64Array
    this.writeTag(Tag.List)
    this.count(items.length, true)
    this.writeTag(Tag.OpenBrace)
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!
      if (floats) this.double(item as number)
      else this.value(item)
    }
    this.writeTag(Tag.CloseBrace)
  }

  /** hprose 2 `writeDouble`: float arrays keep `d` even for whole numbers (`d1;`). */
  private double(n: number): void {
    if (n !== n) return void this.writeTag(Tag.NaN)
    if (n === Infinity || n === -Infinity) return this.number(n)
    this.writeTag(Tag.Double)
    this.ascii(String(n))
    this.writeTag(Tag.Semicolon)
  }

  private guid(value: Guid): void {
    if (this.refOrAdd(value)) return
    this.ensure(39)
    this.buf[this.len++] = Tag.Guid
    this.buf[this.len++] = Tag.OpenBrace
    this.ascii(value.value)
    this.buf[this.len++] = Tag.CloseBrace
  }

  /** 3.x ErrorSerializer: `E` then the message always as `s`; the message takes a slot, never reused. */
  private error(value: Error): void {
    this.writeTag(Tag.Error)
    if (!this.simple) this.refCount++
    this.stringBody(String(value.message))
  }
}
