// The launcher in real Chromium: signed in through a `leither open` code, it installs a package with
// its permission dialog, opens the app (granted call works, ungranted is refused naming the
// capability), revokes the grant (the app's next call is refused), in English and Chinese.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { appId, appOrigin } from '../../runtime/apps/ids.ts'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { launchBrowser } from '../helpers/browser.ts'
import { bootTest, callLocal, type TestKernel } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'
import { ownerSid } from '../apps/helpers.ts'
import { SCREENSHOTS, writeTestPackage, type AppPageResult } from './apps-fixture.ts'

let node: TestKernel
let owner: string
let browser: Browser
let context: BrowserContext
let dir: string & Disposable
const author = generateKeyPair()
const NAME = 'notes'
const id = appId(author.id, NAME)

beforeAll(async () => {
  node = await bootTest()
  owner = await ownerSid(node)
  dir = tempDir()
  browser = await launchBrowser()
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })
})
afterAll(async () => {
  await browser?.close()
  await node?.stop()
  dir?.[Symbol.dispose]()
})

/** The launcher, signed in with a one-time link as `leither open` prints it. */
async function signedInLauncher(ctx = context, sid = owner): Promise<Page> {
  const { url } = (await callLocal(node, 'SessionCode', sid)) as { url: string }
  expect(url).toStartWith(`http://localhost:${node.http.port}/?code=`)
  const page = await ctx.newPage()
  if (process.env.DEBUG_PAGES) page.on('console', (m) => console.log('page:', m.text()))
  await page.goto(url)
  await page.waitForSelector('body[data-ready="1"]')
  return page
}

const results = async (page: Page, runs: number): Promise<AppPageResult> => {
  await page.waitForSelector(`body[data-runs="${runs}"]`)
  return JSON.parse((await page.textContent('#out')) ?? '{}') as AppPageResult
}

