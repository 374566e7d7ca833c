// The HTTP binding of the RPC endpoint seen with raw fetch: status, headers, CORS, body limit, function list, bad bodies.
import { describe, expect, test } from 'bun:test'
import { createRequire } from 'node:module'
import { useNode } from '../compat/node.ts'

// The official 2.x reader decodes replies here, so these checks do not lean on the node's own codec.
const hprose = createRequire(import.meta.url)('hprose') as { Formatter: { unserialize(bytes: Uint8Array): unknown } }

interface Reply {
  status: number
  headers: Headers
  bytes: Uint8Array
  text: string
}

/** A page origin the nodes below allow (allowedOrigins); any other would be refused. */
const APP = 'https://app.example'

/** Bad requests must be answered at once (the official 2.x server waits 10 s, docs/hprose.md §6). */
const PROMPT_MS = 2_000

async function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, { method: 'POST', body: body as BodyInit, headers, signal: AbortSignal.timeout(PROMPT_MS) })
  const bytes = new Uint8Array(await res.arrayBuffer())
  return { status: res.status, headers: res.headers, bytes, text: new TextDecoder().decode(bytes) }
}

/** The value between a reply's leading tag (R, E or F) and its final z, read by the official reader. */
function payload(reply: Reply, tag: 'R' | 'E' | 'F'): unknown {
  expect(reply.text[0]).toBe(tag)
  expect(reply.text.at(-1)).toBe('z')
  return hprose.Formatter.unserialize(reply.bytes.subarray(1, -1))
}

/** Deterministic "random" bytes (mulberry32), so a failure can be replayed. */
function randomBodies(seed: number, count: number): Uint8Array[] {
  let s = seed
  const next = () => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return Array.from({ length: count }, () => Uint8Array.from({ length: 1 + Math.floor(next() * 300) }, () => Math.floor(next() * 256)))
}

