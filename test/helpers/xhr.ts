// A small fetch-based XMLHttpRequest, so the browser Hprose clients (which need one) run under Bun.
//
// Covers what hprose-html5, hprose-js and @hprose/rpc-html5 use: open/send/setRequestHeader/abort,
// readyState with onreadystatechange, onload/onerror/onabort/ontimeout (called with `this` = the
// request, as browsers do), status/statusText, responseText and response ('' | 'text' |
// 'arraybuffer'), response headers, `timeout`, `withCredentials` and an `upload` event target.
// Progress events and synchronous requests are not supported.

type Handler = ((this: FetchXMLHttpRequest, event: { type: string; target: FetchXMLHttpRequest }) => void) | null

export class FetchXMLHttpRequest {
  static readonly UNSENT = 0
  static readonly OPENED = 1
  static readonly HEADERS_RECEIVED = 2
  static readonly LOADING = 3
  static readonly DONE = 4

  readyState = 0
  status = 0
  statusText = ''
  responseType: '' | 'text' | 'arraybuffer' = ''
  response: string | ArrayBuffer | null = null
  responseText = ''
  /** Milliseconds; 0 means none. */
  timeout = 0
  withCredentials = false
  /** Browsers expose upload events here; the clients assign handlers, nothing fires them. */
  readonly upload: Record<string, Handler> = {}

  onreadystatechange: Handler = null
  onload: Handler = null
  onerror: Handler = null
  onabort: Handler = null
  ontimeout: Handler = null
  onprogress: Handler = null
  onloadend: Handler = null

  private method = 'GET'
  private url = ''
  private readonly requestHeaders = new Headers()
  private responseHeaders = new Headers()
  private controller: AbortController | undefined
  /** Set once the request ended (load, error, abort or timeout), so only one of them fires. */
  private settled = false

  open(method: string, url: string, async = true): void {
    if (!async) throw new Error('FetchXMLHttpRequest supports asynchronous requests only')
    this.method = method.toUpperCase()
    this.url = url
    this.setState(FetchXMLHttpRequest.OPENED)
  }

  setRequestHeader(name: string, value: string): void {
    if (this.readyState !== FetchXMLHttpRequest.OPENED) throw new Error('setRequestHeader before open')
    this.requestHeaders.set(name, String(value))
  }

  send(body?: string | ArrayBuffer | ArrayBufferView | null): void {
    if (this.readyState !== FetchXMLHttpRequest.OPENED || this.controller) throw new Error('send before open, or sent twice')
    const controller = (this.controller = new AbortController())
    let timer: ReturnType<typeof setTimeout> | undefined
    if (this.timeout > 0) timer = setTimeout(() => this.finish('timeout', () => controller.abort()), this.timeout)
    const payload = ArrayBuffer.isView(body) ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : body
    fetch(this.url, {
      method: this.method,
      headers: this.requestHeaders,
      body: this.method === 'GET' || this.method === 'HEAD' ? undefined : (payload as BodyInit | null | undefined),
      credentials: this.withCredentials ? 'include' : 'same-origin',
      signal: controller.signal,
    })
      .then(async (res) => {
        const bytes = await res.arrayBuffer()
        if (this.settled) return
        this.status = res.status
        this.statusText = res.statusText
        this.responseHeaders = res.headers
        this.setState(FetchXMLHttpRequest.HEADERS_RECEIVED)
        this.responseText = new TextDecoder().decode(bytes)
        this.response = this.responseType === 'arraybuffer' ? bytes : this.responseText
        this.setState(FetchXMLHttpRequest.LOADING)
        this.finish('load')
      })
      .catch(() => this.finish('error'))
      .finally(() => clearTimeout(timer))
  }

  abort(): void {
    if (!this.controller || this.settled) return
    const controller = this.controller
    this.finish('abort', () => controller.abort())
  }

  getResponseHeader(name: string): string | null {
    return this.readyState >= FetchXMLHttpRequest.HEADERS_RECEIVED ? this.responseHeaders.get(name) : null
  }

  getAllResponseHeaders(): string {
    if (this.readyState < FetchXMLHttpRequest.HEADERS_RECEIVED) return ''
    let text = ''
    this.responseHeaders.forEach((value, name) => {
      text += `${name}: ${value}\r\n`
    })
    return text
  }

  private setState(state: number): void {
    this.readyState = state
    this.fire('readystatechange')
  }

  /** Ends the request once: DONE, then the outcome's event, then loadend. */
  private finish(outcome: 'load' | 'error' | 'abort' | 'timeout', before?: () => void): void {
    if (this.settled) return
    this.settled = true
    before?.()
    if (outcome !== 'load') {
      this.status = 0
      this.statusText = ''
    }
    this.setState(FetchXMLHttpRequest.DONE)
    this.fire(outcome)
    this.fire('loadend')
  }

  private fire(type: string): void {
    const handler = (this as unknown as Record<string, Handler>)[`on${type}`]
    handler?.call(this, { type, target: this })
  }
}

/**
 * Installs the shim as the global XMLHttpRequest unless one exists; returns a function that
 * restores the previous global. Install it before loading a client that captures it at load time.
 */
export function installXhr(): () => void {
  const g = globalThis as { XMLHttpRequest?: unknown }
  const previous = g.XMLHttpRequest
  if (previous === undefined) g.XMLHttpRequest = FetchXMLHttpRequest
  return () => {
    g.XMLHttpRequest = previous
  }
}
