// The browser client served at /lib/leither.js: Hprose over WebSocket (or HTTP) to the node,
// with one method per syscall (generated from the tables) and the sid passed for you.
import { Reader, Tag, Writer } from '../codec/index.ts'

export interface ClientOptions {
  /** 'ws' (default): one socket, many calls in flight. 'http': one POST per call. */
  transport?: 'ws' | 'http'
  /** Per-call timeout in ms (default 30 s). */
  timeout?: number
}

/** An error the node answered with; `code` is its stable prefix (PermissionDenied, NotFound …). */
export class LeitherError extends Error {
  readonly code: string
  constructor(text: string) {
    super(text)
    this.code = /^(\w+):/.exec(text)?.[1] ?? 'Error'
    this.name = 'LeitherError'
  }
}

function encodeCall(method: string, args: unknown[]): Uint8Array {
  return new Writer().writeTag(Tag.Call).write(method).reset().write(args).writeTag(Tag.End).toBytes()
}

function decodeReply(bytes: Uint8Array): unknown {
  const reader = new Reader(bytes)
  const tag = reader.readTag()
  if (tag === Tag.Error) throw new LeitherError(reader.readString())
  if (tag !== Tag.Result) throw new LeitherError(`Protocol: unexpected reply tag ${String.fromCharCode(tag)}`)
  return reader.readValue()
}

export class LeitherClient {
  /** Session id from login(); syscalls that take a sid get it automatically ("" = guest). */
  sid = ''
  readonly url: string
  private readonly options: Required<ClientOptions>
  private socket: WebSocket | undefined
  private opening: Promise<WebSocket> | undefined
  private nextId = 1
  private pending = new Map<number, { resolve: (v: Uint8Array) => void; reject: (e: Error) => void }>()

  /** `url`: the node, e.g. location.origin; defaults to the page's own origin. */
  constructor(url?: string, options: ClientOptions = {}) {
    this.url = (url ?? globalThis.location?.origin ?? 'http://127.0.0.1:4800').replace(/\/+$/, '')
    this.options = { transport: options.transport ?? 'ws', timeout: options.timeout ?? 30_000 }
  }

  /** Calls any syscall by name with the exact wire arguments (no sid added). */
  async call(method: string, args: unknown[] = []): Promise<unknown> {
    const request = encodeCall(method, args)
    const reply = this.options.transport === 'http' ? await this.post(request) : await this.send(request)
    return decodeReply(reply)
  }

  /** Logs in with a passport and keeps the sid for later calls. */
  async login(ppt: string): Promise<{ sid: string; uid: string; owner: boolean }> {
    const r = (await this.call('Login', [ppt])) as { sid: string; uid: string; owner: boolean }
    this.sid = r.sid
    return r
  }

  /**
   * Signs this page in the way the launcher hands sessions to pages: a one-time `?code=` in the
   * address is traded for a session (CodeLogin) and removed from the address bar; the sid is kept
   * in sessionStorage (this tab, this origin), never in a URL. Resolves false when the page has
   * neither a code nor a kept session: open it from the launcher (or `leither open`).
   */
  async signIn(): Promise<boolean> {
    const store = globalThis.sessionStorage
    const KEY = 'leither.sid'
    const params = new URLSearchParams(globalThis.location?.search ?? '')
    const code = params.get('code')
    if (code) {
      params.delete('code')
      const rest = params.toString()
      globalThis.history?.replaceState(null, '', `${globalThis.location.pathname}${rest ? `?${rest}` : ''}${globalThis.location.hash}`)
      const r = (await this.call('CodeLogin', [code])) as { sid: string }
      this.sid = r.sid
      store?.setItem(KEY, r.sid)
      return true
    }
    const kept = store?.getItem(KEY)
    if (!kept) return false
    this.sid = kept
    try {
      await this.call('WhoAmI', [kept])
      return true
    } catch {
      store?.removeItem(KEY)
      this.sid = ''
      return false
    }
  }

  close(): void {
    this.socket?.close()
    this.socket = undefined
    this.opening = undefined
  }

  private async post(body: Uint8Array): Promise<Uint8Array> {
    const r = await fetch(`${this.url}/webapi/`, {
      method: 'POST',
      body: body as Uint8Array<ArrayBuffer>,
      credentials: 'include',
      signal: AbortSignal.timeout(this.options.timeout),
    })
    if (!r.ok) throw new LeitherError(`Transport: HTTP ${r.status}`)
    return new Uint8Array(await r.arrayBuffer())
  }

  private open(): Promise<WebSocket> {
    if (this.socket?.readyState === 1) return Promise.resolve(this.socket)
    this.opening ??= new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${this.url.replace(/^http/, 'ws')}/ws/`, ['hprose'])
      ws.binaryType = 'arraybuffer'
      ws.onopen = () => {
        this.socket = ws
        resolve(ws)
      }
      ws.onmessage = (e) => {
        const data = new Uint8Array(e.data as ArrayBuffer)
        const id = new DataView(data.buffer, data.byteOffset).getUint32(0)
        const waiter = this.pending.get(id)
        this.pending.delete(id)
        waiter?.resolve(data.subarray(4))
      }
      ws.onclose = () => {
        this.socket = undefined
        this.opening = undefined
        const err = new LeitherError('Transport: the connection to the node closed')
        for (const w of this.pending.values()) w.reject(err)
        this.pending.clear()
        reject(err)
      }
    })
    return this.opening
  }

  private async send(body: Uint8Array): Promise<Uint8Array> {
    const ws = await this.open()
    const id = this.nextId
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1
    const frame = new Uint8Array(4 + body.length)
    new DataView(frame.buffer).setUint32(0, id)
    frame.set(body, 4)
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new LeitherError(`Timeout: no reply within ${this.options.timeout} ms`))
      }, this.options.timeout)
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      ws.send(frame)
    })
  }
}
