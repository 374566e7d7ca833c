// The one Hprose client (CLI, node-to-node calls, browser SDK): results, the node's errors, and the client's own.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { callRemote, decodeReply, encodeCall, RemoteCallError, TransportError } from '../../runtime/rpc/client.ts'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'

let node: TestKernel
/** A server that is not a Leither node; each path answers one way. */
let other: ReturnType<typeof Bun.serve>
/** Requests the hanging path holds: released at the end. */
const held: (() => void)[] = []

beforeAll(async () => {
  node = await bootTest()
  other = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req) {
      const path = new URL(req.url).pathname
      if (path === '/html/webapi/') return new Response('<html>not here</html>', { status: 404 })
      if (path === '/garbage/webapi/') return new Response('Rs99"cut short')
      if (path === '/xyz/webapi/') return new Response('xyz')
      if (path === '/long/webapi/') return new Response(new Uint8Array(5000).fill(0x35))
      return new Promise<Response>((resolve) => held.push(() => resolve(new Response('Rnz'))))
    },
  })
})
afterAll(async () => {
  for (const release of held) release()
  other.stop(true)
  await node[Symbol.asyncDispose]()
})

const base = () => `http://127.0.0.1:${other.port}`

/** The error a call fails with (the test fails if it does not). */
async function failed(p: Promise<unknown>): Promise<RemoteCallError> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  )
  expect(err).toBeInstanceOf(RemoteCallError)
  return err as RemoteCallError
}

describe('callRemote against a node', () => {
  test('returns the result; a trailing slash in the URL is fine', async () => {
    expect(await callRemote(node.url, 'Echo', [{ a: [1, 'two'] }])).toEqual({ a: [1, 'two'] })
    expect(await callRemote(`${node.url}/`, 'Echo', ['x'])).toBe('x')
  })

  test("an E reply is a RemoteCallError whose code is the node's wire code", async () => {
    const err = await failed(callRemote(node.url, 'MonitorStats', ['', {}]))
    expect(err.code).toBe('PermissionDenied')
    expect(err.message).toStartWith('PermissionDenied: ')
    expect(err).not.toBeInstanceOf(TransportError)
    expect((await failed(callRemote(node.url, 'NoSuchCall', []))).code).toBe('NotFound')
  })
})

describe("the client's own errors", () => {
  test('nobody listening: Transport, saying the node cannot be reached', async () => {
    const closed = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') })
    const gone = `http://127.0.0.1:${closed.port}`
    closed.stop(true)
    const err = await failed(callRemote(gone, 'Echo', [1]))
    expect(err).toBeInstanceOf(TransportError)
    expect(err.code).toBe('Transport')
    expect(err.message).toStartWith(`Transport: cannot reach the node at ${gone}`)
  })

  test('an HTTP error status: Transport, with the status and the start of the body', async () => {
    const err = await failed(callRemote(`${base()}/html`, 'Echo', [1]))
    expect(err).toBeInstanceOf(TransportError)
    expect(err.message).toBe(`Transport: the node at ${base()}/html answered HTTP 404: <html>not here</html>`)
  })

  test('a reply that is not Hprose, or longer than allowed: Protocol', async () => {
    expect((await failed(callRemote(`${base()}/xyz`, 'Echo', [1]))).message).toBe("Protocol: the reply starts with 'x', not R or E")
    expect((await failed(callRemote(`${base()}/garbage`, 'Echo', [1]))).code).toBe('Protocol')
    const long = await failed(callRemote(`${base()}/long`, 'Echo', [1], 30_000, { maxReplyBytes: 4096 }))
    expect(long.message).toBe(`Protocol: the reply from ${base()}/long is longer than 4096 bytes`)
  })

  test('no reply in time: Timeout; a call aborted by its caller: Transport', async () => {
    const slow = await failed(callRemote(`${base()}/hang`, 'Echo', [1], 200))
    expect(slow.code).toBe('Timeout')
    expect(slow).not.toBeInstanceOf(TransportError)
    const stop = new AbortController()
    const call = callRemote(`${base()}/hang`, 'Echo', [1], 30_000, { signal: stop.signal })
    stop.abort()
    expect((await failed(call)).message).toBe('Transport: the client was closed before the reply came')
  })
})

test('encodeCall and decodeReply are the bytes of docs/hprose.md', () => {
  expect(new TextDecoder().decode(encodeCall('Echo', [1, 'a']))).toBe('Cs4"Echo"a2{1ua}z')
  expect(decodeReply(new TextEncoder().encode('Rs5"hello"z'))).toBe('hello')
  expect(() => decodeReply(new TextEncoder().encode('Es23"NotFound: no such thing"z'))).toThrow(/^NotFound: no such thing$/)
})
