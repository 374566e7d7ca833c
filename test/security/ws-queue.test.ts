// Issue 8 defect 4(b): requests waiting on one WebSocket are bounded in count and bytes; past either, the socket is closed with a reason.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { hproseFrame, nextEvent, openSocket, parseFrame } from '../compat/frames.ts'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'
import { login } from '../mimei/files-setup.ts'

/** A guard that turns a hang into a clear failure; it is not what the test measures. */
const GUARD_MS = 30_000

let node: TestKernel
let sid: string
beforeAll(async () => {
  node = await bootTest()
  sid = await login(node)
})
afterAll(() => node[Symbol.asyncDispose]())

const socketUrl = (n: TestKernel = node) => `${n.url.replace(/^http/, 'ws')}/ws/`

/** `PullMsg(sid, seconds)` as one Hprose call: it holds its slot until the time is up. */
function pullFrame(id: number, seconds: number, sid: string): Uint8Array {
  return hproseFrame(id, `Cs7"PullMsg"a2{s${sid.length}"${sid}"${seconds < 10 ? seconds : `i${seconds};`}}z`)
}

/** Resolves with the close event, or rejects once the guard runs out. */
function closed(ws: WebSocket): Promise<CloseEvent> {
  return Promise.race([
    nextEvent(ws, 'close'),
    Bun.sleep(GUARD_MS).then(() => Promise.reject(new Error(`the socket was not closed within ${GUARD_MS} ms`))),
  ])
}

/** Pings (Bun's client can) and resolves on the pong, after the node took every frame sent before. */
function pong(ws: WebSocket): Promise<undefined> {
  const got = new Promise<undefined>((resolve) => ws.addEventListener('pong', () => resolve(undefined), { once: true }))
  ;(ws as unknown as { ping(): void }).ping()
  return got
}

/** Fills the 256 running slots with minute-long PullMsg calls. */
function fillSlots(ws: WebSocket, session = sid) {
  for (let id = 1; id <= 256; id++) ws.send(pullFrame(id, 60, session))
}

describe('one WebSocket cannot queue without bound', () => {
  test('256 PullMsg(60) and then 8 MiB frames: the socket is closed with 1008 and a reason', async () => {
    const ws = await openSocket(socketUrl())
    const done = closed(ws)
    fillSlots(ws)
    const big = new Uint8Array(8 * 1024 * 1024 + 4)
    for (let i = 0; i < 60 && ws.readyState === WebSocket.OPEN; i++) {
      big.set(hproseFrame(1000 + i, ''))
      ws.send(big)
    }
    const event = await done
    expect(event.code).toBe(1008)
    expect(event.reason).toMatch(/MiB of requests waiting on this socket/)
  })

  test('256 PullMsg(60) and then many small requests: closed past the count limit', async () => {
    const ws = await openSocket(socketUrl())
    const done = closed(ws)
    fillSlots(ws)
    for (let id = 1000; id < 3000 && ws.readyState === WebSocket.OPEN; id++) ws.send(hproseFrame(id, 'Cs4"Echo"a1{1}z'))
    const event = await done
    expect(event.code).toBe(1008)
    expect(event.reason).toMatch(/requests waiting on this socket/)
  })

  test('an honest burst past the running slots is queued and answered in full', async () => {
    const ws = await openSocket(socketUrl())
    const replies = new Map<number, string>()
    const all = new Promise<void>((resolve) =>
      ws.addEventListener('message', (event) => {
        const reply = parseFrame(event.data)
        replies.set(reply.id, reply.body)
        if (replies.size === 700) resolve()
      }),
    )
    const text = (id: number) => `s${`id-${id}`.length}"id-${id}"`
    for (let id = 1; id <= 700; id++) ws.send(hproseFrame(id, `Cs4"Echo"a1{${text(id)}}z`))
    await all
    expect(ws.readyState).toBe(WebSocket.OPEN)
    for (let id = 1; id <= 700; id++) expect(replies.get(id)).toBe(`R${text(id)}z`)
    const gone = nextEvent(ws, 'close')
    ws.close()
    await gone
  })

  test('after a socket is closed for its queue, the node serves new sockets', async () => {
    const ws = await openSocket(socketUrl())
    const reply = nextEvent(ws, 'message')
    ws.send(hproseFrame(5, 'Cs4"Echo"a1{s2"ok"}z'))
    expect(parseFrame((await reply).data).body).toBe('Rs2"ok"z')
    ws.close()
  })
})

describe('all WebSockets together cannot queue without bound', () => {
  test('sockets that each stay under their own limit: past the node\'s limit the socket holding the most is closed with 1013', async () => {
    // 16 KiB bodies: 64 KiB per socket, 256 KiB for the node.
    await using small = await bootTest({ maxBodyBytes: 16 * 1024 })
    const session = await login(small)
    const sockets: WebSocket[] = []
    const refused: CloseEvent[] = []
    try {
      for (let n = 0; n < 10; n++) {
        const ws = await openSocket(socketUrl(small))
        ws.addEventListener('close', (e) => refused.push(e))
        fillSlots(ws, session)
        for (let i = 0; i < 3; i++) ws.send(new Uint8Array(16 * 1024))
        // Every reply waits behind the minute-long pulls, but a ping is answered as soon as the frames
        // before it were taken: a pong means they were accepted.
        await Promise.race([nextEvent(ws, 'close'), pong(ws)])
        sockets.push(ws)
      }
      // Each socket holds over 48 KiB: at most four fit in 256 KiB, older ones were closed to make room
      // (fewer fit as time goes: the pulls of a closed socket hold their bytes until they end).
      const stillOpen = async (ws: WebSocket) =>
        ws.readyState === WebSocket.CLOSED ? false : Promise.race([nextEvent(ws, 'close').then(() => false), pong(ws).then(() => true)])
      const open = (await Promise.all(sockets.map(stillOpen))).filter(Boolean).length
      expect(open).toBeGreaterThanOrEqual(1)
      expect(open).toBeLessThanOrEqual(4)
      expect(refused.length).toBe(10 - open)
      for (const e of refused) {
        expect(e.code).toBe(1013)
        expect(e.reason).toMatch(/the node holds more than 256 KiB of waiting requests/)
      }
      // The newest socket, which holds no more than any other, was kept.
      expect(sockets[9]!.readyState).toBe(WebSocket.OPEN)
    } finally {
      for (const ws of sockets) ws.close()
    }
  })
})
