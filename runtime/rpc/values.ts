// Plain values the wire carries that JS has no type for: class names on objects and GUIDs. They
// live outside the codec so stored data (mimei/db) can hold them without the codec.

/**
 * Class name of an object decoded from `c`/`o` (docs/hprose.md, Values: classes). The reader puts it on a
 * per-class prototype, not on the object, so decoded objects stay plain-looking (own keys are the
 * fields, `toEqual`/JSON see only the fields) while the writer finds the name by normal property
 * lookup and writes the object back as the same class. Set it yourself (own property or on a
 * class prototype) to send an object as a named class.
 */
export const HPROSE_CLASS: unique symbol = Symbol.for('leither.hprose.class')

/** Class name carried by `value` (see HPROSE_CLASS), or undefined for a plain map-like object. */
export function classNameOf(value: object): string | undefined {
  const name = (value as { [HPROSE_CLASS]?: unknown })[HPROSE_CLASS]
  return typeof name === 'string' ? name : undefined
}

/** Marks `value` so the writer sends it as an object of class `name` (`c`/`o`), and returns it. */
export function withClassName<T extends object>(value: T, name: string): T {
  Object.defineProperty(value, HPROSE_CLASS, { value: name, configurable: true, writable: true })
  return value
}

const GUID_SHAPE = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/

/**
 * A GUID (`g{…}`). Hprose 2 JS readers return a bare string and 3.x a guid-typescript object; a
 * string would re-encode as `s`, so this small wrapper keeps the value a GUID across an echo.
 * The text keeps the case it arrived in.
 */
export class Guid {
  readonly value: string

  /** Throws TypeError unless `value` is 8-4-4-4-12 hex digits (without braces). */
  constructor(value: string) {
    if (!GUID_SHAPE.test(value)) throw new TypeError(`not a GUID: ${JSON.stringify(value)}`)
    this.value = value
  }

  toString(): string {
    return this.value
  }

  toJSON(): string {
    return this.value
  }

  equals(other: unknown): boolean {
    return other instanceof Guid && other.value.toLowerCase() === this.value.toLowerCase()
  }
}
