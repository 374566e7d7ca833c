// Hprose value reader: tag dispatch, containers, classes and the reference table (docs/hprose.md §2.1–2.3).

import { HproseDecodeError } from './errors.ts'
import {
  type Cursor,
  expectByte,
  readBytesBody,
  readCharBody,
  readDateBody,
  readDouble,
  readGuidBody,
  readInfinityBody,
  readInteger,
  readStringBody,
  readTimeBody,
  readUint,
  truncated,
} from './scalars.ts'
import { Tag, tagName } from './tags.ts'
import { Guid, HPROSE_CLASS } from '../values.ts'
import { RemoteError } from './values.ts'

/** How `m` maps decode; see DecodeOptions.mapType. */
export type MapType = 'auto' | 'map' | 'object'

export interface DecodeOptions {
  /** Deepest nesting of lists, maps and objects accepted; deeper input is an error, never a stack overflow. Default 512. */
  maxDepth?: number
  /**
   * `auto` (default): a plain object while every key is a string (what JS writers produce for
   * objects), a `Map` as soon as one key is not (`m2{1s3"one"…}` from a JS Map or a Go
   * map[int]…). `map`: always a Map. `object`: always a plain object, keys turned into strings
   * the way hprose 2 readers do.
   */
  mapType?: MapType
}

export const DEFAULT_MAX_DEPTH = 512

/** A `c` definition: its name, field names, and the prototype its objects get (it carries HPROSE_CLASS). */
interface ClassDef {
  readonly fields: string[]
  readonly proto: object
}

/** Assigns without ever hitting the `__proto__` setter, which would swap the object's prototype. */
function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

/** String form of a non-string map key for mapType `object`; never runs code found in the input. */
function keyText(key: unknown): string {
  if (key === null || typeof key !== 'object') return String(key)
  if (key instanceof Date) return Number.isNaN(key.getTime()) ? 'Invalid Date' : key.toISOString()
  if (Array.isArray(key)) return '[list]'
  if (key instanceof Guid) return key.value
  return Object.prototype.toString.call(key)
}

/**
 * Reads Hprose values from a byte array, one at a time, from `pos`.
 *
 * References (§2.2): one table per reader. Strings of 2+ units, bytes, dates, GUIDs, lists, maps
 * and objects take a slot in order of appearance, containers before their children, class
 * field names too; `u`, `e`, numbers and class definitions do not. `reset()` starts a new table
 * (and class table), at the points the RPC layer's protocol says.
 *
 * Any malformed input throws HproseDecodeError and nothing else. After an error the position is
 * unspecified; drop the reader.
 */
export class Reader implements Cursor {
  readonly bytes: Uint8Array
  pos: number
  readonly end: number
  private readonly maxDepth: number
  private readonly mapType: MapType
  private refs: unknown[] = []
  private classes: ClassDef[] = []
  private depth = 0
  // mapType auto: slots of maps being filled (increasing) and whether a `r` pointed at them yet.
  private openMapSlots: number[] = []
  private openMapHit: boolean[] = []

  constructor(bytes: Uint8Array, options: DecodeOptions = {}, start = 0) {
    this.bytes = bytes
    this.pos = start
    this.end = bytes.length
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH
    this.mapType = options.mapType ?? 'auto'
  }

  /** True when every byte has been read. */
  get atEnd(): boolean {
    return this.pos >= this.end
  }

  /** The next byte without consuming it, or -1 at the end (the RPC layer dispatches on `C`/`z`/`H`/`t`…). */
  peekTag(): number {
    return this.pos < this.end ? this.bytes[this.pos]! : -1
  }

  /** Consumes and returns the next byte; throws at the end. */
  readTag(): number {
    if (this.pos >= this.end) throw new HproseDecodeError('expected a tag, found end of input', this.pos)
    return this.bytes[this.pos++]!
  }

  /** Consumes the next byte, throwing unless it is `tag`. */
  expectTag(tag: number): void {
    expectByte(this, tag, 'the stream')
  }

  /** Forgets all references and class definitions (§2.2 reset points). */
  reset(): void {
    this.refs.length = 0
    this.classes.length = 0
  }

  /** Number of reference slots taken so far (for tests and diagnostics). */
  get refCount(): number {
    return this.refs.length
  }

  /** Reads one complete value. */
  readValue(): unknown {
    try {
      return this.value()
    } catch (error) {
      throw this.failed(error)
    }
  }