describe('POST /webapi/', () => {
  const node = useNode({ allowedOrigins: [APP] })
  const endpoint = () => node().endpoint('http')

  test('a call is answered 200 text/plain with the reply body', async () => {
    const reply = await post(endpoint(), 'Cs4"Echo"a1{s5"hello"}z')
    expect(reply.status).toBe(200)
    expect(reply.headers.get('content-type')).toStartWith('text/plain')
    expect(reply.text).toBe('Rs5"hello"z')
  })

  // Foreign origins are refused (test/security/http-host-origin.test.ts); allowed ones get CORS.
  test('with an allowed Origin, CORS echoes it and allows credentials (browser clients send withCredentials)', async () => {
    const reply = await post(endpoint(), 'Cs4"Echo"a1{1}z', { origin: APP })
    expect(reply.status).toBe(200)
    expect(reply.headers.get('access-control-allow-origin')).toBe(APP)
    expect(reply.headers.get('access-control-allow-credentials')).toBe('true')
    expect(reply.text).toBe('R1z')
  })

  test('a CORS preflight from an allowed origin is allowed', async () => {
    const res = await fetch(endpoint(), {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    })
    expect(res.status).toBeLessThan(300)
    expect(res.headers.get('access-control-allow-origin')).toBe(APP)
    expect(res.headers.get('access-control-allow-methods')).toContain('POST')
    expect(res.headers.get('access-control-allow-headers')).toContain('content-type')
  })

  test('the request Content-Type does not matter (official clients send none, hprose-js text/plain)', async () => {
    for (const type of ['text/plain; charset=UTF-8', 'application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      expect((await post(endpoint(), 'Cs4"Echo"a1{1}z', { 'content-type': type })).text).toBe('R1z')
    }
  })

  test('the path works without the trailing slash too', async () => {
    expect((await post(`${node().url}/webapi`, 'Cs4"Echo"a1{1}z')).text).toBe('R1z')
  })

  test('method names are looked up case-insensitively', async () => {
    expect((await post(endpoint(), 'Cs4"ECHO"a1{1}z')).text).toBe('R1z')
  })

  test('several calls in one request get one R or E each, in order (2.x batch)', async () => {
    const reply = await post(endpoint(), 'Cs4"Echo"a1{1}Cs13"NoSuchSyscall"a1{1}Cs4"Echo"a1{ux}z')
    expect(reply.text).toMatch(/^R1Es\d+"NotFound: [^"]*"Ruxz$/)
  })

  test('byref (t after the arguments) adds the arguments after the result (2.x)', async () => {
    expect((await post(endpoint(), 'Cs4"Echo"a1{a3{312}}tz')).text).toBe('Ra3{312}Aa1{a3{312}}z')
  })

  test('an H header map before the call is accepted (3.x)', async () => {
    expect((await post(endpoint(), 'Hm1{s4"user"s3"tom"}Cs4"Echo"a1{1}z')).text).toBe('R1z')
  })

  describe('function list', () => {
    const names = () => ['~', ...node().kernel.dispatcher.names()]

    const get = async (url: string): Promise<Reply> => {
      const res = await fetch(url, { signal: AbortSignal.timeout(PROMPT_MS) })
      const bytes = new Uint8Array(await res.arrayBuffer())
      return { status: res.status, headers: res.headers, bytes, text: new TextDecoder().decode(bytes) }
    }

    // Elysia 1.4 does not match a GET registered after POSTs on the same path; the node
    // registers its GETs first (runtime/http/rpc.ts). Both spellings must answer.
    test('GET /webapi/ returns it as F…z', async () => {
      const reply = await get(endpoint())
      expect(reply.status).toBe(200)
      expect(payload(reply, 'F')).toEqual(names())
    })

    test('GET /webapi returns it as F…z', async () => {
      const reply = await get(`${node().url}/webapi`)
      expect(reply.status).toBe(200)
      expect(payload(reply, 'F')).toEqual(names())
    })

    test('a bare z (2.x) gets F…z', async () => {
      expect(payload(await post(endpoint(), 'z'), 'F')).toEqual(names())
    })

    test('a call of ~ (3.x) gets R…z', async () => {
      expect(payload(await post(endpoint(), 'Cu~z'), 'R')).toEqual(names())
    })
  })

  describe('malformed bodies get 200 and an E…z reply at once', () => {
    const expectRefused = async (body: string | Uint8Array) => {
      const reply = await post(endpoint(), body)
      expect(reply.status).toBe(200)
      expect(String(payload(reply, 'E'))).toStartWith('InvalidRequest: ')
    }

    test('an unknown tag: Xz', () => expectRefused('Xz'))
    test('a truncated call: Cs6"GetVar"a2{', () => expectRefused('Cs6"GetVar"a2{'))
    test('a call name that is not a string: Ci5;z', () => expectRefused('Ci5;z'))
    test('an argument list that is a map: Cs4"Echo"m{}z', () => expectRefused('Cs4"Echo"m{}z'))
    test('bytes after the final z: Cs4"Echo"a1{1}zz', () => expectRefused('Cs4"Echo"a1{1}zz'))
    test('a reply sent as a request: R1z', () => expectRefused('R1z'))

    test('random bytes', async () => {
      for (const body of randomBodies(20240611, 40)) await expectRefused(body)
    })

    test('the node still answers good requests afterwards', async () => {
      expect((await post(endpoint(), 'Cs4"Echo"a1{1}z')).text).toBe('R1z')
    })
  })
})

describe('request body limit (maxBodyBytes 4096)', () => {
  const node = useNode({ maxBodyBytes: 4096, allowedOrigins: [APP] })
  const echoOf = (length: number) => `Cs4"Echo"a1{s${length}"${'x'.repeat(length)}"}z`

  test('a body under the limit is served', async () => {
    const body = echoOf(4000)
    expect(body.length).toBeLessThanOrEqual(4096)
    expect((await post(node().endpoint('http'), body)).text).toBe(`Rs4000"${'x'.repeat(4000)}"z`)
  })

  test('a body over the limit gets 413', async () => {
    expect((await post(node().endpoint('http'), echoOf(5000))).status).toBe(413)
  })

  test('a streamed (chunked) body over the limit gets 413', async () => {
    const bytes = new TextEncoder().encode(echoOf(5000))
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 1000) controller.enqueue(bytes.subarray(at, at + 1000))
        controller.close()
      },
    })
    const res = await fetch(node().endpoint('http'), { method: 'POST', body, signal: AbortSignal.timeout(PROMPT_MS) })
    expect(res.status).toBe(413)
  })

  // The node's own 413 (not Bun's) answers, so a browser client can read "413:…".
  test('a 413 carries CORS headers, so browser clients can read it', async () => {
    const reply = await post(node().endpoint('http'), echoOf(5000), { origin: APP })
    expect(reply.status).toBe(413)
    expect(reply.headers.get('access-control-allow-origin')).toBe(APP)
  })
})
