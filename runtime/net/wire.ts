// The node's own libp2p protocols: one CBOR request, one or more CBOR responses, each length-
// prefixed with a size limit and checked against a schema. Anything else closes the stream and
// is logged once per peer; the node keeps serving everyone else.
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { Encoder } from 'cbor-x'
import type { Uint8ArrayList } from 'uint8arraylist'
import { ERRORS, LeitherError, type ErrorCode } from '../errors.ts'
import type { Logger } from '../log/index.ts'

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false } as ConstructorParameters<typeof Encoder>[0])

/** A check that returns the value typed, or throws a message naming what is wrong. */
export type Schema<T> = (v: unknown) => T

export class WireError extends Error {
  /** The condition the peer named when its refusal starts with a code of the errors table (`Code: message`). */
  readonly remoteCode?: ErrorCode

  constructor(message: string, remoteCode?: ErrorCode) {
    super(message)
    if (remoteCode) this.remoteCode = remoteCode
  }
}

export interface ProtocolSpec<Req, Res> {
  readonly id: string
  /** Largest single message accepted in either direction. */
  readonly maxBytes: number
  readonly request: Schema<Req>
  readonly response: Schema<Res>
  /** Per-request deadline (default 30 s). */
  readonly timeoutMs?: number
  /**
   * Responses in a frame of the protocol's own instead of CBOR (bulk bytes sent as they are, not
   * copied into a message). `decode` gets the received bytes as they arrived, in pieces; a handler's
   * refusal still travels as the CBOR map { error }, which `decode` must hand back as such.
   */
  readonly frame?: {
    encode(res: Res): Uint8Array | Uint8ArrayList
    decode(raw: Uint8ArrayList): unknown
  }
}

// — schema helpers (small, explicit, no dependency) —

type Shape = Record<string, Schema<unknown>>
export const str =
  (max = 4096): Schema<string> =>
  (v) => {
    if (typeof v !== 'string' || v.length > max) throw new WireError(`expected a string of at most ${max} chars`)
    return v
  }
export const int: Schema<number> = (v) => {
  if (!Number.isSafeInteger(v)) throw new WireError('expected an integer')
  return v as number
}
export const bool: Schema<boolean> = (v) => {
  if (typeof v !== 'boolean') throw new WireError('expected a boolean')
  return v
}
export const bytes =
  (max: number): Schema<Uint8Array> =>
  (v) => {
    if (!(v instanceof Uint8Array) || v.length > max) throw new WireError(`expected at most ${max} bytes`)
    return v
  }
export const list =
  <T>(item: Schema<T>, max: number): Schema<T[]> =>
  (v) => {
    if (!Array.isArray(v) || v.length > max) throw new WireError(`expected a list of at most ${max} items`)
    return v.map(item)
  }
export const optional =
  <T>(s: Schema<T>): Schema<T | undefined> =>
  (v) =>
    v === undefined || v === null ? undefined : s(v)
export const anyValue: Schema<unknown> = (v) => v
export function object<S extends Shape>(shape: S): Schema<{ [K in keyof S]: ReturnType<S[K]> }> {
  return (v) => {
    if (!v || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) throw new WireError('expected a map')
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(v)) if (!(key in shape)) throw new WireError(`unexpected field ${key}`)
    for (const [key, check] of Object.entries(shape)) {
      try {
        out[key] = check((v as Record<string, unknown>)[key])
      } catch (err) {
        throw new WireError(`${key}: ${(err as Error).message}`)
      }
    }
    return out as { [K in keyof S]: ReturnType<S[K]> }
  }
}

// — serving and calling —

export type Handler<Req, Res> = (req: Req, peer: PeerId) => Promise<Res | AsyncIterable<Res>> | Res | AsyncIterable<Res>

function isIterable<T>(v: unknown): v is AsyncIterable<T> {
  return v !== null && typeof v === 'object' && Symbol.asyncIterator in v
}

/** Remembers which peers misbehaved recently, so a hostile peer fills the log with one line. */
export function offenseLog(log: Logger) {
  const seen = new Map<string, number>()
  return (peer: PeerId, protocol: string, why: string) => {
    const key = `${peer}:${protocol}`
    const now = Date.now()
    if ((seen.get(key) ?? 0) > now - 600_000) return
    if (seen.size > 10_000) seen.clear()
    seen.set(key, now)
    log.warn('rejected a malformed message', { peer: peer.toString(), protocol, why })
  }
}

/**
 * Bytes a stream may hold unread: a message of the largest size allowed and the next one arriving
 * behind it (the muxer's window grows as data arrives, not as it is read; this is the bound).
 */
