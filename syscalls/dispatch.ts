// The dispatcher: name lookup, argument validation, session and capability check, metrics.
import { InvalidParams, NotFound, PermissionDenied } from '../runtime/errors.ts'
import { GUEST, type Grant } from '../runtime/permissions/index.ts'
import type { CallTarget } from '../runtime/rpc/protocol.ts'
import type { ParamSpec, ParamType, SyscallRow } from './row.ts'
import type { Services } from './services.ts'

export interface SyscallStats {
  count: number
  errors: number
  totalMs: number
  maxMs: number
}

/** Runs syscalls for the RPC layer (CallTarget: names in table order), and answers what it holds. */
export interface Dispatcher extends CallTarget {
  row(name: string): SyscallRow | undefined
  /** Count and latency per syscall since start, for the monitor. */
  stats(): ReadonlyMap<string, SyscallStats>
}

const TYPE_TEXT: Record<ParamType, string> = {
  string: 'a string',
  int: 'an integer',
  number: 'a number',
  bool: 'a boolean',
  bytes: 'bytes',
  data: 'bytes or a string',
  map: 'a map',
  list: 'a list',
  any: 'any value',
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (v instanceof Uint8Array) return 'bytes'
  if (Array.isArray(v)) return 'a list'
  if (v instanceof Date) return 'a date'
  if (typeof v === 'bigint') return 'a long integer'
  return typeof v === 'object' ? 'a map' : `a ${typeof v}`
}

/** Checks and normalizes one argument; returns undefined when it does not fit. */
function coerce(type: ParamType, v: unknown): { ok: true; value: unknown } | { ok: false } {
  switch (type) {
    case 'any':
      return { ok: true, value: v }
    case 'string':
      return typeof v === 'string' ? { ok: true, value: v } : { ok: false }
    case 'bool':
      return typeof v === 'boolean' ? { ok: true, value: v } : { ok: false }
    case 'int':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return { ok: true, value: v }
      if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) {
        return { ok: true, value: Number(v) }
      }
      return { ok: false }
    case 'number':
      if (typeof v === 'number') return { ok: true, value: v }
      return typeof v === 'bigint' ? { ok: true, value: Number(v) } : { ok: false }
    case 'bytes':
      return v instanceof Uint8Array ? { ok: true, value: v } : { ok: false }
    case 'data':
      if (v instanceof Uint8Array) return { ok: true, value: v }
      return typeof v === 'string' ? { ok: true, value: new TextEncoder().encode(v) } : { ok: false }
    case 'list':
      return Array.isArray(v) ? { ok: true, value: v } : { ok: false }
    case 'map':
      if (v instanceof Map) {
        if ([...v.keys()].some((k) => typeof k !== 'string')) return { ok: false }
        return { ok: true, value: Object.fromEntries(v) }
      }
      if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Date)) {
        return { ok: true, value: v }
      }
      return { ok: false }
  }
}

function signature(row: SyscallRow): string {
  const names = [...(row.sid ? ['sid'] : []), ...row.params.map((p) => (p.rest ? `...${p.name}` : p.optional ? `${p.name}?` : p.name))]
  return `${row.name}(${names.join(', ')})`
}

/** Validates wire arguments against the row; returns them normalized, sid excluded. */
export function validateArgs(row: SyscallRow, wire: unknown[]): unknown[] {
  const args = row.sid ? wire.slice(1) : wire
  const params: readonly ParamSpec[] = row.params
  const rest = params.at(-1)?.rest ? params.at(-1) : undefined
  const fixed = rest ? params.slice(0, -1) : params
  const required = fixed.filter((p) => !p.optional).length
  if (row.sid && wire.length === 0) throw new InvalidParams(`${row.name} is missing parameter sid: ${signature(row)}`)
  if (args.length < required) {
    throw new InvalidParams(`${row.name} is missing parameter ${fixed[args.length].name}: ${signature(row)}`)
  }
  if (!rest && args.length > fixed.length) {
    throw new InvalidParams(`${row.name} takes ${fixed.length + (row.sid ? 1 : 0)} arguments at most, got ${wire.length}: ${signature(row)}`)
  }
  const out: unknown[] = []
  args.forEach((v, i) => {
    const p = i < fixed.length ? fixed[i] : rest!
    if ((v === null || v === undefined) && p.optional) {
      out.push(undefined)
      return
    }
    const r = coerce(p.type, v)
    if (!r.ok) throw new InvalidParams(`${row.name}: parameter ${p.name} must be ${TYPE_TEXT[p.type]}, got ${describe(v)}`)
    out.push(r.value)
  })
  return out
}

export function createDispatcher(tables: readonly (readonly SyscallRow[])[], services: Services): Dispatcher {
  const rows = new Map<string, SyscallRow>()
  for (const row of tables.flat()) {
    const key = row.name.toLowerCase()
    if (rows.has(key)) throw new Error(`syscall ${row.name} is defined twice`)
    if (row.params.slice(0, -1).some((p) => p.rest)) throw new Error(`syscall ${row.name}: only the last parameter may be rest`)
    rows.set(key, row)
  }
  for (const row of rows.values()) {
    const named = row.capability === 'handle.read' || row.capability === 'handle.write'
    if (named !== (row.handle !== undefined)) throw new Error(`syscall ${row.name}: handle.* capabilities and a handle kind go together`)
    if (named && row.params[0]?.type !== 'string') throw new Error(`syscall ${row.name}: its first parameter must be the handle`)
  }
  const sys = services
  const { permissions, monitor } = sys

  /** Who calls, checked: the session's grant, or for handle rows the handle opener's. */
  const authorize = (row: SyscallRow, wire: unknown[], origin: string | undefined, remote: string | undefined) => {
    if (!row.handle) return permissions.authorize(row.sid ? wire[0] : '', row.capability, row.name, origin, remote)
    const access = row.capability === 'handle.write' ? 'write' : 'read'
    const id = row.sid ? wire[1] : wire[0]
    if (typeof id !== 'string') throw new InvalidParams(`${row.name}: parameter ${row.params[0].name} must be a string, got ${describe(id)}`)
    return row.sid
      ? permissions.authorizeHandle(row.handle, wire[1], access, row.name, wire[0] ?? '', origin)
      : permissions.authorizeHandle(row.handle, wire[0], access, row.name, undefined, origin)
  }

  return {
    async call(name, wire, meta) {
      const row = rows.get(name.toLowerCase())
      if (!row) throw new NotFound(`no syscall ${name}; the list is at /lib/leither.js and in docs/syscalls.md`)
      const started = performance.now()
      let failed = false
      let grant: Grant | undefined
      try {
        // Who first: an unauthorized caller learns nothing about the parameters.
        grant = authorize(row, wire, meta.origin, meta.remote)
        // An app's session does only what its user granted the app.
        if (grant.app) permissions.checkApp(grant, row.app ?? 'never', row.name)
        const args = validateArgs(row, wire)
        return await row.handler({ grant, sys, meta }, ...args)
      } catch (err) {
        failed = true
        // Rights checks deeper down are audited too (those above already were).
        if (err instanceof PermissionDenied) permissions.audit(row.name, grant ?? GUEST, err)
        throw err
      } finally {
        monitor.syscall(row.name, performance.now() - started, failed)
      }
    },
    names: () => [...rows.values()].map((r) => r.name),
    row: (name) => rows.get(name.toLowerCase()),
    stats: () => monitor.totals(),
  }
}
