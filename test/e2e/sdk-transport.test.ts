// /lib/leither.js in Chromium: HTTP when the page may not open a WebSocket, and the socket reopened
// after the node closes it (calls in flight then fail with TransportError, never resent).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { bootTest, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { launchBrowser } from '../helpers/browser.ts'

let node: TestKernel
let browser: Browser
beforeAll(async () => {
  node = await bootTest()
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await node?.stop()
})

/**
 * A page on the node's origin whose Content-Security-Policy allows connections to the node over
 * http: only, so Chromium refuses the WebSocket (a CSP `http:` source does not match `ws:`).
 */
async function pageWithoutWebSocket(): Promise<{ page: Page; posts: () => number }> {
  const page = await browser.newPage()
  let posts = 0
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/webapi/') posts++
  })
  await page.route(`${node.url}/no-websocket`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', headers: { 'content-security-policy': `connect-src ${node.url}` }, body: '<!doctype html><title>no websocket</title>' }),
  )
  await page.goto(`${node.url}/no-websocket`)
  return { page, posts: () => posts }
}

describe('/lib/leither.js transports', () => {
  test("auto: calls go over POST /webapi/ when the page cannot open the WebSocket; 'ws' alone fails with TransportError", async () => {
    const { page, posts } = await pageWithoutWebSocket()
    const out = await page.evaluate(async () => {
      const { LeitherClient } = await import('/lib/leither.js' as string)
      const auto = new LeitherClient()
      const echoed = await auto.Echo('over http')
      const who = (await auto.WhoAmI()).kind
      const transport = auto.transport
      const wsOnly = new LeitherClient(undefined, { transport: 'ws' })
      let failure = ''
      try {
        await wsOnly.Echo(1)
      } catch (e) {
        failure = `${(e as Error).name} ${(e as { code: string }).code}`
      }
      auto.close()
      wsOnly.close()
      return { echoed, who, transport, failure }
    })
    expect(out).toEqual({ echoed: 'over http', who: 'guest', transport: 'http', failure: 'TransportError Transport' })
    expect(posts()).toBe(2)
    await page.close()
  })

  test('the node closes the socket: the call in flight fails with TransportError, calls meanwhile go over HTTP, the socket comes back', async () => {
    const page = await browser.newPage()
    await page.goto(`${node.url}/`)
    const out = await page.evaluate(async (ppt) => {
      const { LeitherClient } = await import('/lib/leither.js' as string)
      const client = new LeitherClient()
      await client.login(ppt)
      const before = client.transport
      // A long poll that is still waiting when the socket goes.
      const inFlight = client.PullMsg(30).then(
        () => 'answered',
        (e: Error & { code: string }) => `${e.name} ${e.code}`,
      )
      let duringOutage = ''
      const closed = new Promise<{ code: number }>((resolve) =>
        client.on('disconnect', (e: { code: number }) => {
          duringOutage = client.transport
          resolve(e)
        }),
      )
      const reopened = new Promise((resolve) => client.on('connect', resolve))
      // A text frame breaks the node's framing (binary <4-byte id><request> only): the node closes the socket.
      ;(client as unknown as { socket: { socket: WebSocket } }).socket.socket.send('not a frame')
      const close = await closed
      const whileDown = await client.WhoAmI()
      await reopened
      const after = client.transport
      const who = await client.WhoAmI()
      client.close()
      return { before, code: close.code, inFlight: await inFlight, duringOutage, whileDown: whileDown.kind, after, who: who.kind }
    }, loginPassport(node))
    expect(out).toEqual({ before: 'ws', code: 1003, inFlight: 'TransportError Transport', duringOutage: 'http', whileDown: 'owner', after: 'ws', who: 'owner' })
    await page.close()
  })
})
