// Writer-side class table (docs/hprose.md §2.1 `c`/`o`): the class definitions a stream has sent, and which one an object uses.

/** A class already defined on this stream: its `o` index and field order. */
export interface ClassEntry {
  readonly index: number
  readonly fields: string[]
}

/** Own enumerable string keys whose values are not functions (both JS writers skip methods). */
export function dataKeys(value: object): string[] {
  const keys = Object.keys(value)
  for (let i = 0; i < keys.length; i++) {
    if (typeof (value as Record<string, unknown>)[keys[i]!] === 'function') {
      return keys.filter((k) => typeof (value as Record<string, unknown>)[k] !== 'function')
    }
  }
  return keys
}

/** Whether an object with own data keys `keys` has exactly the fields of a definition, in any order. */
function sameFields(fields: string[], keys: string[], value: object): boolean {
  if (fields.length !== keys.length) return false
  for (let i = 0; i < fields.length; i++) {
    if (keys[i] !== fields[i] && !Object.hasOwn(value, fields[i]!)) return false
  }
  return true
}

/**
 * Definitions by class name, numbered from 0 in the order written (the `o` index counts
 * separately from value references). hprose 2 keys them by name only and reuses the first
 * field list; here an object of a known name but other fields gets a definition of its own, so
 * objects marked by hand with HPROSE_CLASS never lose fields.
 */
export class ClassTable {
  private byName = new Map<string, ClassEntry[]>()
  private next = 0

  /** The definition `value` (with own data keys `fields`) can be written with, if one was sent. */
  find(name: string, fields: string[], value: object): ClassEntry | undefined {
    const defined = this.byName.get(name)
    if (defined === undefined) return undefined
    for (const entry of defined) if (sameFields(entry.fields, fields, value)) return entry
    return undefined
  }

  /** Records a definition about to be written and returns it with its index. */
  add(name: string, fields: string[]): ClassEntry {
    const entry = { index: this.next++, fields }
    const defined = this.byName.get(name)
    if (defined === undefined) this.byName.set(name, [entry])
    else defined.push(entry)
    return entry
  }

  reset(): void {
    if (this.next > 0) this.byName.clear()
    this.next = 0
  }
}
