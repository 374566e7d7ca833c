// /lib/leither.js in Chromium: 'message' and 'pubsub' events fed by the client's PullMsg loop, sent
// from another session, and still delivered after the node closed the client's socket.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { bootTest, loginPassport, ownerKey, type TestKernel } from '../helpers/kernel.ts'
import { nodeAndPage } from '../helpers/browser.ts'
import { generateKeyPair, keyId } from '../../runtime/identity/index.ts'

let node: TestKernel
let page: Page
let stop: () => Promise<void>
beforeAll(async () => {
  ;({ node, page, stop } = await nodeAndPage(() => bootTest()))
})
afterAll(() => stop?.())

describe('/lib/leither.js events', () => {
  test("a message sent from another session arrives as 'message', before and after the node closes the socket", async () => {
    const owner = keyId(ownerKey(node).publicKey)
    const out = await page.evaluate(
      async ({ pptA, pptB, owner }) => {
        const { LeitherClient } = await import('/lib/leither.js' as string)
        const a = new LeitherClient()
        const b = new LeitherClient()
        await a.login(pptA)
        await b.login(pptB)
        const got: { body: unknown; from: string; kind: string }[] = []
        let arrived: () => void = () => {}
        const stop = a.on('message', (m: { body: unknown; from: string; kind: string }) => {
          got.push({ body: m.body, from: m.from, kind: m.kind })
          arrived()
        })
        const next = () => new Promise<void>((resolve) => (arrived = resolve))
        let wait = next()
        await b.SendMsg({ to: owner, body: 'first' })
        await wait
        // The node closes A's socket (a text frame breaks its framing); A's loop carries on once it is back.
        const reopened = new Promise((resolve) => a.on('connect', resolve))
        ;(a as unknown as { socket: { socket: WebSocket } }).socket.socket.send('not a frame')
        await reopened
        wait = next()
        await b.SendMsg({ to: owner, body: { n: 2 } })
        await wait
        stop()
        a.close()
        b.close()
        return got
      },
      { pptA: loginPassport(node), pptB: loginPassport(node), owner },
    )
    expect(out).toEqual([
      { body: 'first', from: owner, kind: 'msg' },
      { body: { n: 2 }, from: owner, kind: 'msg' },
    ])
  })

  test("an event published by another session arrives as 'pubsub' on a subscribed client", async () => {
    const owner = keyId(ownerKey(node).publicKey)
    const out = await page.evaluate(
      async ({ pptA, pptB }) => {
        const { LeitherClient } = await import('/lib/leither.js' as string)
        const a = new LeitherClient(undefined, { transport: 'http' })
        const b = new LeitherClient()
        await a.login(pptA)
        await b.login(pptB)
        await a.Subscribe('chat-app', 'room1')
        const event = new Promise<{ app: string; topic: string; data: unknown; from: string }>((resolve) => a.on('pubsub', resolve))
        const sent = await b.Publish('chat-app', 'room1', { text: 'hello' })
        const e = await event
        a.close()
        b.close()
        return { local: sent.local, app: e.app, topic: e.topic, data: e.data, from: e.from }
      },
      // The subscriber is another user: its long poll never waits for the owner's messages the next test sends.
      { pptA: loginPassport(node, generateKeyPair()), pptB: loginPassport(node) },
    )
    expect(out).toEqual({ local: 1, app: 'chat-app', topic: 'room1', data: { text: 'hello' }, from: owner })
  })

  test('the loop stops with the last listener: what its last pull took waits for the next listener, later messages stay unread', async () => {
    const owner = keyId(ownerKey(node).publicKey)
    const out = await page.evaluate(
      async ({ pptA, pptB, owner }) => {
        const { LeitherClient } = await import('/lib/leither.js' as string)
        const a = new LeitherClient()
        const b = new LeitherClient()
        await a.login(pptA)
        await b.login(pptB)
        let arrived: (body: unknown) => void = () => {}
        const stop = a.on('message', (m: { body: unknown }) => arrived(m.body))
        const one = await new Promise((resolve) => {
          arrived = resolve
          void b.SendMsg({ to: owner, body: 'one' })
        })
        // The loop has its next PullMsg waiting; with no listener left it is the last one.
        stop()
        await b.SendMsg({ to: owner, body: 'two' })
        await b.SendMsg({ to: owner, body: 'three' })
        const unread = (await b.ReadMsg()).map((m: { body: unknown }) => m.body)
        const two = await new Promise((resolve) => a.on('message', (m: { body: unknown }) => resolve(m.body)))
        a.close()
        b.close()
        return { one, two, unread }
      },
      { pptA: loginPassport(node), pptB: loginPassport(node), owner },
    )
    expect(out).toEqual({ one: 'one', two: 'two', unread: ['three'] })
  })
})
