// The Hprose client, one for the CLI, the node's calls to other nodes, tests and the browser SDK
// (bundled into /lib/leither.js): a call's bytes, its reply, one POST /webapi/, and their errors.
import { readBody } from './body.ts'
import { HproseDecodeError, Reader, Tag, tagName, Writer } from './codec/index.ts'

/**
 * An error the node answered with (its `E` reply), or one of the client's own: `Transport` (the
 * connection failed), `Timeout` (no reply in time), `Protocol` (the reply is not Hprose). `code`
 * is the stable prefix of the text (PermissionDenied, NotFound …). The browser SDK exports this
 * class as LeitherError, the name its errors carry.
 */
export class RemoteCallError extends Error {
  readonly code: string
  constructor(text: string) {
    super(text)
    this.code = /^(\w+):/.exec(text)?.[1] ?? 'Error'
    this.name = 'LeitherError'
  }
}

/** code `Transport`: the connection failed; the call may or may not have run on the node (it is not resent). */
export class TransportError extends RemoteCallError {
  constructor(text: string) {
    super(`Transport: ${text}`)
    this.name = 'TransportError'
  }
}

/** The request body of one call: `C` name, the argument list, `z`. */
export function encodeCall(method: string, args: unknown[]): Uint8Array {
  return new Writer().writeTag(Tag.Call).write(method).reset().write(args).writeTag(Tag.End).toBytes()
}

/** The result of a reply body; an `E` reply is thrown as RemoteCallError, bytes that are not a reply as code Protocol. */
export function decodeReply(bytes: Uint8Array): unknown {
  let tag: number
  let value: unknown
  try {
    const reader = new Reader(bytes)
    tag = reader.readTag()
    if (tag !== Tag.Error && tag !== Tag.Result) throw new RemoteCallError(`Protocol: the reply starts with ${tagName(tag)}, not R or E`)
    value = tag === Tag.Error ? reader.readString() : reader.readValue()
  } catch (err) {
    if (err instanceof HproseDecodeError) throw new RemoteCallError(`Protocol: the reply is not Hprose (${err.message})`)
    throw err
  }
  if (tag === Tag.Error) throw new RemoteCallError(value as string)
  return value
}

export interface PostOptions {
  /** Per-call timeout in ms (default 30 s); past it the call fails with code Timeout. */
  readonly timeoutMs?: number
  /** Aborts the call (code Transport: the client was closed). */
  readonly signal?: AbortSignal
  /** Largest reply read; a longer one fails with code Protocol (default: no limit). */
  readonly maxReplyBytes?: number
  /** fetch's credentials (the browser SDK sends the page's cookies with 'include'). */
  readonly credentials?: RequestCredentials
}

/** POSTs a request body to `<url>/webapi/` and returns the reply body. */
export async function postBody(url: string, body: Uint8Array, options: PostOptions = {}): Promise<Uint8Array> {
  const base = url.replace(/\/+$/, '')
  const timeoutMs = options.timeoutMs ?? 30_000
  const timeout = AbortSignal.timeout(timeoutMs)
  let res: Response
  try {
    res = await fetch(`${base}/webapi/`, {
      method: 'POST',
      body: body as Uint8Array<ArrayBuffer>,
      redirect: 'error',
      ...(options.credentials ? { credentials: options.credentials } : {}),
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    })
  } catch (e) {
    const err = e as Error
    if (timeout.aborted) throw new RemoteCallError(`Timeout: no reply from ${base} within ${timeoutMs} ms`)
    if (options.signal?.aborted) throw new TransportError('the client was closed before the reply came')
    throw new TransportError(`cannot reach the node at ${base} (${err.message}); is it running?`)
  }
  if (res.status !== 200) {
    const text = (await res.text().catch(() => '')).slice(0, 200)
    throw new TransportError(`the node at ${base} answered HTTP ${res.status}${text ? `: ${text}` : ''}`)
  }
  try {
    return await readCapped(res, options.maxReplyBytes ?? Infinity, base)
  } catch (err) {
    if (err instanceof RemoteCallError) throw err
    if (timeout.aborted) throw new RemoteCallError(`Timeout: no reply from ${base} within ${timeoutMs} ms`)
    throw new TransportError(`the reply from ${base} broke off (${(err as Error).message})`)
  }
}

async function readCapped(res: Response, max: number, base: string): Promise<Uint8Array> {
  const tooBig = () => new RemoteCallError(`Protocol: the reply from ${base} is longer than ${max} bytes`)
  if (Number(res.headers.get('content-length') ?? 0) > max) throw tooBig()
  if (max === Infinity || !res.body) return new Uint8Array(await res.arrayBuffer())
  const bytes = await readBody(res.body, max)
  if (!bytes) throw tooBig()
  return bytes
}

/** One call over POST /webapi/: its result, or the error the node answered (RemoteCallError). */
export async function callRemote(url: string, method: string, args: unknown[], timeoutMs = 30_000, options: Omit<PostOptions, 'timeoutMs'> = {}): Promise<unknown> {
  return decodeReply(await postBody(url, encodeCall(method, args), { ...options, timeoutMs }))
}
