// `leither call`: one syscall from the shell, logged in as the node owner when the call needs it.
import { InvalidParams } from '../errors.ts'
import { RemoteCallError } from '../rpc/client.ts'
import { connect } from './session.ts'
import { Guid } from '../rpc/codec/index.ts'
import { SYSCALL_TABLES } from '../../syscalls/index.ts'
import type { Parsed } from './args.ts'

/**
 * JSON has no BigInt, bytes or dates; they are written as one-key objects, and accepted so as
 * arguments: {"$bigint": "123"}, {"$bytes": "<base64>"}, {"$date": "<ISO 8601>"}, {"$guid": "…"}.
 */
export function toJson(value: unknown): unknown {
  if (typeof value === 'bigint') return { $bigint: value.toString() }
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') }
  if (value instanceof Date) return { $date: value.toISOString() }
  if (value instanceof Guid) return { $guid: String(value) }
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) }
  if (Array.isArray(value)) return value.map(toJson)
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toJson(v)]))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]))
  return value
}

/** The JSON forms back to values (arguments of `leither call`). */
export function fromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJson)
  if (value && typeof value === 'object') {
    const keys = Object.keys(value)
    const v = (value as Record<string, unknown>)[keys[0]]
    if (keys.length === 1 && typeof v === 'string') {
      if (keys[0] === '$bigint') return BigInt(v)
      if (keys[0] === '$bytes') return new Uint8Array(Buffer.from(v, 'base64'))
      if (keys[0] === '$date') return new Date(v)
      if (keys[0] === '$number') return Number(v)
    }
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, fromJson(x)]))
  }
  return value
}

/** An argument is JSON when it parses as JSON; otherwise it is taken as a plain string. */
function parseArg(text: string): unknown {
  try {
    return fromJson(JSON.parse(text))
  } catch {
    return text
  }
}

export async function callCommand(p: Parsed): Promise<number> {
  const [method, ...rawArgs] = p.args
  if (!method) throw new InvalidParams('leither call needs a METHOD (see: leither call --help)')
  const session = connect(p)
  const args = rawArgs.map(parseArg)
  const row = SYSCALL_TABLES.flat().find((r) => r.name.toLowerCase() === method.toLowerCase())
  try {
    // A syscall that takes a session gets the owner's, unless --guest asks for none.
    if (row?.sid && !p.flags.guest) await session.login()
    const result = await session.call(row?.name ?? method, row?.sid ? [session.sid, ...args] : args)
    console.log(JSON.stringify(toJson(result), null, 2))
    return 0
  } catch (err) {
    console.error(err instanceof RemoteCallError ? err.message : `leither call: ${(err as Error).message}`)
    return 1
  } finally {
    await session.close()
  }
}
