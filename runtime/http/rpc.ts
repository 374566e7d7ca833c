// Hprose transports on the node's port: POST /webapi/ (HTTP) and /ws/, /ws3/ (WebSocket).
import { Elysia } from 'elysia'
import { readBody } from '../rpc/body.ts'
import type { RpcHandler } from '../rpc/protocol.ts'
import type { Logger } from '../log/index.ts'
import type { OriginPolicy } from './origin.ts'

/** Requests one WebSocket may have running at once; later ones wait in the socket's queue. */
const WS_MAX_IN_FLIGHT = 256
/** Requests one WebSocket may have waiting beyond those; one more closes the socket. */
const WS_MAX_QUEUED = 1024
/** Bytes of requests one WebSocket may hold, running and waiting: four of the largest (64 MiB by default). */
const SOCKET_HELD_BODIES = 4
/** Bytes of requests all WebSockets together may hold: sixteen of the largest (256 MiB by default). */
const NODE_HELD_BODIES = 16
/** RFC 6455 §7.4.1: 1008 the peer broke the endpoint's policy; 1013 try again later. */
const CLOSE_POLICY = 1008
const CLOSE_TRY_LATER = 1013

const sizeText = (bytes: number) => (bytes >= 1 << 20 ? `${Math.round(bytes / (1 << 20))} MiB` : `${Math.round(bytes / 1024)} KiB`)

/** What one socket holds: counted where its frames arrive, released as replies go out. */
interface SocketQueue {
  running: number
  heldBytes: number
  /** Requests not started yet, with their sizes (released if the socket goes first). */
  waiting: { start: () => void; bytes: number }[]
  /** Bytes of the requests in `waiting`: what closing the socket frees at once. */
  waitingBytes: number
  closed: boolean
  /** Bun's socket, to close it when the node must make room. */
  raw: any
  /** The Origin the page sent when it opened the socket (none from programs): sessions are bound to it. */
  origin: string | undefined
  /** Aborted when the socket closes: its long polls then leave messages for the next one. */
  gone: AbortController
}

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
  return readBody(request.body, limit)
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
    const reply = await rpc.handle(body, { transport: 'http', remote, signal: request.signal, ...(origin !== null ? { origin } : {}) })
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

  const socketMaxHeld = SOCKET_HELD_BODIES * maxBodyBytes
  const nodeMaxHeld = NODE_HELD_BODIES * maxBodyBytes
  /** Bytes of requests held by every socket of this server, running and waiting. */
  let nodeHeld = 0
  /** Sockets holding requests that wait: who can be closed to make room. */
  const holders = new Set<SocketQueue>()
  const queueOf = (raw: any): SocketQueue =>
    (raw.data.rpcQueue ??= { running: 0, heldBytes: 0, waiting: [], waitingBytes: 0, closed: false, raw, origin: raw.data.request?.headers?.get('origin') ?? undefined, gone: new AbortController() })
  /** Drops what a closing socket still has waiting; requests already running finish. */
  const drop = (queue: SocketQueue) => {
    queue.closed = true
    queue.gone.abort()
    holders.delete(queue)
    for (const w of queue.waiting.splice(0)) {
      queue.heldBytes -= w.bytes
      nodeHeld -= w.bytes
    }
    queue.waitingBytes = 0
  }
  /** Closes a socket that asks for more than its share, dropping what it queued. */
  const overflow = (raw: any, queue: SocketQueue, reason: string, code = CLOSE_POLICY) => {
    drop(queue)
    log.warn('websocket closed: over its queue limit', { remote: raw.remoteAddress, reason })
    raw.close(code, reason)
  }

  /** Binary messages only: <4-byte big-endian id><hprose request>; the reply carries the same id. `raw` is Bun's socket. */
  const onMessage = (raw: any, message: unknown) => {
    if (!(message instanceof Uint8Array) || message.length < 4) {
      raw.close(1003, 'binary hprose messages only: <4-byte id><request>')
      return
    }
    const queue = queueOf(raw)
    if (queue.closed) return
    // Limits are checked as the frame arrives, before it is kept (a socket cannot be paused).
    if (queue.heldBytes + message.length > socketMaxHeld) {
      return overflow(raw, queue, `more than ${sizeText(socketMaxHeld)} of requests waiting on this socket; wait for replies before sending more`)
    }
    // The node is full: the socket holding the most is closed, so one client filling the node
    // through several sockets cannot shut out the others (the arriving socket, if it holds the most).
    while (nodeHeld + message.length > nodeMaxHeld) {
      let largest: SocketQueue | undefined
      for (const q of holders) if (q !== queue && q.waitingBytes > 0 && q.heldBytes > (largest?.heldBytes ?? 0)) largest = q
      const reason = `the node holds more than ${sizeText(nodeMaxHeld)} of waiting requests; try again later`
      if (!largest || largest.heldBytes <= queue.heldBytes + message.length) return overflow(raw, queue, reason, CLOSE_TRY_LATER)
      overflow(largest.raw, largest, reason, CLOSE_TRY_LATER)
    }
    if (queue.running >= WS_MAX_IN_FLIGHT && queue.waiting.length >= WS_MAX_QUEUED) {
      return overflow(raw, queue, `more than ${WS_MAX_IN_FLIGHT + WS_MAX_QUEUED} requests waiting on this socket; wait for replies before sending more`)
    }
    queue.heldBytes += message.length
    nodeHeld += message.length
    const id = message.subarray(0, 4).slice()
    const run = async () => {
      queue.running++
      try {
        const reply = await rpc.handle(message.subarray(4), { transport: 'ws', remote: raw.remoteAddress, signal: queue.gone.signal, ...(queue.origin ? { origin: queue.origin } : {}) })
        const framed = new Uint8Array(4 + reply.length)
        framed.set(id)
        framed.set(reply, 4)
        // 0: Bun dropped the reply, the client has left too many unread; better closed than silent.
        if (raw.readyState === 1 && raw.send(framed) === 0) overflow(raw, queue, 'replies are not being read; read them before sending more')
      } catch (err) {
        log.error('websocket request failed', { error: (err as Error).message })
      } finally {
        queue.running--
        queue.heldBytes -= message.length
        nodeHeld -= message.length
        const next = queue.closed ? undefined : queue.waiting.shift()
        if (next) {
          queue.waitingBytes -= next.bytes
          if (!queue.waiting.length) holders.delete(queue)
          next.start()
        }
      }
    }
    if (queue.running >= WS_MAX_IN_FLIGHT) {
      queue.waiting.push({ start: () => void run(), bytes: message.length })
      queue.waitingBytes += message.length
      holders.add(queue)
    } else void run()
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
    // Whatever still waits is dropped with the socket (requests already running finish).
    close(ws: any) {
      const queue = ws.raw?.data?.rpcQueue as SocketQueue | undefined
      if (queue) drop(queue)
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
