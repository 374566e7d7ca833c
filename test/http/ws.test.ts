// The WebSocket binding of the RPC endpoint seen with raw sockets: framing, subprotocol, concurrency, bad messages.
import { afterEach, describe, expect, test } from 'bun:test'
import { hproseFrame, nextEvent, openSocket, parseFrame } from '../compat/frames.ts'
import { type Endpoint, useNode } from '../compat/node.ts'

const node = useNode()
const sockets: WebSocket[] = []

async function socket(kind: Exclude<Endpoint, 'http'>, protocols?: string[]): Promise<WebSocket> {
  const ws = await openSocket(node().endpoint(kind), protocols)
  sockets.push(ws)
  return ws
}

afterEach(async () => {
  const open = sockets.splice(0).filter((ws) => ws.readyState !== WebSocket.CLOSED)
  await Promise.all(
    open.map((ws) => {
      const closed = nextEvent(ws, 'close')
      ws.close()
      return closed
    }),
  )
})

/** Sends one request and resolves with the body of the reply that carries its id. */
function call(ws: WebSocket, id: number, body: string | Uint8Array): Promise<string> {
  return new Promise((resolve) => {
    const onMessage = (event: MessageEvent) => {
      const reply = parseFrame(event.data)
      if (reply.id !== id) return
      ws.removeEventListener('message', onMessage)
      resolve(reply.body)
    }
    ws.addEventListener('message', onMessage)
    ws.send(hproseFrame(id, body))
  })
}

describe('framing', () => {
  for (const kind of ['ws', 'ws3'] as const) {
    test(`/${kind}/: the reply carries the request's 4-byte id`, async () => {
      const ws = await socket(kind)
      expect(await call(ws, 1, 'Cs4"Echo"a1{s2"hi"}z')).toBe('Rs2"hi"z')
      expect(await call(ws, 0x7fffffff, 'Cs4"Echo"a1{1}z')).toBe('R1z')
      expect(await call(ws, 0x80000001, 'Cs4"Echo"a1{2}z')).toBe('R2z')
    })
  }

  test('2.x batch, byref and function list work in one frame each', async () => {
    const ws = await socket('ws')
    expect(await call(ws, 8, 'Cs4"Echo"a1{1}Cs13"NoSuchSyscall"a1{1}Cs4"Echo"a1{ux}z')).toMatch(/^R1Es\d+"NotFound: [^"]*"Ruxz$/)
    expect(await call(ws, 9, 'Cs4"Echo"a1{a3{312}}tz')).toBe('Ra3{312}Aa1{a3{312}}z')
    expect(await call(ws, 10, 'z')).toStartWith('Fa')
  })

  test('a bad request inside a good frame gets E…z under its id, and the socket stays usable', async () => {
    const ws = await socket('ws3')
    expect(await call(ws, 5, 'Xz')).toMatch(/^Es\d+"InvalidRequest: .*"z$/)
    expect(await call(ws, 6, 'Cs4"Echo"a1{1}z')).toBe('R1z')
  })
})

test('200 requests sent at once on one socket are all answered under their own ids', async () => {
  const ws = await socket('ws3')
  const replies = new Map<number, string>()
  const all = new Promise<void>((resolve) => {
    ws.addEventListener('message', (event) => {
      const reply = parseFrame(event.data)
      replies.set(reply.id, reply.body)
      if (replies.size === 200) resolve()
    })
  })
  // Bodies of different sizes (2..201 chars), so nothing forces the replies into request order.
  const text = (id: number) => `s${id + 1}"${'x'.repeat(id + 1)}"`
  for (let id = 1; id <= 200; id++) ws.send(hproseFrame(id, `Cs4"Echo"a1{${text(id)}}z`))
  await all
  for (let id = 1; id <= 200; id++) expect(replies.get(id)).toBe(`R${text(id)}z`)
})

describe('subprotocol', () => {
  for (const kind of ['ws', 'ws3'] as const) {
    test(`/${kind}/ echoes the requested \`hprose\` subprotocol (as @hprose/rpc-html5 asks)`, async () => {
      const ws = await socket(kind, ['hprose'])
      expect(ws.protocol).toBe('hprose')
      expect(await call(ws, 1, 'Cs4"Echo"a1{1}z')).toBe('R1z')
    })
  }

  test('a socket without a subprotocol gets none', async () => {
    expect((await socket('ws')).protocol).toBe('')
  })
})

describe('messages that are not <4-byte id><request> close that socket only', () => {
  const cases: [string, string | Uint8Array][] = [
    ['a text message', 'Cs4"Echo"a1{1}z'],
    ['a binary message shorter than 4 bytes', new Uint8Array([0, 0, 1])],
    ['an empty binary message', new Uint8Array(0)],
  ]
  for (const [what, message] of cases) {
    test(what, async () => {
      const bystander = await socket('ws')
      expect(await call(bystander, 1, 'Cs4"Echo"a1{1}z')).toBe('R1z')

      const bad = await socket('ws')
      const closed = nextEvent(bad, 'close')
      bad.send(message)
      expect((await closed).code).toBe(1003)

      expect(await call(bystander, 2, 'Cs4"Echo"a1{2}z')).toBe('R2z')
      expect(await call(await socket('ws3'), 3, 'Cs4"Echo"a1{3}z')).toBe('R3z')
    })
  }
})

describe('message size limit (maxBodyBytes 4096)', () => {
  const limited = useNode({ maxBodyBytes: 4096 })

  // Bun has one websocket config per server, so the limit is set server-wide
  // (runtime/http/rpc.ts websocketOptions); per-route options would be ignored.
  test('a message over the limit closes that socket with 1009', async () => {
    const ws = await openSocket(limited().endpoint('ws'))
    sockets.push(ws)
    const outcome = Promise.race([nextEvent(ws, 'close'), nextEvent(ws, 'message')])
    ws.send(hproseFrame(1, `Cs4"Echo"a1{s100000"${'x'.repeat(100_000)}"}z`))
    const event = await outcome
    expect(event.type).toBe('close')
    expect((event as CloseEvent).code).toBe(1009)
  })
})