  /** Reads a value that must be a string (`s`, `u`, `e`, or `r` to a string): method names, `E` messages. */
  readString(): string {
    try {
      return this.string('a string')
    } catch (error) {
      throw this.failed(error)
    }
  }

  /** Error to rethrow from a top-level read: ours as is, anything else (a host stack overflow) wrapped. */
  private failed(error: unknown): HproseDecodeError {
    this.depth = 0
    this.openMapSlots.length = 0
    this.openMapHit.length = 0
    if (error instanceof HproseDecodeError) return error
    return new HproseDecodeError(`unreadable input (${error instanceof Error ? error.message : String(error)})`, this.pos)
  }

  private value(): unknown {
    if (this.pos >= this.end) throw truncated(this, 'a value')
    const tag = this.bytes[this.pos++]!
    switch (tag) {
      case 0x30: case 0x31: case 0x32: case 0x33: case 0x34:
      case 0x35: case 0x36: case 0x37: case 0x38: case 0x39:
        return tag - 0x30
      case Tag.Integer:
      case Tag.Long:
        return readInteger(this)
      case Tag.Double:
        return readDouble(this)
      case Tag.Null:
        return null
      case Tag.Empty:
        return ''
      case Tag.True:
        return true
      case Tag.False:
        return false
      case Tag.NaN:
        return NaN
      case Tag.Infinity:
        return readInfinityBody(this)
      case Tag.UTF8Char:
        return readCharBody(this)
      case Tag.String: {
        const s = readStringBody(this, 'a string')
        this.refs.push(s)
        return s
      }
      case Tag.Bytes: {
        const b = readBytesBody(this)
        this.refs.push(b)
        return b
      }
      case Tag.Date: {
        const d = readDateBody(this)
        this.refs.push(d)
        return d
      }
      case Tag.Time: {
        const d = readTimeBody(this)
        this.refs.push(d)
        return d
      }
      case Tag.Guid: {
        const g = readGuidBody(this)
        this.refs.push(g)
        return g
      }
      case Tag.List:
        return this.list()
      case Tag.Map:
        return this.mapType === 'map' ? this.mapAsMap() : this.map()
      case Tag.Object:
        return this.object()
      case Tag.Class:
        // A definition prefixes the value that uses it; consume a run of them here, not by recursion.
        this.classDef()
        while (this.pos < this.end && this.bytes[this.pos] === Tag.Class) {
          this.pos++
          this.classDef()
        }
        return this.value()
      case Tag.Ref:
        return this.ref()
      case Tag.Error:
        // 3.0 exception value: `E` then a string; the string takes its slot, the `E` none.
        return RemoteError.fromWire(this.string('an exception message'))
      default:
        throw new HproseDecodeError(`unexpected tag ${tagName(tag)}`, this.pos - 1)
    }
  }

  private string(what: string): string {
    if (this.pos >= this.end) throw truncated(this, what)
    const tag = this.bytes[this.pos++]!
    switch (tag) {
      case Tag.String: {
        const s = readStringBody(this, what)
        this.refs.push(s)
        return s
      }
      case Tag.UTF8Char:
        return readCharBody(this)
      case Tag.Empty:
        return ''
      case Tag.Ref: {
        const at = this.pos - 1
        const s = this.ref()
        if (typeof s !== 'string') throw new HproseDecodeError(`${what} refers to a non-string`, at)
        return s
      }
      default:
        throw new HproseDecodeError(`expected ${what}, found ${tagName(tag)}`, this.pos - 1)
    }
  }

  private ref(): unknown {
    const at = this.pos
    const index = readUint(this, Tag.Semicolon, false, 'a reference')
    if (index >= this.refs.length) {
      throw new HproseDecodeError(`reference ${index} is out of range (${this.refs.length} slots)`, at)
    }
    const open = this.openMapSlots
    if (open.length > 0 && index >= open[0]!) {
      // Is the target a map still being filled? The open slots increase, so binary search.
      let lo = 0
      let hi = open.length - 1
      while (lo <= hi) {
        const mid = (lo + hi) >> 1
        if (open[mid] === index) {
          this.openMapHit[mid] = true
          break
        }
        if (open[mid]! < index) lo = mid + 1
        else hi = mid - 1
      }
    }
    return this.refs[index]
  }

