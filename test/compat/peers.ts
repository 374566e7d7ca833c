// Test peers: one interface over the five official Hprose clients, so every client runs the same contract.
//
// A Peer wraps one client library pointed at one endpoint and answers in Norm (values.ts), which
// lets the @hprose/rpc-html5 peer live in a child process (rpc-html5-peer.ts) and still be
// asserted on by the same tests. The libraries are passed in, never imported here: rpc-node and
// rpc-html5 must not be loaded into one process (both register an `http` transport, docs/hprose.md §5).
import { type Feature, type Norm, type WireArg, Person, normalize, reviveArgs, valueCase } from './values.ts'

export type ClientName = 'hprose' | 'hprose-html5' | 'hprose-js' | '@hprose/rpc-node' | '@hprose/rpc-html5'

/** Client-side call timeout: a call the node never answers fails fast instead of hanging the suite. */
export const CALL_TIMEOUT_MS = 10_000

export interface ClientInfo {
  readonly generation: 2 | 3
  /** Features the client cannot use, with the reason (the contract skips those cases). */
  readonly lacks: Partial<Record<Feature, string>>
}

const NO_BIGINT_2X =
  'its writer sends a BigInt as an empty object of class "BigInt" (c6"BigInt"{}o0{}, docs/hprose.md §4.4), ' +
  'and its reader cannot build that class when it comes back'

export const CLIENTS: Record<ClientName, ClientInfo> = {
  hprose: { generation: 2, lacks: { bigint: NO_BIGINT_2X } },
  'hprose-html5': { generation: 2, lacks: { bigint: NO_BIGINT_2X } },
  // Bytes work in binary mode only, as hprose.binary() strings; text mode sends a Uint8Array as an
  // object of class "Uint8Array" (§4.4). The peer switches to binary mode for those calls.
  'hprose-js': { generation: 2, lacks: { bigint: NO_BIGINT_2X } },
  '@hprose/rpc-node': { generation: 3, lacks: {} },
  '@hprose/rpc-html5': { generation: 3, lacks: {} },
}

export type Settled = { ok: true; value: Norm } | { ok: false; error: string }

export interface CallOptions {
  /** The call sends or returns bytes (hprose-js needs its binary mode for that). */
  bytes?: boolean
}

export interface Peer {
  /** Sends the value of the named case (values.ts) through Echo; the reply, normalized. */
  echo(caseName: string): Promise<Norm>
  /** Any call; rejects with the node's error text (the E reply) as the message. */
  call(method: string, args: WireArg[], options?: CallOptions): Promise<Norm>
  /** Function names the client fetched itself, the request it sent for them, and an Echo through them. */
  functionList(): Promise<{ names: string[]; request: string; echo: Norm }>
  /** 2.x: the calls sent as one batch; each call's outcome and the requests that went out. */
  batch(calls: [string, WireArg[]][]): Promise<{ settled: Settled[]; requests: string[] }>
  /** 2.x: Echo(list) with byref; the result, and the client's argument after the reply. */
  byref(list: number[]): Promise<{ result: Norm; argReplaced: boolean; arg: Norm; requests: string[] }>
  /** 3.x: a call carrying `H` request headers; result, response headers and the request sent. */
  callWithHeaders(headers: Record<string, WireArg>, method: string, args: WireArg[]): Promise<{ result: Norm; responseHeaders: Norm; request: string }>
  /** n Echo calls started at once on one client (one socket over WebSocket); results in call order. */
  echoMany(n: number): Promise<Norm[]>
  /** WebSocket: the subprotocol the client's own socket negotiated. */
  socketProtocol(): Promise<string>
  close(): Promise<void>
}

const text = (request: unknown) => (typeof request === 'string' ? request : new TextDecoder().decode(request as Uint8Array))
const settle = (p: PromiseLike<unknown>): Promise<Settled> =>
  Promise.resolve(p).then(
    (value) => ({ ok: true as const, value: normalize(value) }),
    (err) => ({ ok: false as const, error: (err as Error).message }),
  )
/** Rejections carry the node's text as a plain Error, the same for every client and the child peer. */
const plainError = (err: unknown): never => {
  throw new Error(err instanceof Error ? err.message : String(err))
}
const unsupported = (what: string) => Promise.reject(new Error(`${what} is not part of this client's protocol generation`))

/** The value of the `i`-th call of echoMany: different sizes, so replies may come back in any order. */
export const manyValue = (i: number) => [i, 'v'.repeat(i % 50)]

// ---------------------------------------------------------------------------------------------
// Hprose 2.x: hprose (Node), hprose-html5 and hprose-js share one client API.

type Hprose2Client = any
interface Hprose2Lib {
  HttpClient: { create(uri: string, functions?: unknown, settings?: object): Hprose2Client }
  WebSocketClient: { create(uri: string, functions?: unknown, settings?: object): Hprose2Client }
  ClassManager: { register(cls: Function, alias: string): void }
  /** hprose-js only: wraps a binary string as bytes. */
  binary?: (bs: string) => unknown
}

