// Issue 8 defects 6 and 9 in real Chromium: a page elsewhere, a rebound name and an uploaded page cannot drive the node.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { browserArgs, chromiumPath } from '../helpers/browser.ts'
import { bootTest, callLocal, type TestKernel } from '../helpers/kernel.ts'
import { fileMiMei, login, put } from '../mimei/files-setup.ts'

let node: TestKernel
let browser: Browser
/** One tab for every test: the package's Chromium runs as one process, which ends when a tab closes. */
let tab: Page
let elsewhere: Bun.Server<undefined>
let site: { mid: string; h: string }

beforeAll(async () => {
  node = await bootTest()
  const sid = await login(node)
  site = await fileMiMei(node, sid, { right: 1 })
  await callLocal(node, 'FSMkDir', sid, site.h, 'site')
  // An uploaded page that, were it to run, would mark itself and call the node with the visitor's rights.
  await put(node, sid, site.h, 'site/index.html', '<!doctype html><title>static</title><script>document.title = "ran:" + origin</script>')
  elsewhere = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('<!doctype html><title>elsewhere</title>', { headers: { 'content-type': 'text/html' } }) })
  // evil.test resolves to the node's loopback address, as a rebinding DNS server would make it.
  browser = await chromium.launch({ executablePath: await chromiumPath(), args: [...browserArgs(), '--host-resolver-rules=MAP evil.test 127.0.0.1'], headless: true })
  tab = await browser.newPage()
})
afterAll(async () => {
  await browser?.close()
  elsewhere?.stop(true)
  await node?.stop()
})

async function withPage<T>(url: string, run: (page: Page) => Promise<T>): Promise<T> {
  await tab.goto(url)
  return run(tab)
}

/** From inside a page: an Echo over POST /webapi/ and whether a WebSocket to /ws/ opens. */
const probeNode = (page: Page, base: string) =>
  page.evaluate(async (base) => {
    const http = await fetch(`${base}/webapi/`, { method: 'POST', body: 'Cs4"Echo"a1{s2"hi"}z', credentials: 'include' }).then(
      async (r) => `${r.status} ${await r.text()}`,
      (e) => `refused: ${(e as Error).name}`,
    )
    const ws = await new Promise<string>((resolve) => {
      const s = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/`)
      s.onopen = () => (s.close(), resolve('open'))
      s.onclose = () => resolve('refused')
    })
    return { http, ws }
  }, base)

describe('in a real browser', () => {
  test('the node itself is served and its own page calls it (the control)', async () => {
    const out = await withPage(`${node.url}/`, (page) => probeNode(page, node.url))
    expect(out).toEqual({ http: '200 Rs2"hi"z', ws: 'open' })
  })

  test('a page on another origin can neither call /webapi/ nor open /ws/', async () => {
    const out = await withPage(elsewhere.url.href, (page) => probeNode(page, node.url))
    expect(out.http).toStartWith('refused:')
    expect(out.ws).toBe('refused')
  })

  test('a name rebound to 127.0.0.1 gets a 403, not the node', async () => {
    const rebound = `http://evil.test:${node.http.port}`
    const response = await tab.goto(`${rebound}/`)
    expect(response?.status()).toBe(403)
    // Same origin as far as the browser knows: still nothing gets through.
    expect(await probeNode(tab, rebound)).toEqual({ http: expect.stringMatching(/^403 /), ws: 'refused' })
  })

  test('an uploaded HTML page is shown but its script does not run on the node origin', async () => {
    const title = await withPage(`${node.url}/mm/${site.mid}/site/index.html`, (page) => page.title())
    expect(title).toBe('static')
  })
})
