// WebSocket helpers for the compat tests: Hprose frames (<4-byte id><body>) and a frame-logging TCP proxy.
import { type AddressInfo, type Socket, connect, createServer } from 'node:net'

/** An Hprose WebSocket message: 4-byte big-endian request id, then the request (docs/hprose.md §3.3). */
export function hproseFrame(id: number, body: string | Uint8Array): Uint8Array {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
  const out = new Uint8Array(4 + bytes.length)
  new DataView(out.buffer).setUint32(0, id)
  out.set(bytes, 4)
  return out
}

/** Splits a received message into its id and its body as text. */
export function parseFrame(data: ArrayBuffer | Uint8Array): { id: number; body: string } {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data)
  return { id: new DataView(bytes.buffer, bytes.byteOffset).getUint32(0), body: new TextDecoder().decode(bytes.subarray(4)) }
}

/** Resolves with the next event of the given type (no polling, no sleeps). */
export function nextEvent<K extends keyof WebSocketEventMap>(ws: WebSocket, type: K): Promise<WebSocketEventMap[K]> {
  return new Promise((resolve) => ws.addEventListener(type, resolve as (e: Event) => void, { once: true }))
}

export async function openSocket(url: string, protocols?: string[]): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols)
  ws.binaryType = 'arraybuffer'
  const outcome = await Promise.race([nextEvent(ws, 'open'), nextEvent(ws, 'close')])
  if (outcome.type !== 'open') throw new Error(`WebSocket ${url} closed before opening`)
  return ws
}

export interface FrameHeader {
  fin: boolean
  /** 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  opcode: number
  length: number
}

export interface FrameLog {
  /** The port to connect to instead of the node's. */
  readonly port: number
  /** Headers of the WebSocket frames clients sent, in order (RFC 6455 §5.2). */
  readonly clientFrames: FrameHeader[]
  close(): void
}

/** A TCP proxy to `target` (host:port) that logs the frames clients send after the upgrade. */
export async function frameLoggingProxy(target: { hostname: string; port: number }): Promise<FrameLog> {
  const clientFrames: FrameHeader[] = []
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(target.port, target.hostname)
    sockets.add(client).add(upstream)
    let pending = Buffer.alloc(0)
    let upgraded = false
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      if (!upgraded) {
        const end = pending.indexOf('\r\n\r\n')
        if (end < 0) return upstream.write(chunk)
        upgraded = true
        pending = pending.subarray(end + 4)
      }
      while (pending.length >= 2) {
        let length = pending[1] & 0x7f
        let at = 2
        if (length === 126) [length, at] = [pending.length >= 4 ? pending.readUInt16BE(2) : -1, 4]
        else if (length === 127) [length, at] = [pending.length >= 10 ? Number(pending.readBigUInt64BE(2)) : -1, 10]
        const masked = (pending[1] & 0x80) !== 0
        const total = at + (masked ? 4 : 0) + length
        if (length < 0 || pending.length < total) break
        clientFrames.push({ fin: (pending[0] & 0x80) !== 0, opcode: pending[0] & 0x0f, length })
        pending = pending.subarray(total)
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => client.write(chunk))
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    clientFrames,
    close() {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}
