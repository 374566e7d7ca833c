// Hprose transports on the node's port: POST /webapi/ (HTTP) and /ws/, /ws3/ (WebSocket).
import { Elysia } from 'elysia'
import type { RpcHandler } from '../rpc/protocol.ts'
import type { Logger } from '../log/index.ts'
import type { OriginPolicy } from './origin.ts'

/** Requests one WebSocket may have running at once; beyond it, new ones wait (no unbounded work). */
const WS_MAX_IN_FLIGHT = 256

/**
 * CORS for the RPC endpoint: an allowed page's origin is echoed with credentials (browser clients
 * send withCredentials); any other origin gets nothing (the request was refused before this).
 */
function corsHeaders(origin: string | null, origins: OriginPolicy): Record<string, string> {
  return origin && origins.originAllowed(origin)
    ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' }
    : { vary: 'Origin' }
}

const TEXT = { 'content-type': 'text/plain; charset=utf-8' }

/** Reads a request body, giving up (undefined) as soon as it passes `limit` bytes. */
async function readLimited(request: Request, limit: number): Promise<Uint8Array | undefined> {
  if (!request.body) return new Uint8Array(0)
  const parts: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    size += r.value.length
    if (size > limit) {
      await reader.cancel().catch(() => {})
      return undefined
    }
    parts.push(r.value)
  }
  if (parts.length === 1) return parts[0]
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export function rpcRoutes(rpc: RpcHandler, log: Logger, maxBodyBytes: number, origins: OriginPolicy) {
  const cors = (origin: string | null) => corsHeaders(origin, origins)
  const tooLarge = (origin: string | null) =>
    new Response(`request body is larger than ${maxBodyBytes} bytes`, { status: 413, headers: { ...TEXT, ...cors(origin) } })

  const http = async (request: Request, remote: string | undefined) => {
    const origin = request.headers.get('origin')
    // Refuse by the declared length before reading; a body without one is cut off while read.
    const declared = request.headers.get('content-length')
    if (Number(declared ?? 0) > maxBodyBytes) return tooLarge(origin)
    // A declared length within the limit bounds the body, so it is read in one piece: reading it
    // through the stream reader costs about as much server CPU as the rest of the call.
    const bounded = declared !== null && Number(declared) <= maxBodyBytes && !request.headers.has('transfer-encoding')
    const body = bounded ? new Uint8Array(await request.arrayBuffer()) : await readLimited(request, maxBodyBytes)
    if (!body) return tooLarge(origin)
    const reply = await rpc.handle(body, { transport: 'http', remote })
    // RPC errors travel inside the body (E…z) with status 200, as every Hprose client expects.
    return new Response(reply as Uint8Array<ArrayBuffer>, { status: 200, headers: { ...TEXT, ...cors(origin) } })
  }
  const preflight = (request: Request) =>
    new Response(null, {
      status: 204,
      headers: {
        ...cors(request.headers.get('origin')),
        'access-control-allow-methods': 'POST, GET, OPTIONS',
        'access-control-allow-headers': request.headers.get('access-control-request-headers') ?? 'content-type',
        'access-control-max-age': '86400',
      },
    })
  const list = async (request: Request) => http(new Request(request.url, { method: 'POST', body: 'z', headers: request.headers }), undefined)

  /** Binary messages only: <4-byte big-endian id><hprose request>; the reply carries the same id. `raw` is Bun's socket. */
  const onMessage = (raw: any, message: unknown) => {
    if (!(message instanceof Uint8Array) || message.length < 4) {
      raw.close(1003, 'binary hprose messages only: <4-byte id><request>')
      return
    }
    const id = message.subarray(0, 4).slice()
    const data = raw.data as { inFlight?: number; queue?: (() => void)[] }
    const run = async () => {
      data.inFlight = (data.inFlight ?? 0) + 1
      try {
        const reply = await rpc.handle(message.subarray(4), { transport: 'ws', remote: raw.remoteAddress })
        const framed = new Uint8Array(4 + reply.length)
        framed.set(id)
        framed.set(reply, 4)
        if (raw.readyState === 1) raw.send(framed)
      } catch (err) {
        log.error('websocket request failed', { error: (err as Error).message })
      } finally {
        data.inFlight!--
        data.queue?.shift()?.()
      }
    }
    if ((data.inFlight ?? 0) >= WS_MAX_IN_FLIGHT) (data.queue ??= []).push(() => void run())
    else void run()
  }

  const socket = {
    // Elysia hands each message to `raw.data.message` of its connection, which wraps it in a new
    // ElysiaWS (a dozen bind() calls) and two promises: about a sixth of the server's CPU per call.
    // Pointing that hook straight at onMessage skips the wrapping; `message` below stays the path
    // should Elysia stop calling the hook.
    open(ws: any) {
      const data = ws.raw?.data
      if (data && typeof data.message === 'function') data.message = onMessage
    },
    message(ws: any, message: unknown) {
      onMessage(ws.raw, message)
    },
  }

  // GETs first: Elysia 1.4 does not match a GET on a path registered after POSTs on it.
  // Socket limits (payload size, no compression) are server-wide: see websocketOptions.
  return new Elysia({ name: 'rpc' })
    .get('/webapi', ({ request }) => list(request))
    .get('/webapi/', ({ request }) => list(request))
    .options('/webapi', ({ request }) => preflight(request))
    .options('/webapi/', ({ request }) => preflight(request))
    // parse: 'none' — the body is the raw Hprose request, whatever Content-Type a client sends.
    .post('/webapi', ({ request, server }) => http(request, server?.requestIP(request)?.address), { parse: 'none' })
    .post('/webapi/', ({ request, server }) => http(request, server?.requestIP(request)?.address), { parse: 'none' })
    .ws('/ws/', socket)
    .ws('/ws3/', socket)
}

/**
 * WebSocket settings for the whole server (Bun has one websocket config per server, so per-route
 * options are not applied): messages over the body limit close the socket (1009), and no
 * permessage-deflate, as the official Hprose servers.
 */
export function websocketOptions(maxBodyBytes: number) {
  // +4: the request id in front of the Hprose payload.
  return { maxPayloadLength: maxBodyBytes + 4, perMessageDeflate: false }
}
