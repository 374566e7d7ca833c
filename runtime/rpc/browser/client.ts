// The browser client served at /lib/leither.js: Hprose over WebSocket (or HTTP) to the node,
// with one method per syscall (generated from the tables) and the sid passed for you.
import { decodeReply, encodeCall, postBody } from '../client.ts'
import { ClientEvents } from './events.ts'
import { NodeSocket } from './socket.ts'

// One error class for what the node answers, shared with the CLI's client; `code` is its wire code.
export { RemoteCallError as LeitherError, TransportError } from '../client.ts'

export interface ClientOptions {
  /**
   * 'auto' (default): the WebSocket, and POST /webapi/ while it cannot be opened (it is reopened in
   * the background). 'ws': the WebSocket only. 'http': one POST per call.
   */
  transport?: 'ws' | 'http' | 'auto'
  /** Per-call timeout in ms (default 30 s). */
  timeout?: number
  /** Longest wait between attempts to reopen the WebSocket, in ms (default 30 s; the first is about 250 ms). */
  reconnectMaxMs?: number
}

/** Seconds each PullMsg of the event loop waits on the node (the node allows up to 60). */
const PULL_SEC = 25

export class LeitherClient {
  readonly url: string
  private readonly options: Required<ClientOptions>
  private readonly socket: NodeSocket
  private readonly events: ClientEvents
  private session = ''
  /** Aborts the POSTs in flight when the client is closed (a long poll then ends on the node too). */
  private posts = new AbortController()

  /** `url`: the node, e.g. location.origin; defaults to the page's own origin. */
  constructor(url?: string, options: ClientOptions = {}) {
    this.url = (url ?? globalThis.location?.origin ?? 'http://127.0.0.1:4800').replace(/\/+$/, '')
    this.options = { transport: options.transport ?? 'auto', timeout: options.timeout ?? 30_000, reconnectMaxMs: options.reconnectMaxMs ?? 30_000 }
    this.events = new ClientEvents(() => this.request('PullMsg', [this.sid, PULL_SEC], (PULL_SEC + 15) * 1000) as Promise<{ kind: string }[]>)
    this.socket = new NodeSocket(`${this.url.replace(/^http/, 'ws')}/ws/`, Math.min(this.options.timeout, 10_000), this.options.reconnectMaxMs, {
      onOpen: () => {
        this.events.emit('connect', { transport: 'ws' })
        this.events.wake()
      },
      onClose: (code, reason) => this.events.emit('disconnect', { code, reason }),
    })
  }

  /** Session id from login(); syscalls that take a sid get it automatically ("" = guest). */
  get sid(): string {
    return this.session
  }
  set sid(sid: string) {
    this.session = sid
    this.events.wake()
  }

  /** How calls go now: 'ws' while the WebSocket is open, else 'http' (or 'ws' for transport 'ws'). */
  get transport(): 'ws' | 'http' {
    if (this.options.transport === 'auto') return this.socket.isOpen || !this.socket.down ? 'ws' : 'http'
    return this.options.transport
  }

  /** Calls any syscall by name with the exact wire arguments (no sid added). */
  call(method: string, args: unknown[] = []): Promise<unknown> {
    return this.request(method, args, this.options.timeout)
  }

  /**
   * Listens to an event; returns a function that stops listening. 'message' (a message for the
   * user, marked read), 'pubsub' (an event of a subscribed topic), 'dropped' ({count} events the
   * node's queue lost): while any of these has a listener, the client keeps a PullMsg waiting on
   * the node (it needs a session: login() or signIn() first). 'connect' / 'disconnect' ({code,
   * reason}): the WebSocket opened or closed. 'error': a failed PullMsg (it is tried again).
   */
  on(type: string, fn: (value: any) => void): () => void {
    return this.events.on(type, fn)
  }

  off(type: string, fn: (value: any) => void): void {
    this.events.off(type, fn)
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

  /** Closes the WebSocket, stops reconnecting and removes every listener; later calls open a new one. */
  close(): void {
    this.events.clear()
    this.socket.close()
    this.posts.abort()
    this.posts = new AbortController()
  }

  private async request(method: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    const body = encodeCall(method, args)
    const how = this.options.transport
    if (how === 'http') return decodeReply(await this.post(body, timeoutMs))
    if (how === 'ws' || this.socket.isOpen) return decodeReply(await this.socket.send(body, timeoutMs))
    // auto: try the socket unless it is known down (it is reopened in the background); HTTP otherwise.
    if (!this.socket.down) {
      let opened = false
      try {
        await this.socket.open()
        opened = true
      } catch {}
      if (opened) return decodeReply(await this.socket.send(body, timeoutMs))
    }
    return decodeReply(await this.post(body, timeoutMs))
  }

  private post(body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return postBody(this.url, body, { timeoutMs, signal: this.posts.signal, credentials: 'include' })
  }
}