  /** Reads `<count>{` and checks the input can hold `count * perItem` more bytes plus `}`. */
  private openContainer(perItem: number, countWhat: string, what: string): number {
    const count = readUint(this, Tag.OpenBrace, true, countWhat)
    if (count * perItem >= this.end - this.pos) {
      throw new HproseDecodeError(`${what} of ${count} items does not fit in the input`, this.pos)
    }
    if (++this.depth > this.maxDepth) throw new HproseDecodeError(`nesting is deeper than ${this.maxDepth}`, this.pos)
    return count
  }

  private closeContainer(what: string): void {
    expectByte(this, Tag.CloseBrace, what)
    this.depth--
  }

  private list(): unknown[] {
    const count = this.openContainer(1, 'a list count', 'list')
    const list = new Array<unknown>(count)
    this.refs.push(list) // §2.2: the list takes its slot before its elements
    for (let i = 0; i < count; i++) list[i] = this.value()
    this.closeContainer('a list')
    return list
  }

  private mapAsMap(): Map<unknown, unknown> {
    const count = this.openContainer(2, 'a map count', 'map')
    const map = new Map<unknown, unknown>()
    this.refs.push(map)
    for (let i = 0; i < count; i++) {
      const key = this.value()
      map.set(key, this.value())
    }
    this.closeContainer('a map')
    return map
  }

  /**
   * mapType `auto`/`object`. Fills a plain object while keys are strings. On the first other key
   * (auto only) it moves the entries to a Map and puts the Map in the map's slot, unless a `r`
   * already handed the object out to a child (a self-referencing map): then the object stays
   * and keys become strings, since the child cannot be repointed.
   */
  private map(): Record<string, unknown> | Map<unknown, unknown> {
    const count = this.openContainer(2, 'a map count', 'map')
    const obj: Record<string, unknown> = {}
    const slot = this.refs.length
    this.refs.push(obj)
    const auto = this.mapType === 'auto'
    if (auto) {
      this.openMapSlots.push(slot)
      this.openMapHit.push(false)
    }
    let i = 0
    let asMap: Map<unknown, unknown> | undefined
    for (; i < count; i++) {
      const key = this.value()
      if (typeof key === 'string') {
        setField(obj, key, this.value())
      } else if (auto && !this.openMapHit[this.openMapHit.length - 1]) {
        asMap = new Map<unknown, unknown>(Object.entries(obj))
        this.refs[slot] = asMap
        asMap.set(key, this.value())
        i++
        break
      } else {
        setField(obj, keyText(key), this.value())
      }
    }
    if (asMap !== undefined) {
      for (; i < count; i++) {
        const key = this.value()
        asMap.set(key, this.value())
      }
    }
    if (auto) {
      this.openMapSlots.pop()
      this.openMapHit.pop()
    }
    this.closeContainer('a map')
    return asMap ?? obj
  }

  /** `c` after the tag: name (no slot), field count, field names (each a string value, taking slots). */
  private classDef(): void {
    const name = readStringBody(this, 'a class name')
    const count = readUint(this, Tag.OpenBrace, true, 'a field count')
    if (count >= this.end - this.pos) throw new HproseDecodeError(`class of ${count} fields does not fit in the input`, this.pos)
    const fields = new Array<string>(count)
    for (let i = 0; i < count; i++) fields[i] = this.string('a field name')
    expectByte(this, Tag.CloseBrace, 'a class definition')
    const proto = Object.create(Object.prototype, { [HPROSE_CLASS]: { value: name } }) as object
    this.classes.push({ fields, proto })
  }

  /** `o` after the tag: class index, then one value per field; the object's slot comes first. */
  private object(): Record<string, unknown> {
    const at = this.pos
    const index = readUint(this, Tag.OpenBrace, false, 'a class reference')
    const cls = this.classes[index]
    if (cls === undefined) throw new HproseDecodeError(`class ${index} is not defined (${this.classes.length} defined)`, at)
    const fields = cls.fields
    if (fields.length >= this.end - this.pos) throw new HproseDecodeError('object does not fit in the input', this.pos)
    if (++this.depth > this.maxDepth) throw new HproseDecodeError(`nesting is deeper than ${this.maxDepth}`, this.pos)
    const obj = Object.create(cls.proto) as Record<string, unknown>
    this.refs.push(obj)
    for (let i = 0; i < fields.length; i++) setField(obj, fields[i]!, this.value())
    this.closeContainer('an object')
    return obj
  }
}
