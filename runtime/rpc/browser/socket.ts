// The browser client's WebSocket to the node (/ws/: <4-byte id><Hprose request> frames, many calls
// in flight), reopened with backoff after it closes; calls in flight when it dies fail, never resent.
import { RemoteCallError, TransportError } from '../client.ts'

export interface SocketHooks {
  /** The socket opened (first time or after a reconnect). */
  onOpen(): void
  /** An open socket closed (not by close()). */
  onClose(code: number, reason: string): void
}

type Waiter = { resolve: (v: Uint8Array) => void; reject: (e: Error) => void }

/** First reconnect delay; each failed attempt doubles it up to the client's reconnectMaxMs. */
const RECONNECT_FIRST_MS = 250

export class NodeSocket {
  private socket: WebSocket | undefined
  private opening: Promise<WebSocket> | undefined
  private nextId = 1
  /** Calls waiting on the current socket (a new socket gets a new map). */
  private pending = new Map<number, Waiter>()
  private failures = 0
  private retry: ReturnType<typeof setTimeout> | undefined
  /** True after close() until the next call: no reconnecting. */
  private stopped = false
  /** Counts close() calls: a call that began before one is not sent on a socket opened after it. */
  private epoch = 0
  /** The last attempt to open failed (or the socket closed) and none has succeeded since. */
  down = false

  constructor(
    private readonly url: string,
    private readonly openTimeoutMs: number,
    private readonly reconnectMaxMs: number,
    private readonly hooks: SocketHooks,
  ) {}

  get isOpen(): boolean {
    return this.socket?.readyState === 1
  }

  /** One attempt to open, shared by everyone waiting; rejects with a TransportError. */
  open(): Promise<WebSocket> {
    this.stopped = false
    if (this.socket?.readyState === 1) return Promise.resolve(this.socket)
    // Closing but not yet reported closed: done with it now, so its calls and the next socket's never mix.
    if (this.socket) this.closed(this.socket, 1006, 'the socket was closing')
    this.opening ??= new Promise<WebSocket>((resolve, reject) => {
      let ws: WebSocket | undefined
      let settled = false
      const fail = (why: string) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (ws) {
          ws.onopen = ws.onclose = ws.onerror = null
          ws.close()
        }
        this.opening = undefined
        this.down = true
        this.failures++
        this.schedule()
        reject(new TransportError(`cannot open the WebSocket ${this.url}: ${why}`))
      }
      const timer = setTimeout(() => fail(`no answer within ${this.openTimeoutMs} ms`), this.openTimeoutMs)
      try {
        ws = new WebSocket(this.url, ['hprose'])
      } catch (e) {
        // Some browsers refuse synchronously (a CSP that forbids it, a bad address).
        return fail((e as Error).message)
      }
      const socket = ws
      ws.binaryType = 'arraybuffer'
      ws.onopen = () => {
        if (this.stopped) return fail('the client was closed')
        settled = true
        clearTimeout(timer)
        socket.onerror = null
        this.socket = socket
        this.opening = undefined
        this.down = false
        this.failures = 0
        socket.onclose = (e) => this.closed(socket, e.code, e.reason)
        resolve(socket)
        this.hooks.onOpen()
      }
      ws.onmessage = (e) => {
        const data = new Uint8Array(e.data as ArrayBuffer)
        if (data.length < 4) return
        const id = new DataView(data.buffer, data.byteOffset).getUint32(0)
        const waiter = this.pending.get(id)
        this.pending.delete(id)
        waiter?.resolve(data.subarray(4))
      }
      ws.onclose = (e) => fail(`closed with code ${e.code}${e.reason ? ` (${e.reason})` : ''}`)
      // Chromium reports a socket its Content-Security-Policy refuses with an error and no close.
      ws.onerror = () => fail('refused or unreachable')
    })
    return this.opening
  }

  /** Sends one request on the open (or opening) socket and waits for its reply. */
  async send(body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const epoch = this.epoch
    let ws = await this.open()
    // It began closing as it was handed over: nothing was sent yet, so another socket may take the call.
    if (ws.readyState !== 1 && epoch === this.epoch) ws = await this.open()
    if (epoch !== this.epoch || ws.readyState !== 1) throw new TransportError('the client was closed before the call was sent')
    const id = this.nextId
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1
    const frame = new Uint8Array(4 + body.length)
    new DataView(frame.buffer).setUint32(0, id)
    frame.set(body, 4)
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new RemoteCallError(`Timeout: no reply within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      })
      ws.send(frame)
    })
  }

  /** Closes the socket and stops reconnecting (a later call opens a new one). */
  close(): void {
    this.stopped = true
    this.epoch++
    clearTimeout(this.retry)
    this.retry = undefined
    const ws = this.socket
    this.socket = undefined
    if (ws) {
      ws.onclose = null
      ws.close()
      this.failAll('the client was closed')
    }
  }

  private closed(ws: WebSocket, code: number, reason: string): void {
    if (this.socket !== ws) return
    this.socket = undefined
    this.down = true
    this.failAll(`the WebSocket closed (code ${code}${reason ? `: ${reason}` : ''}) before the reply came; the call may or may not have run on the node`)
    this.schedule()
    this.hooks.onClose(code, reason)
  }

  private failAll(why: string): void {
    const err = new TransportError(why)
    const waiting = this.pending
    this.pending = new Map()
    for (const w of waiting.values()) w.reject(err)
  }

  /** Next reconnect attempt: 250 ms, doubling up to reconnectMaxMs, with jitter so pages do not return together. */
  private schedule(): void {
    if (this.stopped || this.retry) return
    const base = Math.min(this.reconnectMaxMs, RECONNECT_FIRST_MS * 2 ** Math.min(this.failures, 20))
    this.retry = setTimeout(() => {
      this.retry = undefined
      if (!this.stopped && !this.isOpen) this.open().catch(() => {})
    }, base / 2 + Math.random() * (base / 2))
  }
}
