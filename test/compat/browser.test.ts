// hprose-html5, hprose-js and @hprose/rpc-html5 in Chromium, on a page of another origin the node allows: the same contract as under Bun.
//
// Under Bun these clients run on a test-written XMLHttpRequest (helpers/xhr.ts); here the
// browser's own XMLHttpRequest and WebSocket carry them: CORS preflights, credentials, binary
// bodies (ArrayBuffer over XHR, binary frames) and the Origin header as a browser sends them. A
// page on an origin the node was not told about must be refused by the browser.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser } from '../helpers/browser.ts'
import { type BrowserClient, openClientPage, servePages } from './browser-peers.ts'
import { peerContract } from './contract.ts'
import { type Endpoint, useNode } from './node.ts'
import type { ClientName } from './peers.ts'

const pages = servePages()
/** A site the node was not configured for. */
const stranger = servePages()
const node = useNode({ allowedOrigins: [pages.origin] })

let browser: Browser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  pages.stop()
  stranger.stop()
})

const CLIENTS: [ClientName, Endpoint[]][] = [
  ['hprose-html5', ['http', 'ws']],
  ['hprose-js', ['http', 'ws']],
  ['@hprose/rpc-html5', ['http', 'ws3']],
]

for (const [client, endpoints] of CLIENTS) {
  describe(`${client} in Chromium, on a page of another origin the node allows`, () => {
    let tab: BrowserClient
    beforeAll(async () => {
      tab = await openClientPage(browser, pages, client)
    })
    afterAll(() => tab?.close())
    for (const endpoint of endpoints) {
      peerContract({ client, endpoint, node, open: (url) => tab.open(url) })
    }
  })
}

/** From inside `page`: a credentialed POST of a bare `z` to /webapi/ and a WebSocket to /ws/, as the browser lets them go. */
function probe(page: Page) {
  return page.evaluate(
    async ([http, ws]) => {
      const post = await fetch(http, { method: 'POST', body: new Uint8Array([0x7a]), credentials: 'include' }).then(
        async (r) => `status ${r.status}: ${new TextDecoder().decode(await r.arrayBuffer()).slice(0, 1)}`,
        (e) => `refused: ${(e as Error).name}`,
      )
      const socket = await new Promise<string>((resolve) => {
        const s = new WebSocket(ws)
        s.onopen = () => (s.close(), resolve('open'))
        s.onerror = () => resolve('refused')
      })
      return { post, socket }
    },
    [node().endpoint('http'), node().endpoint('ws')] as const,
  )
}

describe('a page on an origin the node does not allow', () => {
  let tab: BrowserClient
  beforeAll(async () => {
    tab = await openClientPage(browser, stranger, 'hprose-html5')
  })
  afterAll(() => tab?.close())

  for (const endpoint of ['http', 'ws'] as const) {
    test(`the client's calls fail in the browser (${endpoint})`, async () => {
      const peer = await tab.open(node().endpoint(endpoint))
      const outcome = await peer.call('Echo', ['from a stranger']).then(
        (v) => `answered ${JSON.stringify(v)}`,
        (e) => `failed: ${(e as Error).message}`,
      )
      await peer.close()
      expect(outcome).toStartWith('failed: ')
    })
  }

  test('the browser gets no CORS grant and no WebSocket there, while the allowed page gets both', async () => {
    expect(await probe(tab.page)).toEqual({ post: 'refused: TypeError', socket: 'refused' })
    const allowed = await openClientPage(browser, pages, 'hprose-html5')
    try {
      // A bare `z` asks for the function list: the reply starts with F.
      expect(await probe(allowed.page)).toEqual({ post: 'status 200: F', socket: 'open' })
    } finally {
      await allowed.close()
    }
  })
})