describe('launcher', () => {
  test('without a sign-in it explains how to get one, under a CSP that keeps scripts to the node', async () => {
    const page = await context.newPage()
    const reply = await page.goto(`http://localhost:${node.http.port}/`)
    const csp = reply!.headers()['content-security-policy']
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    await page.waitForSelector('#signin:not([hidden])')
    expect(await page.textContent('#signin')).toContain('leither open')
    expect(await page.textContent('#other-cmd')).toBe(`leither open --node http://localhost:${node.http.port}`)
    expect(await page.isVisible('#tabs')).toBe(false)
    await page.close()
  })

  test('install with the permission dialog, open the app, revoke the grant', async () => {
    const pkg = await writeTestPackage(dir, author, NAME)
    const page = await signedInLauncher()
    expect(page.url()).not.toContain('code=')
    await page.screenshot({ path: join(SCREENSHOTS, 'launcher-empty.png') })

    await page.click('#install-open')
    await page.setInputFiles('#pkg-file', pkg)
    await page.waitForSelector('#perm-dlg[open]')
    const dialog = (await page.textContent('#perm-list')) ?? ''
    expect(dialog).toContain('to list your messages')
    expect(dialog).toContain('to show the nodes you are connected to')
    // Nothing is ticked for the user: consent is given box by box.
    expect(await page.isChecked('#perm-dlg input[value="msg"]')).toBe(false)
    expect(await page.isChecked('#perm-dlg input[value="net"]')).toBe(false)
    await page.check('#perm-dlg input[value="msg"]')
    await page.screenshot({ path: join(SCREENSHOTS, 'permission-dialog.png') })
    await page.click('#perm-grant')
    await page.waitForSelector('#perm-dlg[open]', { state: 'detached' })
    const grants = (await callLocal(node, 'AppGrants', owner)) as Record<string, { capability: string }[]>
    expect(grants[id].map((g) => g.capability)).toEqual(['msg'])

    await page.waitForSelector(`[data-app="${id}"]`)
    await page.screenshot({ path: join(SCREENSHOTS, 'launcher.png') })
    const [app] = await Promise.all([context.waitForEvent('page'), page.click(`[data-app="${id}"] .open`)])
    await app.waitForURL(`${appOrigin(id, node.http.port)}/**`)
    const first = await results(app, 1)
    expect(first.signedIn).toBe(true)
    expect(first.granted).toEqual({ ok: true, value: [] })
    expect(first.ungranted.ok).toBe(false)
    expect(first.ungranted.error).toStartWith(`PermissionDenied: app ${id} lacks net; grant it in the launcher`)
    expect(app.url()).not.toContain('code=')

    // Revoke in the app's details; the app's next call is refused.
    await page.click(`[data-app="${id}"] .more`)
    await page.waitForSelector('#app-dlg[open]')
    expect(await page.isChecked('#app-dlg input[data-cap="msg"]')).toBe(true)
    await page.screenshot({ path: join(SCREENSHOTS, 'app-details.png') })
    await page.click('#app-dlg label:has(input[data-cap="msg"])')
    await page.waitForFunction(() => document.querySelector('#toast')?.textContent?.includes('Taken back: msg'))
    await app.click('#again')
    const second = await results(app, 2)
    expect(second.granted.ok).toBe(false)
    expect(second.granted.error).toStartWith(`PermissionDenied: app ${id} lacks msg`)

    // Granting it back from the same switch works on the next call again.
    await page.click('#app-dlg label:has(input[data-cap="msg"])')
    await page.waitForFunction(() => document.querySelector('#toast')?.textContent?.includes('Allowed: msg'))
    await app.click('#again')
    expect((await results(app, 3)).granted.ok).toBe(true)
    await app.close()
    await page.keyboard.press('Escape')
    await page.waitForSelector('#app-dlg[open]', { state: 'detached' })
    await page.close()
  })

  test('node status, users, and a phone-width layout', async () => {
    const page = await signedInLauncher()
    await page.click('a[data-tab="node"]')
    await page.waitForSelector('#storage-used')
    const text = (await page.textContent('#node-cards')) ?? ''
    expect(text).toContain(node.identity.nodeId)
    expect(text).toContain('Connected nodes (0)')
    await page.screenshot({ path: join(SCREENSHOTS, 'launcher-node.png') })

    const newcomer = generateKeyPair().id
    await page.click('a[data-tab="users"]')
    await page.fill('#admit input[name=user]', newcomer)
    await page.fill('#admit input[name=quota]', '5')
    await page.click('#admit button[type=submit]')
    await page.waitForSelector(`tr[data-user="${newcomer}"]`)
    const users = (await callLocal(node, 'UserList', owner)) as { userId: string; quotaBytes: number }[]
    expect(users.find((u) => u.userId === newcomer)?.quotaBytes).toBe(5_000_000)
    page.once('dialog', (d) => d.accept())
    await page.click(`tr[data-user="${newcomer}"] button`)
    await page.waitForSelector(`tr[data-user="${newcomer}"]`, { state: 'detached' })

    await page.setViewportSize({ width: 390, height: 844 })
    await page.click('a[data-tab="apps"]')
    await page.waitForSelector(`[data-app="${id}"]`)
    await page.screenshot({ path: join(SCREENSHOTS, 'launcher-phone.png') })
    // The owner's monitor is one click away, in the same session (same tab and origin).
    await page.click('#tab-monitor')
    await page.waitForURL(/\/apps\/monitor\/$/)
    await page.waitForSelector('table')
    await page.close()
  })

  test('a user who is not the owner sees no owner calls, and the node refuses them', async () => {
    const user = generateKeyPair()
    const { signPassport } = await import('../../runtime/identity/index.ts')
    const ppt = signPassport(user, { audience: node.identity.nodeId, data: { CertFor: 'Self' }, ttl: 300 })
    const sid = ((await callLocal(node, 'Login', ppt)) as { sid: string }).sid
    const page = await signedInLauncher(context, sid)
    expect(await page.isHidden('#tab-users')).toBe(true)
    expect(await page.isHidden('#tab-monitor')).toBe(true)
    expect(await page.textContent('#who')).toContain('User')
    const refused = await page.evaluate(async () => {
      const { LeitherClient } = await import('/lib/leither.js' as string)
      const c = new LeitherClient()
      c.sid = sessionStorage.getItem('leither.sid')
      return c.UserList().then(
        () => 'allowed',
        (e: Error) => e.message,
      )
    })
    expect(refused).toStartWith('PermissionDenied')
    await page.close()
  })

  test('in Chinese when the browser prefers it', async () => {
    const zh = await browser.newContext({ locale: 'zh-CN' })
    const page = await zh.newPage()
    await page.goto(`http://localhost:${node.http.port}/`)
    await page.waitForSelector('#signin:not([hidden])')
    expect(await page.textContent('#signin h1')).toBe('登录此节点')
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN')
    await page.close()
    const signed = await signedInLauncher(zh)
    expect(await signed.textContent('a[data-tab="apps"]')).toBe('应用')
    await signed.screenshot({ path: join(SCREENSHOTS, 'launcher-zh.png') })
    // (the context goes with the browser: closing one alone ends a single-process Chromium)
  })
})
