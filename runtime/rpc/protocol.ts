// The Hprose RPC layer (docs/hprose.md §3): parses a request of either generation, runs its calls
// through the dispatcher, and writes the reply. Every request gets a reply; none throws.
import { HproseDecodeError, Reader, Tag, tagName, Writer } from './codec/index.ts'
import { Internal, InvalidRequest, LeitherError } from '../errors.ts'

/** A 2.x batch may hold many calls; beyond this the request is refused (work amplification). */
export const MAX_BATCH = 256
/** The reserved 3.x method that returns the function list. */
const LIST_METHOD = '~'

interface ParsedCall {
  name: string
  args: unknown[]
  byref: boolean
}

interface ParsedRequest {
  /** 3.x `H` map, when present. */
  headers?: Record<string, unknown>
  /** A bare `z` (or empty body): the 2.x function-list request. */
  listOnly: boolean
  calls: ParsedCall[]
}

/** Per-call facts from the transport, for handlers that need them. */
export interface CallMeta {
  readonly transport: 'http' | 'ws' | 'local'
  readonly remote?: string
  /** The Origin of the page that sent the call (browsers send it); absent for programs. */
  readonly origin?: string
  /** Hprose 3 request headers (`H` map), if any. */
  readonly headers?: Readonly<Record<string, unknown>>
  /** Aborted when the connection that made the call is gone: long waits (PullMsg) then end without taking anything. */
  readonly signal?: AbortSignal
}

/** What runs the calls of a request (the syscall dispatcher): by wire name, and the list of names. */
export interface CallTarget {
  /** Runs one call; throws a LeitherError (or, for a handler bug, any error) on failure. */
  call(name: string, args: unknown[], meta: CallMeta): Promise<unknown>
  /** Wire names of every method, in the order the function list shows them. */
  names(): string[]
}

/** Where the layer reports what went wrong (the node's logger fits). */
export interface RpcLog {
  debug(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** Text of an `E` reply for any thrown value: the stable code first; internals are not leaked. */
export function errorText(err: unknown): string {
  if (err instanceof LeitherError) return err.wireText()
  return new Internal('the node failed to handle this call; see its log').wireText()
}

/** Thrown for a request that is well-encoded values in a wrong order (not a codec error). */
class ProtocolError extends Error {}

function parseRequest(bytes: Uint8Array): ParsedRequest {
  const reader = new Reader(bytes)
  const request: ParsedRequest = { listOnly: false, calls: [] }
  if (reader.atEnd) return { ...request, listOnly: true }
  if (reader.peekTag() === Tag.Header) {
    reader.readTag()
    const headers = reader.readValue()
    if (!headers || typeof headers !== 'object' || Array.isArray(headers)) throw new ProtocolError('the H header must be a map')
    request.headers = headers instanceof Map ? Object.fromEntries(headers) : (headers as Record<string, unknown>)
    reader.reset()
  }
  if (reader.peekTag() === Tag.End || reader.atEnd) {
    reader.pos++
    if (!reader.atEnd) throw new ProtocolError(`unexpected ${tagName(reader.peekTag())} after z`)
    return { ...request, listOnly: true }
  }
  while (true) {
    const tag = reader.readTag()
    if (tag !== Tag.Call) throw new ProtocolError(`expected C or z, found ${tagName(tag)} at byte ${reader.pos - 1}`)
    if (request.calls.length === MAX_BATCH) throw new ProtocolError(`a batch may hold at most ${MAX_BATCH} calls`)
    const name = reader.readString()
    reader.reset()
    let args: unknown[] = []
    if (reader.peekTag() === Tag.List) {
      const list = reader.readValue()
      if (!Array.isArray(list)) throw new ProtocolError('the argument list must be a list')
      args = list
    }
    let byref = false
    if (reader.peekTag() === Tag.True) {
      reader.readTag()
      byref = true
    }
    request.calls.push({ name, args, byref })
    const next = reader.peekTag()
    if (next === Tag.Call) {
      reader.reset()
      continue
    }
    // Lenient like the 3.x server: a missing final z is accepted at the end of the body.
    if (next === -1) break
    if (next !== Tag.End) throw new ProtocolError(`expected C or z, found ${tagName(next)} at byte ${reader.pos}`)
    reader.readTag()
    if (!reader.atEnd) throw new ProtocolError(`unexpected ${tagName(reader.peekTag())} after z`)
    break
  }
  return request
}

function errorReply(message: string): Uint8Array {
  return new Writer().writeTag(Tag.Error).writeString(message).writeTag(Tag.End).toBytes()
}

export interface RpcHandler {
  /** Turns one request body into its reply body. Never throws. */
  handle(body: Uint8Array, meta: CallMeta): Promise<Uint8Array>
}

export function createRpcHandler(dispatcher: CallTarget, log: RpcLog): RpcHandler {
  const functionList = () => [LIST_METHOD, ...dispatcher.names()]

  const runCall = async (call: ParsedCall, meta: CallMeta): Promise<{ ok: true; value: unknown } | { ok: false; text: string }> => {
    if (call.name === LIST_METHOD) return { ok: true, value: functionList() }
    try {
      return { ok: true, value: await dispatcher.call(call.name, call.args, meta) }
    } catch (err) {
      if (!(err instanceof LeitherError)) log.error('syscall failed', { call: call.name, error: (err as Error)?.stack ?? String(err) })
      return { ok: false, text: errorText(err) }
    }
  }

  return {
    async handle(body, meta) {
      let request: ParsedRequest
      try {
        request = parseRequest(body)
      } catch (err) {
        if (err instanceof HproseDecodeError || err instanceof ProtocolError) {
          log.debug('malformed request', { bytes: body.length, error: err.message })
          return errorReply(new InvalidRequest(err.message).wireText())
        }
        log.error('request parser failed', { error: (err as Error)?.stack ?? String(err) })
        return errorReply(new InvalidRequest('the request could not be read').wireText())
      }
      const writer = new Writer()
      if (request.listOnly) {
        // 2.x clients ask with a bare z and expect F; 3.x uses `~` instead, except with a header.
        writer.writeTag(request.headers ? Tag.Result : Tag.FunctionList).write(functionList()).writeTag(Tag.End)
        return writer.toBytes()
      }
      const callMeta: CallMeta = request.headers ? { ...meta, headers: request.headers } : meta
      // Calls of a batch run in order: a later call may depend on an earlier one's effect.
      for (const call of request.calls) writer.writeRaw(encodeResult(call, await runCall(call, callMeta)))
      return writer.writeTag(Tag.End).toBytes()
    },
  }

  /** One call's part of the reply, with its own reference table: `R…[A…]` or `E…`. */
  function encodeResult(call: ParsedCall, result: Awaited<ReturnType<typeof runCall>>): Uint8Array {
    if (result.ok) {
      try {
        const w = new Writer().writeTag(Tag.Result).write(result.value)
        if (call.byref) w.reset().writeTag(Tag.Argument).write(call.args)
        return w.toBytes()
      } catch (err) {
        log.error('result could not be encoded', { call: call.name, error: (err as Error).message })
        result = { ok: false, text: new Internal('the result could not be encoded').wireText() }
      }
    }
    return new Writer().writeTag(Tag.Error).writeString(result.text).toBytes()
  }
}
