// A PullMsg whose connection is gone takes nothing: the message it would have taken stays unread
// for the caller's next pull. (An HTTP client that leaves is noticed when its connection closes,
// at no moment a test can await; the browser client's tests cover that path.)
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { hproseFrame, nextEvent, openSocket } from '../compat/frames.ts'
import { bootTest, callLocal, ownerKey, type TestKernel } from '../helpers/kernel.ts'
import { login } from '../mimei/files-setup.ts'
import { keyId } from '../../runtime/identity/index.ts'

let node: TestKernel
let sid: string
let owner: string
beforeAll(async () => {
  node = await bootTest()
  sid = await login(node)
  owner = keyId(ownerKey(node).publicKey)
})
afterAll(() => node[Symbol.asyncDispose]())

/** `PullMsg(sid, 30)` as an Hprose request body. */
const pullBody = (sid: string) => `Cs7"PullMsg"a2{s${sid.length}"${sid}"i30;}z`

/** Pings and resolves on the pong: the node has taken every frame sent before. */
function pong(ws: WebSocket): Promise<void> {
  const got = new Promise<void>((resolve) => ws.addEventListener('pong', () => resolve(), { once: true }))
  ;(ws as unknown as { ping(): void }).ping()
  return got
}

async function sendAndRead(body: string): Promise<unknown[]> {
  const other = await login(node)
  await callLocal(node, 'SendMsg', other, { to: owner, body })
  return ((await callLocal(node, 'ReadMsg', other)) as { body: unknown }[]).map((m) => m.body)
}

describe('PullMsg after its connection is gone', () => {
  test('a WebSocket closed while its PullMsg waits: the next message stays unread', async () => {
    const ws = await openSocket(`${node.url.replace(/^http/, 'ws')}/ws/`)
    ws.send(hproseFrame(1, pullBody(sid)))
    await pong(ws)
    ws.close()
    await nextEvent(ws, 'close')
    expect(await sendAndRead('after the socket closed')).toEqual(['after the socket closed'])
  })

})