export function hprose2Peer(client: ClientName, lib: Hprose2Lib, url: string): Peer {
  lib.ClassManager.register(Person, 'Person')
  const factory = url.startsWith('ws') ? lib.WebSocketClient : lib.HttpClient
  const settings = { timeout: CALL_TIMEOUT_MS }
  const opened: Hprose2Client[] = []
  const requests: string[] = []
  /** With `functions` undefined the client is left to fetch the list itself. */
  const open = (extra: object, functions: unknown) => {
    const c = factory.create(url, functions, { ...settings, ...extra })
    c.addFilter({ inputFilter: (data: unknown) => data, outputFilter: (data: unknown) => (requests.push(text(data)), data) })
    opened.push(c)
    return c
  }
  const main = open({}, [])
  // hprose-js: bytes only in binary mode, as BinaryString values.
  const binaryMode = client === 'hprose-js'
  let binaryClient: Hprose2Client | undefined
  const clientFor = (bytes: boolean | undefined) => (bytes && binaryMode ? (binaryClient ??= open({ binary: true }, [])) : main)
  const makeBytes = (b: Uint8Array) => (binaryMode ? lib.binary!(Array.from(b, (c) => String.fromCharCode(c)).join('')) : b)
  const since = (start: number) => requests.slice(start)

  return {
    async echo(caseName) {
      const c = valueCase(caseName)
      let value = c.make()
      if (c.needs === 'bytes') value = makeBytes(value as Uint8Array)
      // Maps with non-string keys come back as Map only when the reader is asked for them.
      return normalize(await clientFor(c.needs === 'bytes').invoke('Echo', [value], { useHarmonyMap: c.needs === 'maps' }))
    },
    async call(method, args, options = {}) {
      return normalize(await Promise.resolve(clientFor(options.bytes).invoke(method, reviveArgs(args, makeBytes))).catch(plainError))
    },
    async functionList() {
      // 2.x clients ask for the list (a bare `z`) only where Proxy is missing (docs/hprose.md §6), so
      // build this one as an engine without Proxy would, with no function list given.
      const savedProxy = globalThis.Proxy
      const start = requests.length
      let c: Hprose2Client
      ;(globalThis as { Proxy?: unknown }).Proxy = undefined
      try {
        c = open({}, undefined)
      } finally {
        globalThis.Proxy = savedProxy
      }
      const stub = await c.ready()
      const names = Object.keys(stub).filter((k) => typeof stub[k] === 'function')
      return { names, request: requests[start] ?? '', echo: normalize(await stub.Echo('through the list')) }
    },
    async batch(calls) {
      const start = requests.length
      main.batch.begin()
      const pending = calls.map(([method, args]) => settle(main.invoke(method, reviveArgs(args, makeBytes))))
      // end() sends the request; it rejects only if the transport failed.
      const [settled] = await Promise.all([Promise.all(pending), Promise.resolve(main.batch.end())])
      return { settled, requests: since(start) }
    },
    async byref(list) {
      const start = requests.length
      const args: unknown[] = [list]
      const result = await main.invoke('Echo', args, { byref: true })
      return { result: normalize(result), argReplaced: args[0] !== list, arg: normalize(args[0]), requests: since(start) }
    },
    callWithHeaders: () => unsupported('H headers'),
    async echoMany(n) {
      const results = await Promise.all(Array.from({ length: n }, (_, i) => main.invoke('Echo', [manyValue(i)])))
      return results.map((r) => normalize(r))
    },
    socketProtocol: () => unsupported('the socket protocol check'),
    async close() {
      for (const c of opened) c.close?.()
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Hprose 3.x: @hprose/rpc-core with the transports of @hprose/rpc-node or @hprose/rpc-html5.

interface RpcCore {
  Client: new (uri: string) => any
  ClientContext: new (items?: object) => any
  DefaultClientCodec: new () => { longType: string; dictType: string }
}
interface HproseIo {
  TypeManager: { register(type: Function, name: string): void }
}

export function hprose3Peer(core: RpcCore, io: HproseIo, url: string): Peer {
  io.TypeManager.register(Person, 'Person')
  const opened = new Map<string, any>()
  const requests: string[] = []
  // One client per codec setting: longType/dictType belong to the codec, not to a call.
  const clientFor = (feature?: Feature) => {
    const key = feature === 'bigint' || feature === 'maps' ? feature : 'default'
    let client = opened.get(key)
    if (!client) {
      client = new core.Client(url)
      client.timeout = CALL_TIMEOUT_MS
      const codec = new core.DefaultClientCodec()
      if (key === 'bigint') codec.longType = 'bigint'
      if (key === 'maps') codec.dictType = 'map'
      client.codec = codec
      client.use((request: Uint8Array, context: unknown, next: (r: Uint8Array, c: unknown) => Promise<Uint8Array>) => {
        requests.push(text(request))
        return next(request, context)
      })
      opened.set(key, client)
    }
    return client
  }
  const main = clientFor()

  return {
    async echo(caseName) {
      const c = valueCase(caseName)
      return normalize(await clientFor(c.needs).invoke('Echo', [c.make()]))
    },
    async call(method, args) {
      return normalize(await main.invoke(method, reviveArgs(args, (b) => b)).catch(plainError))
    },
    async functionList() {
      const start = requests.length
      const service = await main.useServiceAsync()
      return { names: Object.keys(service), request: requests[start] ?? '', echo: normalize(await service.Echo('through the list')) }
    },
    batch: () => unsupported('batch'),
    byref: () => unsupported('byref'),
    async callWithHeaders(headers, method, args) {
      const start = requests.length
      const context = new core.ClientContext({ requestHeaders: headers })
      const result = await main.invoke(method, reviveArgs(args, (b) => b), context)
      return { result: normalize(result), responseHeaders: normalize({ ...context.responseHeaders }), request: requests[start] ?? '' }
    },
    async echoMany(n) {
      const results = await Promise.all(Array.from({ length: n }, (_, i) => main.invoke('Echo', [manyValue(i)])))
      return results.map((r) => normalize(r))
    },
    async socketProtocol() {
      // rpc-html5 keeps a promise of each uri's WebSocket on its transport.
      const socket = await main.websocket?.websockets?.[url]
      if (!socket) throw new Error('no WebSocket open for ' + url)
      return socket.protocol
    },
    async close() {
      await Promise.all([...opened.values()].map((c) => c.abort()))
    },
  }
}
