// Apps in real Chromium: one app's page cannot use another app's session nor the launcher's, a
// page elsewhere cannot call the node; the desktop shortcut from file:// reaches the node, falls
// back past a dead address, and says so when no node answers.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { appId, appOrigin } from '../../runtime/apps/ids.ts'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { shortcutHtml, SHORTCUT_MAX_BYTES } from '../../runtime/cli/shortcut.ts'
import { launchBrowser } from '../helpers/browser.ts'
import { bootTest, callLocal, type TestKernel } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'
import { ownerSid, signedTar, upload } from '../apps/helpers.ts'
import { testAppFiles, type AppPageResult } from './apps-fixture.ts'

let node: TestKernel
let owner: string
let browser: Browser
let context: BrowserContext
let dir: string & Disposable
const author = generateKeyPair()
const A = appId(author.id, 'alpha')
const B = appId(author.id, 'beta')
const TEMPLATE = readFileSync(join(import.meta.dir, '../../apps/launcher/shortcut.html'), 'utf8')

beforeAll(async () => {
  node = await bootTest()
  owner = await ownerSid(node)
  dir = tempDir()
  for (const name of ['alpha', 'beta']) await upload(node, owner, await signedTar(author, testAppFiles(name)))
  await callLocal(node, 'AppGrant', owner, A, ['msg'])
  await callLocal(node, 'AppGrant', owner, B, ['msg'])
  browser = await launchBrowser()
  context = await browser.newContext({ locale: 'en-US', acceptDownloads: true })
})
afterAll(async () => {
  await browser?.close()
  await node?.stop()
  dir?.[Symbol.dispose]()
})

/** An app page signed in through its own one-time link; resolves once its first calls are done. */
async function openSigned(app: string): Promise<Page> {
  const { url } = (await callLocal(node, 'SessionCode', owner, app)) as { url: string }
  const page = await context.newPage()
  await page.goto(url)
  await page.waitForSelector('body[data-runs="1"]')
  return page
}

/** In `page`, a call with `sid` through /lib/leither.js: its result or the error text. */
const callWith = (page: Page, sid: string, method: string) =>
  page.evaluate(
    async ([sid, method]) => {
      const { LeitherClient } = await import('/lib/leither.js' as string)
      const c = new LeitherClient()
      c.sid = sid
      return c[method]().then(
        (v: unknown) => ({ ok: true, v }),
        (e: Error) => ({ ok: false, error: e.message }),
      )
    },
    [sid, method] as const,
  )

describe('isolation between pages', () => {
  test("app A's page cannot use app B's session, nor the launcher's", async () => {
    const a = await openSigned(A)
    const b = await openSigned(B)
    const bSid = (await b.evaluate(() => sessionStorage.getItem('leither.sid')))!
    expect(bSid).toBeTruthy()
    // The same sid works from B's page …
    expect(await callWith(b, bSid, 'ReadMsg')).toEqual({ ok: true, v: [] })
    // … and is refused from A's.
    const stolen = await callWith(a, bSid, 'ReadMsg')
    expect(stolen.ok).toBe(false)
    expect(stolen.error).toBe(`PermissionDenied: ReadMsg: this session belongs to app ${B} and works only from its pages`)
    // A's own session is its own: B's page storage is not A's.
    expect(await a.evaluate(() => sessionStorage.getItem('leither.sid'))).not.toBe(bSid)

    const launcherSid = (await callLocal(node, 'Login', (await import('../helpers/kernel.ts')).loginPassport(node))) as { sid: string }
    const owners = await callWith(a, launcherSid.sid, 'UserList')
    expect(owners.ok).toBe(false)
    expect(owners.error).toBe(`PermissionDenied: UserList: a page of app ${A} cannot use this session; the app gets its own from the launcher`)
    await a.close()
    await b.close()
  })

  test('a page on a foreign origin cannot call the node', async () => {
    const foreign = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('<!doctype html><title>elsewhere</title>', { headers: { 'content-type': 'text/html' } }) })
    try {
      const page = await context.newPage()
      await page.goto(foreign.url.href)
      const result = await page.evaluate(async (port) => {
        return fetch(`http://localhost:${port}/webapi/`, { method: 'POST', body: 'CEcho' }).then(
          (r) => `status ${r.status}`,
          (e: Error) => `refused: ${e.name}`,
        )
      }, node.http.port)
      expect(result).toBe('refused: TypeError')
      await page.close()
    } finally {
      foreign.stop(true)
    }
  })
})

describe('desktop shortcut', () => {
  const write = (name: string, addrs: string[]) => {
    const file = join(dir, name)
    writeFileSync(file, shortcutHtml(TEMPLATE, { name: 'alpha', app: A, addrs, timeout: 1500 }))
    return file
  }
  /** A loopback port nobody listens on (bound, then closed). */
  const deadPort = () => {
    const s = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
    const port = s.port
    s.stop(true)
    return port
  }

  test("the launcher's save to desktop writes a small file that opens the app from file://", async () => {
    const { url } = (await callLocal(node, 'SessionCode', owner)) as { url: string }
    const page = await context.newPage()
    await page.goto(url)
    await page.waitForSelector('body[data-ready="1"]')
    await page.click(`[data-app="${A}"] .more`)
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#shortcut')])
    expect(download.suggestedFilename()).toBe('alpha.html')
    const file = join(dir, 'saved-alpha.html')
    await download.saveAs(file)
    expect(statSync(file).size).toBeLessThanOrEqual(SHORTCUT_MAX_BYTES)
    await page.close()

    const opened = await context.newPage()
    await opened.goto(`file://${file}`)
    await opened.waitForURL(`${appOrigin(A, node.http.port)}/**`)
    expect(await opened.textContent('h1')).toBe('alpha')
    await opened.close()
  })

  test('with its first address dead it opens the app on the next', async () => {
    const live = `http://127.0.0.1:${node.http.port}`
    const file = write('fallback.html', [`http://127.0.0.1:${deadPort()}`, live])
    const page = await context.newPage()
    await page.goto(`file://${file}`)
    await page.waitForURL(`${appOrigin(A, node.http.port)}/**`)
    expect(await page.textContent('h1')).toBe('alpha')
    await page.close()
  })

  test('when no address answers it says so and how to fix it', async () => {
    const file = write('none.html', [`http://127.0.0.1:${deadPort()}`, `http://127.0.0.1:${deadPort()}`])
    const page = await context.newPage()
    await page.goto(`file://${file}`)
    await page.waitForSelector('#m.err')
    expect(await page.textContent('#m')).toBe('No node answered.')
    expect(await page.textContent('#h')).toContain('leither run')
    expect(await page.$$eval('li.no', (l) => l.length)).toBe(2)
    await page.close()
  })
})