const bufferFor = (spec: ProtocolSpec<unknown, unknown>) => Math.max(4 * 1024 * 1024, 2 * (spec.maxBytes + 16))

export async function serve<Req, Res>(
  libp2p: Libp2p,
  spec: ProtocolSpec<Req, Res>,
  handler: Handler<Req, Res>,
  offense: ReturnType<typeof offenseLog>,
): Promise<void> {
  await libp2p.handle(
    spec.id,
    async (stream: Stream, connection) => {
      const peer = connection.remotePeer
      const lp = lpStream(stream, { maxDataLength: spec.maxBytes, maxBufferSize: bufferFor(spec) })
      const signal = AbortSignal.timeout(spec.timeoutMs ?? 30_000)
      let req: Req
      try {
        req = spec.request(cbor.decode((await lp.read({ signal })).subarray()))
      } catch (err) {
        offense(peer, spec.id, (err as Error).message)
        stream.abort(err as Error)
        return
      }
      try {
        const res = await handler(req, peer)
        const encode = spec.frame ? spec.frame.encode : (r: Res) => cbor.encode(r)
        if (isIterable<Res>(res)) for await (const r of res) await lp.write(encode(r), { signal })
        else await lp.write(encode(res), { signal })
        await stream.close({ signal })
      } catch (err) {
        // The handler's own refusal travels back as an error message the caller can show.
        // A condition of the errors table keeps its code in front, so the caller learns which it is.
        const text = err instanceof LeitherError ? err.wireText() : String((err as Error).message)
        await lp.write(cbor.encode({ error: text.slice(0, 500) }), { signal }).catch(() => {})
        await stream.close({ signal }).catch(() => stream.abort(err as Error))
      }
    },
    { runOnLimitedConnection: true, maxInboundStreams: 64 },
  )
}

/**
 * Sends one request and yields every response until the other side closes. With `maxTotalBytes`,
 * a peer whose responses together pass it is cut off (WireError, the stream reset): the limit
 * holds where the bytes arrive, before they pile up in the caller.
 */
export async function* call<Req, Res>(
  libp2p: Libp2p,
  peer: PeerId,
  spec: ProtocolSpec<Req, Res>,
  req: Req,
  options: { signal?: AbortSignal; maxTotalBytes?: number } = {},
): AsyncGenerator<Res> {
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(spec.timeoutMs ?? 30_000)]) : AbortSignal.timeout(spec.timeoutMs ?? 30_000)
  const stream = await libp2p.dialProtocol(peer, spec.id, { signal, runOnLimitedConnection: true })
  const lp = lpStream(stream, { maxDataLength: spec.maxBytes, maxBufferSize: bufferFor(spec) })
  let total = 0
  try {
    await lp.write(cbor.encode(req), { signal })
    while (true) {
      let raw
      try {
        raw = await lp.read({ signal })
      } catch (err) {
        if ((err as Error).name === 'UnexpectedEOFError') return
        throw err
      }
      total += raw.byteLength
      if (options.maxTotalBytes !== undefined && total > options.maxTotalBytes) {
        const err = new WireError(`${peer} sent more than ${options.maxTotalBytes} bytes on ${spec.id}`)
        stream.abort(err)
        throw err
      }
      // A message that arrived in one piece is decoded where it lies (subarray copies only when it is in several).
      const msg = spec.frame ? spec.frame.decode(raw) : cbor.decode(raw.subarray())
      if (msg && typeof msg === 'object' && 'error' in msg && typeof msg.error === 'string' && Object.keys(msg).length === 1) {
        const code = /^([A-Za-z]+): /.exec(msg.error)?.[1]
        throw new WireError(`${peer}: ${msg.error}`, ERRORS.some((r) => r.code === code) ? (code as ErrorCode) : undefined)
      }
      yield spec.response(msg)
    }
  } finally {
    await stream.close().catch(() => stream.abort(new Error('closed')))
  }
}

/** One request, exactly one response. */
export async function request<Req, Res>(libp2p: Libp2p, peer: PeerId, spec: ProtocolSpec<Req, Res>, req: Req, options: { signal?: AbortSignal } = {}): Promise<Res> {
  for await (const res of call(libp2p, peer, spec, req, options)) return res
  throw new WireError(`${peer} closed ${spec.id} without an answer`)
}

export const encodeCbor = (v: unknown): Uint8Array => cbor.encode(v)
export const decodeCbor = (b: Uint8Array): unknown => cbor.decode(b)
