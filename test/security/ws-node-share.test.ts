// Issue 8 defect 4(b), found by bench/soak.ts: when the WebSockets together hold the node's limit, the socket holding the most is closed, not an honest newcomer.
import { expect, test } from 'bun:test'
import { hproseFrame, nextEvent, openSocket, parseFrame } from '../compat/frames.ts'
import { bootTest } from '../helpers/kernel.ts'
import { login } from '../mimei/files-setup.ts'

/** A guard that turns a hang into a clear failure; it is not what the test measures. */
const GUARD_MS = 30_000
const KiB = 1024

/** Pings and resolves on the pong: the node took every frame sent before it (or rejects when the socket closes first). */
function accepted(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('pong', () => resolve(), { once: true })
    ws.addEventListener('close', (e) => reject(new Error(`closed ${e.code} ${e.reason}`)), { once: true })
    ;(ws as unknown as { ping(): void }).ping()
  })
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, Bun.sleep(GUARD_MS).then(() => Promise.reject(new Error(`${what}: nothing within ${GUARD_MS} ms`)))])
}

test('four sockets filled to their own limit leave the node full: an honest Echo is answered and the largest holder is closed with 1013', async () => {
  // 16 KiB bodies: 64 KiB per socket, 256 KiB for the node.
  await using node = await bootTest({ maxBodyBytes: 16 * KiB })
  const sid = await login(node)
  const url = `${node.url.replace(/^http/, 'ws')}/ws/`
  const pull = (id: number) => hproseFrame(id, `Cs7"PullMsg"a2{s${sid.length}"${sid}"i60;}z`)

  const floods: WebSocket[] = []
  const closes: CloseEvent[] = []
  const { promise: firstClose, resolve: closed } = Promise.withResolvers<void>()
  for (let n = 0; n < 4; n++) {
    const ws = await openSocket(url)
    ws.addEventListener('close', (e) => (closes.push(e), closed()))
    // 256 minute-long pulls take the running slots; frames after them wait, up to exactly 64 KiB held.
    let left = 64 * KiB
    for (let id = 1; id <= 256; id++) {
      const f = pull(id)
      ws.send(f)
      left -= f.length
    }
    for (; left > 0; left -= Math.min(left, 16 * KiB)) ws.send(new Uint8Array(Math.min(left, 16 * KiB)))
    await within(accepted(ws), `flood socket ${n}`)
    floods.push(ws)
  }
  expect(closes).toEqual([])

  // The node now holds its whole limit. An honest socket's small call must still be answered.
  const honest = await openSocket(url)
  try {
    const first = Promise.race([nextEvent(honest, 'message'), nextEvent(honest, 'close')])
    honest.send(hproseFrame(7, 'Cs4"Echo"a1{s2"ok"}z'))
    const event = await within(first, 'the honest reply')
    expect(event.type === 'close' ? `closed ${(event as CloseEvent).code} ${(event as CloseEvent).reason}` : 'answered').toBe('answered')
    expect(parseFrame((event as MessageEvent).data).body).toBe('Rs2"ok"z')
    expect(honest.readyState).toBe(WebSocket.OPEN)

    // Room was made by closing one of the flood sockets, with 1013 and a reason.
    await within(firstClose, 'a flood socket to close')
    expect(closes.length).toBe(1)
    expect(closes[0]!.code).toBe(1013)
    expect(closes[0]!.reason).toMatch(/the node holds more than 256 KiB of waiting requests/)
    expect(floods.filter((ws) => ws.readyState === WebSocket.OPEN).length).toBe(3)
  } finally {
    for (const ws of [honest, ...floods]) ws.close()
  }
})
